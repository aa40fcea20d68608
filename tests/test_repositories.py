import pytest
from django.core.management import CommandError, call_command

from codesearch.repositories.models import Repository, Snippet
from codesearch.repositories.pipeline import IndexingError, index_repository
from conftest import SAMPLE_REPO


def test_indexing_records_every_function_and_goes_live(indexed_sample):
    version = indexed_sample
    repo = Repository.objects.get(owner="example", name="sample")
    assert repo.live_version == version and version.commit == "0123abc"
    names = set(Snippet.objects.filter(version=version).values_list("func_name", flat=True))
    assert {"deliver", "compose", "fingerprint", "when", "Stopwatch.lap", "survives"} <= names
    assert "test_deliver" not in names  # tests are skipped
    assert Snippet.objects.filter(version=version).count() == version.manifest["functions"]
    fingerprint = Snippet.objects.get(version=version, func_name="fingerprint")
    assert fingerprint.github_url == "https://github.com/example/sample/blob/0123abc/sample/storage.py#L8-L14"
    assert version.directory.is_dir()


def test_reindexing_the_live_commit_is_skipped(indexed_sample):
    assert index_repository("example/sample", SAMPLE_REPO, commit="0123abc").pk == indexed_sample.pk


def test_a_failed_build_leaves_the_live_version_serving(indexed_sample, tmp_path, monkeypatch):
    import codesearch.repositories.build as build

    def broken_build(*args, **kwargs):
        raise build.IndexCheckError("recall@10 0.5 is below 0.95")

    monkeypatch.setattr(build, "build_index", broken_build)
    with pytest.raises(IndexingError, match="live version is unchanged"):
        index_repository("example/sample", SAMPLE_REPO, commit="fffffff")
    repo = Repository.objects.get(owner="example", name="sample")
    assert repo.live_version.pk == indexed_sample.pk and indexed_sample.directory.is_dir()
    assert [p.name for p in indexed_sample.directory.parent.iterdir()] == [indexed_sample.directory.name]


def test_a_new_commit_replaces_the_old_version(indexed_sample):
    new = index_repository("example/sample", SAMPLE_REPO, commit="4567def")
    repo = Repository.objects.get(owner="example", name="sample")
    assert repo.live_version == new and not indexed_sample.directory.exists()
    assert not Snippet.objects.filter(version_id=indexed_sample.pk).exists()


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
