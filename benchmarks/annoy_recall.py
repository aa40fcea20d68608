"""Annoy against exact search: recall@10, query latency, build time and index size, by index size,
number of trees and search_k.

    .venv/bin/python benchmarks/annoy_recall.py [--sizes 10000 100000 1000000] [--queries 1000]
    .venv/bin/python benchmarks/annoy_recall.py --vectors V.npy [--query-vectors Q.npy] [--sizes ...]

The index is built as the product builds it (training/index.py): `AnnoyIndex(dims, "angular")`,
`build(n_trees, n_jobs=-1)`, saved to disk (Annoy then serves it memory-mapped, as the product loads
it) and queried with `get_nns_by_vector(v, 10, search_k=...)`, one query at a time on one thread.
recall@10 is the share of the exact cosine top 10 (numpy, in blocks) that Annoy returns. Latency is
wall-clock per query (median, p99); the CPU time of the querying thread is reported too, since on a
shared machine wall time includes waiting for a core.

By default the vectors are synthetic but shaped like the product's: unit-length 128-d embeddings drawn
from a seeded mixture of 2,000 Gaussians (log-normal cluster weights and spreads, an anisotropic spectrum),
calibrated on the django/django index built with the demo base model (8,540 vectors: nearest-neighbour
cosine median 0.79, 10th neighbour 0.52, pairwise cosine std 0.11, participation ratio 80). The same
statistics of the synthetic set are written to the results. Queries are held-out draws from the same
mixture. The sizes share one draw (each is a prefix of the largest), so they differ only in size.

With --vectors, the vectors are real: rows of a .npy of code embeddings (benchmarks/embed_corpus.py
writes one from a corpus), their dimension taken from the file. Each size is a prefix of one seeded
permutation of the rows, so the smaller sizes are random subsets of the larger. Queries are the rows
of --query-vectors (embed_corpus.py's query-encoder vectors of held-out docstring summaries: real
queries come from the query encoder, which places vectors differently from the code encoder), or
else rows of --vectors held out from every size. Unlike the product, which keeps one index per
language, one index here holds every language in the file. The report names the files, the model
and corpus they came from (the .json embed_corpus.py writes beside each) and the same shape statistics.

For context, each size also gets exact search by brute force (one query at a time, numpy on one
BLAS thread) and, per build, the recall the product's go-live check would record
(`training.index.worst_recall` against `exact_top_10`, with probes like `recall_probes`: half queries,
half indexed items of build_index's recall_sample, checked apart, at build_index's default search_k;
builds below `training.index.MIN_RECALL` are refused).

Writes benchmarks/results/annoy_recall.{json,png}, or with --vectors annoy_recall_real.{json,png}.
"""
from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # before numpy: exact search on one thread, like the queries

import argparse  # noqa: E402
import inspect  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import matplotlib  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.ticker import FormatStrFormatter, LogLocator, NullFormatter  # noqa: E402
import numpy as np  # noqa: E402
from annoy import AnnoyIndex  # noqa: E402

from training.index import MIN_RECALL, build_index, exact_nearest, exact_top_10, worst_recall  # noqa: E402

RESULTS = Path(__file__).parent / "results"
SYNTHETIC_DIMS = 128
K = 10
TARGET = {"size": 1_000_000, "recall_at_10": 0.95, "median_ms": 1.0}
PRODUCT_SEARCH_K = inspect.signature(build_index).parameters["search_k"].default
PRODUCT_CHECK_SAMPLE = inspect.signature(build_index).parameters["recall_sample"].default


def mixture(n: int, dims: int, centres: int, seed: int) -> np.ndarray:
    """`n` unit vectors from a mixture of Gaussians on the sphere (see the module docstring)."""
    rng = np.random.default_rng(seed)
    scale = np.arange(1, dims + 1, dtype=np.float32) ** -0.25   # a decaying spectrum, like learned embeddings
    scale /= np.sqrt((scale ** 2).mean())
    means = rng.standard_normal((centres, dims), dtype=np.float32) * scale
    means /= np.linalg.norm(means, axis=1, keepdims=True)
    weights = rng.lognormal(0.0, 1.5, centres)
    spreads = (0.7 * rng.lognormal(0.0, 0.35, centres)).astype(np.float32)
    labels = rng.choice(centres, n, p=weights / weights.sum())
    out = np.empty((n, dims), dtype=np.float32)
    for start in range(0, n, 100_000):
        lab = labels[start:start + 100_000]
        noise = rng.standard_normal((len(lab), dims), dtype=np.float32) * (scale / np.sqrt(dims))
        block = means[lab] + spreads[lab, None] * noise
        out[start:start + len(lab)] = block / np.linalg.norm(block, axis=1, keepdims=True)
    return out


def shape_statistics(vectors: np.ndarray) -> dict:
    """The statistics the mixture was calibrated on, for a sample of the vectors."""
    sims = vectors @ vectors.T
    np.fill_diagonal(sims, -2.0)
    top = -np.sort(-np.partition(sims, -K, axis=1)[:, -K:], axis=1)
    pairs = sims[np.triu_indices(len(vectors), 1)]
    variance = np.linalg.svd(vectors - vectors.mean(0), compute_uv=False) ** 2
    variance /= variance.sum()
    return {"sample": len(vectors), "nn1_cosine_median": round(float(np.median(top[:, 0])), 3),
            "nn10_cosine_median": round(float(np.median(top[:, K - 1])), 3),
            "pairwise_cosine_std": round(float(pairs.std()), 3),
            "participation_ratio": round(float(1 / np.sum(variance ** 2)), 1)}


def unit(vectors: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length, since exact search takes dot products; all-zero rows stay zero."""
    vectors = np.array(vectors, dtype=np.float32)  # a copy: the rows may be a read-only memory map
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True).clip(1e-12)
    return vectors


def provenance(path: Path) -> dict:
    """Where a .npy came from, as the .json embed_corpus.py writes beside it says."""
    meta = path.with_suffix(".json")
    return json.loads(meta.read_text()) if meta.is_file() else {}


def synthetic_vectors(args: argparse.Namespace, largest: int) -> tuple[np.ndarray, np.ndarray, dict]:
    data = mixture(largest + args.queries, SYNTHETIC_DIMS, args.centres, args.seed)
    about = {"kind": "synthetic", "centres": args.centres,
             "generation": "mixture of Gaussians, normalised to unit length; queries held out from the "
                           "same mixture; smaller sizes are prefixes of the largest",
             "title": f"{SYNTHETIC_DIMS}-d unit vectors from a {args.centres:,}-Gaussian mixture"}
    return data[:-args.queries], data[-args.queries:], about


def file_vectors(args: argparse.Namespace, largest: int) -> tuple[np.ndarray, np.ndarray, dict]:
    vectors = np.load(args.vectors, mmap_mode="r")  # only the rows used are read
    held_out = 0 if args.query_vectors else args.queries
    if largest + held_out > len(vectors):
        sys.exit(f"{args.vectors} has {len(vectors):,} rows: too few for {largest:,} indexed"
                 + (f" and {held_out:,} held out as queries" if held_out else ""))
    order = np.random.default_rng(args.seed).permutation(len(vectors))
    base = unit(vectors[order[:largest]])
    made_by = provenance(args.vectors)
    about = {"kind": "file", "file": args.vectors.name, "model": made_by.get("model"),
             "rows_in_file": len(vectors), "made_by": made_by,
             "generation": "rows of the file in a seeded permutation; smaller sizes are prefixes of the largest",
             "title": f"{vectors.shape[1]}-d code embeddings from {args.vectors.name}"
                      + (f" (model {made_by['model']})" if made_by.get("model") else "")}
    if args.query_vectors:
        queries = unit(np.load(args.query_vectors, mmap_mode="r")[:args.queries])
        about["query_source"] = {"file": args.query_vectors.name, "made_by": provenance(args.query_vectors)}
    else:  # the end of the permutation: the same queries whatever the sizes
        queries = unit(vectors[order[-args.queries:]])
        about["query_source"] = {"file": args.vectors.name, "held_out_rows": True}
    return base, queries, about


def brute_force_ms(base: np.ndarray, queries: np.ndarray) -> dict:
    """Latency of exact search, one query at a time."""
    times = []
    for q in queries:
        started = time.perf_counter_ns()
        sims = base @ q
        top = np.argpartition(-sims, K)[:K]
        top[np.argsort(-sims[top])]
        times.append((time.perf_counter_ns() - started) / 1e6)
    return {"queries": len(times), "median_ms": round(float(np.median(times)), 3),
            "p99_ms": round(float(np.percentile(times, 99)), 3)}


def product_probes(base: np.ndarray, queries: np.ndarray, sample: int) -> dict[str, np.ndarray]:
    """Probes shaped like training.index.recall_probes: half typed queries, half indexed items."""
    sampled = np.random.default_rng(0).choice(len(base), min(sample // 2, len(base)), replace=False)
    return {"typed": queries[:sample // 2], "code": base[np.sort(sampled)]}


def build(vectors: np.ndarray, n_trees: int, path: Path, seed: int) -> dict:
    ann = AnnoyIndex(vectors.shape[1], "angular")
    ann.set_seed(seed)
    started = time.perf_counter()
    for item, vector in enumerate(vectors):
        ann.add_item(item, vector)
    added = time.perf_counter()
    ann.build(n_trees, n_jobs=-1)
    built = time.perf_counter()
    ann.save(str(path))  # Annoy reloads the saved file memory-mapped
    return {"index": ann, "add_s": round(added - started, 2), "build_s": round(built - added, 2),
            "bytes": path.stat().st_size}


def measure(ann: AnnoyIndex, queries: np.ndarray, exact: np.ndarray, search_k: int) -> dict:
    for q in queries[:50]:  # warm-up: touch the pages and the caches
        ann.get_nns_by_vector(q, K, search_k=search_k)
    wall, cpu, found = [], [], 0
    for q, truth in zip(queries, exact):
        w0, c0 = time.perf_counter_ns(), time.thread_time_ns()
        got = ann.get_nns_by_vector(q, K, search_k=search_k)
        cpu.append((time.thread_time_ns() - c0) / 1e6)
        wall.append((time.perf_counter_ns() - w0) / 1e6)
        found += len(set(got) & set(truth.tolist()))
    return {"search_k": search_k, "recall_at_10": round(found / (K * len(queries)), 4),
            "median_ms": round(float(np.median(wall)), 4), "p99_ms": round(float(np.percentile(wall, 99)), 4),
            "cpu_median_ms": round(float(np.median(cpu)), 4)}


def best_at_target(rows: list[dict]) -> dict:
    """The fastest configuration meeting the target, else the two closest to it."""
    at_size = [r for r in rows if r["size"] == TARGET["size"]]
    recall_ok = [r for r in at_size if r["recall_at_10"] >= TARGET["recall_at_10"]]
    fast_ok = [r for r in at_size if r["median_ms"] < TARGET["median_ms"]]
    meeting = [r for r in recall_ok if r in fast_ok]
    return {
        "target": TARGET,
        "met": bool(meeting),
        "best": min(meeting, key=lambda r: r["median_ms"]) if meeting else None,
        "fastest_with_recall_target": min(recall_ok, key=lambda r: r["median_ms"]) if recall_ok else None,
        "best_recall_under_latency_target": max(fast_ok, key=lambda r: r["recall_at_10"]) if fast_ok else None,
    }


def labels(line: list[dict]) -> list[str]:
    """search_k of each point; -1 shares the label of an explicit value that means the same (n_trees × 10)."""
    def name(search_k: int) -> str:
        return f"{search_k // 1000}k" if search_k >= 1000 and search_k % 1000 == 0 else str(search_k)
    explicit = {r["search_k"] for r in line}
    out = []
    for r in line:
        if r["search_k"] == -1:
            out.append("" if r["n_trees"] * K in explicit else "-1")
        else:
            out.append(name(r["search_k"]) + ("=-1" if r["search_k"] == r["n_trees"] * K else ""))
    return out


STRETCH = 0.02  # the recall axis is -log10(1 + STRETCH - recall): 0.9, 0.95, 0.99 and 1 spread apart


def start_panel(ax) -> None:
    """One size's recall-vs-latency axes: recall stretched towards 1, the target's lines."""
    ax.set_yscale("function", functions=(lambda r: -np.log10(np.clip(1 + STRETCH - r, 1e-9, None)),
                                         lambda y: 1 + STRETCH - 10.0 ** -y))
    ax.axhline(TARGET["recall_at_10"], color="grey", linestyle=":", linewidth=1)
    ax.axvline(TARGET["median_ms"], color="grey", linestyle=":", linewidth=1)


def finish_panel(ax, exact: dict) -> None:
    """Brute force's point, the log latency axis, the target's band, title, grid and legend of one
    size's axes."""
    brute = exact["brute_force"]["median_ms"]
    ax.plot([brute], [1.0], "k*", markersize=12, label=f"exact search, numpy brute force ({brute:.3g} ms)")
    ax.set_xscale("log")
    # Labels at 1, 2 and 5 of each decade: a panel narrower than a decade still gets some, and the
    # minor ticks' labels no longer run into each other.
    ax.xaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
    ax.xaxis.set_major_formatter(FormatStrFormatter("%g"))
    ax.xaxis.set_minor_formatter(NullFormatter())
    if exact["size"] == TARGET["size"]:  # drawn from the data's left edge, not from an arbitrary one
        left, right = ax.get_xlim()
        ax.fill_between([left, TARGET["median_ms"]], TARGET["recall_at_10"], 1.0, color="tab:green",
                        alpha=0.15, label=f"target: recall ≥ {TARGET['recall_at_10']}, median < 1 ms")
        ax.set_xlim(left, right)
    ax.set_title(f"{exact['size']:,} vectors")
    ax.set_xlabel("median wall-clock latency per query (ms, log scale)")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.12), fontsize=9)


def save_figure(fig, axes, lowest: float, title: str, path: Path) -> None:
    """The shared recall axis (ticks down to `lowest`), the title, and the file."""
    ticks = [t for t in (0.1, 0.2, 0.3, 0.5, 0.7, 0.8, 0.9, 0.95, 0.98, 0.99, 1.0) if t >= lowest - 0.05]
    axes[0][0].set_yticks(ticks, [f"{t:g}" for t in ticks])
    axes[0][0].set_ylim(max(lowest - 0.05, 0.0), 1.0 + STRETCH / 2)
    axes[0][0].set_ylabel("recall@10 against exact cosine search (axis stretched towards 1)")
    fig.suptitle(title, fontsize=12)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def plot(report: dict, path: Path) -> None:
    rows = report["results"]
    sizes = [s["size"] for s in report["sizes"]]
    fig, axes = plt.subplots(1, len(sizes), figsize=(6.5 * len(sizes), 8), sharey=True, squeeze=False)
    tree_counts = sorted({r["n_trees"] for r in rows})
    colours = dict(zip(tree_counts, ["tab:blue", "tab:orange", "tab:red", "tab:purple", "tab:brown"]))
    offsets = dict(zip(tree_counts, [((5, -12), "left"), ((-6, 5), "right"), ((5, 3), "left")] * 2))
    lowest = min(r["recall_at_10"] for r in rows)
    for ax, exact in zip(axes[0], report["sizes"]):
        size = exact["size"]
        start_panel(ax)
        for n_trees in sorted({r["n_trees"] for r in rows if r["size"] == size}):
            line = sorted((r for r in rows if r["size"] == size and r["n_trees"] == n_trees),
                          key=lambda r: r["median_ms"])
            ax.plot([r["median_ms"] for r in line], [r["recall_at_10"] for r in line], "o-", color=colours[n_trees],
                    label=f"{n_trees} trees (build {line[0]['build_s']:.3g} s, {line[0]['index_mb']:.0f} MB)")
            offset, align = offsets[n_trees]
            for r, text in zip(line, labels(line)):
                ax.annotate(text, (r["median_ms"], r["recall_at_10"]), textcoords="offset points",
                            xytext=offset, ha=align, fontsize=8, color=colours[n_trees])
        ax.set_xlim(min(r["median_ms"] for r in rows) / 1.5,
                    max(max(r["median_ms"] for r in rows), max(s["brute_force"]["median_ms"] for s in report["sizes"])) * 2)
        finish_panel(ax, exact)  # after the x range: it draws the target band from the left edge
    save_figure(fig, axes, lowest, f"Annoy (angular, {report['vectors']['title']}): recall@10 vs query latency\n"
                "points labelled by search_k (-1 = Annoy's default, n_trees × 10); one query at a time on a shared "
                "2-core machine; dotted: recall 0.95 and 1 ms", path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--trees", type=int, nargs="+", default=[10, 50, 100])
    parser.add_argument("--large-trees", type=int, nargs="+", default=[10, 50, 100],
                        help="tree counts for sizes of 1,000,000 and above (their builds take minutes)")
    parser.add_argument("--search-k", type=int, nargs="+", default=[-1, 1000, 2000, 5000, 10_000, 20_000, 50_000, 100_000])
    parser.add_argument("--large-search-k", type=int, nargs="+",
                        default=[-1, 1000, 2000, 5000, 10_000, 20_000, 50_000, 100_000, 200_000],
                        help="search_k values for sizes of 1,000,000 and above")
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--centres", type=int, default=2000, help="synthetic vectors only")
    parser.add_argument("--vectors", type=Path, help="real vectors, .npy (rows, dims), instead of synthetic ones")
    parser.add_argument("--query-vectors", type=Path, help="queries for --vectors, .npy (default: held-out rows)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, help="default: benchmarks/results/annoy_recall.json, "
                                                 "or annoy_recall_real.json with --vectors")
    args = parser.parse_args()
    if args.query_vectors and not args.vectors:
        parser.error("--query-vectors needs --vectors")
    out = args.out or RESULTS / ("annoy_recall_real.json" if args.vectors else "annoy_recall.json")
    sizes = sorted(args.sizes)

    started = time.perf_counter()
    data, queries, about = (file_vectors if args.vectors else synthetic_vectors)(args, sizes[-1])
    report = {
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores",
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        "vectors": {**about, "dims": data.shape[1], "metric": "angular", "unit_length": True, "seed": args.seed,
                    "queries": len(queries), "shape": shape_statistics(data[:8540])},
        "annoy": {"build": "build(n_trees, n_jobs=-1)", "query": f"get_nns_by_vector(v, {K}, search_k), one thread, "
                  "index saved and memory-mapped", "latency": "wall clock per query; cpu_median_ms is thread CPU time"},
        "sizes": [], "product_check": [], "results": [],
    }
    print(f"{'size':>9} {'trees':>5} {'build s':>8} {'MB':>7} {'search_k':>8} {'recall@10':>9} "
          f"{'median ms':>9} {'p99 ms':>8} {'cpu ms':>7}")
    with tempfile.TemporaryDirectory(prefix="annoy-recall-") as tmp:
        for size in sizes:
            base = data[:size]
            exact, cosines = exact_nearest(base, queries, K)
            report["sizes"].append({
                "size": size, "exact_nn1_cosine_median": round(float(np.median(cosines[:, 0])), 3),
                "exact_nn10_cosine_median": round(float(np.median(cosines[:, K - 1])), 3),
                "brute_force": brute_force_ms(base, queries[:100])})
            print(f"{size:>9,} exact search by brute force: {report['sizes'][-1]}", flush=True)
            large = size >= 1_000_000
            for n_trees in (args.large_trees if large else args.trees):
                path = Path(tmp) / f"{size}-{n_trees}.ann"
                built = build(base, n_trees, path, args.seed)
                for search_k in (args.large_search_k if large else args.search_k):
                    row = {"size": size, "n_trees": n_trees, "add_s": built["add_s"], "build_s": built["build_s"],
                           "index_mb": round(built["bytes"] / 1e6, 1), **measure(built["index"], queries, exact, search_k)}
                    report["results"].append(row)
                    print(f"{size:>9,} {n_trees:>5} {row['build_s']:>8.1f} {row['index_mb']:>7.1f} {search_k:>8} "
                          f"{row['recall_at_10']:>9.3f} {row['median_ms']:>9.3f} {row['p99_ms']:>8.3f} "
                          f"{row['cpu_median_ms']:>7.3f}", flush=True)
                probes = product_probes(base, queries, PRODUCT_CHECK_SAMPLE)
                ann = built["index"]
                check = worst_recall(lambda v, n: ann.get_nns_by_vector(v, n, search_k=PRODUCT_SEARCH_K), probes,
                                     {kind: exact_top_10(base, p) for kind, p in probes.items()})
                report["product_check"].append({"size": size, "n_trees": n_trees, "search_k": PRODUCT_SEARCH_K,
                                                "recall_at_10": round(check, 4), "passes": check >= MIN_RECALL})
                print(f"{size:>9,} {n_trees:>5} the product's go-live check: {report['product_check'][-1]}", flush=True)
                built["index"].unload()
                path.unlink()
    report["at_target"] = best_at_target(report["results"])
    report["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    report["seconds"] = round(time.perf_counter() - started, 1)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n")
    plot(report, out.with_suffix(".png"))
    print(json.dumps({"shape": report["vectors"]["shape"], "at_target": report["at_target"],
                      "seconds": report["seconds"]}, indent=2))


if __name__ == "__main__":
    main()
