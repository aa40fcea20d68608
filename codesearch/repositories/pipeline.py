"""Indexing a repository: extract -> embed -> Annoy -> checks -> switch live, atomically.

The build happens in a scratch directory; only after `training.index` has checked it is it renamed
into place and recorded, in one database transaction, as the repository's live version. A failed or
interrupted build leaves the previous version serving and untouched.
"""
from __future__ import annotations

import logging
import re
import shutil
import subprocess
import uuid
from pathlib import Path

from django.conf import settings
from django.db import transaction

from codesearch.repositories.models import IndexVersion, Repository, Snippet
from training.corpus import read_jsonl
from training.extract import ExtractStats, extract_path
from training.index import FORMAT, IndexCheckError, build_index
from training.model import CodeSearchModel

log = logging.getLogger(__name__)
_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,100}/[A-Za-z0-9_.-]{1,100}$")
_COMMIT = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,99}$")


class IndexingError(Exception):
    """Something about the request or the source that a user must fix; the message says what."""


def parse_full_name(full_name: str) -> tuple[str, str]:
    if not _NAME.match(full_name or "") or ".." in full_name:
        raise IndexingError(f"{full_name!r} is not a repository name of the form owner/name")
    owner, name = full_name.split("/")
    return owner, name


def checkout_commit(path: Path) -> str:
    """HEAD of the git checkout rooted at `path`, or an error asking for --commit."""
    def git(*args: str) -> str:
        return subprocess.run(["git", "-C", str(path), *args], capture_output=True, text=True, timeout=30,
                              check=True).stdout.strip()
    try:
        # A directory inside some other repository's work tree is not a checkout of this one.
        if Path(git("rev-parse", "--show-toplevel")).resolve() == path.resolve():
            return git("rev-parse", "HEAD")
    except (subprocess.CalledProcessError, FileNotFoundError, subprocess.TimeoutExpired):
        pass
    raise IndexingError(f"{path} is not a git checkout; give the commit or tag it holds with --commit")


def index_repository(full_name: str, path: str | Path, commit: str | None = None, prefix: str = "",
                     base_model: Path | None = None, n_trees: int = 50, force: bool = False) -> IndexVersion:
    """Index the checkout at `path` as `full_name` at `commit`; returns the live version.

    `prefix` is prepended to file paths, for a checkout that holds only a subdirectory of the
    repository (so that GitHub links still point at the right file).
    """
    owner, name = parse_full_name(full_name)
    path = Path(path)
    if not path.is_dir():
        raise IndexingError(f"{path}: not a directory")
    commit = commit or checkout_commit(path)
    if not _COMMIT.match(commit):
        raise IndexingError(f"{commit!r} is not a commit or tag name")
    base_model = Path(base_model or settings.BASE_MODEL_DIR)
    if not (base_model / "model.pt").is_file():
        raise IndexingError(f"no base model in {base_model}: train one first (make base-model, or make demo)")

    repository, _ = Repository.objects.get_or_create(owner=owner, name=name)
    live = repository.live_version
    if (live and live.commit == commit and live.manifest.get("format") == FORMAT and live.directory.is_dir()
            and not force):
        log.info("%s is already indexed at %s", full_name, commit)
        return live

    stats = ExtractStats()
    functions = [f.to_record() for f in extract_path(path, repo=full_name, sha=commit, stats=stats, prefix=prefix)]
    if not functions:
        raise IndexingError(f"{full_name}: no functions found in a supported language under {path}")

    home = settings.INDEXES_DIR / "repositories" / owner / name
    scratch = home / f".build-{uuid.uuid4().hex[:12]}"
    try:
        model = CodeSearchModel.load(base_model, device="cpu")
        manifest = build_index(model, functions, scratch, n_trees=n_trees, extra={
            "repository": full_name, "commit": commit, "extraction": stats.as_dict(), "model": "base"})
        final = home / f"{commit}-{uuid.uuid4().hex[:8]}"
        scratch.rename(final)
    except IndexCheckError as e:
        shutil.rmtree(scratch, ignore_errors=True)
        raise IndexingError(f"{full_name}: the new index failed its checks ({e}); the live version is unchanged") from e
    except BaseException:
        shutil.rmtree(scratch, ignore_errors=True)
        raise
    try:
        version = _go_live(repository, commit, final, manifest)
    except BaseException:
        shutil.rmtree(final, ignore_errors=True)
        raise
    _remove_old_versions(repository, keep=version)
    return version


@transaction.atomic
def _go_live(repository: Repository, commit: str, directory: Path, manifest: dict) -> IndexVersion:
    version = IndexVersion.objects.create(repository=repository, commit=commit, manifest=manifest,
                                          path=str(directory.relative_to(settings.INDEXES_DIR)))
    Snippet.objects.bulk_create((
        Snippet(version=version, language=f["language"], item=f["item"], func_name=f["func_name"][:500],
                path=f["path"][:1000], start_line=f["start_line"], end_line=f["end_line"],
                code=f["original_string"], summary=f.get("summary", ""))
        for f in read_jsonl(directory / "functions.jsonl.gz")), batch_size=2000)
    repository.live_version = version
    repository.save(update_fields=["live_version"])
    return version


def _remove_old_versions(repository: Repository, keep: IndexVersion) -> None:
    for old in repository.versions.exclude(pk=keep.pk):
        directory = old.directory
        old.delete()
        shutil.rmtree(directory, ignore_errors=True)
