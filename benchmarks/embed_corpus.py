"""Embed a corpus's code, and a sample of its docstring summaries as queries, for benchmarks/annoy_recall.py.

    .venv/bin/python benchmarks/embed_corpus.py --model indexes/base --corpus indexes/corpus/full \
        --out /tmp/vectors.npy [--queries-out /tmp/vectors_queries.npy] [--limit 1100000] [--queries 1000]

Every record of every partition (train, valid, test) of the languages both the corpus and the model
have is embedded from its `code_tokens` with the model's code encoder, as the product embeds
functions; rows are ordered by language, then partition. With --limit, a seeded uniform sample of
that many records is kept instead. The queries are the `summary` of a seeded uniform sample of the
test partition (so languages are represented as in the corpus) through the query encoder: search
compares query vectors with code vectors, and the two encoders place them differently.

Writes float32 unit vectors (rows, dims) with np.save (all-zero for code with no token the model
knows; the .json counts them), and next to each .npy a .json naming the model, the corpus and the
rows per language (annoy_recall.py copies it into its report).
"""
from __future__ import annotations

import argparse
import gzip
import json
import sys
from itertools import islice
from pathlib import Path
from typing import Iterator

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402
from tqdm import tqdm  # noqa: E402

from training.corpus import PARTITIONS, corpus_files, corpus_languages, read_corpus  # noqa: E402
from training.model import CodeSearchModel  # noqa: E402


def count_records(root: Path, language: str, partition: str) -> int:
    """Records in one partition, counted without parsing them (read_jsonl skips blank lines too)."""
    total = 0
    for path in corpus_files(root, language, partition):
        opener = gzip.open if path.name.endswith(".gz") else open
        with opener(path, "rb") as f:
            total += sum(1 for line in f if line.strip())
    return total


def selected(root: Path, language: str, keep: np.ndarray, query_picks: set, summaries: list) -> Iterator[dict]:
    """One language's kept records; the summaries of the picked test records go to `summaries`."""
    position = 0
    for part in PARTITIONS:
        for i, record in enumerate(read_corpus(root, part, [language])):
            if part == "test" and (language, i) in query_picks:
                summaries.append((language, record["summary"]))
            if keep[position]:
                yield record
            position += 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, required=True)
    parser.add_argument("--corpus", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True, help="code vectors, .npy")
    parser.add_argument("--queries-out", type=Path, help="query vectors, .npy (default: OUT's name + _queries)")
    parser.add_argument("--limit", type=int, help="embed a seeded uniform sample of this many records")
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--batch", type=int, default=20_000, help="records embedded at a time")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    queries_out = args.queries_out or args.out.with_name(args.out.stem + "_queries.npy")

    model = CodeSearchModel.load(args.model)
    present = corpus_languages(args.corpus)
    languages = [lang for lang in present if lang in model.languages]
    if not languages:
        sys.exit(f"{args.corpus} has no records in the model's languages ({', '.join(model.languages)})")
    if skipped := [lang for lang in present if lang not in languages]:
        print(f"skipping {', '.join(skipped)}: the model has no encoder for them", file=sys.stderr)

    # Counting first lets the rows be written straight into the .npy and the samples be drawn
    # up front, so no more than one batch of records is held at a time.
    counts = {(lang, part): count_records(args.corpus, lang, part) for lang in languages for part in PARTITIONS}
    total = sum(counts.values())
    rng = np.random.default_rng(args.seed)
    keep = np.ones(total, dtype=bool)
    if args.limit and args.limit < total:
        keep[:] = False
        keep[rng.choice(total, args.limit, replace=False)] = True
    test_positions = [(lang, i) for lang in languages for i in range(counts[lang, "test"])]
    picked = rng.choice(len(test_positions), min(args.queries, len(test_positions)), replace=False)
    query_picks = {test_positions[i] for i in picked}

    dims = model.config.embedding_dim
    rows = int(keep.sum())
    args.out.parent.mkdir(parents=True, exist_ok=True)
    vectors = np.lib.format.open_memmap(args.out, mode="w+", dtype=np.float32, shape=(rows, dims))
    summaries: list[tuple[str, str]] = []
    per_language: dict[str, dict] = {}
    offset = row = 0
    with tqdm(total=rows, unit="fn", desc="embedding") as bar:
        for lang in languages:
            per_language[lang] = {"first_row": row}
            records = selected(args.corpus, lang, keep[offset:], query_picks, summaries)
            while batch := list(islice(records, args.batch)):
                vectors[row:row + len(batch)] = model.encode_functions(batch, lang)
                row += len(batch)
                bar.update(len(batch))
            per_language[lang]["rows"] = row - per_language[lang]["first_row"]
            offset += sum(counts[lang, part] for part in PARTITIONS)
    if row != rows:
        sys.exit(f"the corpus changed while it was read ({row:,} records embedded, {rows:,} expected)")
    vectors.flush()
    zero_rows = int((np.abs(vectors).max(axis=1) == 0).sum())  # code with no token the vocabulary knows
    del vectors

    summaries = [summaries[i] for i in rng.permutation(len(summaries))]  # any prefix is then a uniform sample too
    query_vectors = model.encode_queries([text for _, text in summaries]).astype(np.float32)
    np.save(queries_out, query_vectors)

    source = {"model": str(args.model), "corpus": str(args.corpus), "dims": dims, "seed": args.seed}
    meta = {**source, "kind": "code", "rows": rows, "records": total, "limit": args.limit,
            "zero_rows": zero_rows, "languages": per_language, "queries_file": queries_out.name}
    query_languages = {lang: sum(1 for l, _ in summaries if l == lang) for lang in languages}
    query_meta = {**source, "kind": "queries", "rows": len(query_vectors),
                  "from": "summary of a seeded uniform sample of the test partition", "languages": query_languages}
    args.out.with_suffix(".json").write_text(json.dumps(meta, indent=2) + "\n")
    queries_out.with_suffix(".json").write_text(json.dumps(query_meta, indent=2) + "\n")
    print(f"{rows:,} code vectors ({dims}-d, {zero_rows} all-zero) -> {args.out}; "
          f"{len(query_vectors):,} query vectors -> {queries_out}")


if __name__ == "__main__":
    main()
