"""Indexing django/django with the product's pipeline, stage by stage: functions found, time to
extract, fine-tune, embed and build the index, index size on disk, peak memory and total time.

    .venv/bin/python benchmarks/index_django.py [--source PATH] [--base-model DIR] [--commit 5.2.19]

The stages are the functions `codesearch.repositories.build.build_version` calls, called in the same
order with the same arguments (a `BuildSpec` with its defaults: trees, fine-tuning threshold):
`training.extract.extract_path`, `training.finetune.finetune` from the base model, then
`training.index.build_index`. To time embedding apart from the index build, the functions are first
embedded here with the chosen model exactly as build_index would (`model.encode_functions`, 4,096 at a
time, per language) and handed to build_index as `vectors`, so it does not embed them again; what
build_index then times is the Annoy and BM25 builds, the recall check and the writing. The source
is the Django installed in the venv, indexed as `django/django` at the tag of its version, as
`make demo` does. Everything is built in a temporary directory: no database, and the live
`indexes/repositories` tree is not touched. Peak memory is the process's maximum resident set size
(getrusage), which includes the interpreter, torch and the base model.

Writes benchmarks/results/index_django.json.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import django  # noqa: E402
import torch  # noqa: E402

from codesearch.repositories.build import BuildSpec, check_commit, parse_full_name  # noqa: E402
from training.extract import ExtractStats, extract_path  # noqa: E402
from training.finetune import FinetuneConfig, finetune  # noqa: E402
from training.index import DOC_WEIGHT, build_index, shared_model, vector_key, with_docs  # noqa: E402
from training.model import CodeSearchModel  # noqa: E402

OUT = ROOT / "benchmarks" / "results" / "index_django.json"
TARGET_SECONDS = 300
EMBED_CHUNK = 4096  # as training.index embeds


def peak_rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)  # KiB on Linux


def shown(path: Path) -> str:
    path = path.resolve()
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def directory_mb(path: Path) -> float:
    return round(sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 1e6, 2)


def embed(model: CodeSearchModel, functions: list[dict]) -> tuple[dict[tuple, list[float]], int]:
    """`vector_key` -> vector (code and doc, as build_index makes it) for every unit in a language the model
    encodes; and their number."""
    vectors, embedded = {}, 0
    for language in model.languages:
        fns = [f for f in functions if f["language"] == language]
        for start in range(0, len(fns), EMBED_CHUNK):
            chunk = fns[start:start + EMBED_CHUNK]
            for fn, vector in zip(chunk, with_docs(model, chunk, model.encode_functions(chunk, language), DOC_WEIGHT)):
                vectors[vector_key(fn)] = vector
            embedded += len(chunk)
    return vectors, embedded


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--source", type=Path, default=Path(django.__file__).parent,
                        help="Django source to index (default: the Django installed in this venv)")
    parser.add_argument("--commit", default=django.__version__, help="the tag it holds (default: its version)")
    parser.add_argument("--base-model", type=Path,
                        default=next((p for p in (ROOT / "indexes/base", ROOT / "indexes/demo-base")
                                      if (p / "model.pt").is_file()), ROOT / "indexes/demo-base"))
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()

    started = time.perf_counter()
    report = {"machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores",
              "torch_threads": torch.get_num_threads(), "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
              "repository": "django/django", "source": shown(args.source), "commit": args.commit,
              "base_model": shown(args.base_model), "peak_rss_mb_after_imports": peak_rss_mb(), "stages": {}}
    stages = report["stages"]

    def stage(name: str, since: float, **figures) -> float:
        now = time.perf_counter()
        stages[name] = {"seconds": round(now - since, 2), "peak_rss_mb_after": peak_rss_mb(), **figures}
        print(f"{name:<12} {stages[name]['seconds']:>8.2f} s  peak RSS {stages[name]['peak_rss_mb_after']:>7.1f} MB  "
              f"{json.dumps(figures)}", flush=True)
        return now

    with tempfile.TemporaryDirectory(prefix="index-django-") as tmp:
        spec = BuildSpec(full_name="django/django", indexes_dir=Path(tmp), base_model=args.base_model,
                         path=args.source, commit=args.commit, prefix="django/")
        parse_full_name(spec.full_name)
        commit = check_commit(spec.commit)
        scratch = Path(tmp) / "build"
        report.update(n_trees=spec.n_trees, min_documented=spec.min_documented)

        t = time.perf_counter()
        stats = ExtractStats()
        functions = [f.to_record() for f in extract_path(spec.path, repo=spec.full_name, sha=commit, stats=stats,
                                                         prefix=spec.prefix, units=True)]
        languages = {}
        for fn in functions:
            languages[fn["language"]] = languages.get(fn["language"], 0) + 1
        t = stage("extraction", t, **stats.as_dict(), by_language=languages)

        base = CodeSearchModel.load(spec.base_model, device="cpu")
        t = stage("load_base_model", t, languages=base.languages)

        model, model_report = finetune(base, functions, scratch / "finetune",
                                       FinetuneConfig(min_documented=spec.min_documented))
        t = stage("fine_tuning", t, **model_report)

        # Stored as build_version stores it: a fine-tuned model as its changes from a shared copy of the
        # base (training.delta), a repository the base serves pointing at that copy.
        shared = shared_model(spec.base_model, Path(tmp) / "models")
        if model is not base:
            model.base_dir = shared
        vectors, embedded = embed(model, functions)
        t = stage("embedding", t, functions=embedded)

        manifest = build_index(model, functions, scratch, n_trees=spec.n_trees, vectors=vectors,
                               model_dir=shared if model is base else None, extra={
            "repository": spec.full_name, "commit": commit, "extraction": stats.as_dict(), "model": model_report,
            "source": {"path": str(spec.path), "prefix": spec.prefix}})
        stage("index_build", t, n_trees=manifest["trees"],
              languages={lang: {k: e.get(k) for k in ("count", "bytes", "recall_at_10", "search_k", "ef_search")}
                         for lang, e in manifest["languages"].items()},
              skipped_languages=manifest["skipped_languages"])

        shutil.rmtree(scratch / "finetune", ignore_errors=True)  # as build_version does before going live
        report["size_on_disk_mb"] = {
            "total": directory_mb(scratch),
            "annoy": round(sum(e.get("bytes", 0) for e in manifest["languages"].values()) / 1e6, 2),
            "vectors": round(sum((scratch / e["vectors"]["file"]).stat().st_size
                                 for e in manifest["languages"].values() if "vectors" in e) / 1e6, 2),
            "bm25": round(sum(directory_mb(p) for p in scratch.glob("*.bm25")), 2),
            "model": directory_mb(scratch / "model") if (scratch / "model").is_dir() else 0.0,
            "functions_jsonl_gz": round((scratch / "functions.jsonl.gz").stat().st_size / 1e6, 2),
        }
    report["summary"] = {
        "files": stats.files, "functions": stats.functions, "classes": stats.classes, "blocks": stats.blocks,
        "documented": stats.documented, "indexed": manifest["units"], "model": model_report["model"],
        "total_seconds_after_imports": round(time.perf_counter() - started, 1), "target_seconds": TARGET_SECONDS,
        "peak_rss_mb": peak_rss_mb(),
    }
    report["summary"]["under_target"] = report["summary"]["total_seconds_after_imports"] < TARGET_SECONDS
    report["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report["summary"] | {"size_on_disk_mb": report["size_on_disk_mb"]}, indent=2))


if __name__ == "__main__":
    main()
