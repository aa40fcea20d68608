"""`make base-model`: train the six-language base model on the full corpus, evaluate it beside BM25
and the hybrid, and commit-ready results under benchmarks/results/base-model/.

Expects the corpus from `make corpus` in indexes/corpus/full. Every step is a project command.
"""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "indexes" / "corpus" / "full"
MODEL = ROOT / "indexes" / "base"
RESULTS = ROOT / "benchmarks" / "results" / "base-model"
TRAIN_ARGS = ["--epochs", "1", "--bigrams", "--max-per-language", "320000", "--vocab-size", "100000", "--max-minutes", "30"]


def run(*args: str, capture: bool = False) -> str:
    print("$ " + " ".join(args), flush=True)
    done = subprocess.run(args, cwd=ROOT, check=True, text=True, stdout=subprocess.PIPE if capture else None)
    return done.stdout or ""


def plot(report: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    rows = {k: v for k, v in report["csn_mrr"].items()}
    names = list(rows)
    systems = ["model", "bm25", "hybrid"]
    x = np.arange(len(names))
    fig, ax = plt.subplots(figsize=(9, 3.8))
    for i, system in enumerate(systems):
        values = [rows[n][system] for n in names]
        bars = ax.bar(x + (i - 1) * 0.27, values, 0.27, label=system)
        ax.bar_label(bars, fmt="%.2f", fontsize=7)
    ax.set_xticks(x, names)
    ax.set(ylabel="MRR (999 distractors)", ylim=(0, 1), title="Base model vs BM25 vs hybrid, test split")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main() -> None:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--corpus", type=Path, default=CORPUS, help="CodeSearchNet-layout corpus directory")
    corpus = parser.parse_args().corpus
    if not any(corpus.glob("*/final/jsonl/train/*.jsonl*")):
        sys.exit(f"no corpus in {corpus}: run `make corpus` first")
    run(sys.executable, "-m", "training", "train", "--corpus", str(corpus), "--out", str(MODEL), *TRAIN_ARGS)
    out = run(sys.executable, "-m", "training", "evaluate", "--model", str(MODEL), "--csn", str(corpus), "--json",
              capture=True)
    print(out)
    report = json.loads(out.strip().splitlines()[-1])
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "metrics.json").write_text(json.dumps(report, indent=2) + "\n")
    for name in ("training.json", "history.json", "training_curves.png", "config.json"):
        shutil.copy(MODEL / name, RESULTS / name)
    shutil.copy(MODEL / "direction_head" / "head.json", RESULTS / "direction_head.json")  # what it learned on
    plot(report, RESULTS / "mrr.png")
    print(f"results in {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
