import pytest
from django.core.management import CommandError, call_command
from django.db.models import Count

from codesearch.repositories.models import IndexVersion, Repository, Snippet
from codesearch.repositories.indexing import IndexingError, index_repository, sweep
from conftest import SAMPLE_REPO


def test_indexing_records_every_function_and_goes_live(indexed_sample):
    version = indexed_sample
    repo = Repository.objects.get(owner="example", name="sample")
    assert repo.live_version == version and version.commit == "0123abc"
    names = set(Snippet.objects.filter(version=version).values_list("func_name", flat=True))
    assert {"deliver", "compose", "fingerprint", "when", "Stopwatch.lap", "survives"} <= names
    assert "test_deliver" not in names  # tests are skipped
    assert Snippet.objects.filter(version=version).count() == version.manifest["units"]
    kinds = dict(Snippet.objects.filter(version=version).values_list("kind").annotate(n=Count("pk")))
    assert kinds == version.manifest["kinds"] == {"function": version.manifest["functions"], "class": 2, "block": 3}
    fingerprint = Snippet.objects.get(version=version, func_name="fingerprint")
    assert fingerprint.github_url == "https://github.com/example/sample/blob/0123abc/sample/storage.py#L8-L14"
    assert version.directory.is_dir()


def test_reindexing_the_live_commit_is_skipped(indexed_sample):
    assert index_repository("example/sample", SAMPLE_REPO, commit="0123abc").pk == indexed_sample.pk


def test_a_failed_build_leaves_the_live_version_serving(indexed_sample, tmp_path):
    # A real failure halfway through: the functions are extracted, then there is no model to embed them.
    with pytest.raises(IndexingError, match="no base model"):
        index_repository("example/sample", SAMPLE_REPO, commit="fffffff", base_model=tmp_path / "missing")
    repo = Repository.objects.get(owner="example", name="sample")
    assert repo.live_version.pk == indexed_sample.pk and indexed_sample.directory.is_dir()
    assert [p.name for p in indexed_sample.directory.parent.iterdir()] == [indexed_sample.directory.name]
    assert repo.build_holder == ""  # the lock was released


def test_a_new_commit_replaces_the_old_version_after_its_grace_period(indexed_sample, settings):
    new = index_repository("example/sample", SAMPLE_REPO, commit="4567def")
    repo = Repository.objects.get(owner="example", name="sample")
    assert repo.live_version == new
    # Searches that started on the old version may still be reading it: it stays for the grace period.
    indexed_sample.refresh_from_db()
    assert indexed_sample.retired is not None and indexed_sample.directory.is_dir()
    assert Snippet.objects.filter(version_id=indexed_sample.pk).exists()
    settings.CODESEARCH_VERSION_GRACE_SECONDS = 0
    sweep(repo)
    assert not indexed_sample.directory.exists() and new.directory.is_dir()
    assert not Snippet.objects.filter(version_id=indexed_sample.pk).exists()
    assert not IndexVersion.objects.filter(pk=indexed_sample.pk).exists()


def test_the_sweep_removes_what_dead_builds_left(indexed_sample, settings):
    home = indexed_sample.directory.parent
    (home / ".build-0123456789ab").mkdir()
    (home / "feedbee-1a2b3c4d").mkdir()  # finished, but its process died before publishing it
    sweep(Repository.objects.get(owner="example", name="sample"))
    assert [p.name for p in home.iterdir()] == [indexed_sample.directory.name]


@pytest.mark.parametrize("name", ["example/.", "example/..", "./sample", "example/sample.git"])
def test_names_that_would_escape_their_directory_are_refused(db, indexes_dir, name):
    with pytest.raises(IndexingError, match="repository name of the form"):
        index_repository(name, SAMPLE_REPO, commit="0123abc")
    assert not Repository.objects.exists() and not (indexes_dir / "repositories").exists()


@pytest.mark.parametrize("args, message", [
    (["not-a-name", "--path", "."], "owner/name"),
    (["a/b", "--path", "/does/not/exist", "--commit", "x"], "not a directory"),
    (["a/b", "--path", str(SAMPLE_REPO)], "not a git checkout"),
    (["a/b", "--path", str(SAMPLE_REPO), "--commit=--upload-pack=evil"], "not a commit"),
])
def test_add_repository_rejects_bad_input_with_a_message(db, indexes_dir, args, message):
    with pytest.raises(CommandError, match=message):
        call_command("add_repository", *args)
    assert not Repository.objects.filter(owner="a").exists() or not Repository.objects.get(owner="a").live_version


def test_a_directory_without_supported_files_is_an_error(db, indexes_dir, tmp_path):
    (tmp_path / "notes.txt").write_text("nothing to see")
    with pytest.raises(CommandError, match="no functions"):
        call_command("add_repository", "a/empty", "--path", str(tmp_path), "--commit", "abc")
