"""How much of BM25's strength comes from summaries that begin with the function's own name.

Go's convention ("NewReaderSize returns a new Reader ...") puts the answer's name first in most Go
docstrings, so BM25 finds the function by that one rare identifier. People who search an unfamiliar
codebase do not know its names yet. Per language this reports the share of test summaries that begin
with the function's own name, and the CodeSearchNet MRR of the model, BM25 and the hybrid on the
summaries as they are and with that leading name removed (training.evaluate.evaluate_csn, same
chunks and distractors).

    .venv/bin/python benchmarks/name_leak.py --model indexes/base --corpus indexes/corpus/full [--languages go]

Writes benchmarks/results/base-model/name_leak.json.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from training.corpus import corpus_languages, read_corpus  # noqa: E402
from training.evaluate import evaluate_csn  # noqa: E402
from training.model import CodeSearchModel, function_name  # noqa: E402

OUT = Path(__file__).resolve().parent / "results" / "base-model" / "name_leak.json"


def without_leading_name(record: dict) -> dict | None:
    """The record with its summary's first word dropped when that word is the function's own name."""
    name = function_name(record)
    words = record["summary"].split()
    if len(words) > 1 and words[0].strip("`'\"*") == name:
        return {**record, "summary": " ".join(words[1:])}
    return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, required=True)
    parser.add_argument("--corpus", type=Path, required=True)
    parser.add_argument("--languages", nargs="+")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    model = CodeSearchModel.load(args.model)
    report = {"model": str(args.model), "corpus": str(args.corpus), "partition": "test", "languages": {}}
    for language in args.languages or [l for l in corpus_languages(args.corpus) if l in model.languages]:
        records = list(read_corpus(args.corpus, "test", [language]))
        stripped = [without_leading_name(r) for r in records]
        as_is = evaluate_csn(model, records)[language]
        removed = evaluate_csn(model, [s or r for s, r in zip(stripped, records)])[language]
        report["languages"][language] = {
            "pairs": len(records), "begin_with_own_name": round(sum(s is not None for s in stripped) / len(records), 3),
            "as_is": {k: round(v, 3) for k, v in as_is.items() if k != "pairs"},
            "leading_name_removed": {k: round(v, 3) for k, v in removed.items() if k != "pairs"}}
        print(language, json.dumps(report["languages"][language]), flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
