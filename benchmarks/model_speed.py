"""Training throughput (pairs/s) and query-encoding latency (median, p99 per query) on this CPU: test
summaries as written, then mistyped (evaluate.with_typos) with the test code's words as the words of
the code searched.

    python benchmarks/model_speed.py --corpus indexes/corpus/demo [--model indexes/base]

Writes benchmarks/results/model_speed.json.
"""
from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402
import torch  # noqa: E402

from training.corpus import corpus_languages, read_corpus  # noqa: E402
from training.evaluate import with_typos  # noqa: E402
from training.model import CodeSearchModel, ModelConfig  # noqa: E402
from training.tokenize import code_tokens  # noqa: E402
from training.train import Pairs, TrainConfig, Trainer, build_model  # noqa: E402

OUT = Path(__file__).parent / "results" / "model_speed.json"


def training_throughput(records: list[dict], languages: list[str], steps: int = 30) -> dict:
    model = build_model(records, ModelConfig(languages=languages))
    pairs = Pairs.from_records(records, model, name_queries=True)
    trainer = Trainer(model, pairs, pairs.subset(torch.arange(0)), TrainConfig(wandb=False))
    order = torch.randperm(len(pairs))
    batch = trainer.config.batch_size
    for i in range(3):  # warm-up
        trainer._step(pairs.subset(order[i * batch:(i + 1) * batch]))
    started = time.perf_counter()
    done = 0
    for i in range(steps):
        idx = order[(i * batch) % (len(pairs) - batch):][:batch]
        trainer._step(pairs.subset(idx))
        done += len(idx)
    seconds = time.perf_counter() - started
    return {"pairs_per_second": round(done / seconds), "batch_size": batch, "steps": steps}


def query_latency(model: CodeSearchModel, queries: list[str], known: set[str] = frozenset()) -> dict:
    """Per query, in order, as a search process meets them: a word's correction is cached once made.
    `known`: the words of the code searched, which a search passes (they are never corrected, and a
    mistyped word may be taken for one of them)."""
    model.encode_queries(queries[:20], known=known)
    times = []
    for q in queries:
        started = time.perf_counter()
        model.encode_queries([q], known=known)
        times.append((time.perf_counter() - started) * 1000)
    return {"queries": len(times), "median_ms": round(float(np.median(times)), 3),
            "p99_ms": round(float(np.percentile(times, 99)), 3)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--corpus", default="indexes/corpus/demo")
    parser.add_argument("--model", help="model for the latency figure (default: one trained briefly here)")
    args = parser.parse_args()
    languages = corpus_languages(args.corpus)
    records = list(read_corpus(args.corpus, "train", languages))
    report = {"machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores",
              "torch_threads": torch.get_num_threads(), "corpus": args.corpus, "languages": languages,
              "training": training_throughput(records, languages)}
    model = CodeSearchModel.load(args.model, device="cpu") if args.model else build_model(records, ModelConfig(languages=languages)).eval()
    # Millions of records kept alive make each of Python's full garbage collections long: the slowest
    # queries measured those (full corpus: p99 1.9-2.5 ms with them, 0.8 without), not encoding.
    del records
    gc.collect()
    test = list(read_corpus(args.corpus, "test", languages))[:2000]
    queries = [r["summary"][:120] for r in test]
    report["query_encoding"] = query_latency(model, queries)
    rng = random.Random(0)
    mistyped = [with_typos(q, rng) for q in queries]
    code_words = {t for r in test for t in code_tokens(r["code_tokens"])}
    report["query_encoding_mistyped_with_code_words"] = query_latency(model, mistyped, code_words)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
