"""Hundreds of repositories on one machine: index real projects of the six languages in cumulative
batches (10, 30, 100 by default) with `manage.py add_repositories --backend ray`, as a user runs it, and
after each batch measure what the issue asks for, then plot it against the number of repositories:

  indexing     wall time of the batch's one `add_repositories` run, repositories/hour and
               functions (and units)/hour, the global index's rebuild time (its manifest's "seconds"),
               the peak memory of the run (the command and every process under it: Ray's included)
  disk         per live repository version: its directory (du), split into model/ (a fine-tuned
               model, stored as a float16 delta from the shared base) and the rest; fine-tuned and
               base-served repositories counted from each manifest's model report; the shared model
               copies (indexes/models), the global index and the database beside them
  memory       gunicorn with 3 workers (gthread, one thread: load_search's setup) on 127.0.0.1; each
               worker is sent, on a kept-alive connection it holds (found through /proc), new queries
               to every repository (2 each) and 10 across all; then each worker's PSS
               (/proc/PID/smaps_rollup, so pages the workers share through mmap count once) and their
               sum, and how many repositories each still has loaded (/proc/PID/maps: a loaded index maps
               its vectors or Annoy files; the workers' LRU budget, CODESEARCH_INDEXES_MEMORY_MB, may
               drop some)
  latency      wrk at 16 connections, every request a query never sent before (the API's X-Cache header
               counted: no hit allowed): one repository (the largest) and all of them (/api/v1/search);
               p50/p99, requests/s, errors; then the same with one client alone (no queueing)

The repositories are Debian packages of the corpus cache (`make corpus` fills it): binary .deb of
python3-*, golang-*-dev, ruby-*, php-*, node-* (unpacked with dpkg-deb -x) and Java source tarballs
(*.orig.tar.*); each named debian/<package> at a commit named after its version. The choice is
deterministic for a given cache: per language, the packages sorted and shuffled with --seed, each
unpacked and its functions in that language counted (kept if between --min-functions and
--max-functions), the languages taken in turn so that every batch is spread over all of them. Each run
starts from an empty database and indexes directory under --work (unpacked sources are kept there
and reused).

    .venv/bin/python benchmarks/scale.py [--sizes 10 30 100] [--languages go java ...] [--seed 18]
        [--base-model indexes/base] [--cache indexes/corpus/full/.cache/debian]
        [--work indexes/scale-benchmark] [--duration 20] [--connections 16] [--workers 3]
        [--max-functions 10000] [--database-url URL] [--list-only]

Targets (issue 18), judged at the largest size: a fine-tuned repository's model/ at most a tenth of
the old 106-128 MB; the 3 workers' PSS under 3 GB in all; across all repositories, uncached p50 < 20 ms
and p99 < 100 ms at 16 connections; no errors.

Writes benchmarks/results/scale.json and benchmarks/results/scale.png (or --out NAME: NAME.json,
NAME.png); exits 1 when a target is missed.
"""
from __future__ import annotations

import argparse
import collections
import concurrent.futures
import http.client
import json
import os
import platform
import random
import re
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from dataclasses import asdict, dataclass
from pathlib import Path

from tqdm import tqdm

from load_search import ensure_wrk, free_port, run_wrk, wait_until_up
from search_queries import distinct_queries

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from training.extract import LANGUAGES, ExtractStats, extract_path  # noqa: E402

PY = sys.executable
RESULTS = ROOT / "benchmarks" / "results"
# Old: a fine-tuned repository stored its whole float32 model, 106-128 MB (django/django: 114 MB).
OLD_FINETUNED_MB = (106, 128)
TARGETS = {"finetuned_model_mb": OLD_FINETUNED_MB[0] / 10, "pss_total_mb": 3 * 1024, "all_p50_ms": 20.0,
           "all_p99_ms": 100.0, "errors": 0}
MB = 2**20
# Debian binary packages by language (training.sources.debian's rules, arch all or not); Java comes
# as source tarballs.
DEB_RULES = (("python", re.compile(r"^python3-(?!.*-(dbg|doc)$)")), ("go", re.compile(r"^golang-(?!1\.\d+-src$).+-dev$")),
             ("ruby", re.compile(r"^ruby-(?!.*-doc$)")), ("php", re.compile(r"^php-(?!.*-doc$)")),
             ("javascript", re.compile(r"^node-(?!.*-doc$)")))
TARBALL = re.compile(r"^(?P<name>[a-z0-9][a-z0-9+.-]*)_(?P<version>[^_]+)\.orig\.tar\.(gz|xz|bz2|lzma)$")
DEB = re.compile(r"^(?P<name>[a-z0-9][a-z0-9+.-]*)_(?P<version>[^_]+)_(?P<arch>[a-z0-9-]+)\.deb$")
WRK_QUERIES = 30_000  # per wrk phase: more than one phase can send here (wrk says when it had to reuse any)
RAY_LOG = re.compile(r"\((build_task|raylet|gcs_server)[^)]*pid=\d+")


def step(title: str) -> None:
    tqdm.write(f"==> {title}")


# --- choosing the repositories ------------------------------------------------------------------------

@dataclass
class Package:
    name: str        # Debian package (binary, or source for Java)
    version: str
    language: str
    archive: Path
    functions: int = 0  # in its language, counted when screened

    @property
    def full_name(self) -> str:
        return "debian/" + re.sub(r"[^A-Za-z0-9._-]", "-", self.name)[:100]

    @property
    def commit(self) -> str:
        """The version as a tag name (check_commit's shape): 1:2.28.1+dfsg-1 -> 1-2.28.1-dfsg-1."""
        tag = re.sub(r"\.{2,}", ".", re.sub(r"[^A-Za-z0-9_./-]", "-", self.version))
        return ("v" + tag if not re.match(r"[A-Za-z0-9_]", tag) else tag)[:100]


def candidates(cache: Path, languages: list[str]) -> dict[str, list[Package]]:
    """Per language, the packages of the cache (one version of each: the last in name order), sorted by name."""
    found: dict[tuple[str, str], Package] = {}
    for deb in sorted((cache / "debs").glob("*.deb")):
        m = DEB.match(deb.name)
        if not m:
            continue
        language = next((lang for lang, rule in DEB_RULES if rule.match(m["name"])), None)
        if language in languages:
            found[(language, m["name"])] = Package(m["name"], urllib.parse.unquote(m["version"]), language, deb)
    if "java" in languages:
        for tarball in sorted((cache / "srcs").glob("*.orig.tar.*")):
            m = TARBALL.match(tarball.name)
            if m:
                found[("java", m["name"])] = Package(m["name"], urllib.parse.unquote(m["version"]), "java", tarball)
    by_language: dict[str, list[Package]] = {language: [] for language in languages}
    for (language, _), package in sorted(found.items()):
        by_language[language].append(package)
    return by_language


def unpack(package: Package, into: Path) -> Path:
    """The package's files under `into` (unpacked once; a finished unpack is marked)."""
    done = into / ".unpacked"
    if done.is_file():
        return into
    shutil.rmtree(into, ignore_errors=True)
    into.mkdir(parents=True)
    if package.archive.name.endswith(".deb"):
        command = ["dpkg-deb", "-x", str(package.archive), str(into)]
    else:
        command = ["tar", "-xf", str(package.archive), "-C", str(into), "--no-same-owner"]
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    subprocess.run(["chmod", "-R", "u+rwX", str(into)], check=True)
    done.touch()
    return into


def count_functions(root: Path, language: str, limit: int) -> int:
    """Functions of `language` under `root` as the build extracts them (tests etc. skipped), counting
    stops past `limit`."""
    stats = ExtractStats()
    for _ in extract_path(root, languages={language}, stats=stats):
        if stats.functions > limit:
            break
    return stats.functions


def screened(packages: list[Package], sources: Path, screen: dict, args) -> "iter[Package]":
    """The packages of one language, in the seed's order, that have between --min-functions and
    --max-functions functions; rejected ones are deleted once counted (the counts are remembered)."""
    order = list(packages)
    random.Random(f"{args.seed}-{packages[0].language if packages else ''}").shuffle(order)
    for package in order:
        if package.archive.stat().st_size > args.max_archive_mb * MB:
            continue
        key = f"{package.archive.name}:{package.archive.stat().st_size}"
        where = sources / package.language / package.name
        if key not in screen:
            try:
                unpack(package, where)
            except subprocess.CalledProcessError:
                screen[key] = -1
                shutil.rmtree(where, ignore_errors=True)
                continue
            screen[key] = count_functions(where, package.language, args.max_functions)
        package.functions = screen[key]
        if args.min_functions <= package.functions <= args.max_functions:
            unpack(package, where)
            yield package
        else:
            shutil.rmtree(where, ignore_errors=True)


def choose(args) -> tuple[list[Package], dict]:
    """`max(sizes)` packages, the languages taken in turn (one that runs out drops out)."""
    pool = candidates(args.cache, args.languages)
    step("candidates in the cache: " + ", ".join(f"{lang} {len(p)}" for lang, p in pool.items()))
    sources = args.work / "src"
    screen_file = sources / "screen.json"
    sources.mkdir(parents=True, exist_ok=True)
    screen = json.loads(screen_file.read_text()) if screen_file.is_file() else {}
    streams = {lang: screened(p, sources, screen, args) for lang, p in pool.items() if p}
    chosen: list[Package] = []
    with tqdm(total=max(args.sizes), desc="choosing (unpack, count)", unit="repo") as bar:
        while len(chosen) < max(args.sizes) and streams:
            for language in list(streams):
                if len(chosen) >= max(args.sizes):
                    break
                package = next(streams[language], None)
                if package is None:
                    del streams[language]
                    continue
                if package.full_name in {p.full_name for p in chosen}:
                    continue  # two packages that name the same repository: the first one stays
                chosen.append(package)
                bar.update()
                bar.set_postfix_str(package.full_name[:40])
            screen_file.write_text(json.dumps(screen, indent=0, sort_keys=True))
    if len(chosen) < max(args.sizes):
        step(f"only {len(chosen)} packages qualify: the last batch is {len(chosen)}")
    return chosen, {lang: len(p) for lang, p in pool.items()}


# --- indexing --------------------------------------------------------------------------------------

def manage(env: dict, *args: str) -> str:
    return subprocess.run([PY, "manage.py", *args], cwd=ROOT, env=env, check=True, capture_output=True,
                          text=True).stdout


def pss_kb(pid: int) -> dict[str, int]:
    """/proc/PID/smaps_rollup's figures (kB): Rss, Pss, Pss_Anon, Pss_File, Pss_Shmem; {} if it is gone."""
    try:
        text = Path(f"/proc/{pid}/smaps_rollup").read_text()
    except OSError:
        return {}
    out = {}
    for line in text.splitlines():
        key, _, rest = line.partition(":")
        if key in ("Rss", "Pss", "Pss_Anon", "Pss_File", "Pss_Shmem"):
            out[key] = int(rest.split()[0])
    return out


def children(pid: int) -> list[int]:
    found = []
    try:
        for task in Path(f"/proc/{pid}/task").iterdir():
            found += [int(c) for c in (task / "children").read_text().split()]
    except OSError:
        pass
    return found


def descendants(pid: int) -> list[int]:
    todo, seen = [pid], []
    while todo:
        p = todo.pop()
        seen.append(p)
        todo += children(p)
    return seen


class TreeMemory(threading.Thread):
    """Samples the summed PSS of a process and everything under it once a second; `peak_mb` after."""

    def __init__(self, pid: int):
        super().__init__(daemon=True)
        self.pid, self.peak_kb, self.peak_processes, self.stopping = pid, 0, 0, threading.Event()

    def run(self) -> None:
        while not self.stopping.wait(1.0):
            pids = descendants(self.pid)
            total = sum(pss_kb(p).get("Pss", 0) for p in pids)
            if total > self.peak_kb:
                self.peak_kb, self.peak_processes = total, len(pids)

    @property
    def peak_mb(self) -> float:
        return round(self.peak_kb / 1024, 1)


def index_batch(env: dict, packages: list[Package], list_file: Path, args) -> dict:
    """One `add_repositories --backend ray` run over `packages`; its outcome lines are timed as they come."""
    list_file.write_text("".join(f"{p.full_name} --path {unpack(p, args.work / 'src' / p.language / p.name)} "
                                 f"--commit {p.commit}\n" for p in packages))
    load_before = [round(x, 2) for x in os.getloadavg()]
    started = time.monotonic()
    process = subprocess.Popen([PY, "manage.py", "add_repositories", str(list_file), "--backend", "ray"], cwd=ROOT,
                               env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, bufsize=1)
    memory = TreeMemory(process.pid)
    memory.start()
    stderr: collections.deque[str] = collections.deque(maxlen=200)  # its tail (the builds' progress bars)
    drain = threading.Thread(target=lambda: stderr.extend(process.stderr), daemon=True)
    drain.start()
    outcomes, last_outcome, ray_lines = {}, None, 0
    names = {p.full_name for p in packages}
    with tqdm(total=len(packages), desc=f"indexing {len(packages)} (ray)", unit="repo") as bar:
        for line in process.stdout:
            line = line.rstrip("\n")
            name, _, rest = line.partition(": ")
            if name in names:
                status = rest.split(" ", 1)[0]
                outcomes[name] = {"status": status, "line": line, "at_s": round(time.monotonic() - started, 1)}
                last_outcome = time.monotonic()
                bar.update()
                if status != "indexed":
                    tqdm.write(f"    {line}")
            elif RAY_LOG.search(line):
                ray_lines += 1  # the builds' own log lines (fine-tuning epochs), relayed by Ray
            elif line.strip():
                tqdm.write(f"    {line}")
    process.wait()
    wall = time.monotonic() - started
    memory.stopping.set()
    memory.join()
    drain.join(timeout=5)
    if process.returncode:
        tail = [line.rstrip() for line in stderr if line.strip()][-5:]
        tqdm.write(f"    add_repositories exited with {process.returncode}: " + " | ".join(tail))
    return {"repositories": len(packages), "wall_s": round(wall, 1), "exit_status": process.returncode,
            # The global index's rebuild and Ray's shutdown, after the last repository went live.
            "after_last_publish_s": round(started + wall - last_outcome, 1) if last_outcome else None,
            "load_average_before": load_before, "load_average_after": [round(x, 2) for x in os.getloadavg()],
            "peak_memory_mb": memory.peak_mb, "peak_memory_processes": memory.peak_processes,
            "outcomes": outcomes, "ray_log_lines": ray_lines,
            "stderr_tail": [line.rstrip() for line in stderr if line.strip()][-20:]}


LIVE_CODE = """
import json
from codesearch.repositories.models import Repository as R
print('LIVE', json.dumps({r.full_name: {'path': r.live_version.path, 'manifest': r.live_version.manifest}
                          for r in R.objects.select_related('live_version').exclude(live_version=None)}))
"""


def live_versions(env: dict) -> dict[str, dict]:
    return json.loads(manage(env, "shell", "-c", LIVE_CODE).split("LIVE", 1)[1])


def du(path: Path) -> int:
    """Bytes on disk under `path` (du: allocated blocks, each hard link once)."""
    if not path.exists():
        return 0
    total, seen = 0, set()
    for dirpath, dirnames, filenames in os.walk(path):
        for name in filenames + dirnames:
            try:
                st = os.lstat(os.path.join(dirpath, name))
            except OSError:
                continue
            if (st.st_dev, st.st_ino) not in seen:
                seen.add((st.st_dev, st.st_ino))
                total += st.st_blocks * 512
    return total + os.lstat(path).st_blocks * 512


FILE_KINDS = (("model", re.compile(r"^model/")), ("annoy", re.compile(r"\.ann$")), ("hnsw", re.compile(r"\.hnsw")),
              ("vectors", re.compile(r"\.vectors\.npy$")), ("bm25", re.compile(r"\.bm25/")),
              ("functions", re.compile(r"^functions\.jsonl\.gz$")), ("highlighting", re.compile(r"^highlighting\.")))


def kinds_of(directory: Path) -> dict[str, float]:
    """MB on disk of a version directory's files by kind (FILE_KINDS, else "other")."""
    out: dict[str, int] = {}
    for path in directory.rglob("*"):
        if path.is_file() and not path.is_symlink():
            relative = path.relative_to(directory).as_posix()
            kind = next((k for k, pattern in FILE_KINDS if pattern.search(relative)), "other")
            out[kind] = out.get(kind, 0) + path.lstat().st_blocks * 512
    return {k: round(v / MB, 2) for k, v in sorted(out.items())}


def disk(indexes: Path, database: Path | None, live: dict[str, dict]) -> dict:
    per_repository = {}
    for name, version in sorted(live.items()):
        directory = indexes / version["path"]
        model = du(directory / "model")
        report = version["manifest"].get("model", {})
        per_repository[name] = {"model_mb": round(model / MB, 2), "rest_mb": round((du(directory) - model) / MB, 2),
                                "by_kind_mb": kinds_of(directory),
                                "model": report.get("model", "base"), "units": version["manifest"].get("units", 0),
                                "functions": version["manifest"].get("functions", 0),
                                "languages": sorted(version["manifest"].get("languages", {}))}
    global_dir = current_global(indexes)

    def summary(rows: list[dict]) -> dict:
        if not rows:
            return {"count": 0}
        total = [r["model_mb"] + r["rest_mb"] for r in rows]
        kinds = sorted({k for r in rows for k in r["by_kind_mb"]})
        return {"count": len(rows), "total_mb_mean": round(statistics.mean(total), 2),
                "by_kind_mb_mean": {k: round(statistics.mean(r["by_kind_mb"].get(k, 0) for r in rows), 2) for k in kinds},
                "mb_per_1000_units": round(sum(total) / max(1, sum(r["units"] for r in rows)) * 1000, 2),
                "total_mb_median": round(statistics.median(total), 2), "total_mb_max": round(max(total), 2),
                "model_mb_mean": round(statistics.mean(r["model_mb"] for r in rows), 2),
                "model_mb_max": round(max(r["model_mb"] for r in rows), 2),
                "rest_mb_mean": round(statistics.mean(r["rest_mb"] for r in rows), 2)}
    rows = list(per_repository.values())
    db_bytes = sum(du(p) for p in database.parent.glob(database.name + "*")) if database else 0
    return {"all": summary(rows), "fine_tuned": summary([r for r in rows if r["model"] == "fine-tuned"]),
            "base_served": summary([r for r in rows if r["model"] != "fine-tuned"]),
            "shared_models_mb": round(du(indexes / "models") / MB, 1),
            "global_index_mb": round(du(global_dir) / MB, 1) if global_dir else 0.0,
            "global_parts_cache_mb": round(du(indexes / "global" / "parts") / MB, 1),
            "database_mb": round(db_bytes / MB, 1) if database else None, "indexes_dir_mb": round(du(indexes) / MB, 1),
            "per_repository": per_repository}


def current_global(indexes: Path) -> Path | None:
    try:
        return indexes / "global" / (indexes / "global" / "CURRENT").read_text().strip()
    except OSError:
        return None


# --- serving ------------------------------------------------------------------------------------------

def loaded_by(pid: int, indexes: Path) -> set[str]:
    """The repository version directories whose files a worker has mapped (a loaded index maps its
    vectors or Annoy files)."""
    prefix = str(indexes / "repositories") + "/"
    try:
        maps = Path(f"/proc/{pid}/maps").read_text()
    except OSError:
        return set()
    found = set()
    for line in maps.splitlines():
        path = line.split(None, 5)[5] if len(line.split(None, 5)) == 6 else ""
        if path.startswith(prefix):
            found.add(str(Path(path).parent.relative_to(indexes)))
    return found


def tcp_sockets() -> dict[int, tuple[int, int]]:
    """Socket inode -> (local port, remote port) of this machine's IPv4 TCP sockets."""
    out = {}
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        out[int(fields[9])] = (int(fields[1].split(":")[1], 16), int(fields[2].split(":")[1], 16))
    return out


def socket_inodes(pid: int) -> set[int]:
    found = set()
    try:
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            try:
                target = os.readlink(fd)
            except OSError:
                continue
            if target.startswith("socket:["):
                found.add(int(target[8:-1]))
    except OSError:
        pass
    return found


def request_on(conn: http.client.HTTPConnection, path: str) -> int:
    """GET on a kept-alive connection; the status (0 when the connection failed)."""
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        response.read()
        return response.status
    except (OSError, http.client.HTTPException):
        conn.close()
        return 0


def worker_connections(port: int, workers: list[int], tries: int = 200) -> dict[int, http.client.HTTPConnection]:
    """One kept-alive connection held by each of `workers`: connections are opened (and sent a request,
    so that a worker accepts them) until each holds one; /proc says which worker holds which."""
    found: dict[int, http.client.HTTPConnection] = {}
    spare = []
    for _ in range(tries):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        if request_on(conn, "/api/v1/health") != 200:
            continue
        client_port = conn.sock.getsockname()[1]
        sockets = tcp_sockets()
        holder = next((pid for pid in workers if any(sockets.get(inode) == (port, client_port)
                                                     for inode in socket_inodes(pid))), None)
        if holder is not None and holder not in found:
            found[holder] = conn
        else:
            spare.append(conn)  # kept open for now, so that the next connection goes elsewhere
        if len(found) == len(workers):
            break
    for conn in spare:
        conn.close()
    if len(found) < len(workers):
        raise SystemExit(f"could not reach every gunicorn worker: {len(found)} of {len(workers)} after {tries} connections")
    return found


def serve_and_measure(env: dict, live: dict[str, dict], pool: list[str], wrk: str, scratch: Path, args) -> dict:
    indexes = Path(env["CODESEARCH_INDEXES"])
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    step(f"gunicorn: {args.workers} gthread workers on {base}, {len(live)} repositories")
    server = subprocess.Popen(
        [PY, "-m", "gunicorn", "codesearch.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", str(args.workers),
         "--worker-class", "gthread", "--threads", "1", "--backlog", "2048", "--log-level", "warning",
         "--timeout", "120"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=open(scratch / "gunicorn.log", "a"))
    try:
        wait_until_up(f"{base}/api/v1/health", server)
        workers = sorted(children(server.pid))
        statuses: dict[int, int] = {}
        connections = worker_connections(port, workers)
        done_requests = {pid: 0 for pid in workers}
        lock = threading.Lock()

        def search_all_through(pid: int, bar: tqdm) -> None:
            """Every repository, --requests-per-repository new queries each, then a few searches across
            all (so that the worker holds the global index too), on a connection that worker holds."""
            conn = connections[pid]
            paths = [f"/api/v1/repositories/{name}/search?limit=10&q=" for name in sorted(live)
                     for _ in range(args.requests_per_repository)] + ["/api/v1/search?limit=10&q="] * 10
            for path in paths:
                if conn.sock is None:  # closed (the server's keep-alive timeout, say): another held by pid
                    conn = connections[pid] = worker_connections(port, [pid])[pid]
                status = request_on(conn, path + urllib.parse.quote_plus(pool.pop()))
                with lock:
                    statuses[status] = statuses.get(status, 0) + 1
                    done_requests[pid] += 1
                    bar.update()

        # Each worker is sent every repository's searches itself (load balancing over new connections
        # leaves some worker without some repository: a gthread worker accepts connections while busy).
        total = len(workers) * (len(live) * args.requests_per_repository + 10)
        with tqdm(total=total, unit="req", desc="every repository through every worker") as bar:
            with concurrent.futures.ThreadPoolExecutor(len(workers)) as clients:
                list(clients.map(lambda pid: search_all_through(pid, bar), workers))
        for conn in connections.values():
            conn.close()
        versions = {name: v["path"] for name, v in live.items()}
        requests_sent = sum(done_requests.values())
        mapped = {pid: loaded_by(pid, indexes) for pid in workers}
        coverage = {str(pid): sum(path in mapped[pid] for path in versions.values()) for pid in workers}
        memory_after_searching = worker_memory(server.pid, workers)
        tqdm.write(f"    every repository searched by every worker: {requests_sent} requests; "
                   f"repositories loaded per worker at the end {list(coverage.values())} of {len(versions)}; "
                   f"PSS {memory_after_searching['workers_pss_mb']} MB in all ({memory_after_searching['per_worker_pss_mb']})")

        largest = max(live, key=lambda name: live[name]["manifest"].get("units", 0))
        owner, repo = largest.split("/")
        phases = {}
        one_prefix = f"/api/v1/repositories/{owner}/{repo}/search?limit=10&q="
        # (key, what, URL prefix, connections): the 16 clients, then one client alone (the time
        # to answer when nobody waits in line: with 16, the rest is queueing for the cores)
        for key, phase, prefix, connections in (
                ("one", f"one repository ({largest})", one_prefix, args.connections),
                ("all", "all repositories", "/api/v1/search?limit=10&q=", args.connections),
                ("one_client_one", f"one repository ({largest}), one client", one_prefix, 1),
                ("one_client_all", "all repositories, one client", "/api/v1/search?limit=10&q=", 1)):
            step(f"{phase}: wrk, {connections} connection(s), {args.duration} s, new queries")
            queries, pool[:] = pool[-WRK_QUERIES:], pool[:-WRK_QUERIES]
            script = scratch / f"{key}-{len(live)}.lua"
            result = run_wrk(wrk, base, script, queries, prefix, args.duration, connections)
            result.pop("percentiles_ms", None)
            phases[key] = {"phase": phase, "connections": connections, **result}
            lat = result["latency_ms"]
            tqdm.write(f"    {result['requests_per_s']:.0f} req/s, p50 {lat['p50']:.1f} ms, p99 {lat['p99']:.1f} ms, "
                       f"errors {result['error_count']}, cache hits {result['cache']['hit']}")
        memory_after_load = worker_memory(server.pid, workers)
        alive = all(Path(f"/proc/{pid}").exists() for pid in workers) and sorted(children(server.pid)) == workers
    finally:
        server.terminate()
        server.wait(timeout=60)
    return {"largest": largest, "largest_units": live[largest]["manifest"].get("units", 0),
            "coverage": {"requests": requests_sent, "statuses": statuses,
                         "repositories_loaded_per_worker": coverage, "repositories": len(versions)},
            "memory_after_searching": memory_after_searching, "memory_after_load": memory_after_load,
            "workers_restarted": not alive, "latency": phases}


def worker_memory(master: int, workers: list[int]) -> dict:
    per = {pid: pss_kb(pid) for pid in workers}
    master_pss = pss_kb(master)
    return {"workers_pss_mb": round(sum(m.get("Pss", 0) for m in per.values()) / 1024, 1),
            "per_worker_pss_mb": [round(m.get("Pss", 0) / 1024, 1) for m in per.values()],
            "per_worker_rss_mb": [round(m.get("Rss", 0) / 1024, 1) for m in per.values()],
            "per_worker_pss_anon_mb": [round(m.get("Pss_Anon", 0) / 1024, 1) for m in per.values()],
            "per_worker_pss_file_mb": [round(m.get("Pss_File", 0) / 1024, 1) for m in per.values()],
            "master_pss_mb": round(master_pss.get("Pss", 0) / 1024, 1)}


# --- the report -----------------------------------------------------------------------------------------

def verdicts(step_: dict) -> dict:
    """Each target: met or not, and by how much it was missed (positive: over the target)."""
    out = {}
    fine = step_["disk"]["fine_tuned"]
    if fine["count"]:
        out["finetuned_model_mb"] = {"value": fine["model_mb_max"], "target": TARGETS["finetuned_model_mb"],
                                     "what": "largest fine-tuned model/ (MB)"}
    out["pss_total_mb"] = {"value": step_["serving"]["memory_after_searching"]["workers_pss_mb"],
                           "target": TARGETS["pss_total_mb"], "what": "workers' PSS in all after searching every repository (MB)"}
    all_ = step_["serving"]["latency"]["all"]
    out["all_p50_ms"] = {"value": all_["latency_ms"]["p50"], "target": TARGETS["all_p50_ms"], "what": "all repositories, p50 (ms)"}
    out["all_p99_ms"] = {"value": all_["latency_ms"]["p99"], "target": TARGETS["all_p99_ms"], "what": "all repositories, p99 (ms)"}
    errors = sum(p["error_count"] for p in step_["serving"]["latency"].values())
    errors += sum(n for status, n in step_["serving"]["coverage"]["statuses"].items() if int(status) != 200)
    out["errors"] = {"value": errors, "target": 0, "what": "errors (wrk and the searches of every repository)"}
    for name, v in out.items():
        strict = name != "errors"
        v["met"] = v["value"] < v["target"] if strict and name.endswith("_ms") else v["value"] <= v["target"]
        v["missed_by"] = round(v["value"] - v["target"], 2) if not v["met"] else 0
    hits = [p["cache"]["hit"] for p in step_["serving"]["latency"].values()]
    out["no_cache_hits"] = {"value": sum(hits), "target": 0, "met": sum(hits) == 0 and not any(
        p["queries_reused"] for p in step_["serving"]["latency"].values()), "what": "cache hits in the new-query phases"}
    return out


def plot(report: dict, out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    steps = report["steps"]
    n = [s["repositories"] for s in steps]
    fig, axes = plt.subplots(1, 4, figsize=(22, 5))
    ax = axes[0]
    ax.plot(n, [s["indexing"]["repositories_per_hour"] for s in steps], "o-", label="repositories/hour")
    ax.set_ylabel("repositories per hour")
    ax2 = ax.twinx()
    ax2.plot(n, [s["indexing"]["functions_per_hour"] / 1000 for s in steps], "s--", color="tab:orange",
             label="functions/hour (thousands)")
    ax2.plot(n, [s["indexing"]["units_per_hour"] / 1000 for s in steps], "^:", color="tab:red",
             label="units/hour (thousands)")
    ax2.set_ylabel("thousands per hour")
    ax.set_title("indexing throughput of each batch (add_repositories --backend ray)", fontsize=9)
    lines = ax.get_legend_handles_labels()[0] + ax2.get_legend_handles_labels()[0]
    ax.legend(lines, [line.get_label() for line in lines], fontsize=7, loc="lower right")

    ax = axes[1]
    for key, label, style in (("fine_tuned", "fine-tuned", "o-"), ("base_served", "base-served", "s-")):
        xs = [s["repositories"] for s in steps if s["disk"][key]["count"]]
        ax.plot(xs, [s["disk"][key]["total_mb_mean"] for s in steps if s["disk"][key]["count"]], style,
                label=f"{label}: version directory (mean)")
        if key == "fine_tuned":
            ax.plot(xs, [s["disk"][key]["model_mb_mean"] for s in steps if s["disk"][key]["count"]], "o--",
                    label="fine-tuned: model/ (mean)")
    ax.plot(n, [s["disk"]["database_mb"] / s["repositories"] if s["disk"]["database_mb"] else 0 for s in steps], "d:",
            color="tab:gray", label="database (its rows: code, tokens, highlighting) per repository")
    ax.axhline(TARGETS["finetuned_model_mb"], color="tab:red", linestyle=":",
               label="target for a fine-tuned model: a tenth of the old 106 MB")
    ax.set_ylabel("MB per repository")
    ax.set_title("disk per repository", fontsize=9)
    ax.legend(fontsize=7)

    ax = axes[2]
    ax.plot(n, [s["serving"]["memory_after_searching"]["workers_pss_mb"] for s in steps], "o-",
            label="3 workers' PSS in all, after searching every repository")
    ax.plot(n, [s["serving"]["memory_after_load"]["workers_pss_mb"] for s in steps], "s--",
            label="the same after the latency runs")
    ax.axhline(TARGETS["pss_total_mb"], color="tab:red", linestyle=":", label="target 3 GB")
    ax.set_ylabel("MB")
    ax.set_title("gunicorn memory (PSS, /proc/PID/smaps_rollup)", fontsize=9)
    ax.legend(fontsize=7)

    ax = axes[3]
    for key, color in (("one", "tab:blue"), ("all", "tab:orange")):
        label = "one repository (the largest)" if key == "one" else "all repositories"
        ax.plot(n, [s["serving"]["latency"][key]["latency_ms"]["p50"] for s in steps], "o-", color=color,
                label=f"{label}: p50")
        ax.plot(n, [s["serving"]["latency"][key]["latency_ms"]["p99"] for s in steps], "s--", color=color,
                label=f"{label}: p99")
    for key, color in (("one_client_one", "tab:blue"), ("one_client_all", "tab:orange")):
        label = "one repository" if key.endswith("one") else "all repositories"
        ax.plot(n, [s["serving"]["latency"][key]["latency_ms"]["p50"] for s in steps], "^:", color=color,
                alpha=0.6, label=f"{label}, one client alone: p50")
    ax.axhline(TARGETS["all_p50_ms"], color="tab:green", linestyle=":", label="target all p50 20 ms")
    ax.axhline(TARGETS["all_p99_ms"], color="tab:red", linestyle=":", label="target all p99 100 ms")
    ax.set_yscale("log")
    ax.set_ylabel("ms (log)")
    ax.set_title(f"uncached search latency, {report['setup']['connections']} connections (wrk)", fontsize=9)
    ax.legend(fontsize=7)
    for ax in (axes[0], axes[1], axes[2]):
        ax.set_ylim(bottom=0)
    ax2.set_ylim(bottom=0)
    for ax in axes:
        ax.set_xlabel("repositories indexed")
        ax.set_xscale("log")
        ax.set_xticks(n, [str(x) for x in n])
        ax.minorticks_off()
        ax.grid(True, alpha=0.3)
    setup = report["setup"]
    fig.suptitle(f"{n[-1]} Debian packages ({', '.join(f'{k} {v}' for k, v in report['languages'].items())}) on "
                 f"{setup['cpu_cores']} cores; base model {Path(setup['base_model']).name}", fontsize=10)
    fig.tight_layout()
    fig.savefig(out, dpi=110)


# --- main -----------------------------------------------------------------------------------------------

def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10, 30, 100], help="cumulative repository counts")
    parser.add_argument("--languages", nargs="+", default=list(LANGUAGES), choices=LANGUAGES)
    parser.add_argument("--seed", type=int, default=18)
    parser.add_argument("--min-functions", type=int, default=20)
    parser.add_argument("--max-functions", type=int, default=10_000)
    parser.add_argument("--max-archive-mb", type=float, default=30, help="skip packages whose archive is larger")
    parser.add_argument("--base-model", type=Path, default=ROOT / "indexes" / "base")
    parser.add_argument("--cache", type=Path, default=ROOT / "indexes" / "corpus" / "full" / ".cache" / "debian",
                        help="holding debs/ and srcs/ (make corpus)")
    parser.add_argument("--work", type=Path, default=ROOT / "indexes" / "scale-benchmark",
                        help="unpacked sources (kept), and this run's database and indexes (emptied first)")
    parser.add_argument("--duration", type=int, default=20, help="seconds per wrk phase")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--workers", type=int, default=3, help="gunicorn workers")
    parser.add_argument("--requests-per-repository", type=int, default=2,
                        help="new queries to each repository through each worker before memory is read")
    parser.add_argument("--indexes-memory-mb", type=int, help="CODESEARCH_INDEXES_MEMORY_MB for the workers "
                                                              "(default: the setting's default)")
    parser.add_argument("--database-url", help="a database of its own to use instead of SQLite in --work "
                                               "(e.g. the machine's PostgreSQL); it is flushed first")
    parser.add_argument("--out", default="scale", help="results name under benchmarks/results/")
    parser.add_argument("--list-only", action="store_true", help="choose (unpack and count), print the list, stop")
    args = parser.parse_args()
    args.sizes = sorted(set(args.sizes))
    args.work, args.cache, args.base_model = args.work.resolve(), args.cache.resolve(), args.base_model.resolve()
    if not args.list_only and not (args.base_model / "model.pt").is_file():
        raise SystemExit(f"no base model in {args.base_model} (make base-model; or --base-model indexes/demo-base)")
    if args.work == (ROOT / "indexes").resolve():
        raise SystemExit("--work must be a directory of its own: its indexes and database are emptied")

    chosen, available = choose(args)
    if not chosen:
        raise SystemExit(f"no packages of {', '.join(args.languages)} qualify in {args.cache}")
    if args.list_only:
        for i, p in enumerate(chosen, 1):
            print(f"{i:4} {p.language:<11} {p.functions:>6} functions  {p.full_name} @ {p.commit}")
        return
    sizes = sorted({min(size, len(chosen)) for size in args.sizes})

    wrk = ensure_wrk()
    indexes, database = args.work / "indexes", args.work / "db.sqlite3"
    shutil.rmtree(indexes, ignore_errors=True)
    for path in args.work.glob("db.sqlite3*"):
        path.unlink()
    indexes.mkdir(parents=True)
    database_url = args.database_url or f"sqlite:///{database}"
    database = None if args.database_url else database
    env = {**os.environ, "DJANGO_DEBUG": "0", "DJANGO_SECRET_KEY": secrets.token_urlsafe(40),
           "DJANGO_ALLOWED_HOSTS": "127.0.0.1", "DJANGO_SECURE_COOKIES": "0", "DATABASE_URL": database_url,
           "CODESEARCH_INDEXES": str(indexes), "CODESEARCH_BASE_MODEL": str(args.base_model),
           "OMP_NUM_THREADS": "1", "WANDB_MODE": "offline", "PYTHONUNBUFFERED": "1"}
    env.pop("RAY_ADDRESS", None)
    if args.indexes_memory_mb:
        env["CODESEARCH_INDEXES_MEMORY_MB"] = str(args.indexes_memory_mb)
    step(f"database and indexes in {args.work}")
    manage(env, "migrate", "--verbosity", "0")
    if args.database_url:
        manage(env, "flush", "--noinput", "--verbosity", "0")

    pool = distinct_queries()
    pool.reverse()  # pop() takes from the front of the fixed order
    steps, done = [], 0
    started = time.time()
    with tempfile.TemporaryDirectory(prefix="scale-") as tmp:
        scratch = Path(tmp)
        for size in sizes:
            batch = chosen[done:size]
            step(f"batch: repositories {done + 1}-{size} ({', '.join(sorted({p.language for p in batch}))})")
            indexing = index_batch(env, batch, args.work / f"batch-{size}.txt", args)
            done = size
            live = live_versions(env)
            new = [live[p.full_name]["manifest"] for p in batch if p.full_name in live
                   and indexing["outcomes"].get(p.full_name, {}).get("status") == "indexed"]
            hours = indexing["wall_s"] / 3600
            indexing.update({"indexed": len(new), "failed": sorted(n for n, o in indexing["outcomes"].items()
                                                                    if o["status"] != "indexed"),
                             "functions": sum(m.get("functions", 0) for m in new),
                             "units": sum(m.get("units", 0) for m in new),
                             "repositories_per_hour": round(len(new) / hours, 1),
                             "functions_per_hour": round(sum(m.get("functions", 0) for m in new) / hours),
                             "units_per_hour": round(sum(m.get("units", 0) for m in new) / hours),
                             "fine_tuned": sum(m.get("model", {}).get("model") == "fine-tuned" for m in new)})
            global_dir = current_global(indexes)
            global_manifest = json.loads((global_dir / "manifest.json").read_text()) if global_dir else {}
            indexing["global_index"] = {k: global_manifest.get(k) for k in ("seconds", "rows", "repositories",
                                                                             "ef_search", "recall_at_10")}
            indexing["global_index"]["left_out"] = [p["repository"] for p in global_manifest.get("left_out", [])]
            tqdm.write(f"    {len(new)} indexed in {indexing['wall_s']:.0f} s: {indexing['repositories_per_hour']} "
                       f"repositories/h, {indexing['functions_per_hour']:,} functions/h; global index "
                       f"{indexing['global_index']['rows']} units rebuilt in {indexing['global_index']['seconds']} s; "
                       f"peak memory {indexing['peak_memory_mb']} MB")
            space = disk(indexes, database, live)
            for key in ("fine_tuned", "base_served"):
                d = space[key]
                if d["count"]:
                    tqdm.write(f"    disk, {key.replace('_', '-')} ({d['count']}): mean {d['total_mb_mean']} MB, max "
                               f"{d['total_mb_max']} MB ({d['mb_per_1000_units']} MB per 1,000 units); by kind "
                               + ", ".join(f"{k} {v}" for k, v in d["by_kind_mb_mean"].items()))
            tqdm.write(f"    disk, shared: models {space['shared_models_mb']} MB, global index {space['global_index_mb']} MB "
                       f"(+ cached vectors {space['global_parts_cache_mb']} MB), database {space['database_mb']} MB")
            serving = serve_and_measure(env, live, pool, wrk, scratch, args)
            entry = {"repositories": len(live), "indexing": indexing, "disk": space, "serving": serving,
                     "load_average": [round(x, 2) for x in os.getloadavg()]}
            entry["targets"] = verdicts(entry)
            steps.append(entry)

    report = {
        "setup": {"base_model": str(args.base_model), "cache": str(args.cache), "seed": args.seed,
                  "min_functions": args.min_functions, "max_functions": args.max_functions,
                  "sizes": sizes, "languages_asked": args.languages, "candidates": available,
                  "backend": "ray (started by add_repositories, one CPU per build)", "cpu_cores": os.cpu_count(),
                  "workers": args.workers, "worker_class": "gthread", "threads": 1, "connections": args.connections,
                  "duration_s": args.duration, "requests_per_repository": args.requests_per_repository,
                  "indexes_memory_mb": int(env.get("CODESEARCH_INDEXES_MEMORY_MB", "1024")),
                  "database": "sqlite" if database else database_url.split(":", 1)[0],
                  "python": platform.python_version(), "total_s": round(time.time() - started)},
        "targets": TARGETS, "old_finetuned_mb": OLD_FINETUNED_MB,
        "languages": {lang: sum(p.language == lang for p in chosen) for lang in args.languages
                      if any(p.language == lang for p in chosen)},
        "repositories": [{**asdict(p), "archive": p.archive.name, "full_name": p.full_name, "commit": p.commit}
                         for p in chosen],
        "steps": steps,
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{args.out}.json").write_text(json.dumps(report, indent=2) + "\n")
    plot(report, RESULTS / f"{args.out}.png")

    print(f"\n{'repos':>6} {'wall s':>7} {'repos/h':>8} {'funcs/h':>9} {'global s':>9} {'ft':>3} {'ft MB':>6} "
          f"{'ft model':>8} {'base MB':>8} {'PSS MB':>7} {'1 p50':>7} {'1 p99':>7} {'all p50':>8} {'all p99':>8} "
          f"{'all r/s':>7} {'1c all p50':>10} {'errors':>6}")
    for s in steps:
        ix, d, sv = s["indexing"], s["disk"], s["serving"]
        one, all_ = sv["latency"]["one"]["latency_ms"], sv["latency"]["all"]["latency_ms"]
        print(f"{s['repositories']:>6} {ix['wall_s']:>7.0f} {ix['repositories_per_hour']:>8.0f} "
              f"{ix['functions_per_hour']:>9,} {ix['global_index']['seconds'] or 0:>9.1f} {d['fine_tuned']['count']:>3} "
              f"{d['fine_tuned'].get('total_mb_mean', 0):>6.1f} {d['fine_tuned'].get('model_mb_mean', 0):>8.1f} "
              f"{d['base_served'].get('total_mb_mean', 0):>8.1f} {sv['memory_after_searching']['workers_pss_mb']:>7.0f} "
              f"{one['p50']:>7.1f} {one['p99']:>7.1f} {all_['p50']:>8.1f} {all_['p99']:>8.1f} "
              f"{sv['latency']['all']['requests_per_s']:>7.0f} "
              f"{sv['latency']['one_client_all']['latency_ms']['p50']:>10.1f} {s['targets']['errors']['value']:>6}")
    last = steps[-1]["targets"]
    print(f"targets at {steps[-1]['repositories']} repositories: " + "; ".join(
        f"{v['what']} {v['value']} vs {v['target']}: {'met' if v['met'] else 'MISSED by ' + str(v.get('missed_by'))}"
        for v in last.values()))
    print(f"wrote {RESULTS / (args.out + '.json')} and {RESULTS / (args.out + '.png')}")
    sys.exit(0 if all(v["met"] for v in last.values()) else 1)


if __name__ == "__main__":
    main()
