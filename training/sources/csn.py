"""Real CodeSearchNet data as a corpus source: cleaned by our rules and rewritten in our layout,
keeping CodeSearchNet's own partitions (its split is by repository already).

Duplicates are dropped test first, then valid, then train, so a function that leaked into
training from an evaluation set leaves training, and the evaluation sets stay whole."""
from __future__ import annotations

import json
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Iterable

from tqdm import tqdm

from training.corpus import PARTITIONS, code_hash, corpus_files, keep, read_jsonl, write_jsonl
from training.sources import SourceError

ORDER = ("test", "valid", "train")


def languages_in(root: Path, languages: Iterable[str]) -> list[str]:
    found = [lang for lang in languages if any(corpus_files(root, lang, p) for p in PARTITIONS)]
    if not found:
        raise SourceError(f"{root}: no CodeSearchNet files ({{language}}/final/jsonl/{{train,valid,test}}/*.jsonl.gz)"
                          f" for {', '.join(languages)}")
    return found


def build(out: Path, root: Path, languages: Iterable[str]) -> dict:
    started = time.time()
    out, root = Path(out), Path(root)
    stats: dict[str, Counter] = defaultdict(Counter)
    for lang in languages_in(root, languages):
        seen: set[str] = set()
        counts = stats[lang]
        counts.update(dict.fromkeys(("packages", "functions", "documented", "kept", "duplicates", *PARTITIONS), 0))
        repos: set[str] = set()

        def cleaned(partition: str):
            for path in corpus_files(root, lang, partition):
                for record in tqdm(read_jsonl(path), desc=f"{lang} {partition}", unit="fn", leave=False):
                    counts["functions"] += 1
                    counts["documented"] += bool(record.get("docstring") or record.get("docstring_tokens"))
                    repos.add(record.get("repo", ""))
                    if not keep(record):
                        continue
                    digest = code_hash(record)
                    if digest in seen:
                        counts["duplicates"] += 1
                        continue
                    seen.add(digest)
                    record["partition"] = partition
                    record["package"] = record.get("repo", "")
                    counts["kept"] += 1
                    counts[partition] += 1
                    yield record

        for partition in ORDER:
            target = out / lang / "final" / "jsonl" / partition / f"{lang}_{partition}_0.jsonl.gz"
            if write_jsonl(target, cleaned(partition)) == 0:
                target.unlink()
        counts["packages"] = len(repos)
        counts["bytes"] = sum(p.stat().st_size for part in PARTITIONS for p in corpus_files(out, lang, part))
    summary = {"languages": {lang: dict(c) for lang, c in sorted(stats.items())},
               "seconds": round(time.time() - started, 1), "sources": ["csn"]}
    (out / "stats.json").write_text(json.dumps(summary, indent=2) + "\n")
    return summary
