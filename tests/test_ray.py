"""Indexing many repositories at once (`add_repositories`, `update_repositories`), one after the other
here and as tasks on a real local Ray instance: each repository is published as soon as its build
finishes, and a build that fails, crashes its worker or outlives the time limit fails alone."""
import logging
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from codesearch.repositories.indexing import IndexingError, Source, _ray_failure, index_repositories
from codesearch.repositories.models import Repository
from conftest import ROOT, SAMPLE_REPO
from test_jobs import file_urls, git, head, make_origin  # noqa: F401 - file_urls: a fixture


@pytest.fixture(scope="module")
def local_ray():
    """One Ray instance for the module (starting one takes seconds). Four logical CPUs, so that the
    builds of a test all run at once; its workers misbehave on cue (`ray_worker_hooks`)."""
    import ray

    # PYTHONPATH: the hook runs before a worker takes this process's sys.path on.
    ray.init(num_cpus=4, include_dashboard=False, logging_level=logging.WARNING,
             runtime_env={"worker_process_setup_hook": "tests.ray_worker_hooks.misbehave_on_cue",
                          "env_vars": {"PYTHONPATH": str(ROOT)}})
    yield
    ray.shutdown()


def live(name):
    return Repository.objects.get(owner="example", name=name).live_version


def test_on_ray_each_repository_is_published_as_soon_as_it_is_built_and_failures_stay_alone(
        local_ray, db, indexes_dir, settings):
    """Five builds on four CPUs: "quick" builds at once; "waits" and "taken" wait until "quick" is live,
    and meanwhile another process takes over the lock of "taken"; "crashes" kills its worker; "hangs"
    never returns, and the time limit is lowered under it once the others are done."""
    settings.CODESEARCH_BUILD_TIMEOUT_SECONDS = 600  # bounds a failing test only, until lowered below
    names = ["quick", "waits", "taken", "crashes", "hangs"]
    told = {}  # name -> (outcome, whether "waits" was live when it was told)

    def report(outcome):
        name = outcome.repository.split("/")[1]
        told[name] = outcome, live("waits") is not None
        if name == "quick":
            assert live("quick").commit == "0123abc"
            Repository.objects.filter(name="taken").update(build_holder="another process",
                                                           build_lease_until=timezone.now() + timedelta(hours=1))
            (indexes_dir / "go-on").touch()  # only now may "waits" and "taken" build
        if set(told) == set(names) - {"hangs"}:  # no real build is left to race the lowered limit
            settings.CODESEARCH_BUILD_TIMEOUT_SECONDS = 1
    outcomes = index_repositories([Source(f"example/{name}", path=SAMPLE_REPO, commit="0123abc") for name in names],
                                  backend="ray", report=report)

    assert outcomes == [outcome for outcome, _ in told.values()] and outcomes[-1] == told["hangs"][0]
    assert told["quick"][1] is False  # "quick" was live while "waits" was not
    for name in ("quick", "waits"):
        assert told[name][0].status == "indexed" and told[name][0].detail.endswith("at 0123abc")
        assert live(name).commit == "0123abc"
    reasons = {name: told[name][0].detail for name in ("taken", "crashes", "hangs")}
    assert reasons["taken"].startswith("another process took over the build of example/taken")
    assert reasons["crashes"].startswith("the Ray worker running the build died")
    assert reasons["hangs"] == "the build took longer than its limit of 1 s"
    for name in reasons:
        assert told[name][0].status == "failed" and live(name) is None
    for name in ("crashes", "hangs"):
        assert not list((indexes_dir / "repositories" / "example" / name).iterdir())  # its scratch was swept
    assert set(Repository.objects.exclude(build_holder="").values_list("name", flat=True)) == {"taken"}


def oom():
    from ray.exceptions import OutOfMemoryError

    return OutOfMemoryError("Task was killed due to the node running low on memory.\nMemory on the node ...")


def task_error(cause):
    from ray.exceptions import RayTaskError

    return RayTaskError("build_task", "Traceback (most recent call last):\n  ...", cause)


@pytest.mark.parametrize("error, reason", [
    (oom, "Ray's memory monitor killed the build: its node was running out of memory"),
    (lambda: task_error(IndexingError("example/a: no functions were found")), "example/a: no functions were found"),
    (lambda: task_error(KeyError("x")), "the build failed unexpectedly (KeyError); the traceback is in the log"),
])
def test_how_ray_reports_a_failure_becomes_one_line(error, reason):
    """The kinds of failure the test above cannot cause on cue, Ray's exceptions as Ray makes them."""
    assert _ray_failure(error(), stopping="") == reason


def test_add_then_update_on_ray_through_the_commands(local_ray, db, indexes_dir, file_urls, tmp_path, capsys):
    origins = {name: make_origin(tmp_path / name, SAMPLE_REPO) for name in ("first", "second")}
    listing = tmp_path / "repositories.txt"
    listing.write_text("".join(f"example/{name} --url file://{path}\n" for name, path in origins.items()))
    call_command("add_repositories", str(listing), "--backend", "ray")
    lines = capsys.readouterr().out.splitlines()
    assert sorted(line.split(" (")[0] for line in lines[:2]) == ["example/first: indexed", "example/second: indexed"]
    assert lines[2:] == ["2 indexed"]
    for name, path in origins.items():
        (path / "sample" / "extra.py").write_text(f"def added_{name}(x):\n    return x * 2\n")
        git(path, "add", ".")
        git(path, "commit", "--quiet", "-m", "more")
    call_command("update_repositories", "--backend", "ray")
    lines = capsys.readouterr().out.splitlines()
    assert lines[-1] == "2 updated" and all("vectors reused" in line for line in lines[:2])
    for name, path in origins.items():
        assert live(name).commit == head(path) and live(name).snippets.filter(func_name=f"added_{name}").exists()


def test_add_repositories_here_publishes_what_it_can_and_fails_the_rest(db, indexes_dir, file_urls, tmp_path, capsys):
    listing = tmp_path / "repositories.txt"
    listing.write_text(f"# the fixture repository, then one that is not there\n"
                       f"example/sample --path {SAMPLE_REPO} --commit 0123abc\n\n"
                       f"example/gone --url file://{tmp_path}/nothing-here  # fails when fetched\n")
    with pytest.raises(CommandError, match="some repositories could not be indexed"):
        call_command("add_repositories", str(listing))
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("example/sample: indexed (") and lines[0].endswith(" at 0123abc)")
    assert lines[1].startswith("example/gone: failed (") and "could not fetch" in lines[1]
    assert lines[2] == "1 indexed, 1 failed"
    assert live("sample").commit == "0123abc" and live("gone") is None
    listing.write_text(f"example/sample --path {SAMPLE_REPO} --commit 0123abc\n")
    call_command("add_repositories", str(listing))
    assert capsys.readouterr().out.splitlines() == ["example/sample: up to date (already live at 0123abc)",
                                                    "1 up to date"]


def test_bad_lines_are_each_reported_and_nothing_is_indexed(db, tmp_path, capsys):
    listing = tmp_path / "repositories.txt"
    listing.write_text(f"example/good --path {SAMPLE_REPO}\n"
                       "not-a-name\n"
                       "example/a --url http://example.org/a.git\n"
                       "example/b --path /no/such/dir\n"
                       f"example/c --path {SAMPLE_REPO} --url https://github.com/example/c.git\n"
                       "example/d --branch main\n"
                       "example/e --commit 'unbalanced\n"
                       "example/good\n")
    with pytest.raises(CommandError, match=r"^7 bad lines in .*repositories.txt; nothing was indexed$"):
        call_command("add_repositories", str(listing))
    errors = capsys.readouterr().err.splitlines()
    assert [e.split(": ")[0].rsplit(":", 1)[1] for e in errors] == ["2", "3", "4", "5", "6", "7", "8"]
    assert "/no/such/dir: not a directory" in errors[2] and "not allowed with argument" in errors[3]
    assert "unrecognized arguments: --branch main" in errors[4] and errors[6].endswith("already listed on line 1")
    assert not Repository.objects.exists()
    listing.write_text("# nothing\n")
    with pytest.raises(CommandError, match="lists no repositories"):
        call_command("add_repositories", str(listing))
