"""Extraction throughput on the Go standard library, against tree-sitter's bare parse of the same files.

    .venv/bin/python benchmarks/extraction_throughput.py [--src DIR] [--rounds 3]

The Go source comes from Debian's golang-*-src package (fetched with `apt-get download` into
indexes/bench/, unpacked with `dpkg-deb -x`) unless --src names a Go `src` directory. Both
measurements run in this one process on one core, over the files extraction keeps (tests, testdata
and generated files are skipped by path and content, as in a corpus build), reading each file from
disk as extraction does. Rounds alternate parse and extraction and the best round of each counts,
so that other load on the machine weighs on both alike. Prints the figures and writes
benchmarks/results/extraction_throughput.json.
"""
from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import time
from importlib.metadata import version
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import tree_sitter  # noqa: E402

from training.extract import ExtractStats, content_skip_reason, extract_file, extractor, iter_source_files, skip_reason  # noqa: E402

CACHE = ROOT / "indexes" / "bench"
RESULT = ROOT / "benchmarks" / "results" / "extraction_throughput.json"


def go_source() -> tuple[Path, str]:
    """The Go standard library's `src` directory from the newest golang-1.N-src Debian package."""
    names = subprocess.run(["apt-cache", "search", "--names-only", r"^golang-1\.[0-9]+-src$"], capture_output=True,
                           text=True, check=True).stdout.split()
    packages = sorted((n for n in names if n.endswith("-src")), key=lambda n: int(n.split(".")[1].split("-")[0]))
    if not packages:
        sys.exit("no golang-1.N-src package in apt's lists (run apt-get update) and no --src given")
    package = packages[-1]
    CACHE.mkdir(parents=True, exist_ok=True)
    debs = sorted(CACHE.glob(f"{package}_*.deb"))
    if not debs:
        subprocess.run(["apt-get", "-q", "download", package], cwd=CACHE, check=True, capture_output=True)
        debs = sorted(CACHE.glob(f"{package}_*.deb"))
    tree = CACHE / package
    if not tree.exists():
        subprocess.run(["dpkg-deb", "-x", str(debs[-1]), str(tree)], check=True)
    return next(tree.glob("usr/share/go-*/src")), debs[-1].name


def kept_files(src: Path) -> list[tuple[Path, str]]:
    """The files a corpus build parses: Go sources not skipped by path or content."""
    files = []
    for full, rel, _ in iter_source_files(src, {"go"}):
        if skip_reason(rel) is None and content_skip_reason(full.read_bytes()) is None:
            files.append((full, rel))
    return files


def bare_parse(files: list[tuple[Path, str]], parser: tree_sitter.Parser) -> float:
    started = time.perf_counter()
    for full, _ in files:
        parser.parse(full.read_bytes())
    return time.perf_counter() - started


def extraction(files: list[tuple[Path, str]]) -> tuple[float, ExtractStats]:
    stats = ExtractStats()
    started = time.perf_counter()
    for full, rel in files:
        extract_file(full, rel, "go", stats=stats)
    return time.perf_counter() - started, stats


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--src", type=Path, help="a Go src directory (default: Debian's golang-1.N-src)")
    p.add_argument("--rounds", type=int, default=3)
    args = p.parse_args()
    src, package = (args.src, "") if args.src else go_source()
    files = kept_files(src)
    parser = extractor("go").parser
    parse_times, extract_times = [], []
    for _ in range(args.rounds):
        parse_times.append(bare_parse(files, parser))
        seconds, stats = extraction(files)
        extract_times.append(seconds)
    parse_s, extract_s = min(parse_times), min(extract_times)
    result = {
        "source": package or str(src),
        "files": len(files),
        "bytes": sum(full.stat().st_size for full, _ in files),
        "functions": stats.functions,
        "documented": stats.documented,
        "parse_errors": stats.parse_errors,
        "bare_parse_seconds": round(parse_s, 2),
        "extraction_seconds": round(extract_s, 2),
        "extraction_over_parse": round(extract_s / parse_s, 2),
        "parse_files_per_second": round(len(files) / parse_s),
        "extraction_files_per_second": round(len(files) / extract_s),
        "extraction_functions_per_second": round(stats.functions / extract_s),
        "rounds": {"bare_parse": [round(t, 2) for t in parse_times], "extraction": [round(t, 2) for t in extract_times]},
        "tree_sitter": version("tree-sitter"),
        "python": platform.python_version(),
        "date": time.strftime("%Y-%m-%d"),
    }
    print(f"Go standard library ({result['source']}): {result['files']} files, {result['bytes'] / 1e6:.1f} MB, "
          f"{result['functions']} functions ({result['documented']} documented)")
    print(f"bare tree-sitter parse: {parse_s:6.2f} s  {result['parse_files_per_second']:6d} files/s")
    print(f"whole extraction:       {extract_s:6.2f} s  {result['extraction_files_per_second']:6d} files/s  "
          f"{result['extraction_functions_per_second']} functions/s")
    print(f"extraction / parse:     {result['extraction_over_parse']:.2f}x  (aim: within 2x)")
    RESULT.parent.mkdir(parents=True, exist_ok=True)
    RESULT.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {RESULT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
