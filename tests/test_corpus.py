import gzip
import json

import pytest

from training.corpus import (build_local, code_hash, corpus_languages, keep, partition_of, read_corpus,
                             read_jsonl, write_jsonl)
from conftest import CSN_SAMPLE

CSN_FIELDS = {"repo", "path", "func_name", "original_string", "language", "code", "code_tokens", "docstring",
              "docstring_tokens", "url", "partition"}


@pytest.mark.skipif(not CSN_SAMPLE.exists(), reason="the shared CodeSearchNet sample is not beside the repository")
def test_real_codesearchnet_files_load_as_they_are():
    records = list(read_corpus(CSN_SAMPLE, "valid", ["python"]))
    assert len(records) == 120
    first = records[0]
    assert CSN_FIELDS <= set(first)
    assert first["summary"] and first["code_tokens"]
    assert corpus_languages(CSN_SAMPLE) == ["python"]


def test_round_trip_keeps_every_field(tmp_path):
    record = {"repo": "o/r", "path": "a.py", "func_name": "f", "original_string": "def f():\n  'Doc.'\n  pass",
              "language": "python", "code": "def f():\n  pass", "code_tokens": ["def", "f"], "docstring": "Doc.",
              "docstring_tokens": ["Doc"], "summary": "Doc.", "url": "", "partition": "train", "sha": "x",
              "start_line": 1, "end_line": 3}
    for name in ("out.jsonl", "out.jsonl.gz"):
        write_jsonl(tmp_path / name, [record])
        assert list(read_jsonl(tmp_path / name)) == [record]
    with gzip.open(tmp_path / "out.jsonl.gz", "rt") as f:
        assert json.loads(f.readline())["func_name"] == "f"


def test_cleaning_rules():
    good = {"summary": "Send a message to every recipient.", "code": "def f():\n  a\n  b\n"}
    assert keep(good)
    assert not keep({**good, "summary": "Send it."})
    assert not keep({**good, "summary": "Licensed under the Apache License, Version 2.0"})
    assert not keep({**good, "code": "def f(): pass"})
    assert code_hash({"code_tokens": ["a", "b"]}) == code_hash({"code_tokens": ["a", "b"]})


def test_split_is_deterministic_and_roughly_80_10_10():
    parts = [partition_of(f"package{i}") for i in range(3000)]
    assert parts == [partition_of(f"package{i}") for i in range(3000)]
    assert 0.75 < parts.count("train") / 3000 < 0.85 and 0.07 < parts.count("test") / 3000 < 0.13


def test_build_local_splits_by_package_drops_duplicates_and_resumes(tmp_path):
    src = tmp_path / "src"
    body = '    """Compute the {0} of the given numbers carefully."""\n    x = 1\n    y = 2\n    return x + y + {1}\n'
    for p in range(12):
        (src / f"pkg{p}").mkdir(parents=True)
        (src / f"pkg{p}" / "mod.py").write_text("".join(f"def f{i}():\n" + body.format(i, p * 100 + i) for i in range(5)))
    (src / "pkg0" / "copy.py").write_text("def f0():\n" + body.format(0, 0))  # exact duplicate code
    out = tmp_path / "corpus"
    stats = build_local(out, [src], languages=["python"])
    entry = stats["languages"]["python"]
    assert entry["functions"] == 61 and entry["duplicates"] == 1 and entry["kept"] == 60
    packages = {}
    for partition in ("train", "valid", "test"):
        for r in read_corpus(out, partition, ["python"]):
            packages.setdefault(r["package"], set()).add(partition)
    assert all(len(parts) == 1 for parts in packages.values())  # no package straddles two splits
    again = build_local(out, [src], languages=["python"])  # cached packages: nothing re-extracted
    assert again["languages"] == stats["languages"]
