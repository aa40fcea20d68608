"""Indexing jobs, the worker, fetching by URL, updates (local and Ray), with real git repositories."""
import shutil
import subprocess

import pytest
from django.core.management import CommandError, call_command

from codesearch.repositories.jobs import request_indexing, retry
from codesearch.repositories.models import IndexingJob, Repository
from codesearch.repositories.pipeline import IndexingError
from conftest import SAMPLE_REPO


def git(cwd, *args):
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.org", *args], cwd=cwd, check=True,
                   capture_output=True)


@pytest.fixture
def origin(tmp_path):
    """A git repository holding the sample code, reachable as a file:// URL in these tests."""
    path = tmp_path / "origin"
    shutil.copytree(SAMPLE_REPO, path)
    git(path, "init", "--quiet", "--initial-branch=main")
    git(path, "add", ".")
    git(path, "commit", "--quiet", "-m", "first")
    return path


@pytest.fixture
def file_urls(settings):
    settings.CODESEARCH_CLONE_SCHEMES = ("https", "file")


def head(path):
    return subprocess.run(["git", "rev-parse", "HEAD"], cwd=path, capture_output=True, text=True).stdout.strip()


def test_a_requested_job_is_run_by_the_worker(db, indexes_dir, file_urls, origin):
    job = request_indexing("example/origin", url=f"file://{origin}")
    assert job.status == "queued"
    assert request_indexing("example/origin").pk == job.pk  # one active job per repository
    call_command("run_worker", "--once")
    job.refresh_from_db()
    assert job.status == "succeeded" and job.progress == 1.0 and job.finished is not None
    repo = Repository.objects.get(owner="example", name="origin")
    assert repo.live_version == job.version and repo.live_version.commit == head(origin)
    assert repo.live_version.manifest["source"] == {"url": f"file://{origin}"}


def test_a_failing_job_records_its_message_and_changes_nothing(db, indexes_dir, indexed_sample):
    job = request_indexing("example/sample", url="https://127.0.0.1:9/nothing.git")
    call_command("run_worker", "--once")
    job.refresh_from_db()
    assert job.status == "failed" and "git fetch failed" in job.message
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
    with pytest.raises(CommandError, match="git fetch failed"):
        call_command("add_repository", "a/empty", "--url", f"file://{empty}")


def test_update_reembeds_only_changed_functions(db, indexes_dir, file_urls, origin):
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
    assert after.manifest["languages"]["python"]["reused_vectors"] == before.manifest["functions"]
    assert after.manifest["model"]["model"] == "reused" and not before.directory.exists()


@pytest.mark.django_db(transaction=True)
def test_update_on_a_local_ray_instance(indexes_dir, file_urls, origin, tmp_path):
    second = tmp_path / "second"
    shutil.copytree(origin, second)
    for path, name in ((origin, "origin"), (second, "second")):
        call_command("add_repository", f"example/{name}", "--url", f"file://{path}")
        (path / "sample" / "extra.py").write_text(f"def added_{name}(x):\n    return x * 2\n")
        git(path, "add", ".")
        git(path, "commit", "--quiet", "-m", "more")
    call_command("update_repositories", "--backend", "ray")
    for path, name in ((origin, "origin"), (second, "second")):
        live = Repository.objects.get(name=name).live_version
        assert live.commit == head(path) and live.snippets.filter(func_name=f"added_{name}").exists()
