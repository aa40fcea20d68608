"""Search under load, as people feel it: gunicorn serving on 127.0.0.1, driven by wrk at 16 concurrent
connections, with every request a query never sent before (no cache can answer it: the API says so in
its X-Cache header, which is counted) beside the repeated searches a cache answers; for the API and the
page, for the demo repository and for the largest repository indexed. Prints requests/s and latency
percentiles, checks the uncached API against the targets (p50 < 10 ms, p99 < 50 ms, no errors; the page
within 2x of the API) and exits 1 when one is missed.

    .venv/bin/python benchmarks/load_search.py [--duration 20] [--connections 16] [--workers 3]
                                               [--repository owner/name ...]

The demo repository is django/django (`make demo`) when the project database has it live; otherwise the
installed Django is indexed into a temporary database and directory with the base model in indexes/base
or indexes/demo-base (a small model is trained first if neither exists). The largest repository is the
live one of the project database with the most units. The server runs in production mode
(DJANGO_DEBUG=0, static files collected) under gunicorn with the Dockerfile's worker settings: 3
gthread workers of one thread each (--workers etc. change them). Measured here, that beat sync workers
(which reconnect for every request) and several threads per worker (which queue behind the GIL). Phases,
each against one repository:

  api new        16 connections, every request a new query (benchmarks/search_queries.py: a pool of
                 about 500,000 distinct queries, each phase its own part of it); no cache hit allowed
  page new       the same, through the search page (HTML)
  api repeated   16 connections cycling through the 40 common searches of REPEATED, which every
                 worker has answered once before (warm-up): answered from each worker's cache
  page repeated  the same through the page (the ranking is cached; the page is rendered anew)
  api new, one client   a single connection, new queries: the time to answer one request when nothing
                 waits in line (with 16 clients, the rest of the latency is queueing for the 2 cores)

wrk is Debian's (`apt-get install wrk`, done here when it is missing). The machine's load average
before and after each repository's run is recorded: other work on the same cores shows up in the
latencies.

Writes benchmarks/results/load_search.json and benchmarks/results/load_search.png.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import secrets
import shutil
import socket
import subprocess
import sys
import sysconfig
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

from search_queries import REPEATED, distinct_queries

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
RESULTS = ROOT / "benchmarks" / "results"
DEMO = "django/django"
TARGETS = {"p50_ms": 10.0, "p99_ms": 50.0, "errors": 0, "page_to_api": 2.0}
PERCENTILES = [*range(1, 100), 99.9]  # the points of each phase's "percentiles_ms"
WRK_THREADS = 2
# (phase, endpoint, new queries?, connections)
PHASES = [("api new", "api", True, None), ("page new", "page", True, None), ("api repeated", "api", False, None),
          ("page repeated", "page", False, None), ("api new, one client", "api", True, 1)]

# Each wrk thread sends its own share of the phase's queries file (new queries) or cycles through the
# mix; every response's X-Cache header (the API's) is counted, and the counts summed in done().
WRK_SCRIPT = r"""
local queries_file = "%(queries_file)s"
local prefix = "%(prefix)s"
local nthreads = %(threads)d
local threads = {}
local next_id = 0

function setup(thread)
  thread:set("id", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

function init(args)
  queries = {}
  for line in io.lines(queries_file) do queries[#queries + 1] = line end
  counter, hits, misses, wrapped = 0, 0, 0, 0
end

function request()
  local i = id + counter * nthreads + 1
  counter = counter + 1
  if i > #queries then
    wrapped = 1
    i = ((i - 1) %% #queries) + 1
  end
  return wrk.format("GET", prefix .. queries[i])
end

function response(status, headers, body)
  local cache = headers["X-Cache"]
  if cache == "hit" then hits = hits + 1 elseif cache == "miss" then misses = misses + 1 end
end

function done(summary, latency, requests)
  local h, m, w = 0, 0, 0
  for _, thread in ipairs(threads) do
    h = h + thread:get("hits")
    m = m + thread:get("misses")
    w = math.max(w, thread:get("wrapped"))
  end
  local cdf = {}
  for p = 1, 99 do cdf[#cdf + 1] = string.format("%%.3f", latency:percentile(p) / 1000) end
  cdf[#cdf + 1] = string.format("%%.3f", latency:percentile(99.9) / 1000)
  local e = summary.errors
  io.write(string.format(
    'RESULT {"requests": %%d, "duration_s": %%.3f, "errors": {"connect": %%d, "read": %%d, "write": %%d, ' ..
    '"status": %%d, "timeout": %%d}, "cache": {"hit": %%d, "miss": %%d}, "queries_reused": %%s, ' ..
    '"latency_ms": {"mean": %%.3f, "p50": %%.3f, "p90": %%.3f, "p99": %%.3f, "p99_9": %%.3f, "max": %%.3f}, ' ..
    '"percentiles_ms": [%%s]}\n',
    summary.requests, summary.duration / 1e6, e.connect, e.read, e.write, e.status, e.timeout, h, m,
    w == 1 and "true" or "false", latency.mean / 1000, latency:percentile(50) / 1000,
    latency:percentile(90) / 1000, latency:percentile(99) / 1000, latency:percentile(99.9) / 1000,
    latency.max / 1000, table.concat(cdf, ", ")))
end
"""


def step(title: str) -> None:
    print(f"==> {title}", flush=True)


def ensure_wrk() -> str:
    if not shutil.which("wrk"):
        step("installing wrk (Debian package)")
        subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=True, stdout=subprocess.DEVNULL)
    return shutil.which("wrk")


def manage(env: dict, *args: str) -> str:
    return subprocess.run([PY, "manage.py", *args], cwd=ROOT, env=env, check=True, capture_output=True,
                          text=True).stdout


def live_repositories(env: dict) -> dict[str, int]:
    """Live repositories of the configured database that this code can serve, with their unit counts."""
    code = ("import json\n"
            "from codesearch.repositories.models import Repository as R\n"
            "from training.index import FORMAT\n"
            "found = {r.full_name: sum(r.live_version.kinds.values()) for r in R.objects.select_related('live_version')\n"
            "         if r.live_version and r.live_version.directory.is_dir()\n"
            "         and r.live_version.manifest.get('format') == FORMAT}\n"
            "print('LIVE', json.dumps(found))")
    try:
        out = manage(env, "shell", "-c", code)
    except subprocess.CalledProcessError:
        return {}  # no database yet, or not migrated
    return json.loads(out.split("LIVE", 1)[1])


def base_model(scratch: Path) -> Path:
    for candidate in (ROOT / "indexes" / "base", ROOT / "indexes" / "demo-base"):
        if (candidate / "model.pt").is_file():
            return candidate
    step("no base model: training a small one on the standard library")
    corpus, model = scratch / "corpus", scratch / "model"
    subprocess.run([PY, "-m", "training", "corpus", "build", "--out", str(corpus), "--source", "local",
                    "--path", sysconfig.get_paths()["stdlib"], "--languages", "python"], cwd=ROOT, check=True)
    subprocess.run([PY, "-m", "training", "train", "--corpus", str(corpus), "--out", str(model), "--epochs", "5",
                    "--no-wandb", "--no-prepared-cache"], cwd=ROOT, check=True)
    return model


def prepare_index(env: dict, scratch: Path) -> tuple[dict, dict[str, int], str]:
    """The environment to serve from, its live repositories (with unit counts) and where they came from."""
    live = live_repositories(env)
    if DEMO in live:
        return env, live, "the project database"
    import django

    env = {**env, "DATABASE_URL": f"sqlite:///{scratch / 'db.sqlite3'}", "CODESEARCH_INDEXES": str(scratch / "indexes")}
    step(f"indexing the installed Django as {DEMO} into a temporary database")
    manage(env, "migrate", "--verbosity", "0")
    manage(env, "add_repository", DEMO, "--path", str(Path(django.__file__).parent), "--prefix", "django/",
           "--commit", django.__version__, "--base-model", str(base_model(scratch)))
    return env, live_repositories(env), "built for this run in a temporary directory"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until_up(url: str, server: subprocess.Popen, seconds: float = 60) -> None:
    deadline = time.time() + seconds
    while time.time() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"gunicorn exited with {server.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.3)
    raise SystemExit(f"gunicorn did not answer {url} within {seconds:.0f} s")


def prefix(repository: str, endpoint: str) -> str:
    if endpoint == "api":
        return f"/api/v1/repositories/{repository}/search?limit=10&q="
    return f"/{repository}/?q="


def run_wrk(wrk: str, base: str, script: Path, queries: list[str], url_prefix: str, duration: int,
            connections: int) -> dict:
    queries_file = script.with_suffix(".txt")
    queries_file.write_text("".join(urllib.parse.quote_plus(q) + "\n" for q in queries))
    script.write_text(WRK_SCRIPT % {"queries_file": queries_file, "prefix": url_prefix,
                                    "threads": min(WRK_THREADS, connections)})
    done = subprocess.run([wrk, "-t", str(min(WRK_THREADS, connections)), "-c", str(connections), "-d",
                           f"{duration}s", "--timeout", "5s", "-s", str(script), base],
                          capture_output=True, text=True, check=True)
    line = next(line for line in done.stdout.splitlines() if line.startswith("RESULT "))
    result = json.loads(line.removeprefix("RESULT "))
    result["requests_per_s"] = round(result["requests"] / result["duration_s"], 1)
    result["error_count"] = sum(result["errors"].values())
    return result


def warm_up(base: str, repository: str, workers: int) -> None:
    """The repeated mix, through the API and the page, enough times for every worker to have answered
    each query once (each request opens a new connection, which any worker may take)."""
    for _ in range(workers * 3):
        for query in REPEATED:
            for endpoint in ("api", "page"):
                url = base + prefix(repository, endpoint) + urllib.parse.quote_plus(query)
                with urllib.request.urlopen(url, timeout=30) as response:
                    response.read()


def measure(wrk: str, base: str, scratch: Path, repository: str, pool: list[str], duration: int,
            connections: int, workers: int) -> dict:
    """Every phase against `repository`; new-query phases take their queries from the front of `pool`,
    which loses them: no query is sent twice in a run."""
    step(f"{repository}: warm-up")
    warm_up(base, repository, workers)
    phases = {}
    for phase, endpoint, new, phase_connections in PHASES:
        phase_connections = phase_connections or connections
        if new:
            # More than wrk can send in `duration` here (it says when it had to reuse any).
            queries, pool[:] = pool[:60_000], pool[60_000:]
        else:
            queries = REPEATED
        step(f"{repository}: {phase}, wrk, {phase_connections} connection(s), {duration} s")
        script = scratch / f"{repository.replace('/', '-')}-{phase.replace(' ', '-').replace(',', '')}.lua"
        phases[phase] = run_wrk(wrk, base, script, queries, prefix(repository, endpoint), duration, phase_connections)
    return phases


def verdict(phases: dict) -> dict:
    new, page = phases["api new"], phases["page new"]
    return {"p50_ms": new["latency_ms"]["p50"] < TARGETS["p50_ms"],
            "p99_ms": new["latency_ms"]["p99"] < TARGETS["p99_ms"],
            "errors": all(r["error_count"] == 0 for r in phases.values()),
            "page_to_api": page["latency_ms"]["p50"] <= TARGETS["page_to_api"] * new["latency_ms"]["p50"],
            # What makes the new-query phases what they say they are.
            "no_cache_hits": all(r["cache"]["hit"] == 0 and not r["queries_reused"]
                                 for name, r in phases.items() if "new" in name)}


def plot(report: dict, out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    repositories = report["repositories"]
    fig, axes = plt.subplots(1, len(repositories), figsize=(7.5 * len(repositories), 5.2), squeeze=False)
    styles = {"api new": ("tab:blue", "-"), "page new": ("tab:orange", "-"), "api repeated": ("tab:blue", ":"),
              "page repeated": ("tab:orange", ":"), "api new, one client": ("tab:gray", "--")}
    setup = report["setup"]
    for ax, (repository, measured) in zip(axes[0], repositories.items()):
        for phase, r in measured["phases"].items():
            color, style = styles[phase]
            ax.plot(PERCENTILES, r["percentiles_ms"], style, color=color, linewidth=2,
                    label=f"{phase}: {r['requests_per_s']:.0f} req/s, p50 {r['latency_ms']['p50']:.1f} ms, "
                          f"p99 {r['latency_ms']['p99']:.1f} ms")
        ax.axhline(TARGETS["p50_ms"], color="tab:green", linestyle=":", linewidth=1)
        ax.axhline(TARGETS["p99_ms"], color="tab:red", linestyle=":", linewidth=1)
        ax.plot([50], [TARGETS["p50_ms"]], "v", color="tab:green", label="target p50 < 10 ms (api new)")
        ax.plot([99], [TARGETS["p99_ms"]], "v", color="tab:red", label="target p99 < 50 ms (api new)")
        ax.set_yscale("log")
        ax.set_xlabel("percentile of requests")
        ax.set_ylabel("latency (ms, log scale)")
        ax.set_title(f"{repository}: {measured['units']:,} units (load average "
                     f"{measured['load_average_before'][0]:.1f} before)", fontsize=9)
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=7, loc="upper left")
    threads = f" x {setup['threads']} threads" if setup["worker_class"] == "gthread" else ""
    fig.suptitle(f"Search under load: {setup['connections']} connections, gunicorn {setup['workers']} "
                 f"{setup['worker_class']} workers{threads}, {setup['cpu_cores']} cores", fontsize=10)
    fig.tight_layout()
    fig.savefig(out, dpi=120)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=20, help="seconds per measured phase")
    parser.add_argument("--connections", type=int, default=16)
    # As in the Dockerfile and docker-compose.yml for two cores.
    parser.add_argument("--workers", type=int, default=3, help="gunicorn workers")
    parser.add_argument("--worker-class", default="gthread", choices=["gthread", "sync"])
    parser.add_argument("--threads", type=int, default=1, help="threads per gthread worker")
    parser.add_argument("--repository", nargs="*", help="repositories to measure (default: the demo's and the "
                                                         "largest live one)")
    args = parser.parse_args()

    wrk = ensure_wrk()
    pool = distinct_queries()
    with tempfile.TemporaryDirectory(prefix="load-search-") as tmp:
        scratch = Path(tmp)
        env = {**os.environ, "DJANGO_DEBUG": "0", "DJANGO_SECRET_KEY": secrets.token_urlsafe(40),
               "DJANGO_ALLOWED_HOSTS": "127.0.0.1", "DJANGO_SECURE_COOKIES": "0", "OMP_NUM_THREADS": "1",
               "WANDB_MODE": "offline"}
        env, live, source = prepare_index(env, scratch)
        repositories = args.repository or list(dict.fromkeys([DEMO, max(live, key=live.get)]))
        step("collecting static files (the pages link them by their hashed names)")
        manage(env, "collectstatic", "--noinput", "--verbosity", "0")
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        step(f"gunicorn: {args.workers} {args.worker_class} workers on {base}; {', '.join(repositories)} ({source})")
        server = subprocess.Popen(
            [PY, "-m", "gunicorn", "codesearch.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", str(args.workers),
             "--worker-class", args.worker_class, "--threads", str(args.threads), "--backlog", "2048",
             "--log-level", "warning"],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        measured = {}
        try:
            wait_until_up(f"{base}/api/v1/health", server)
            for repository in repositories:
                before = os.getloadavg()
                phases = measure(wrk, base, scratch, repository, pool, args.duration, args.connections, args.workers)
                measured[repository] = {"units": live[repository], "phases": phases, "targets_met": verdict(phases),
                                        "load_average_before": [round(x, 2) for x in before],
                                        "load_average_after": [round(x, 2) for x in os.getloadavg()]}
        finally:
            server.terminate()
            server.wait(timeout=30)

    wrk_version = subprocess.run([wrk, "-v"], capture_output=True, text=True).stdout.split("\n")[0].strip()
    setup = {"index": source, "endpoints": {"api": "/api/v1/repositories/OWNER/NAME/search?limit=10&q=...",
                                            "page": "/OWNER/NAME/?q=..."},
             "repeated_queries": len(REPEATED), "new_query_pool": len(distinct_queries()),
             "connections": args.connections, "duration_s": args.duration, "load_tool": wrk_version,
             "workers": args.workers, "worker_class": args.worker_class, "threads": args.threads,
             "cpu_cores": os.cpu_count(), "python": platform.python_version(), "machine": platform.machine()}
    report = {"setup": setup, "targets": TARGETS, "repositories": measured}
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "load_search.json").write_text(json.dumps(report, indent=2) + "\n")
    plot(report, RESULTS / "load_search.png")

    for repository, result in measured.items():
        print(f"\n{repository} ({result['units']} units; load average before {result['load_average_before']}, "
              f"after {result['load_average_after']})")
        print(f"{'phase':<20} {'req/s':>8} {'p50 ms':>8} {'p90 ms':>8} {'p99 ms':>8} {'max ms':>8} {'errors':>7} "
              f"{'cache hits':>11}")
        for phase, r in result["phases"].items():
            lat = r["latency_ms"]
            print(f"{phase:<20} {r['requests_per_s']:>8.0f} {lat['p50']:>8.2f} {lat['p90']:>8.2f} {lat['p99']:>8.2f} "
                  f"{lat['max']:>8.1f} {r['error_count']:>7} {r['cache']['hit']:>11}")
        met = result["targets_met"]
        print("targets (api new): " + ", ".join(f"{name} {'met' if ok else 'MISSED'}" for name, ok in met.items()))
    print(f"wrote {RESULTS / 'load_search.json'} and {RESULTS / 'load_search.png'}")
    sys.exit(0 if all(all(r["targets_met"].values()) for r in measured.values()) else 1)


if __name__ == "__main__":
    main()
