"""`python -m training <command>`: extract, corpus build, train, search."""
from __future__ import annotations

import argparse
import json
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
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
    import shutil

    from training.extract import LANGUAGES

    out = Path(args.out)
    if (out / "stats.json").exists() and not args.force:
        print(f"corpus already built in {out} (see stats.json; --force rebuilds)")
        return
    languages = args.languages or list(LANGUAGES)
    unknown = sorted(set(languages) - set(LANGUAGES))
    if unknown:
        raise UsageError(f"unknown language {unknown[0]!r}; supported: {', '.join(LANGUAGES)}")
    for p in args.path or []:
        if not Path(p).is_dir():
            raise UsageError(f"{p}: not a directory")
    sources = list(dict.fromkeys(args.source))
    if "csn" in sources:
        stats = _build_csn(out, sources, args.path, languages)
    else:
        if args.force:
            shutil.rmtree(out / ".work", ignore_errors=True)  # re-extract; downloads stay cached
        stats = _build_from_packages(out, sources, args, languages)
    print(json.dumps(stats, indent=2))


def _build_csn(out: Path, sources: list[str], paths: list[str] | None, languages: list[str]) -> dict:
    from training.sources import SourceError, csn

    if sources != ["csn"] or not paths or len(paths) != 1:
        raise UsageError("--source csn takes one --path (a CodeSearchNet directory) and no other source")
    try:
        return csn.build(out, Path(paths[0]), languages)
    except SourceError as e:
        raise UsageError(str(e)) from e


def _build_from_packages(out: Path, sources: list[str], args, languages: list[str]) -> dict:
    import shutil
    from datetime import date

    from training.corpus import build, local_packages
    from training.sources import SourceError, Unit, debian, npm, pypi

    tools = {"debian": ("apt-get", "apt-cache", "dpkg-deb"), "npm": ("npm",)}
    for source in sources:
        missing = [t for t in tools.get(source, ()) if shutil.which(t) is None]
        if missing and not (source == "npm" and args.path):
            raise UsageError(f"--source {source} needs {missing[0]}, which is not installed here")
    if "local" in sources and not args.path:
        raise UsageError("--source local needs at least one --path")
    if args.path and (len(sources) > 1 or (sources != ["local"] and len(args.path) > 1)):
        raise UsageError("--path: one directory, for one source (only --source local takes several)")
    path = Path(args.path[0]) if args.path else None
    cache = (Path(args.cache) if args.cache else out / ".cache").resolve()  # apt reads relative paths from /
    units: list[Unit] = []
    try:
        for source in sources:
            if source == "local":
                units += [Unit(name, (lambda name=name, p=p: [(name, p)]))
                          for name, p in local_packages(args.path, args.exclude)]
            else:
                module = {"debian": debian, "npm": npm, "pypi": pypi}[source]
                units += [u for u in module.units(cache, languages, path) if u.name not in args.exclude]
    except SourceError as e:
        raise UsageError(str(e)) from e
    if not units:
        raise UsageError(f"no packages for {', '.join(languages)} from {', '.join(sources)}")
    try:
        stats = build(out, units, languages, workers=args.workers,
                      meta={"sources": sources, "date": date.today().isoformat(), "units": len(units)})
    except KeyboardInterrupt:
        print("\ninterrupted: finished packages are cached in OUT/.work; rerun the same command to resume",
              file=sys.stderr)
        raise SystemExit(130) from None
    if len(stats.get("failed", {})) == len(units):
        first = next(iter(stats["failed"].values()))
        raise UsageError(f"every package failed to fetch (first: {first})")
    return stats


def cmd_train(args) -> None:
    from training.corpus import corpus_languages
    from training.model import ModelConfig
    from training.prepare import prepare, prepare_cached
    from training.train import TrainConfig, train

    out = Path(args.out)
    if (out / "training.json").exists() and not args.force:
        print(f"model already trained in {out} (see training.json; --force retrains)")
        return
    languages = args.languages or sorted({lang for corpus in args.corpus for lang in corpus_languages(corpus)})
    if not languages:
        raise UsageError(f"{' '.join(args.corpus)}: no CodeSearchNet-layout data "
                         "({language}/final/jsonl/train/*.jsonl.gz)")
    cache = Path(args.prepared_cache)
    if not args.no_prepared_cache and cache.exists() and not cache.is_dir():
        raise UsageError(f"--prepared-cache {cache}: not a directory")  # said now, not after minutes of preparing
    config = TrainConfig(epochs=args.epochs, batch_size=args.batch_size, lr=args.lr, patience=args.patience,
                         seed=args.seed, max_minutes=args.max_minutes, wandb=not args.no_wandb)
    model_config = ModelConfig(languages=languages, vocab_size=args.vocab_size, embedding_dim=args.embedding_dim,
                               bigrams=args.bigrams)
    if args.no_prepared_cache:
        prepared = prepare(args.corpus, languages, model_config, args.max_per_language, args.seed, config.name_queries)
    else:
        prepared = prepare_cached(args.prepared_cache, args.corpus, languages, model_config, args.max_per_language,
                                  args.seed, config.name_queries)
    _, summary = train(None, None, out, model_config=model_config, config=config, prepared=prepared)
    print(json.dumps(summary, indent=2))
    _train_direction_head(args.corpus, languages, out)


def cmd_direction_head(args) -> None:
    from training.corpus import corpus_languages
    from training.model import load_config

    if not (Path(args.model) / "config.json").is_file():
        raise UsageError(f"{args.model}: no model (train one with `python -m training train`)")
    if not any(corpus_languages(corpus) for corpus in args.corpus):
        raise UsageError(f"{' '.join(args.corpus)}: no CodeSearchNet-layout data "
                         "({language}/final/jsonl/train/*.jsonl.gz)")
    _train_direction_head(args.corpus, load_config(args.model).languages, Path(args.model))


def _train_direction_head(corpora: list[str], languages: list[str], model_dir: Path) -> None:
    """Learn the direction head (training.direction_head) on `corpora` and save it beside the model in
    `model_dir`; a corpus whose summaries never say both ends of a direction gets none."""
    from training import direction_head
    from training.prepare import direction_examples

    train, held_out = direction_examples(corpora, languages)
    if not train:
        print("direction head: no summary says both ends of a direction; none learned", file=sys.stderr)
        return
    head = direction_head.train(train, held_out)
    head.save(model_dir)
    print(json.dumps({"direction_head": head.report}))


def cmd_evaluate(args) -> None:
    from training import evaluate
    from training.corpus import corpus_files, corpus_languages, read_corpus
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
        # Two processes share the work: each language's queries as written and mistyped, the biggest
        # language first, and the direction pairs.
        sizes = {language: sum(path.stat().st_size for path in corpus_files(args.csn, language, args.partition))
                 for language in languages}
        order = sorted(languages, key=lambda language: -sizes[language])
        with ProcessPoolExecutor(2, get_context("forkserver")) as pool:
            csn = [pool.submit(_csn_mrr, str(args.model), str(args.csn), args.partition, language, args.hybrid_weights)
                   for language in order]
            pairs = pool.submit(_direction_accuracy, str(args.model), str(args.csn), languages)
            for kind, name in (("clean", "csn_mrr"), ("typos", "typos")):
                report[name] = evaluate.with_macro({language: figures for job in csn
                                                    for language, figures in job.result()[kind].items()})
            report["direction"] = pairs.result()
        if not report["csn_mrr"]:
            raise UsageError(f"{args.csn}: no {args.partition} records for {', '.join(languages)}")
        report["typos"]["clean_ratio"] = {name: value / report["csn_mrr"]["macro"][name] if report["csn_mrr"]["macro"][name] else 0.0
                                          for name, value in report["typos"]["macro"].items()}
        _print_table(f"CodeSearchNet MRR ({args.partition}, 999 distractors)", report["csn_mrr"])
        _print_table("The same with one typo in each query word of 3+ letters (MRR; clean_ratio: macro / clean macro)",
                     report["typos"])
        _print_table(f"Direction pairs ({report['direction']['pairs']}, every partition, held out of training): "
                     "right one ranked first",
                     {"accuracy": {k: v for k, v in report["direction"].items() if k != "pairs"}})
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


_models: dict = {}  # an evaluating process's model, loaded for its first task


def _model(directory: str):
    from training.model import CodeSearchModel

    if directory not in _models:
        _models[directory] = CodeSearchModel.load(directory)
    return _models[directory]


def _csn_mrr(model_dir: str, csn: str, partition: str, language: str, hybrid_weights) -> dict[str, dict]:
    """`evaluate_csn_typos` of one language's records of the partition: {"clean": {language: figures},
    "typos": {language: figures}}, each {} when it has none."""
    from training import evaluate
    from training.corpus import read_corpus

    results = evaluate.evaluate_csn_typos(_model(model_dir), read_corpus(csn, partition, [language]),
                                          hybrid_weights=hybrid_weights)
    return {kind: {language: figures[language]} if language in figures else {} for kind, figures in results.items()}


def _direction_accuracy(model_dir: str, csn: str, languages: list[str]) -> dict:
    from training import evaluate

    pairs = evaluate.direction_pairs(evaluate.direction_records(csn, languages))
    return evaluate.evaluate_direction(_model(model_dir), pairs)


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
    b.add_argument("--source", nargs="+", default=["local"], choices=["local", "debian", "npm", "pypi", "csn"],
                   help="where the code comes from; several registries may be combined (debian npm)")
    b.add_argument("--path", action="append",
                   help="local: a source root (repeatable); csn: a CodeSearchNet directory; debian, npm, "
                        "pypi: a directory of already-downloaded .deb / .tgz / wheel or sdist files")
    b.add_argument("--languages", nargs="+")
    b.add_argument("--exclude", nargs="*", default=[], help="package (unit) names to leave out")
    b.add_argument("--cache", help="downloads and unpacked packages (default OUT/.cache)")
    b.add_argument("--workers", type=int, help="extraction processes (default: one per core)")
    b.add_argument("--force", action="store_true", help="rebuild (re-extract; downloads stay cached)")
    b.set_defaults(func=cmd_corpus_build)

    t = sub.add_parser("train", help="train a model on a CodeSearchNet-layout corpus")
    t.add_argument("--corpus", required=True, nargs="+", help="one or more CodeSearchNet-layout corpora")
    t.add_argument("--out", required=True)
    t.add_argument("--languages", nargs="+")
    t.add_argument("--epochs", type=int, default=30)
    t.add_argument("--batch-size", type=int, default=1000)
    t.add_argument("--lr", type=float, default=0.01)
    t.add_argument("--patience", type=int, default=3)
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--vocab-size", type=int, default=50_000,
                   help="entries of the one vocabulary shared by queries and code (half words, half BPE)")
    t.add_argument("--embedding-dim", type=int, default=256)
    t.add_argument("--bigrams", action="store_true", help="ordered word pairs as extra tokens (order-aware)")
    t.add_argument("--max-per-language", type=int, help="train on at most this many pairs per language")
    t.add_argument("--max-minutes", type=float, help="stop after the epoch in which this much time has passed")
    t.add_argument("--no-wandb", action="store_true")
    t.add_argument("--force", action="store_true")
    t.add_argument("--prepared-cache", default="indexes/prepared",
                   help="where prepared data (vocabulary and id pairs) is kept for the next run with the same data")
    t.add_argument("--no-prepared-cache", action="store_true")
    t.set_defaults(func=cmd_train)

    d = sub.add_parser("direction-head", help="learn the direction head of a trained model (`train` does it too)")
    d.add_argument("--corpus", required=True, nargs="+", help="the corpora the model was trained on")
    d.add_argument("--model", required=True)
    d.set_defaults(func=cmd_direction_head)

    v = sub.add_parser("evaluate", help="MRR / NDCG / recall of a model, BM25 and their hybrid, in one run")
    v.add_argument("--model", required=True)
    v.add_argument("--csn", help="CodeSearchNet-layout corpus directory")
    v.add_argument("--partition", default="test", choices=["train", "valid", "test"])
    v.add_argument("--annotations", help="annotationStore.csv-style relevance file (with --csn)")
    v.add_argument("--beir", help="BEIR-layout directory (corpus.jsonl, queries.jsonl, qrels/test.tsv)")
    v.add_argument("--language")
    v.add_argument("--hybrid-weights", type=float, nargs="*", default=[],
                   help="also the hybrid with these BM25 weights (hybrid@w), to choose the product's")
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
    from training.corpus import CorpusError

    args = parser().parse_args(argv)
    try:
        args.func(args)
    except (UsageError, FileNotFoundError, CorpusError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    return 0
