"""`python -m training <command>`: extract, corpus build, train, search."""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path


class UsageError(Exception):
    """A problem with the user's input: reported in one line, exit status 2."""


def cmd_extract(args) -> None:
    from training.corpus import write_jsonl
    from training.extract import LANGUAGES, ExtractStats, extract_path

    root = Path(args.path)
    if not root.exists():
        raise UsageError(f"{root}: no such file or directory")
    if args.language and args.language not in LANGUAGES:
        raise UsageError(f"unknown language {args.language!r}; supported: {', '.join(LANGUAGES)}")
    stats = ExtractStats()
    started = time.time()
    n = write_jsonl(args.out, (f.to_record() for f in extract_path(
        root, languages={args.language} if args.language else None, repo=args.repo, sha=args.sha, stats=stats)))
    report = {**stats.as_dict(), "written": n, "seconds": round(time.time() - started, 2)}
    print(json.dumps(report), file=sys.stderr)


def cmd_corpus_build(args) -> None:
    from training.corpus import build_local

    out = Path(args.out)
    if (out / "stats.json").exists() and not args.force:
        print(f"corpus already built in {out} (see stats.json; --force rebuilds)")
        return
    if args.source != "local":
        raise UsageError(f"--source {args.source} is not available yet; use --source local")
    if not args.path:
        raise UsageError("--source local needs at least one --path")
    for p in args.path:
        if not Path(p).is_dir():
            raise UsageError(f"{p}: not a directory")
    stats = build_local(out, args.path, languages=args.languages, exclude=args.exclude)
    print(json.dumps(stats, indent=2))


def cmd_train(args) -> None:
    from training.corpus import corpus_languages, read_corpus
    from training.model import ModelConfig
    from training.train import TrainConfig, train

    out = Path(args.out)
    if (out / "training.json").exists() and not args.force:
        print(f"model already trained in {out} (see training.json; --force retrains)")
        return
    languages = args.languages or corpus_languages(args.corpus)
    if not languages:
        raise UsageError(f"{args.corpus}: no CodeSearchNet-layout data ({{language}}/final/jsonl/train/*.jsonl.gz)")
    train_records = list(read_corpus(args.corpus, "train", languages))
    valid_records = list(read_corpus(args.corpus, "valid", languages))
    config = TrainConfig(epochs=args.epochs, batch_size=args.batch_size, lr=args.lr, patience=args.patience,
                         seed=args.seed, wandb=not args.no_wandb)
    model_config = ModelConfig(languages=languages, vocab_size=args.vocab_size, embedding_dim=args.embedding_dim)
    _, summary = train(train_records, valid_records, out, model_config=model_config, config=config)
    print(json.dumps(summary, indent=2))


def cmd_evaluate(args) -> None:
    from training import evaluate
    from training.corpus import corpus_languages, read_corpus
    from training.model import CodeSearchModel

    if not (args.csn or args.beir):
        raise UsageError("give --csn DIR (with --annotations CSV for NDCG) or --beir DIR")
    model = CodeSearchModel.load(args.model)
    if args.language and args.language not in model.languages:
        raise UsageError(f"the model has no {args.language} encoder; it knows {', '.join(model.languages)}")
    report: dict = {"model": str(args.model)}
    if args.csn:
        languages = [args.language] if args.language else [l for l in corpus_languages(args.csn) if l in model.languages]
        if not languages:
            raise UsageError(f"{args.csn}: no CodeSearchNet-layout data for the model's languages")
        records = list(read_corpus(args.csn, args.partition, languages))
        if not records:
            raise UsageError(f"{args.csn}: no {args.partition} records for {', '.join(languages)}")
        report["csn_mrr"] = evaluate.evaluate_csn(model, records)
        _print_table(f"CodeSearchNet MRR ({args.partition}, 999 distractors)", report["csn_mrr"])
        if args.annotations:
            annotations = evaluate.read_annotations(args.annotations)
            everything = [r for part in ("train", "valid", "test") for r in read_corpus(args.csn, part, languages)]
            report["ndcg"] = evaluate.evaluate_annotations(model, everything, annotations)
            _print_table(f"NDCG on {report['ndcg']['queries']} annotated queries",
                         {k: v for k, v in report["ndcg"].items() if k != "queries"})
    elif args.annotations:
        raise UsageError("--annotations needs --csn DIR: the functions the annotated URLs are looked up in")
    if args.beir:
        try:
            report["beir"] = evaluate.evaluate_beir(model, args.beir, language=args.language)
        except ValueError as e:
            raise UsageError(str(e)) from e
        _print_table(f"BEIR retrieval ({report['beir']['queries']} queries, {report['beir']['documents']} documents)",
                     {k: v for k, v in report["beir"].items() if isinstance(v, dict)})
    if args.json:
        print(json.dumps(report))


def _print_table(title: str, rows: dict[str, dict]) -> None:
    columns = [c for c in next(iter(rows.values()), {}) if c != "pairs"]
    print(f"\n{title}")
    print(f"  {'':<12}" + "".join(f"{c:>12}" for c in columns))
    for name, values in rows.items():
        print(f"  {name:<12}" + "".join(f"{values.get(c, float('nan')):>12.3f}" for c in columns))


def cmd_search(args) -> None:
    from training.index import RepositoryIndex

    index = RepositoryIndex(args.index)
    functions = {(f["language"], f["item"]): f for f in index.functions()}
    try:
        hits = index.search(args.query, language=args.language, k=args.k, mode=args.mode)
    except ValueError as e:
        raise UsageError(str(e)) from e
    for hit in hits:
        f = functions[(hit.language, hit.item)]
        print(f"{hit.score * 100:5.1f}%  {f['func_name']}  {f['path']}:{f['start_line']}-{f['end_line']}")


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m training", description=__doc__)
    sub = p.add_subparsers(dest="command", required=True)

    e = sub.add_parser("extract", help="every function under PATH as CodeSearchNet jsonl(.gz)")
    e.add_argument("path")
    e.add_argument("--language")
    e.add_argument("--out", required=True)
    e.add_argument("--repo", default="", help="owner/name, for GitHub links")
    e.add_argument("--sha", default="", help="commit or tag, for GitHub links")
    e.set_defaults(func=cmd_extract)

    c = sub.add_parser("corpus", help="corpus tools").add_subparsers(dest="corpus_command", required=True)
    b = c.add_parser("build", help="build a CodeSearchNet-layout corpus of documented functions")
    b.add_argument("--out", required=True)
    b.add_argument("--source", default="local", choices=["local", "debian", "npm", "pypi", "csn"])
    b.add_argument("--path", action="append", help="a source root (repeatable)")
    b.add_argument("--languages", nargs="+")
    b.add_argument("--exclude", nargs="*", default=[], help="package names to leave out")
    b.add_argument("--force", action="store_true")
    b.set_defaults(func=cmd_corpus_build)

    t = sub.add_parser("train", help="train a model on a CodeSearchNet-layout corpus")
    t.add_argument("--corpus", required=True)
    t.add_argument("--out", required=True)
    t.add_argument("--languages", nargs="+")
    t.add_argument("--epochs", type=int, default=30)
    t.add_argument("--batch-size", type=int, default=1000)
    t.add_argument("--lr", type=float, default=0.01)
    t.add_argument("--patience", type=int, default=3)
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--vocab-size", type=int, default=10_000)
    t.add_argument("--embedding-dim", type=int, default=128)
    t.add_argument("--no-wandb", action="store_true")
    t.add_argument("--force", action="store_true")
    t.set_defaults(func=cmd_train)

    v = sub.add_parser("evaluate", help="MRR / NDCG / recall of a model, BM25 and their hybrid, in one run")
    v.add_argument("--model", required=True)
    v.add_argument("--csn", help="CodeSearchNet-layout corpus directory")
    v.add_argument("--partition", default="test", choices=["train", "valid", "test"])
    v.add_argument("--annotations", help="annotationStore.csv-style relevance file (with --csn)")
    v.add_argument("--beir", help="BEIR-layout directory (corpus.jsonl, queries.jsonl, qrels/test.tsv)")
    v.add_argument("--language")
    v.add_argument("--json", action="store_true", help="end the output with one JSON object of every figure")
    v.set_defaults(func=cmd_evaluate)

    s = sub.add_parser("search", help="search a built index from the command line")
    s.add_argument("--index", required=True)
    s.add_argument("query")
    s.add_argument("--language")
    s.add_argument("-k", type=int, default=10)
    s.add_argument("--mode", default="hybrid", choices=["hybrid", "neural", "bm25"])
    s.set_defaults(func=cmd_search)
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        args.func(args)
    except (UsageError, FileNotFoundError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    return 0
