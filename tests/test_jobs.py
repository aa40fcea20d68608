"""Indexing jobs, the worker, fetching by URL, updates (on Ray: test_ray.py), with real git repositories:
leases, retries of jobs whose worker died, SIGTERM, cancelling, the build lock."""
import shutil
import signal
import subprocess
import time
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from codesearch.repositories import indexing
from codesearch.repositories.indexing import BuildLock, IndexingError, claim_next_job, request_indexing, retry
from codesearch.repositories.models import IndexingJob, Repository
from conftest import SAMPLE_REPO, manage_process


def git(cwd, *args):
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.org", *args], cwd=cwd, check=True,
                   capture_output=True)


def make_origin(path, source):
    shutil.copytree(source, path)
    git(path, "init", "--quiet", "--initial-branch=main")
    git(path, "add", ".")
    git(path, "commit", "--quiet", "-m", "first")
    return path


@pytest.fixture
def origin(tmp_path):
    """A git repository holding the sample code, reachable as a file:// URL in these tests."""
    return make_origin(tmp_path / "origin", SAMPLE_REPO)


FILE_URLS = {"CODESEARCH_CLONE_SCHEMES": "https,file"}  # for the workers the tests start


@pytest.fixture
def file_urls(settings):
    settings.CODESEARCH_CLONE_SCHEMES = ("https", "file")


def head(path):
    return subprocess.run(["git", "rev-parse", "HEAD"], cwd=path, capture_output=True, text=True).stdout.strip()


def wait_for(condition, what: str, timeout: float = 300.0, poll: float = 0.2):
    """Poll `condition()` until it is true; the timeout only bounds a test that is already failing."""
    deadline = time.monotonic() + timeout
    while not (value := condition()):
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(poll)
    return value


def test_a_requested_job_is_run_by_the_worker(db, indexes_dir, file_urls, origin):
    job = request_indexing("example/origin", url=f"file://{origin}")
    assert job.status == "queued"
    assert request_indexing("example/origin").pk == job.pk  # one active job per repository
    call_command("run_worker", "--once")
    job.refresh_from_db()
    assert job.status == "succeeded" and job.progress == 1.0 and job.finished is not None and job.attempts == 1
    repo = Repository.objects.get(owner="example", name="origin")
    assert repo.live_version == job.version and repo.live_version.commit == head(origin)
    assert repo.live_version.manifest["source"] == {"url": f"file://{origin}"} and repo.url == f"file://{origin}"


def test_a_failing_job_records_a_message_without_gits_output(db, indexes_dir, file_urls, indexed_sample, tmp_path):
    job = request_indexing("example/sample", url=f"file://{tmp_path}/nothing-here")
    call_command("run_worker", "--once")
    job.refresh_from_db()
    assert job.status == "failed" and "could not fetch" in job.message
    assert "fatal" not in job.message and "does not appear" not in job.message  # git's own words stay in the log
    assert Repository.objects.get(owner="example", name="sample").live_version == indexed_sample
    again = retry(job)
    assert again.pk != job.pk and again.status == "queued" and again.url == job.url


@pytest.mark.parametrize("url", ["http://github.com/a/b.git", "--upload-pack=touch /tmp/x", "/etc", "file:///etc",
                                 "ssh://git@github.com/a/b.git", "https://user:secret@github.com/a/b.git",
                                 "https://github.com/a/b.git\n--upload-pack=x"])
def test_unsafe_urls_are_refused(db, url):
    with pytest.raises(IndexingError, match="not an https clone URL"):
        request_indexing("a/b", url=url)
    assert not IndexingJob.objects.exists()


def test_an_empty_repository_is_a_clear_failure(db, indexes_dir, file_urls, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    git(empty, "init", "--quiet")
    with pytest.raises(CommandError, match="could not fetch"):
        call_command("add_repository", "a/empty", "--url", f"file://{empty}")


def test_a_job_whose_worker_died_is_retried_then_given_up(db, settings):
    repository = Repository.objects.create(owner="a", name="b")
    job = IndexingJob.objects.create(repository=repository)
    assert claim_next_job("worker-1").pk == job.pk
    assert claim_next_job("worker-2") is None  # running, and its lease is still good
    assert request_indexing("a/b").pk == job.pk
    lapsed = timezone.now() - timedelta(seconds=1)
    IndexingJob.objects.filter(pk=job.pk).update(lease_until=lapsed)  # worker-1 stopped renewing it
    retried = claim_next_job("worker-2")
    assert retried.pk == job.pk and retried.worker == "worker-2" and retried.attempts == 2
    IndexingJob.objects.filter(pk=job.pk).update(lease_until=lapsed, attempts=settings.CODESEARCH_JOB_MAX_ATTEMPTS)
    assert claim_next_job("worker-3") is None
    job.refresh_from_db()
    assert job.status == "failed" and "giving up" in job.message
    assert request_indexing("a/b").pk != job.pk  # a dead job no longer stands in for the repository


def test_the_build_lock_is_held_by_one_process_at_a_time(db):
    repository = Repository.objects.create(owner="a", name="b")
    first, second = BuildLock(repository), BuildLock(repository)
    assert first.try_acquire() and not second.try_acquire()
    with pytest.raises(IndexingError, match="another build of a/b is running"):
        second.acquire(wait=0.3, poll=0.1)
    first.renew()
    Repository.objects.filter(pk=repository.pk).update(build_lease_until=timezone.now() - timedelta(seconds=1))
    assert second.try_acquire()  # a holder that stopped renewing loses the lock
    with pytest.raises(IndexingError, match="took over"):
        first.renew()
    second.release()
    assert first.try_acquire()


def test_a_queued_job_can_be_cancelled(db):
    job = request_indexing("a/b")
    assert indexing.cancel(job).status == "cancelled"
    assert claim_next_job("worker") is None


def test_update_reembeds_only_changed_functions(db, indexes_dir, file_urls, origin, settings):
    settings.CODESEARCH_VERSION_GRACE_SECONDS = 0
    call_command("add_repository", "example/origin", "--url", f"file://{origin}")
    before = Repository.objects.get(name="origin").live_version
    call_command("update_repositories")
    assert Repository.objects.get(name="origin").live_version == before  # nothing moved
    (origin / "sample" / "extra.py").write_text("def added(x):\n    return x + 1\n")
    git(origin, "add", ".")
    git(origin, "commit", "--quiet", "-m", "second")
    call_command("update_repositories")
    after = Repository.objects.get(name="origin").live_version
    assert after.commit == head(origin) and after.manifest["functions"] == before.manifest["functions"] + 1
    assert after.manifest["languages"]["python"]["reused_vectors"] == before.manifest["units"]
    assert after.manifest["model"]["model"] == "reused" and not before.directory.exists()


# Workers as processes, stopped as operators and crashes stop them ---------------------------------------

@pytest.fixture
def big_origin(tmp_path):
    """The installed Django package as a git repository: a build of it takes long enough to be caught
    in the middle."""
    import django

    return make_origin(tmp_path / "django-origin", django.__path__[0])


@pytest.fixture
def job_mid_build(indexes_dir, file_urls, big_origin):
    """(job, worker): a worker process caught in the middle of building a requested job."""
    job = request_indexing("example/django", url=f"file://{big_origin}")
    worker = manage_process("run_worker", "--poll", "0.2", **FILE_URLS)

    def building():
        job.refresh_from_db()
        return job.status == "running" and job.progress >= 0.1
    try:
        wait_for(building, "the build to start")
        yield job, worker
    finally:
        worker.kill()
        worker.wait()


@pytest.mark.django_db(transaction=True)
def test_sigterm_puts_the_running_job_back_in_the_queue(job_mid_build, indexes_dir):
    job, worker = job_mid_build
    worker.send_signal(signal.SIGTERM)
    output = worker.communicate(timeout=120)[0]
    assert worker.returncode == 0, output
    job.refresh_from_db()
    assert job.status == "queued" and job.attempts == 0 and job.worker == "" and "stopped" in job.stage
    assert Repository.objects.get(name="django").live_version is None
    assert not list((indexes_dir / "repositories" / "example" / "django").glob("[!.]*"))  # nothing went live


@pytest.mark.django_db(transaction=True)
def test_a_running_job_can_be_cancelled(job_mid_build):
    job, worker = job_mid_build
    indexing.cancel(job)
    wait_for(lambda: IndexingJob.objects.get(pk=job.pk).status == "cancelled", "the job to stop")
    assert worker.poll() is None  # the worker goes on with other jobs
    assert Repository.objects.get(name="django").live_version is None
