"""The HNSW graph (training/hnsw.py) against exact search: recall@10, query latency, build time and
file size, by index size, links per vector (M), efConstruction and ef_search; the counterpart of
annoy_recall.py.

    .venv/bin/python benchmarks/hnsw_recall.py --vectors V.npy --query-vectors Q.npy [--sizes ...]
    .venv/bin/python benchmarks/hnsw_recall.py [--sizes 10000 100000 1000000]   # synthetic vectors

Vectors, queries, sizes and the exact top 10 are made exactly as annoy_recall.py makes them (its
functions are reused), so on the same files the two reports compare point for point. The graph is built and served as
the product does: `build_hnsw(vectors, path, m, ef_construction)` (faiss IndexHNSWFlat, inner product
on unit vectors, every core), saved, loaded memory-mapped by
`HnswGraph`, and queried with `HnswGraph.nearest(v, 10, ef_search)`, one query at a time.

Per build it also records what the product's go-live check would choose (`training.index._widen`
from build_index's default ef_search, probes as `recall_probes`: half queries, half indexed items,
checked apart),
and that setting's recall and latency on the benchmark queries.

Writes benchmarks/results/hnsw_recall.{json,png}, or with --vectors hnsw_recall_real.{json,png};
the plot draws the Annoy curve (most trees) of the matching annoy_recall report beside the graph's,
naming the model its vectors came from.
"""
from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # before numpy: exact search on one thread, like the queries

import argparse  # noqa: E402
import inspect  # noqa: E402
import itertools  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import matplotlib  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from annoy_recall import (K, RESULTS, best_at_target, brute_force_ms, file_vectors,  # noqa: E402
                          finish_panel, product_probes, save_figure, shape_statistics, start_panel,
                          synthetic_vectors)
from training.hnsw import HnswGraph, build_hnsw  # noqa: E402
from training.index import MIN_RECALL, _widen, build_index, exact_nearest, exact_top_10, worst_recall  # noqa: E402

PRODUCT = inspect.signature(build_index).parameters
PRODUCT_M = PRODUCT["hnsw_m"].default
PRODUCT_EFC = PRODUCT["hnsw_ef_construction"].default
PRODUCT_EF = PRODUCT["ef_search"].default
PRODUCT_CHECK_SAMPLE = PRODUCT["recall_sample"].default


def measure(graph: HnswGraph, queries: np.ndarray, exact: np.ndarray, ef_search: int) -> dict:
    for q in queries[:50]:  # warm-up: touch the pages and the caches
        graph.nearest(q, K, ef_search)
    wall, cpu, found = [], [], 0
    for q, truth in zip(queries, exact):
        w0, c0 = time.perf_counter_ns(), time.thread_time_ns()
        got = graph.nearest(q, K, ef_search)
        cpu.append((time.thread_time_ns() - c0) / 1e6)
        wall.append((time.perf_counter_ns() - w0) / 1e6)
        found += len({i for i, _ in got} & set(truth.tolist()))
    return {"ef_search": ef_search, "recall_at_10": round(found / (K * len(queries)), 4),
            "median_ms": round(float(np.median(wall)), 4), "p99_ms": round(float(np.percentile(wall, 99)), 4),
            "cpu_median_ms": round(float(np.median(cpu)), 4)}


def annoy_curves(path: Path) -> tuple[dict[int, list[dict]], str]:
    """Per size, Annoy's rows of its most-trees build from an annoy_recall report (if there is one),
    and where that report's vectors came from."""
    if not path.is_file():
        return {}, ""
    report = json.loads(path.read_text())
    rows = report["results"]
    out = {}
    for size in {r["size"] for r in rows}:
        most = max(r["n_trees"] for r in rows if r["size"] == size)
        out[size] = sorted((r for r in rows if r["size"] == size and r["n_trees"] == most), key=lambda r: r["median_ms"])
    made_by = report["vectors"].get("made_by", {})
    source = made_by.get("model") or report["vectors"].get("kind", "synthetic")
    return out, f"{path.name}, its own run: vectors of {source}"


def plot(report: dict, annoy: dict[int, list[dict]], annoy_source: str, path: Path) -> None:
    rows = report["results"]
    sizes = [s["size"] for s in report["sizes"]]
    fig, axes = plt.subplots(1, len(sizes), figsize=(6.5 * len(sizes), 7.5), sharey=True, squeeze=False)
    builds = sorted({(r["m"], r["ef_construction"]) for r in rows})
    colours = dict(zip(builds, ["tab:blue", "tab:orange", "tab:red", "tab:purple", "tab:green", "tab:brown"]))
    everything = rows + [r for size in sizes for r in annoy.get(size, [])]
    lowest = min(r["recall_at_10"] for r in everything)
    for ax, exact in zip(axes[0], report["sizes"]):
        size = exact["size"]
        start_panel(ax)
        for build in builds:
            line = sorted((r for r in rows if r["size"] == size and (r["m"], r["ef_construction"]) == build),
                          key=lambda r: r["median_ms"])
            if not line:
                continue
            ax.plot([r["median_ms"] for r in line], [r["recall_at_10"] for r in line], "o-", color=colours[build],
                    label=f"HNSW M={build[0]}, efConstruction {build[1]} "
                          f"(build {line[0]['build_s']:.3g} s, {line[0]['index_mb']:.0f} MB)")
            for r in line:
                ax.annotate(str(r["ef_search"]), (r["median_ms"], r["recall_at_10"]), textcoords="offset points",
                            xytext=(5, -11), fontsize=8, color=colours[build])
        if size in annoy:
            line = annoy[size]
            ax.plot([r["median_ms"] for r in line], [r["recall_at_10"] for r in line], "s--", color="grey",
                    label=f"Annoy, {line[0]['n_trees']} trees, search_k up to {line[-1]['search_k']:,}\n"
                          f"({annoy_source})")
        finish_panel(ax, exact)
    save_figure(fig, axes, lowest, f"HNSW graph (faiss, inner product, {report['vectors']['title']}): recall@10 vs "
                "query latency\npoints labelled by ef_search; one query at a time on a shared 2-core machine; "
                "dotted: recall 0.95 and 1 ms", path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--m", type=int, nargs="+", default=[16, 32])
    parser.add_argument("--large-m", type=int, nargs="+", default=[PRODUCT_M],
                        help="links per vector for sizes of 1,000,000 and above (their builds take minutes)")
    parser.add_argument("--ef-construction", type=int, nargs="+", default=[PRODUCT_EFC],
                        help="candidates kept while building (each value is one more build per M)")
    parser.add_argument("--large-ef-construction", type=int, nargs="+",
                        help="the same for sizes of 1,000,000 and above (default: --ef-construction)")
    parser.add_argument("--ef-search", type=int, nargs="+", default=[16, 32, 64, 128, 256, 512])
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--centres", type=int, default=2000, help="synthetic vectors only")
    parser.add_argument("--vectors", type=Path, help="real vectors, .npy (rows, dims), instead of synthetic ones")
    parser.add_argument("--query-vectors", type=Path, help="queries for --vectors, .npy (default: held-out rows)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, help="default: benchmarks/results/hnsw_recall.json, "
                                                 "or hnsw_recall_real.json with --vectors")
    args = parser.parse_args()
    if args.query_vectors and not args.vectors:
        parser.error("--query-vectors needs --vectors")
    name = "hnsw_recall_real" if args.vectors else "hnsw_recall"
    out = args.out or RESULTS / f"{name}.json"
    sizes = sorted(args.sizes)

    started = time.perf_counter()
    data, queries, about = (file_vectors if args.vectors else synthetic_vectors)(args, sizes[-1])
    report = {
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores",
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        "vectors": {**about, "dims": data.shape[1], "metric": "inner product on unit vectors (cosine)",
                    "seed": args.seed, "queries": len(queries), "shape": shape_statistics(data[:8540])},
        "hnsw": {"build": "training.hnsw.build_hnsw(vectors, path, m, ef_construction), every core",
                 "query": f"HnswGraph.nearest(v, {K}, ef_search), one query at a time, graph memory-mapped",
                 "latency": "wall clock per query; cpu_median_ms is thread CPU time"},
        "sizes": [], "product_check": [], "results": [],
    }
    print(f"{'size':>9} {'M':>3} {'efC':>4} {'build s':>8} {'MB':>7} {'ef':>5} {'recall@10':>9} {'median ms':>9} "
          f"{'p99 ms':>8} {'cpu ms':>7}")
    with tempfile.TemporaryDirectory(prefix="hnsw-recall-") as tmp:
        for size in sizes:
            base = data[:size]
            exact, cosines = exact_nearest(base, queries, K)
            report["sizes"].append({
                "size": size, "exact_nn1_cosine_median": round(float(np.median(cosines[:, 0])), 3),
                "exact_nn10_cosine_median": round(float(np.median(cosines[:, K - 1])), 3),
                "brute_force": brute_force_ms(base, queries[:100])})
            print(f"{size:>9,} exact search by brute force: {report['sizes'][-1]}", flush=True)
            builds = ((args.large_m, args.large_ef_construction or args.ef_construction) if size >= 1_000_000
                      else (args.m, args.ef_construction))
            for m, efc in itertools.product(*builds):
                path = Path(tmp) / f"{size}-{m}-{efc}.hnsw"
                built = time.perf_counter()
                build_hnsw(base, path, m=m, ef_construction=efc)
                build_s = round(time.perf_counter() - built, 1)
                graph = HnswGraph(path, PRODUCT_EF)
                common = {"size": size, "m": m, "ef_construction": efc, "build_s": build_s,
                          "index_mb": round(path.stat().st_size / 1e6, 1)}
                for ef in args.ef_search:
                    row = {**common, **measure(graph, queries, exact, ef)}
                    report["results"].append(row)
                    print(f"{size:>9,} {m:>3} {efc:>4} {build_s:>8.1f} {row['index_mb']:>7.1f} {ef:>5} "
                          f"{row['recall_at_10']:>9.3f} "
                          f"{row['median_ms']:>9.3f} {row['p99_ms']:>8.3f} {row['cpu_median_ms']:>7.3f}", flush=True)
                probes = product_probes(base, queries, PRODUCT_CHECK_SAMPLE)
                truth = {kind: exact_top_10(base, p) for kind, p in probes.items()}
                ef, check = _widen(PRODUCT_EF, lambda e: worst_recall(
                    lambda v, n: [i for i, _ in graph.nearest(v, n, e)], probes, truth))
                report["product_check"].append({**common, "ef_search": ef, "check_recall_at_10": round(check, 4),
                                                "passes": check >= MIN_RECALL,
                                                "on_benchmark_queries": measure(graph, queries, exact, ef)})
                print(f"{size:>9,} {m:>3} {efc:>4} the product's go-live check: {report['product_check'][-1]}",
                      flush=True)
                del graph
                path.unlink()
    report["at_target"] = best_at_target(report["results"])
    report["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    report["seconds"] = round(time.perf_counter() - started, 1)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n")
    annoy, annoy_source = annoy_curves(RESULTS / ("annoy_recall_real.json" if args.vectors else "annoy_recall.json"))
    report["annoy_comparison"] = annoy_source
    plot(report, annoy, annoy_source, out.with_suffix(".png"))
    print(json.dumps({"shape": report["vectors"]["shape"], "at_target": report["at_target"],
                      "product_check": report["product_check"], "seconds": report["seconds"]}, indent=2))


if __name__ == "__main__":
    main()
