"""Builds that die or collide never break a search: a worker killed with SIGKILL in the middle of a real
build, and two processes re-indexing one repository at once while a client searches it without pause.

The repository is the installed Django package (a few thousand functions), so a build takes long
enough to be caught in the middle. Every process is real: manage.py workers and add_repository runs
against the test database, and the live server answers over HTTP.
"""
import json
import shutil
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from django.core.management import call_command

from codesearch.repositories.indexing import request_indexing
from codesearch.repositories.models import IndexingJob, IndexVersion, Repository
from conftest import manage_process
from test_jobs import FILE_URLS, git, make_origin, wait_for

QUERIES = ["send mail", "parse a date", "check the password", "read a file", "escape html", "cache a value",
           "validate an email address", "render a template", "open a database connection", "sign a cookie"]


@pytest.fixture
def django_source(tmp_path) -> Path:
    import django

    return make_origin(tmp_path / "django", django.__path__[0])


def versions_dir(indexes_dir) -> Path:
    return indexes_dir / "repositories" / "example" / "django"


def search(base_url: str, query: str) -> tuple[int, int]:
    """(status, number of results) of one search through the API, as a client sends it."""
    url = f"{base_url}/api/v1/repositories/example/django/search?" + urllib.parse.urlencode({"q": query, "limit": 5})
    try:
        with urllib.request.urlopen(url, timeout=120) as response:
            return response.status, len(json.load(response)["results"])
    except urllib.error.HTTPError as e:
        return e.code, 0


@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_build_leaves_the_old_version_serving_and_its_job_is_retried(
        client, indexes_dir, settings, django_source):
    settings.CODESEARCH_CLONE_SCHEMES = ("https", "file")
    url = f"file://{django_source}"
    call_command("add_repository", "example/django", "--url", url)
    before = Repository.objects.get(name="django").live_version
    (django_source / "added.py").write_text("def added_after_the_crash(x):\n    return x + 1\n")
    git(django_source, "add", ".")
    git(django_source, "commit", "--quiet", "-m", "second")
    job = request_indexing("example/django", url=url)
    lease = "3"
    env = {"CODESEARCH_LEASE_SECONDS": lease, **FILE_URLS}
    doomed = manage_process("run_worker", "--poll", "0.2", **env)
    try:
        wait_for(lambda: IndexingJob.objects.filter(pk=job.pk, status="running", progress__gte=0.3).exists(),
                 "the build to be well under way")
        doomed.kill()  # SIGKILL: no handler runs, no lock or lease is released
        doomed.wait()
        killed_at = time.monotonic()
    finally:
        doomed.kill()

    # The old version serves; nothing of the dead build is live.
    assert Repository.objects.get(name="django").live_version == before
    assert IndexVersion.objects.filter(repository__name="django").count() == 1
    response = client.get("/api/v1/repositories/example/django/search", {"q": "send mail"})
    assert response.status_code == 200 and response.json()["results"]
    assert {p.name for p in versions_dir(indexes_dir).iterdir() if not p.name.startswith(".")} == {
        Path(before.path).name}

    rescuer = manage_process("run_worker", "--poll", "0.2", **env)
    try:
        wait_for(lambda: IndexingJob.objects.filter(pk=job.pk, attempts=2).exists(), "the job to be retried")
        retried_after = time.monotonic() - killed_at
        wait_for(lambda: IndexingJob.objects.get(pk=job.pk).status in ("succeeded", "failed"), "the retry to end")
    finally:
        rescuer.kill()
        rescuer.wait()
    job.refresh_from_db()
    assert job.status == "succeeded", job.message
    assert retried_after >= float(lease) - 0.5  # not before its lease lapsed
    live = Repository.objects.get(name="django").live_version
    assert live != before and live.snippets.filter(func_name="added_after_the_crash").exists()
    # The dead build's scratch directory was swept; the old version stays for its grace period.
    assert not [p for p in versions_dir(indexes_dir).iterdir() if p.name.startswith(".build-")]
    assert before.directory.is_dir()
    print(f"\nkill -9 mid-build: the job was retried {retried_after:.1f} s after the kill (lease {lease} s)")


@pytest.mark.django_db(transaction=True)
def test_two_processes_reindexing_at_once_never_break_a_search(live_server, indexes_dir, tmp_path):
    import django

    checkout = tmp_path / "checkout"
    shutil.copytree(django.__path__[0], checkout)
    call_command("add_repository", "example/django", "--path", str(checkout), "--commit", "v1")
    answers: list[tuple[int, int]] = []
    stop = threading.Event()

    def searcher():
        i = 0
        while not stop.is_set():
            # A new query every time (no cached answer), cycling through ten real ones.
            answers.append(search(live_server.url, f"{QUERIES[i % len(QUERIES)]} {i // len(QUERIES)}"))
            i += 1

    client = threading.Thread(target=searcher)
    client.start()
    try:
        builders = [manage_process("add_repository", "example/django", "--path", str(checkout), "--commit", commit,
                                   "--force") for commit in ("v2", "v3")]
        outputs = [builder.communicate(timeout=600)[0] for builder in builders]
        wait_for(lambda: len(answers) > 10, "a few more searches after the last build")
    finally:
        stop.set()
        client.join()
    for builder, output in zip(builders, outputs):
        assert builder.returncode == 0, output
    repository = Repository.objects.get(name="django")
    assert IndexVersion.objects.filter(repository=repository, retired=None).count() == 1
    assert repository.live_version.commit in ("v2", "v3")
    assert IndexVersion.objects.filter(repository=repository).count() == 3  # two retired, within their grace
    statuses = [status for status, _ in answers]
    assert statuses.count(200) == len(answers), sorted(set(statuses))
    assert all(found > 0 for _, found in answers)
    print(f"\nconcurrent re-index: {len(answers)} searches answered, all 200 with results")
