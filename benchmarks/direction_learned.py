"""The direction head's weight (training.direction_head: what a search adds is LAM * tanh(score / TAU)),
swept on a trained model's own head (recipe.md, "Word order, learned").

Prints, for each lam:tau, the direction pairs (all; the pairs of exactly the same words, where the
rules' readings were found; the others, never read) and the validation split's macro MRR (at most
--valid functions per language), beside the product without the head (0:1).

    .venv/bin/python benchmarks/direction_learned.py --model indexes/base --corpus indexes/corpus/full

Writes benchmarks/results/base-model/direction_learned.json.
"""
from __future__ import annotations

import argparse
import json
import random
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from training import direction_head  # noqa: E402
from training import evaluate as ev  # noqa: E402
from training.corpus import corpus_languages, read_corpus  # noqa: E402
from training.model import CodeSearchModel  # noqa: E402

OUT = Path(__file__).resolve().parent / "results" / "base-model" / "direction_learned.json"


def _same_words(summary: str) -> tuple:
    """The words as the pair key had them before the nineteenth session: articles out, nothing else."""
    return tuple(sorted(w for w in re.findall(r"[a-z0-9]+", summary.lower()) if w not in {"a", "an", "the"}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="indexes/base")
    parser.add_argument("--corpus", default="indexes/corpus/full")
    parser.add_argument("--settings", default="0:1,0.02:3,0.05:3", help="lam:tau, comma-separated; 0:1 is without it")
    parser.add_argument("--valid", type=int, default=6000, help="validation functions per language (0: none)")
    args = parser.parse_args()
    if not corpus_languages(args.corpus):
        sys.exit(f"{args.corpus}: no corpus (run `make corpus`)")
    if not (Path(args.model) / "config.json").is_file():
        sys.exit(f"{args.model}: no model (run `make base-model`)")
    model = CodeSearchModel.load(args.model)
    if model.direction_head is None:
        sys.exit(f"{args.model}: no direction head (python -m training direction-head --corpus ... --model ...)")
    report = {"head": model.direction_head.report, "settings": {}}
    pairs = ev.direction_pairs(ev.direction_records(args.corpus, corpus_languages(args.corpus)))
    exact = [p for p in pairs if _same_words(p[0]["summary"]) == _same_words(p[1]["summary"])]
    subsets = {"all": pairs, "same_words": exact, "never_read": [p for p in pairs if p not in exact]}
    valid = []
    if args.valid:
        rng = random.Random(0)
        for language in model.languages:
            records = list(read_corpus(args.corpus, "valid", [language]))
            valid += rng.sample(records, min(args.valid, len(records)))
    for text in args.settings.split(","):
        direction_head.LAM, direction_head.TAU = map(float, text.split(":"))  # what its adjustment reads
        figures = {name: {k: round(v, 4) for k, v in ev.evaluate_direction(model, chosen).items()
                          if k in ("pairs", "model", "cosine")} for name, chosen in subsets.items()}
        if valid:
            macro = ev.evaluate_csn(model, valid)["macro"]
            figures["valid_macro"] = {k: round(macro[k], 4) for k in ("model", "hybrid", "cosine")}
        report["settings"][text] = figures
        print(text, json.dumps(figures), flush=True)
    OUT.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
