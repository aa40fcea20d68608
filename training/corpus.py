"""CodeSearchNet-format corpora: reading, writing, and building one from local source trees.

Layout written (and read), as CodeSearchNet ships it:
    DIR/{language}/final/jsonl/{train,valid,test}/{language}_{partition}_0.jsonl.gz
    DIR/stats.json
Units of work are packages (a top-level directory or module under a source root); the split is by
package so near-duplicates don't leak from train into test, and a finished package is cached under
DIR/.work so an interrupted build resumes where it stopped.
"""
from __future__ import annotations

import gzip
import hashlib
import json
import os
import re
import time
from collections import Counter, defaultdict
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Iterable, Iterator

from tqdm import tqdm

from training.extract import LANGUAGES, SKIP_DIRS, ExtractStats, extract_path
from training.extract.base import doc_tokens, summarize

PARTITIONS = ("train", "valid", "test")
_BOILERPLATE = re.compile(r"\b(copyright|licen[cs]e[ds]?|all rights reserved|auto-?generated|todo|fixme)\b",
                          re.IGNORECASE)


# --- reading and writing -------------------------------------------------------------------------
def read_jsonl(path: str | Path) -> Iterator[dict]:
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as f:
        for line in f:
            if line.strip():
                yield normalise(json.loads(line))


def write_jsonl(path: str | Path, records: Iterable[dict]) -> int:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    n = 0
    opener = gzip.open if path.name.endswith(".gz") else open
    with opener(tmp, "wt", encoding="utf-8") as f:
        for record in records:
            f.write(json.dumps(record, ensure_ascii=False) + "\n")
            n += 1
    os.replace(tmp, path)
    return n


def normalise(record: dict) -> dict:
    """Fill the fields our code relies on when a record (e.g. real CodeSearchNet) lacks them."""
    if "summary" not in record:
        record["summary"] = summarize(record.get("docstring") or "") or " ".join(record.get("docstring_tokens") or [])
    record.setdefault("docstring_tokens", doc_tokens(record["summary"]))
    record.setdefault("code", record.get("original_string", ""))
    return record


def corpus_files(root: str | Path, language: str, partition: str) -> list[Path]:
    base = Path(root) / language / "final" / "jsonl" / partition
    return sorted([*base.glob("*.jsonl.gz"), *base.glob("*.jsonl")])


def read_corpus(root: str | Path, partition: str, languages: Iterable[str] | None = None) -> Iterator[dict]:
    """Every record of one partition, for the given languages (default: all present)."""
    for language in languages or LANGUAGES:
        for path in corpus_files(root, language, partition):
            yield from read_jsonl(path)


def corpus_languages(root: str | Path) -> list[str]:
    return [lang for lang in LANGUAGES if any(corpus_files(root, lang, p) for p in PARTITIONS)]


# --- cleaning and splitting ----------------------------------------------------------------------
def keep(record: dict) -> bool:
    """A documented function worth learning from."""
    summary = record.get("summary", "")
    if len(summary.split()) < 3 or _BOILERPLATE.search(summary):
        return False
    return len(record.get("code", "").strip().splitlines()) >= 3


def code_hash(record: dict) -> str:
    normalised = " ".join(record.get("code_tokens") or record.get("code", "").split())
    return hashlib.sha1(normalised.encode("utf-8")).hexdigest()


def partition_of(package: str, valid: float = 0.1, test: float = 0.1) -> str:
    """Deterministic split by package name."""
    bucket = int(hashlib.md5(package.encode("utf-8")).hexdigest()[:8], 16) / 0xFFFFFFFF
    return "test" if bucket < test else "valid" if bucket < test + valid else "train"


# --- building from local source trees ------------------------------------------------------------
def local_packages(roots: Iterable[str | Path], exclude: Iterable[str] = ()) -> list[tuple[str, Path]]:
    """(package name, path) for each top-level directory or module file under each root."""
    exclude = set(exclude)
    units = []
    for root in roots:
        root = Path(root)
        for entry in sorted(root.iterdir()):
            name = entry.name.split(".")[0] if entry.is_file() else entry.name
            if (name.startswith((".", "_")) or name in exclude or entry.name in SKIP_DIRS
                    or entry.name.endswith((".dist-info", ".egg-info"))):
                continue
            if entry.is_dir() or entry.suffix in (".py", ".go", ".java", ".js", ".rb", ".php"):
                units.append((entry.name, entry))
    return units


def _extract_unit(args) -> tuple[str, list[dict], dict]:
    package, path, languages = args
    stats = ExtractStats()
    records = [f.to_record() for f in extract_path(path, languages=languages, stats=stats,
                                                   prefix=f"{package}/" if path.is_dir() else "")]
    return package, records, stats.as_dict()


def build_local(out: str | Path, roots: Iterable[str | Path], languages: Iterable[str] | None = None,
                exclude: Iterable[str] = (), workers: int | None = None) -> dict:
    """Build a corpus from local source trees; resumes from DIR/.work; returns the stats."""
    out = Path(out)
    work = out / ".work"
    work.mkdir(parents=True, exist_ok=True)
    languages = set(languages or LANGUAGES)
    started = time.time()
    units = local_packages(roots, exclude)
    todo = [(pkg, path, languages) for pkg, path in units if not _unit_file(work, pkg).exists()]
    workers = workers or min(len(todo), os.cpu_count() or 1) or 1
    with ProcessPoolExecutor(workers) as pool:
        for package, records, stats in tqdm(pool.map(_extract_unit, todo, chunksize=4), total=len(todo),
                                            desc="extract packages", unit="pkg"):
            write_jsonl(_unit_file(work, package), ({"package": package, "stats": stats}, *records))
    return _assemble(out, [pkg for pkg, _ in units], languages, started)


def _unit_file(work: Path, package: str) -> Path:
    return work / (hashlib.sha1(package.encode()).hexdigest()[:16] + ".jsonl.gz")


def _assemble(out: Path, packages: list[str], languages: set[str], started: float) -> dict:
    """Clean, deduplicate and split the cached packages into the CodeSearchNet layout."""
    seen: set[str] = set()
    shards: dict[tuple[str, str], list[dict]] = defaultdict(list)
    per_lang: dict[str, Counter] = defaultdict(Counter)
    packages_with: dict[str, set] = defaultdict(set)
    for package in tqdm(packages, desc="clean and split", unit="pkg"):
        header, *records = read_jsonl(_unit_file(out / ".work", package))
        partition = partition_of(package)
        for record in records:
            lang = record["language"]
            counts = per_lang[lang]
            counts["functions"] += 1
            counts["documented"] += bool(record.get("docstring"))
            packages_with[lang].add(package)
            if not keep(record):
                continue
            digest = code_hash(record)
            if digest in seen:
                counts["duplicates"] += 1
                continue
            seen.add(digest)
            record["partition"] = partition
            record["package"] = package
            counts["kept"] += 1
            counts[partition] += 1
            shards[(lang, partition)].append(record)
    for (lang, partition), records in shards.items():
        write_jsonl(out / lang / "final" / "jsonl" / partition / f"{lang}_{partition}_0.jsonl.gz", records)
    stats = {
        "languages": {lang: {"packages": len(packages_with[lang]), **per_lang[lang]} for lang in sorted(per_lang)},
        "seconds": round(time.time() - started, 1),
    }
    for lang, entry in stats["languages"].items():
        entry["bytes"] = sum(p.stat().st_size for part in PARTITIONS for p in corpus_files(out, lang, part))
    (out / "stats.json").write_text(json.dumps(stats, indent=2) + "\n")
    return stats
