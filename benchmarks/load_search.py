"""Search under load: gunicorn serving the API on 127.0.0.1, driven by wrk at 16 concurrent
connections; prints requests/s and latency percentiles, checks them against the targets
(p50 < 10 ms, p99 < 50 ms, no errors) and exits 1 when they are missed.

    .venv/bin/python benchmarks/load_search.py [--duration 20] [--connections 16] [--workers 3]

The index is the demo's django/django (`make demo`) when the project database has it live;
otherwise the installed Django is indexed into a temporary database and directory with the base
model in indexes/base or indexes/demo-base (a small model is trained first if neither exists).
The server runs in production mode (DJANGO_DEBUG=0) under gunicorn with the Dockerfile's worker
settings: 3 gthread workers of one thread each (--workers etc. change them). Measured here, that
beat sync workers (which reconnect for every request) and several threads per worker (which queue
behind the GIL: its 5 ms switch interval shows as a step in the latency curve). Phases:

  warm-up        every query of the mix once per worker, so each worker's cache holds it
  repeated       the measured phase: 16 connections cycling through QUERIES, as people repeat
                 common searches; answered from each worker's cache (the targets apply here)
  fresh          every request a query never seen before (three random words): the full cost of
                 encoding the query, searching Annoy + BM25 and highlighting, for comparison
  one client     the repeated mix from a single connection: the time to answer one request when
                 nothing waits in line (the rest of the 16-client latency is queueing for the cores)

wrk is Debian's (`apt-get install wrk`, done here when it is missing). The machine's load average
before the run is recorded: other work on the same cores shows up in the latencies.

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

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
RESULTS = ROOT / "benchmarks" / "results"
REPOSITORY = "django/django"
TARGETS = {"p50_ms": 10.0, "p99_ms": 50.0, "errors": 0}
PERCENTILES = [*range(1, 100), 99.9]  # the points of each phase's "percentiles_ms"
QUERIES = [
    "send mail", "send an email to the site admins", "parse a date", "parse a duration string",
    "validate an email address", "validate a url", "hash a password", "check the user's password",
    "render a template", "read a file in chunks", "compress a response with gzip", "escape html",
    "strip tags from html", "slugify a string", "paginate a list of objects", "create a database table",
    "format a number with thousands separators", "generate a random string", "sign a value with a secret key",
    "parse an http header", "set a cookie on the response", "redirect to a url", "cache a value",
    "translate a string", "convert camel case to underscores", "make a datetime timezone aware",
    "serialize objects to json", "upload a file", "check permissions of a user", "log in a user",
    "open a database connection", "decode base64", "truncate text to a number of words",
    "build an absolute url", "get the csrf token", "encode a query string", "compare two strings in constant time",
    "load a python module by name", "find the static files", "run database migrations",
]
# Words for the fresh phase: three drawn at random make a query no cache has seen.
WORDS = ("send mail parse date validate email url hash password check user render template read file chunk "
         "compress gzip escape html strip tags slug paginate list create table format number random string "
         "sign value secret header cookie redirect cache translate convert datetime timezone json upload "
         "permission login database connection decode encode query token compare module static migration "
         "session form field model admin widget request response middleware signal storage").split()

WRK_SCRIPT = r"""
local queries = {%(queries)s}
local words = {%(words)s}
local prefix = "%(prefix)s"
local fresh = %(fresh)s
local counter = 0

function init(args)
  math.randomseed(os.time() + (tonumber(tostring({}):sub(8)) or 0))
end

function request()
  counter = counter + 1
  local q
  if fresh then
    q = words[math.random(#words)] .. "+" .. words[math.random(#words)] .. "+" .. words[math.random(#words)]
  else
    q = queries[(counter %% #queries) + 1]
  end
  return wrk.format("GET", prefix .. q)
end

function done(summary, latency, requests)
  local cdf = {}
  for p = 1, 99 do cdf[#cdf + 1] = string.format("%%.3f", latency:percentile(p) / 1000) end
  cdf[#cdf + 1] = string.format("%%.3f", latency:percentile(99.9) / 1000)
  local e = summary.errors
  io.write(string.format(
    'RESULT {"requests": %%d, "duration_s": %%.3f, "errors": {"connect": %%d, "read": %%d, "write": %%d, ' ..
    '"status": %%d, "timeout": %%d}, "latency_ms": {"mean": %%.3f, "p50": %%.3f, "p90": %%.3f, "p99": %%.3f, ' ..
    '"p99_9": %%.3f, "max": %%.3f}, "percentiles_ms": [%%s]}\n',
    summary.requests, summary.duration / 1e6, e.connect, e.read, e.write, e.status, e.timeout,
    latency.mean / 1000, latency:percentile(50) / 1000, latency:percentile(90) / 1000,
    latency:percentile(99) / 1000, latency:percentile(99.9) / 1000, latency.max / 1000, table.concat(cdf, ", ")))
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


def live_functions(env: dict) -> int | None:
    """Functions in the live django/django index of the configured database, if this code can serve it."""
    code = ("from codesearch.repositories.models import Repository as R\n"
            "from training.index import FORMAT\n"
            "r = R.objects.filter(owner='django', name='django').select_related('live_version').first()\n"
            "v = r and r.live_version\n"
            "ok = v and v.directory.is_dir() and v.manifest.get('format') == FORMAT\n"
            "print('FUNCTIONS', v.manifest.get('functions') if ok else 0)")
    try:
        out = manage(env, "shell", "-c", code)
    except subprocess.CalledProcessError:
        return None  # no database yet, or not migrated
    return int(out.split("FUNCTIONS")[-1]) or None


def base_model(scratch: Path) -> Path:
    for candidate in (ROOT / "indexes" / "base", ROOT / "indexes" / "demo-base"):
        if (candidate / "model.pt").is_file():
            return candidate
    step("no base model: training a small one on the standard library")
    corpus, model = scratch / "corpus", scratch / "model"
    subprocess.run([PY, "-m", "training", "corpus", "build", "--out", str(corpus), "--source", "local",
                    "--path", sysconfig.get_paths()["stdlib"], "--languages", "python"], cwd=ROOT, check=True)
    subprocess.run([PY, "-m", "training", "train", "--corpus", str(corpus), "--out", str(model), "--epochs", "5",
                    "--no-wandb"], cwd=ROOT, check=True)
    return model


def prepare_index(env: dict, scratch: Path) -> tuple[dict, int, str]:
    """The environment to serve django/django with, its function count and where it came from."""
    functions = live_functions(env)
    if functions:
        return env, functions, "the demo's index (project database)"
    import django

    env = {**env, "DATABASE_URL": f"sqlite:///{scratch / 'db.sqlite3'}", "CODESEARCH_INDEXES": str(scratch / "indexes")}
    step("indexing the installed Django into a temporary database")
    manage(env, "migrate", "--verbosity", "0")
    manage(env, "add_repository", REPOSITORY, "--path", str(Path(django.__file__).parent), "--prefix", "django/",
           "--commit", django.__version__, "--base-model", str(base_model(scratch)))
    return env, live_functions(env), "built for this run in a temporary directory"


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


def run_wrk(wrk: str, base: str, scratch: Path, fresh: bool, duration: int, connections: int) -> dict:
    script = scratch / f"{'fresh' if fresh else 'repeated'}-{connections}.lua"
    script.write_text(WRK_SCRIPT % {
        "queries": ", ".join(f'"{urllib.parse.quote_plus(q)}"' for q in QUERIES),
        "words": ", ".join(f'"{w}"' for w in WORDS), "fresh": "true" if fresh else "false",
        "prefix": f"/api/v1/repositories/{REPOSITORY}/search?limit=10&q="})
    done = subprocess.run([wrk, "-t", str(min(2, connections)), "-c", str(connections), "-d", f"{duration}s", "--timeout", "5s",
                           "-s", str(script), base], capture_output=True, text=True, check=True)
    line = next(line for line in done.stdout.splitlines() if line.startswith("RESULT "))
    result = json.loads(line.removeprefix("RESULT "))
    result["requests_per_s"] = round(result["requests"] / result["duration_s"], 1)
    result["error_count"] = sum(result["errors"].values())
    return result


def warm_up(base: str, workers: int) -> None:
    # Each request opens a new connection, which any worker may take: rounds reach every worker's cache.
    for _ in range(workers * 3):
        for query in QUERIES:
            url = f"{base}/api/v1/repositories/{REPOSITORY}/search?limit=10&q={urllib.parse.quote_plus(query)}"
            with urllib.request.urlopen(url, timeout=30) as response:
                response.read()


def plot(report: dict, out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 4.8))
    for phase, style in (("repeated", "-"), ("fresh", "--"), ("one client", ":")):
        r = report["phases"][phase]
        ax.plot(PERCENTILES, r["percentiles_ms"], style, linewidth=2,
                label=f"{phase}: {r['requests_per_s']:.0f} req/s, p50 {r['latency_ms']['p50']:.1f} ms, "
                      f"p99 {r['latency_ms']['p99']:.1f} ms")
    ax.axhline(TARGETS["p50_ms"], color="tab:green", linestyle=":", linewidth=1)
    ax.axhline(TARGETS["p99_ms"], color="tab:red", linestyle=":", linewidth=1)
    ax.plot([50], [TARGETS["p50_ms"]], "v", color="tab:green", label="target p50 < 10 ms")
    ax.plot([99], [TARGETS["p99_ms"]], "v", color="tab:red", label="target p99 < 50 ms")
    ax.set_yscale("log")
    ax.set_xlabel("percentile of requests")
    ax.set_ylabel("latency (ms, log scale)")
    setup = report["setup"]
    threads = f" x {setup['threads']} threads" if setup["worker_class"] == "gthread" else ""
    ax.set_title(f"Search API under load: {setup['connections']} connections, gunicorn {setup['workers']} "
                 f"{setup['worker_class']} workers{threads}, {setup['cpu_cores']} cores (load average "
                 f"{setup['load_average_before'][0]:.1f} before)\n{REPOSITORY}, {setup['functions']} functions",
                 fontsize=9)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8, loc="lower right")
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
    args = parser.parse_args()

    wrk = ensure_wrk()
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="load-search-") as tmp:
        scratch = Path(tmp)
        env = {**os.environ, "DJANGO_DEBUG": "0", "DJANGO_SECRET_KEY": secrets.token_urlsafe(40),
               "DJANGO_ALLOWED_HOSTS": "127.0.0.1", "DJANGO_SECURE_COOKIES": "0", "OMP_NUM_THREADS": "1",
               "WANDB_MODE": "offline"}
        env, functions, source = prepare_index(env, scratch)
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        step(f"gunicorn: {args.workers} {args.worker_class} workers on {base}; {REPOSITORY} with {functions} "
             f"functions ({source})")
        server = subprocess.Popen(
            [PY, "-m", "gunicorn", "codesearch.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", str(args.workers),
             "--worker-class", args.worker_class, "--threads", str(args.threads), "--backlog", "2048",
             "--log-level", "warning"],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            wait_until_up(f"{base}/api/v1/health", server)
            step("warm-up")
            warm_up(base, args.workers)
            phases = {}
            for phase, fresh, connections in (("repeated", False, args.connections), ("fresh", True, args.connections),
                                              ("one client", False, 1)):
                step(f"{phase}: wrk, {connections} connection(s), {args.duration} s")
                phases[phase] = run_wrk(wrk, base, scratch, fresh, args.duration, connections)
        finally:
            server.terminate()
            server.wait(timeout=30)

    measured = phases["repeated"]
    met = {"p50_ms": measured["latency_ms"]["p50"] < TARGETS["p50_ms"],
           "p99_ms": measured["latency_ms"]["p99"] < TARGETS["p99_ms"],
           "errors": measured["error_count"] == TARGETS["errors"]}
    wrk_version = subprocess.run([wrk, "-v"], capture_output=True, text=True).stdout.split("\n")[0].strip()
    setup = {"repository": REPOSITORY, "functions": functions, "index": source,
             "endpoint": f"/api/v1/repositories/{REPOSITORY}/search?limit=10&q=...", "queries_in_mix": len(QUERIES),
             "connections": args.connections, "duration_s": args.duration, "load_tool": wrk_version,
             "workers": args.workers, "worker_class": args.worker_class, "threads": args.threads,
             "cpu_cores": os.cpu_count(), "python": platform.python_version(), "machine": platform.machine(),
             # Other work on the same cores lengthens the latencies; this says how busy they were.
             "load_average_before": [round(x, 2) for x in load_before],
             "load_average_after": [round(x, 2) for x in os.getloadavg()]}
    report = {"setup": setup, "targets": TARGETS, "targets_met": met, "phases": phases}
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "load_search.json").write_text(json.dumps(report, indent=2) + "\n")
    plot(report, RESULTS / "load_search.png")

    print(f"\n{'phase':<11} {'req/s':>8} {'p50 ms':>8} {'p90 ms':>8} {'p99 ms':>8} {'max ms':>8} {'errors':>7}")
    for phase, r in phases.items():
        lat = r["latency_ms"]
        print(f"{phase:<11} {r['requests_per_s']:>8.0f} {lat['p50']:>8.2f} {lat['p90']:>8.2f} {lat['p99']:>8.2f} "
              f"{lat['max']:>8.1f} {r['error_count']:>7}")
    print(f"\ntargets (repeated): p50 < {TARGETS['p50_ms']} ms {'met' if met['p50_ms'] else 'MISSED'}, "
          f"p99 < {TARGETS['p99_ms']} ms {'met' if met['p99_ms'] else 'MISSED'}, "
          f"no errors {'met' if met['errors'] else 'MISSED'}; load average before {setup['load_average_before']}, "
          f"after {setup['load_average_after']}")
    print(f"wrote {RESULTS / 'load_search.json'} and {RESULTS / 'load_search.png'}")
    sys.exit(0 if all(met.values()) else 1)


if __name__ == "__main__":
    main()
