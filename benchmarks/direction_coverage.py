"""How many of the direction pairs the names and signatures decide (training.direction), per language.

Each pair (training.evaluate.direction_pairs) is asked both ways; a query is decided right when what
the search adds for the direction read from the query and the two functions (their names, else their
signatures, with the product's weights) favours its own function, wrong when it favours the other,
undecided when neither says anything about it (the model's cosine decides those). Prints the
counts and a sample of the queries that are not decided right: what a better reading of direction
would have to handle.

    .venv/bin/python benchmarks/direction_coverage.py --corpus indexes/corpus/full [--samples 12]

Writes benchmarks/results/base-model/direction_coverage.json.
"""
from __future__ import annotations

import argparse
import json
import random
import sys
from collections import Counter, defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from training.corpus import corpus_languages  # noqa: E402
from training.direction import adjustment, said  # noqa: E402
from training.evaluate import direction_pairs, direction_records  # noqa: E402
from training.model import function_name  # noqa: E402

OUT = Path(__file__).resolve().parent / "results" / "base-model" / "direction_coverage.json"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", default="indexes/corpus/full")
    parser.add_argument("--samples", type=int, default=12, help="queries not decided right shown per language")
    args = parser.parse_args()
    pairs = direction_pairs(direction_records(args.corpus, corpus_languages(args.corpus)))
    if not pairs:
        sys.exit(f"{args.corpus}: no direction pairs")
    counts: dict[str, Counter] = defaultdict(Counter)
    missed: dict[str, list] = defaultdict(list)
    for a, b in pairs:
        pair = (a, b)
        added = adjustment([a["summary"], b["summary"]],
                           [said(function_name(f), f["code_tokens"], f["language"]) for f in pair])
        for mine, other in ((0, 1), (1, 0)):
            margin = added[mine, mine] - added[mine, other]
            outcome = "right" if margin > 0 else "wrong" if margin < 0 else "undecided"
            counts[a["language"]][outcome] += 1
            if outcome != "right":
                missed[a["language"]].append({"outcome": outcome, "query": pair[mine]["summary"][:100],
                                              "own": function_name(pair[mine]), "other": function_name(pair[other])})
    rng = random.Random(0)
    report = {"pairs": len(pairs), "queries": 2 * len(pairs),
              "languages": {language: {**c, "right_share": round(c["right"] / sum(c.values()), 3),
                                       "sample": rng.sample(missed[language], min(args.samples, len(missed[language])))}
                            for language, c in sorted(counts.items())}}
    total = sum(counts.values(), Counter())
    report["all"] = {**total, "right_share": round(total["right"] / sum(total.values()), 3)}
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(report, indent=2) + "\n")
    for language, entry in report["languages"].items():
        print(f"{language:<11} right {entry.get('right', 0):>4}  wrong {entry.get('wrong', 0):>3}  "
              f"undecided {entry.get('undecided', 0):>4}  ({entry['right_share']:.3f} right)")
    print(f"{'all':<11} right {total['right']:>4}  wrong {total['wrong']:>3}  undecided {total['undecided']:>4}  "
          f"({report['all']['right_share']:.3f} right)")


if __name__ == "__main__":
    main()
