"""How a repository gets indexed, from the request to the removal of its old version. Read it top down:

1. `request_indexing()`  someone with the permission asks (page, API, extension); the input is checked
                         and one job per repository is queued.
2. `claim_next_job()`    a worker (`manage.py run_worker`) takes the oldest queued job, after putting
                         back the jobs whose worker died (their lease lapsed).
3. `run_job()`           runs it: takes the repository's build lock, builds, publishes, keeping its
                         job lease and the lock renewed; a cancel or SIGTERM stops the build at once.
4. build                 `build.build_version` (no Django): fetch -> extract -> fine-tune -> embed ->
                         Annoy + BM25 -> checks, in a child process (`build_process`).
5. `publish()`           switches the checked build live in one transaction and retires the old version.
6. `sweep()`             removes retired versions once no search can still be reading them (a grace
                         period), and what dead builds left behind.

`index_repository()` does 3-6 in this process for `add_repository`; `index_repositories()` does them for
a list of repositories (`add_repositories`) and `update_repositories()` for every repository whose
source moved (`update_repositories`), both through `build_and_publish()`: builds here one at a time, or
spread over a Ray cluster, each published from this process as soon as it finishes.

One build-and-publish at a time per repository, whichever process runs it: the build lock is a lease
in the repository's row, taken with one conditional UPDATE and renewed while the build runs, so a
holder that dies without releasing it loses it when the lease lapses. Publishing checks, in the same
transaction that switches the version, that the lock is still held.
"""
from __future__ import annotations

import logging
import os
import shutil
import signal
import socket
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import timedelta
from itertools import repeat
from pathlib import Path
from typing import Callable

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from codesearch.repositories import global_index
from codesearch.repositories.build import (HIGHLIGHTING, BuildResult, BuildSpec, IndexingError, Progress, check_commit,
                                           check_url, checkout_commit, github_url, parse_full_name, remote_head)
from codesearch.repositories.build_process import run_build
from codesearch.repositories.fetch import checked_address
from codesearch.repositories.models import IndexingJob, IndexVersion, Repository, Snippet
from codesearch.search.highlight import record_highlighting
from training.corpus import read_jsonl
from training.index import FORMAT

log = logging.getLogger(__name__)
Status = IndexingJob.Status
ACTIVE = (Status.QUEUED, Status.RUNNING)


class AccessDenied(IndexingError):
    """The requester may not do this (for example change the URL a repository is indexed from)."""


class Stopped(BaseException):
    """The build was stopped on purpose, which is not an error (a BaseException, so that no
    `except Exception` on the way swallows it)."""


class Cancelled(Stopped):
    """Someone cancelled the job."""


class WorkerStopping(Stopped):
    """The worker was told to stop (SIGTERM); its job goes back in the queue."""


class LockLost(IndexingError):
    """Another process took over the repository's build (this one's lease lapsed)."""


def _lease() -> timedelta:
    return timedelta(seconds=settings.CODESEARCH_LEASE_SECONDS)


def _holder() -> str:
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def clone_schemes() -> tuple[str, ...]:
    return tuple(settings.CODESEARCH_CLONE_SCHEMES)


def clone_hosts() -> tuple[str, ...]:
    return tuple(settings.CODESEARCH_CLONE_HOSTS)


# 1. Requests -----------------------------------------------------------------------------------------

def request_indexing(full_name: str, url: str | None = None, commit: str | None = None,
                     user=None) -> IndexingJob:
    """Queue a job for `full_name`, checking its input now; an active job of the repository is returned
    instead of a second one. `user` is who asks on the web; only staff may index a repository from a
    URL other than the one it is indexed from (by default GitHub's). None is the operator's own code."""
    owner, name = parse_full_name(full_name)
    url, commit = (url or "").strip(), (commit or "").strip()
    if url:
        if len(url) > IndexingJob._meta.get_field("url").max_length:
            raise IndexingError("the clone URL is too long")
        check_url(url, clone_schemes(), clone_hosts())
    if commit:
        check_commit(commit)
    repository = Repository.objects.filter(owner=owner, name=name).first()
    own_url = (repository.url if repository else "") or github_url(full_name)
    if url and user is not None and not user.is_staff and not _same_url(url, own_url):
        raise AccessDenied(f"{full_name} is indexed from {own_url}; only staff may index it from another URL")
    if url:
        # Refused now, with a clear answer, if its host has a private address; the fetch checks again.
        checked_address(url, clone_schemes(), clone_hosts())
    with transaction.atomic():
        if repository is None:
            repository, _ = Repository.objects.get_or_create(owner=owner, name=name)
        # Locking the repository row makes two simultaneous requests queue one job, not two.
        repository = Repository.objects.select_for_update().get(pk=repository.pk)
        _recover_lapsed_jobs(repository.jobs.all())
        active = repository.jobs.filter(status__in=ACTIVE).first()
        if active:
            return active
        return IndexingJob.objects.create(repository=repository, url=url, commit=commit,
                                          requested_by=user if user is not None and user.is_authenticated else None)


def _same_url(a: str, b: str) -> bool:
    def normal(url):
        return url.strip().lower().removesuffix("/").removesuffix(".git")
    return normal(a) == normal(b)


def retry(job: IndexingJob, user=None) -> IndexingJob:
    return request_indexing(job.repository.full_name, url=job.url or None, commit=job.commit or None, user=user)


def cancel(job: IndexingJob) -> IndexingJob:
    """A queued job is cancelled now; a running one stops within a second or two (its worker checks)."""
    IndexingJob.objects.filter(pk=job.pk, status=Status.QUEUED).update(
        status=Status.CANCELLED, stage="cancelled", message="cancelled before it started", finished=timezone.now())
    IndexingJob.objects.filter(pk=job.pk, status=Status.RUNNING).update(cancel_requested=True)
    job.refresh_from_db()
    return job


# 2. Claiming jobs ------------------------------------------------------------------------------------

def _recover_lapsed_jobs(jobs) -> None:
    """Running jobs whose lease lapsed (their worker died) go back to the queue, or fail once they have
    been started CODESEARCH_JOB_MAX_ATTEMPTS times. Conditional updates: safe in several workers at once."""
    now = timezone.now()
    for job in jobs.filter(status=Status.RUNNING, lease_until__lt=now):
        lapsed = IndexingJob.objects.filter(pk=job.pk, status=Status.RUNNING, lease_until=job.lease_until)
        if job.cancel_requested:
            lapsed.update(status=Status.CANCELLED, stage="cancelled", message="cancelled", finished=now,
                          lease_until=None)
        elif job.attempts >= settings.CODESEARCH_JOB_MAX_ATTEMPTS:
            lapsed.update(status=Status.FAILED, stage="failed", finished=now, lease_until=None,
                          message=f"its worker stopped without finishing {job.attempts} times; giving up")
        else:
            log.warning("job %s: its worker stopped answering; queued again", job.pk)
            lapsed.update(status=Status.QUEUED, stage="queued again: its worker stopped", worker="",
                          lease_until=None)


def claim_next_job(worker: str) -> IndexingJob | None:
    _recover_lapsed_jobs(IndexingJob.objects.all())
    busy = IndexingJob.objects.filter(status=Status.RUNNING).values("repository_id")
    for job in IndexingJob.objects.filter(status=Status.QUEUED).exclude(repository_id__in=busy).order_by("created"):
        claimed = IndexingJob.objects.filter(pk=job.pk, status=Status.QUEUED).update(
            status=Status.RUNNING, started=timezone.now(), stage="starting", progress=0.0, worker=worker,
            lease_until=timezone.now() + _lease(), attempts=F("attempts") + 1, message="")
        if claimed:
            return IndexingJob.objects.select_related("repository").get(pk=job.pk)
    return None


# 3. Running a job ------------------------------------------------------------------------------------

class BuildLock:
    """The repository's build lock: a lease in its row (see the module's docstring)."""

    def __init__(self, repository: Repository, holder: str | None = None):
        self.repository = repository
        self.holder = holder or _holder()

    def try_acquire(self) -> bool:
        now = timezone.now()
        free = Q(build_lease_until__isnull=True) | Q(build_lease_until__lt=now) | Q(build_holder=self.holder)
        return bool(Repository.objects.filter(Q(pk=self.repository.pk) & free).update(
            build_holder=self.holder, build_lease_until=now + _lease()))

    def acquire(self, wait: float = 0.0, poll: float = 0.5) -> None:
        deadline = time.monotonic() + wait
        while not self.try_acquire():
            if time.monotonic() >= deadline:
                raise IndexingError(f"another build of {self.repository.full_name} is running; try again later")
            time.sleep(poll)

    def renew(self) -> None:
        if not Repository.objects.filter(pk=self.repository.pk, build_holder=self.holder).update(
                build_lease_until=timezone.now() + _lease()):
            raise LockLost(f"another process took over the build of {self.repository.full_name}")

    def release(self) -> None:
        Repository.objects.filter(pk=self.repository.pk, build_holder=self.holder).update(
            build_holder="", build_lease_until=None)

    def check_held(self, locked_row: Repository) -> None:
        if locked_row.build_holder != self.holder:
            raise LockLost(f"another process took over the build of {self.repository.full_name}; "
                           f"this build was not published")


@contextmanager
def build_lock(repository: Repository, wait: float = 0.0):
    lock = BuildLock(repository)
    lock.acquire(wait)
    try:
        yield lock
    finally:
        lock.release()


def run_job(job: IndexingJob, stop_requested=lambda: False) -> IndexingJob:
    """Run a claimed job to its end: succeeded, failed, cancelled, or (when the worker is told to stop,
    `Stopped`) back in the queue."""
    repository = job.repository
    lock = BuildLock(repository, holder=job.worker or None)
    last_saved = 0.0

    def renew_leases() -> None:
        if stop_requested():
            raise WorkerStopping()
        lock.renew()
        if not IndexingJob.objects.filter(pk=job.pk, status=Status.RUNNING, worker=job.worker).update(
                lease_until=timezone.now() + _lease()):
            raise LockLost("this job was taken over by another worker")
        if IndexingJob.objects.filter(pk=job.pk, cancel_requested=True).exists():
            raise Cancelled()

    def progress(stage: str, fraction: float) -> None:
        nonlocal last_saved
        if time.monotonic() - last_saved > 0.5 or fraction >= 0.95:
            IndexingJob.objects.filter(pk=job.pk).update(stage=stage, progress=fraction)
            last_saved = time.monotonic()

    try:
        if not lock.try_acquire():
            _requeue(job, "waiting: another build of this repository is running")
            return job
        try:
            sweep(repository)
            spec = spec_for(repository.full_name, url=job.url or None, commit=job.commit or None)
            result = run_build(spec, progress=progress, tick=renew_leases,
                               timeout=settings.CODESEARCH_BUILD_TIMEOUT_SECONDS)
            version = publish(repository, result, lock)
        finally:
            lock.release()
    except Cancelled:
        _finish(job, Status.CANCELLED, "cancelled while it ran; the live version is unchanged")
    except WorkerStopping:
        _requeue(job, "queued again: its worker was stopped")
        raise
    except IndexingError as e:
        _finish(job, Status.FAILED, str(e))
    except Exception:  # an unexpected failure must still end the job; the details go to the log only
        log.exception("job %s failed", job.pk)
        _finish(job, Status.FAILED, "internal error while indexing; it has been logged for the site's staff")
    else:
        job.version = version
        _finish(job, Status.SUCCEEDED, f"{version.counts_text} indexed at {version.commit}")
        refresh_global_index()
    return job


def _requeue(job: IndexingJob, stage: str) -> None:
    """Back in the queue through no fault of the job's (a busy repository, a stopped worker): that start
    does not count against its attempts."""
    IndexingJob.objects.filter(pk=job.pk, status=Status.RUNNING).update(
        status=Status.QUEUED, stage=stage, worker="", lease_until=None, attempts=F("attempts") - 1)
    job.refresh_from_db()


def _finish(job: IndexingJob, status: str, message: str) -> None:
    job.status, job.message, job.finished, job.lease_until = status, message, timezone.now(), None
    job.stage = {Status.SUCCEEDED: "done", Status.CANCELLED: "cancelled"}.get(status, "failed")
    job.progress = 1.0 if status == Status.SUCCEEDED else job.progress
    job.save(update_fields=["status", "message", "finished", "stage", "progress", "version", "lease_until"])


def work(once: bool = False, poll: float = 2.0) -> int:
    """Run queued jobs until SIGTERM or SIGINT (with `once`: until none is queued). Returns how many ran.

    SIGTERM (or Ctrl-C) stops the running build at once and puts its job back in the queue for the next
    worker."""
    worker = _holder()
    stopping = False

    def stop(signum, frame):
        nonlocal stopping
        stopping = True

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    ran, last_sweep = 0, 0.0
    try:
        while not stopping:
            if time.monotonic() - last_sweep > 60:
                sweep_all()
                try:  # catches what changed elsewhere (a repository removed, another process's build)
                    global_index.refresh_if_stale()
                except Exception:  # noqa: BLE001
                    log.exception("could not rebuild the global index")
                last_sweep = time.monotonic()
            job = claim_next_job(worker)
            if job is None:
                if once:
                    break
                time.sleep(poll)
                continue
            log.info("running %s", job)
            try:
                run_job(job, stop_requested=lambda: stopping)
            except WorkerStopping:
                log.info("stopped; %s is queued again", job)
                break
            if job.status == Status.QUEUED:  # its repository was busy: let the other build finish
                time.sleep(poll)
                continue
            ran += 1
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return ran


# 4. The build's specification ------------------------------------------------------------------------

def _check_source(full_name: str, url: str | None, commit: str | None) -> tuple[str, str]:
    """(owner, name) once the name, URL and commit are known to be of the right shape."""
    owner, name = parse_full_name(full_name)
    if url is not None:
        check_url(url, clone_schemes(), clone_hosts())
    if commit is not None:
        check_commit(commit)
    return owner, name


def spec_for(full_name: str, path: str | Path | None = None, url: str | None = None, commit: str | None = None,
             prefix: str = "", base_model: Path | None = None, n_trees: int = 50,
             reuse_model: bool = False) -> BuildSpec:
    owner, name = _check_source(full_name, url, commit)
    live = Repository.objects.filter(owner=owner, name=name).select_related("live_version").first()
    previous = live.live_version.directory if live and live.live_version else None
    if url is None and path is None and live and live.url:
        url = live.url
    return BuildSpec(full_name=full_name, indexes_dir=settings.INDEXES_DIR,
                     base_model=Path(base_model or settings.BASE_MODEL_DIR), path=Path(path) if path else None,
                     url=url, commit=commit, prefix=prefix, n_trees=n_trees,
                     min_documented=settings.CODESEARCH_FINETUNE_MIN_DOCUMENTED,
                     previous=previous, reuse_model=reuse_model, schemes=clone_schemes(), hosts=clone_hosts(),
                     code_max_chars=settings.RESULT_CODE_MAX_CHARS)


# 5. Publishing ---------------------------------------------------------------------------------------

def publish(repository: Repository, result: BuildResult, lock: BuildLock) -> IndexVersion:
    """Switch a checked build live (one transaction, only while `lock` is still held), then sweep."""
    try:
        with transaction.atomic():
            row = Repository.objects.select_for_update().get(pk=repository.pk)
            lock.check_held(row)
            version = IndexVersion.objects.create(repository=row, commit=result.commit, manifest=result.manifest,
                                                  path=str(result.directory.relative_to(settings.INDEXES_DIR)))
            highlighted = read_jsonl(result.directory / HIGHLIGHTING) if (result.directory / HIGHLIGHTING).is_file() \
                else repeat({})  # a build from before builds highlighted: made here
            Snippet.objects.bulk_create((
                Snippet(version=version, language=f["language"], item=f["item"], kind=f.get("kind", "function"),
                        func_name=f["func_name"][:500],
                        path=f["path"][:1000], start_line=f["start_line"], end_line=f["end_line"],
                        code=f["original_string"], summary=f.get("summary", ""),
                        explained=f["explained"],
                        **record_highlighting({**f, **_same_unit(f, h)}))
                for f, h in zip(read_jsonl(result.directory / "functions.jsonl.gz"), highlighted)), batch_size=2000)
            if row.live_version_id:
                IndexVersion.objects.filter(pk=row.live_version_id).update(retired=timezone.now())
            row.live_version = version
            row.url = result.manifest.get("source", {}).get("url") or row.url
            row.save(update_fields=["live_version", "url"])
    except BaseException:
        shutil.rmtree(result.directory, ignore_errors=True)
        raise
    repository.refresh_from_db()
    sweep(repository)
    return version


def _same_unit(unit: dict, highlighted: dict) -> dict:
    """The build's highlighting of `unit` (the two files list units in the same order)."""
    if highlighted and (highlighted["language"], highlighted["item"]) != (unit["language"], unit["item"]):
        raise IndexingError("the build's highlighting does not match its units; rebuild it")
    return {k: highlighted[k] for k in ("highlight", "html") if k in highlighted}


# 6. Sweeping -----------------------------------------------------------------------------------------

def sweep(repository: Repository) -> None:
    """Remove the repository's versions retired more than CODESEARCH_VERSION_GRACE_SECONDS ago, and any
    directory no version points at (left by a build that died). Call it only while holding the build
    lock: then no build of this repository is running, and every unknown directory is a leftover."""
    cutoff = timezone.now() - timedelta(seconds=settings.CODESEARCH_VERSION_GRACE_SECONDS)
    for old in repository.versions.filter(retired__lt=cutoff).exclude(pk=repository.live_version_id or 0):
        directory = old.directory
        old.delete()
        shutil.rmtree(directory, ignore_errors=True)
    home = settings.INDEXES_DIR / "repositories" / repository.owner / repository.name
    if home.is_dir():
        known = {Path(p).name for p in repository.versions.values_list("path", flat=True)}
        for directory in home.iterdir():
            if directory.name not in known:
                log.info("removing %s, left by a build that did not finish", directory)
                shutil.rmtree(directory, ignore_errors=True)


def sweep_all() -> None:
    """Sweep every repository with a retired version whose build lock is free (skipping busy ones)."""
    for repository in Repository.objects.filter(versions__retired__isnull=False).distinct():
        lock = BuildLock(repository)
        if lock.try_acquire():
            try:
                sweep(repository)
            finally:
                lock.release()


# 3-6 in this process ---------------------------------------------------------------------------------

def index_repository(full_name: str, path: str | Path | None = None, commit: str | None = None, prefix: str = "",
                     base_model: Path | None = None, n_trees: int = 50, force: bool = False, url: str | None = None,
                     reuse_model: bool = False, progress: Progress = lambda stage, fraction: None,
                     wait: float | None = None) -> IndexVersion:
    """Index `full_name` from a local checkout (`path`) or a fetch (`url`, default GitHub) and publish it;
    returns the live version. Waits up to `wait` seconds (default CODESEARCH_LOCK_WAIT_SECONDS) for
    another build of the same repository to finish."""
    owner, name = _check_source(full_name, url, commit)  # bad input creates nothing
    repository, _ = Repository.objects.get_or_create(owner=owner, name=name)
    if not force and _live_at(repository, commit):
        log.info("%s is already indexed at %s", full_name, commit)
        return repository.live_version
    with build_lock(repository, wait=settings.CODESEARCH_LOCK_WAIT_SECONDS if wait is None else wait) as lock:
        sweep(repository)
        spec = spec_for(full_name, path=path, url=url, commit=commit, prefix=prefix, base_model=base_model,
                        n_trees=n_trees, reuse_model=reuse_model)
        result = run_build(spec, progress=progress, tick=lock.renew, timeout=settings.CODESEARCH_BUILD_TIMEOUT_SECONDS)
        version = publish(repository, result, lock)
    refresh_global_index()
    return version


def refresh_global_index() -> None:
    """Bring the search across repositories up to date after versions went live. A failure there is
    logged, not the publisher's: that search keeps serving the previous global index."""
    try:
        global_index.refresh()
    except Exception:  # noqa: BLE001
        log.exception("could not rebuild the global index; the search across repositories serves the previous one")


# 3-6 for many repositories, here or on a Ray cluster -----------------------------------------------------

@dataclass
class Outcome:
    repository: str
    status: str  # "indexed", "updated", "up to date", "skipped", "failed"
    detail: str = ""

    def __str__(self) -> str:
        return f"{self.repository}: {self.status}" + (f" ({self.detail})" if self.detail else "")


@dataclass
class Source:
    """Where to index a repository from, as `add_repository` takes it."""

    full_name: str
    path: Path | None = None
    url: str | None = None
    commit: str | None = None
    prefix: str = ""

    def checked(self) -> Source:
        """This source once all of it is known to be of the right shape, its path made absolute (a Ray
        worker does not run in this directory); raises IndexingError."""
        _check_source(self.full_name, self.url, self.commit)
        if self.path is None:
            return self
        if self.url is not None:
            raise IndexingError("give a path or a URL, not both")
        path = Path(self.path).expanduser().resolve()
        if not path.is_dir():
            raise IndexingError(f"{self.path}: not a directory")
        return replace(self, path=path)


@dataclass
class Build:
    """A build to run and publish. Its repository's build lock is held from before the build is
    specified (the live version it may reuse cannot change under it) until it is published or failed."""

    repository: Repository
    spec: BuildSpec
    lock: BuildLock
    status: str         # the outcome's status once published: "indexed" or "updated"
    detail: str = ""    # what the outcome says before the new version's counts
    renewed: float = field(default_factory=time.monotonic)
    lost: str = ""      # why it may no longer be published: another process took its lock over


def index_repositories(sources: list[Source], backend: str = "local", address: str | None = None,
                       force: bool = False, report: Callable[[Outcome], None] = lambda outcome: None) -> list[Outcome]:
    """Index each of `sources` as `add_repository` does one (`build_and_publish`). All of them are
    checked first: one bad source (IndexingError) creates nothing. A repository already live at the
    commit asked for is left as it is unless `force`; one whose build lock is taken is skipped."""
    sources = [source.checked() for source in sources]
    outcomes, builds = [], []

    def tell(outcome: Outcome) -> None:
        outcomes.append(outcome)
        report(outcome)
    try:
        for source in sources:
            _renew_locks(builds)  # a sweep of old versions can take a while
            owner, name = parse_full_name(source.full_name)
            repository, _ = Repository.objects.get_or_create(owner=owner, name=name)
            if not force and _live_at(repository, source.commit):
                tell(Outcome(source.full_name, "up to date", f"already live at {source.commit}"))
                continue
            lock = BuildLock(repository)
            if not lock.try_acquire():
                tell(Outcome(source.full_name, "skipped", "another build of it is running"))
                continue
            try:
                sweep(repository)
                spec = spec_for(source.full_name, path=source.path, url=source.url, commit=source.commit,
                                prefix=source.prefix)
            except IndexingError as e:
                lock.release()
                tell(Outcome(source.full_name, "failed", str(e)))
                continue
            builds.append(Build(repository, spec, lock, "indexed"))
    except BaseException:  # interrupted before building: give back the locks already taken
        for build in builds:
            build.lock.release()
        raise
    return outcomes + build_and_publish(builds, backend, address, report)


def _live_at(repository: Repository, commit: str | None) -> bool:
    live = repository.live_version
    return bool(live and commit and live.commit == commit and live.manifest.get("format") == FORMAT
                and live.directory.is_dir())


def pending_update(repository: Repository) -> tuple[BuildSpec | None, str]:
    """The build that would bring the repository up to date, or None and why not."""
    live = repository.live_version
    if live is None:
        return None, "not indexed yet"
    source = live.manifest.get("source", {})
    if "url" in source:
        head = remote_head(source["url"], clone_schemes(), hosts=clone_hosts())
        spec = spec_for(repository.full_name, url=source["url"], commit=head, reuse_model=True)
    elif "path" in source and Path(source["path"]).is_dir():
        head = checkout_commit(Path(source["path"]))
        spec = spec_for(repository.full_name, path=source["path"], commit=head, prefix=source.get("prefix", ""),
                        reuse_model=True)
    else:
        return None, "no fetchable source recorded"
    if head == live.commit:
        return None, "up to date"
    return spec, f"{live.commit[:12]} -> {head[:12]}"


def update_repositories(repositories, backend: str = "local", address: str | None = None,
                        report: Callable[[Outcome], None] = lambda outcome: None) -> list[Outcome]:
    """Re-index the repositories whose source moved (`build_and_publish`). Updates keep the
    repository's model and reuse the vectors of unchanged functions (by code hash), so only changed
    code is embedded again. A repository whose build lock is taken is skipped (another build of it is
    running)."""
    outcomes, builds = [], []

    def tell(outcome: Outcome) -> None:
        outcomes.append(outcome)
        report(outcome)
    try:
        for repository in repositories:
            _renew_locks(builds)  # asking each remote for its head takes a while
            lock = BuildLock(repository)
            if not lock.try_acquire():
                tell(Outcome(repository.full_name, "skipped", "another build of it is running"))
                continue
            try:
                spec, detail = pending_update(repository)
            except IndexingError as e:
                lock.release()
                tell(Outcome(repository.full_name, "failed", str(e)))
                continue
            if spec is None:
                lock.release()
                tell(Outcome(repository.full_name, "up to date" if detail == "up to date" else "skipped", detail))
            else:
                builds.append(Build(repository, spec, lock, "updated", detail))
    except BaseException:  # interrupted before building: give back the locks already taken
        for build in builds:
            build.lock.release()
        raise
    return outcomes + build_and_publish(builds, backend, address, report)


def build_and_publish(builds: list[Build], backend: str = "local", address: str | None = None,
                      report: Callable[[Outcome], None] = lambda outcome: None) -> list[Outcome]:
    """Run `builds`, here one at a time (`backend="local"`) or as Ray tasks, as many at once as the
    cluster has CPUs (`"ray"`, on the cluster at `address`, else on a Ray instance started for the
    run), and publish each from this process as soon as it finishes, releasing its lock right after:
    a repository goes live without waiting for the others, and whatever fails a build (an error, a
    crashed or killed worker, the time limit CODESEARCH_BUILD_TIMEOUT_SECONDS, a lost lock) fails that
    repository alone. Each outcome goes to `report` once known; returns them in that order.

    Only this process reaches the database; a build reaches nothing but INDEXES_DIR, where it writes
    its version directory, which this process then publishes by its path. So on a Ray cluster of
    several machines, INDEXES_DIR must be storage that every node and every web server sees at the
    same path (NFS, a shared volume); a failed build's leftovers there are swept by this process."""
    outcomes = []

    def conclude(build: Build, result: BuildResult | str) -> None:
        outcome = _conclude(build, result)
        outcomes.append(outcome)
        report(outcome)
    try:
        if backend == "ray":
            _run_ray(builds, address, conclude)
        else:
            _run_local(builds, conclude)
    finally:
        for build in builds:  # those never concluded (an interruption); their leftovers go in a later sweep
            build.lock.release()
    # Once for the batch: rebuilt while builds still ran, it would hold up publishing them.
    if any(outcome.status in ("indexed", "updated") for outcome in outcomes):
        refresh_global_index()
    return outcomes


def _conclude(build: Build, result: BuildResult | str) -> Outcome:
    """Publish a finished build, or (`result` says why it failed) sweep what it left; release its lock."""
    name = build.repository.full_name
    try:
        if isinstance(result, str):
            if build.lock.try_acquire():  # still ours: no build of it is running, so the sweep is safe
                sweep(build.repository)
            return Outcome(name, "failed", result)
        version = publish(build.repository, result, build.lock)
    except IndexingError as e:
        return Outcome(name, "failed", str(e))
    except Exception:  # a database error, say: it fails this repository, not the others
        log.exception("could not conclude the build of %s", name)
        return Outcome(name, "failed", "internal error while publishing; it has been logged")
    finally:
        build.lock.release()
    done = f"{version.counts_text} at {version.commit[:12]}"
    if version.manifest.get("model", {}).get("model") == "reused":
        done += f", {sum(e.get('reused_vectors', 0) for e in version.manifest['languages'].values())} vectors reused"
    return Outcome(name, build.status, f"{build.detail}; {done}" if build.detail else done)


def _renew_locks(builds: list[Build]) -> None:
    """Renew the build locks of `builds`, each once a quarter of a lease at most (a build waits in a
    queue or runs elsewhere, so nothing else renews them); a lock another process took over (its lease
    lapsed) marks its build lost."""
    now = time.monotonic()
    for build in builds:
        if not build.lost and now - build.renewed > settings.CODESEARCH_LEASE_SECONDS / 4:
            try:
                build.lock.renew()
            except LockLost as e:
                build.lost = str(e)
            build.renewed = now


def _run_local(builds: list[Build], conclude: Callable[[Build, BuildResult | str], None]) -> None:
    """One build after the other in this process's build child (`build_process`)."""
    for i, build in enumerate(builds):
        waiting = builds[i + 1:]

        def tick(build=build, waiting=waiting) -> None:
            build.lock.renew()  # losing the running build's lock stops it (LockLost)
            _renew_locks(waiting)
        if build.lost:
            conclude(build, build.lost)
            continue
        try:
            result = run_build(build.spec, tick=tick, timeout=settings.CODESEARCH_BUILD_TIMEOUT_SECONDS)
        except IndexingError as e:
            result = str(e)
        except Exception:  # noqa: BLE001 - fails this repository, not the others
            log.exception("the build of %s failed", build.repository.full_name)
            result = "internal error while building; it has been logged"
        conclude(build, result)


@dataclass
class _RayBuild:
    build: Build
    started: float | None = None  # when its task started running (it may wait for a free CPU first)
    stopping: str = ""            # why this process cancelled it


def _run_ray(builds: list[Build], address: str | None, conclude: Callable[[Build, BuildResult | str], None]) -> None:
    """Every build as a Ray task (`ray_tasks.build_task`, one CPU each), concluded as each finishes."""
    import ray

    from codesearch.repositories.ray_tasks import STARTED, build_task

    started_here = not ray.is_initialized()
    if started_here:
        ray.init(address=address, include_dashboard=False, logging_level=logging.WARNING)
    # No retries: a build that crashed its worker or ran its node out of memory would most likely do
    # it again; it fails at once, saying why.
    task = ray.remote(num_cpus=1, max_retries=0)(build_task)
    running = {task.remote(build.spec): _RayBuild(build) for build in builds}
    try:
        while running:
            ready, _ = ray.wait(list(running), num_returns=1, timeout=1.0)
            for generator in ready:
                state = running[generator]
                try:
                    value = ray.get(next(generator))
                except Exception as e:  # noqa: BLE001 - the task's error, or Ray's word for a dead worker or node
                    del running[generator]
                    conclude(state.build, _ray_failure(e, state.stopping))
                    continue
                if value == STARTED:
                    state.started = state.started or time.monotonic()
                else:
                    del running[generator]
                    conclude(state.build, value)
            _renew_locks([state.build for state in running.values()])
            limit = settings.CODESEARCH_BUILD_TIMEOUT_SECONDS
            for generator, state in running.items():
                if state.stopping:
                    continue
                if state.build.lost:
                    state.stopping = state.build.lost
                elif state.started is not None and time.monotonic() - state.started > limit:
                    state.stopping = f"the build took longer than its limit of {limit:.0f} s"
                else:
                    continue
                # Kills its worker wherever the build is; it is concluded once Ray reports it cancelled,
                # so that the sweep of what it left comes after its last write.
                ray.cancel(generator, force=True)
    finally:
        for generator in running:
            ray.cancel(generator, force=True)
        if started_here:
            ray.shutdown()


def _ray_failure(error: Exception, stopping: str) -> str:
    """One line saying why a build on Ray failed."""
    from ray import exceptions

    if stopping:  # this process cancelled it: that is the reason, whatever Ray calls the killed task
        return stopping
    if isinstance(error, exceptions.RayTaskError):
        if isinstance(error.cause, IndexingError):
            return str(error.cause)
        log.error("a build failed on Ray: %s", error)
        return f"the build failed unexpectedly ({type(error.cause).__name__}); the traceback is in the log"
    if isinstance(error, exceptions.OutOfMemoryError):
        return "Ray's memory monitor killed the build: its node was running out of memory"
    if isinstance(error, exceptions.WorkerCrashedError):
        return "the Ray worker running the build died: it crashed, or the system killed it (for memory, say)"
    if isinstance(error, exceptions.NodeDiedError):
        return "the node running the build died"
    log.error("Ray could not run a build: %r", error)
    return f"Ray could not run the build ({type(error).__name__}); the details are in the log"
