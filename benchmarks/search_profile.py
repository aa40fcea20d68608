"""Where the time of a new search goes, stage by stage: the API's and the page's answers to queries no
cache has seen, in one process (Django's test client, no network, no concurrency), against the
project database's django/django index (`make demo`).

    .venv/bin/python benchmarks/search_profile.py [--queries 300] [--label after]

Each stage is timed by wrapping the functions that do it, in exclusive time (a stage's own time, its
wrapped callees' left out), so the stages add up to the request's time; what no wrapper covers is
Django's and django-ninja's own work ("framework"). It also counts each request's database queries,
and digests every answer (results, scores, why they matched, highlighting, the page's result list),
so that two labels can be checked to have served identical results.

Writes benchmarks/results/search_profile.json, keeping the other labels' figures (`before`, `after`).
"""
from __future__ import annotations

import argparse
import functools
import hashlib
import json
import os
import platform
import re
import secrets
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "benchmarks")]
OUT = ROOT / "benchmarks" / "results" / "search_profile.json"
REPOSITORY = "django/django"

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "codesearch.settings")
os.environ.update(DJANGO_DEBUG="0", DJANGO_SECRET_KEY=secrets.token_urlsafe(40), DJANGO_SECURE_COOKIES="0",
                  OMP_NUM_THREADS="1")

import django  # noqa: E402

django.setup()

import bm25s  # noqa: E402
from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from codesearch.repositories.models import Repository  # noqa: E402
from codesearch.search import api, engine, highlight, payloads, views  # noqa: E402
from codesearch.search.templatetags import search_tags  # noqa: E402
from search_queries import distinct_queries  # noqa: E402
from training.index import RepositoryIndex  # noqa: E402
from training.model import CodeSearchModel  # noqa: E402

# (owner of the function, its name, the stage it belongs to); a name the code no longer has is skipped.
STAGES = [
    (engine, "live_version_path", "find the repository"),
    (engine, "live_repository", "find the repository"),
    (api, "_repository", "find the repository"),
    (views, "_repository", "find the repository"),
    (CodeSearchModel, "encode_queries", "encode the query"),
    (RepositoryIndex, "_candidates", "neural candidates (exact cosines)"),
    (RepositoryIndex, "_cosines", "neural candidates (exact cosines)"),
    (bm25s.BM25, "get_scores", "BM25 scores"),
    (RepositoryIndex, "search", "fusion (the rest of the index's search)"),
    (engine, "_rank", "database: the results' rows"),
    (engine, "_results", "database: the results' rows"),
    (engine, "_explained", "why it matched"),
    (RepositoryIndex, "explain", "why it matched"),
    (payloads, "highlight_tokens", "highlighting"),  # before: Pygments on each request (kept in an LRU cache)
    (highlight, "highlight_code", "highlighting"),
    (search_tags, "highlight_code", "highlighting"),
    (search_tags, "highlight_marked", "highlighting"),
    (payloads, "shown", "highlighting"),  # after: what was stored at indexing, and the marks
    (search_tags, "shown", "highlighting"),
    (search_tags, "marked", "highlighting"),
    (payloads, "result", "API payload"),
    (payloads, "snippet", "API payload"),
    (views, "render", "page template"),
]
FRAMEWORK = "framework (Django, django-ninja, the rest)"

_frames: list[list[float]] = []
_spent: dict[str, float] = defaultdict(float)


def _timed(fn, stage: str):
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        frame = [0.0]  # time spent in wrapped callees
        _frames.append(frame)
        started = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            elapsed = time.perf_counter() - started
            _frames.pop()
            _spent[stage] += elapsed - frame[0]
            if _frames:
                _frames[-1][0] += elapsed
    return wrapper


def instrument() -> list[str]:
    wrapped = []
    for owner, name, stage in STAGES:
        if hasattr(owner, name):
            setattr(owner, name, _timed(getattr(owner, name), stage))
            wrapped.append(f"{getattr(owner, '__name__', owner)}.{name}")
    api.json.dumps = _timed(json.dumps, "JSON encoding")
    return wrapped


def request(client: Client, url: str) -> tuple[dict[str, float], bytes]:
    """One GET, with the milliseconds of each stage (and `total`)."""
    _spent.clear()
    started = time.perf_counter()
    response = client.get(url)
    total = time.perf_counter() - started
    assert response.status_code == 200, (url, response.status_code, response.content[:300])
    stages = {stage: seconds * 1000 for stage, seconds in _spent.items()}
    stages[FRAMEWORK] = total * 1000 - sum(stages.values())
    stages["total"] = total * 1000
    return stages, response.content


def api_digest(body: bytes) -> dict:
    """What the API answered, without the rows' ids (a re-index numbers them anew)."""
    results = json.loads(body)["results"]
    ranked = [[r["path"], r["func_name"], r["kind"], r["start_line"], r["score"], r["matched"]] for r in results]
    return {"results": ranked, "highlight": [r["highlight"] for r in results], "code": [r["code"] for r in results]}


_IDS = re.compile(r"result-\d+|/\d+/")


def page_digest(body: bytes) -> str:
    page = body.decode()
    return _IDS.sub("", page[page.index('<ol class="results">'):page.index("</ol>", page.index('<ol class="results">'))])


def sha(value) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True).encode()).hexdigest()[:16]


def summarise(samples: list[dict[str, float]]) -> dict:
    stages = sorted({s for sample in samples for s in sample} - {"total"},
                    key=lambda s: -statistics.mean(sample.get(s, 0.0) for sample in samples))
    out = {}
    for stage in [*stages, "total"]:
        values = sorted(sample.get(stage, 0.0) for sample in samples)
        out[stage] = {"mean_ms": round(statistics.mean(values), 3), "p50_ms": round(values[len(values) // 2], 3),
                      "p90_ms": round(values[int(len(values) * 0.9)], 3)}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--queries", type=int, default=300, help="distinct new queries per kind of request")
    parser.add_argument("--label", default="after", help="the key the figures go under (before, after)")
    args = parser.parse_args()

    owner, name = REPOSITORY.split("/")
    repository = Repository.objects.filter(owner=owner, name=name).select_related("live_version").first()
    if not repository or not repository.live_version:
        raise SystemExit(f"{REPOSITORY} is not indexed in the project database: run `make demo` first")
    settings.STORAGES = {**settings.STORAGES, "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}  # no collectstatic manifest needed
    wrapped = instrument()
    client = Client()
    pool = distinct_queries()
    # Load the index, the model and each language's BM25 before measuring: a process does that once.
    request(client, f"/api/v1/repositories/{REPOSITORY}/search?q=warm+up&limit=10")
    request(client, f"/{REPOSITORY}/?q=warm+up+again")

    report = {"setup": {"repository": REPOSITORY, "functions": repository.live_version.manifest.get("functions"),
                        "units": sum(repository.live_version.kinds.values()), "queries": args.queries,
                        "results_per_query": settings.RESULTS_DEFAULT, "cpu_cores": os.cpu_count(),
                        "python": platform.python_version(), "load_average_before": os.getloadavg(),
                        "wrapped": wrapped}}
    kinds = {"api": lambda q: f"/api/v1/repositories/{REPOSITORY}/search?limit=10&q={q}",
             "page": lambda q: f"/{REPOSITORY}/?q={q}"}
    for offset, (kind, url) in enumerate(kinds.items()):
        # Each kind of request its own queries: the page never finds what the API searched in a cache.
        queries = pool[offset * args.queries:(offset + 1) * args.queries]
        samples, answers = [], []
        for query in queries:
            stages, body = request(client, url(query.replace(" ", "+")))
            samples.append(stages)
            answers.append(api_digest(body) if kind == "api" else page_digest(body))
        with CaptureQueriesContext(connection) as counted:
            request(client, url(pool[-1 - offset].replace(" ", "+")))
        report[kind] = {"database_queries_per_request": len(counted.captured_queries),
                        "stages": summarise(samples)}
        if kind == "api":
            report[kind]["digest"] = {part: sha([a[part] for a in answers]) for part in ("results", "highlight", "code")}
        else:
            report[kind]["digest"] = {"results_html": sha(answers)}
    report["setup"]["load_average_after"] = os.getloadavg()

    previous = json.loads(OUT.read_text()) if OUT.is_file() else {}
    previous[args.label] = report
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(previous, indent=2) + "\n")
    for kind in kinds:
        print(f"\n{kind}: {report[kind]['database_queries_per_request']} database queries per request; "
              f"digest {report[kind]['digest']}")
        for stage, figures in report[kind]["stages"].items():
            print(f"  {stage:<45} mean {figures['mean_ms']:8.2f} ms  p50 {figures['p50_ms']:8.2f}  "
                  f"p90 {figures['p90_ms']:8.2f}")
    for label, other in previous.items():
        if label != args.label:
            same = {kind: other.get(kind, {}).get("digest") == report[kind]["digest"] for kind in kinds}
            print(f"identical answers to {label!r}: {same}")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
