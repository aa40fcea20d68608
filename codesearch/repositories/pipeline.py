"""Indexing a repository, Django side: build a version (see `build`), then switch it live.

`go_live()` records a checked build as the repository's live version in one transaction; a failed or
interrupted build leaves the previous version serving and untouched.
"""
from __future__ import annotations

import logging
import shutil
from pathlib import Path

from django.conf import settings
from django.db import transaction

from codesearch.repositories.build import (BuildResult, BuildSpec, IndexingError, Progress, build_version,
                                           check_commit, check_url, parse_full_name)
from codesearch.repositories.models import IndexVersion, Repository, Snippet
from training.corpus import read_jsonl
from training.index import FORMAT

log = logging.getLogger(__name__)
__all__ = ["IndexingError", "index_repository", "spec_for", "publish", "go_live", "check_url", "check_commit",
           "parse_full_name", "clone_schemes"]


def clone_schemes() -> tuple[str, ...]:
    return tuple(getattr(settings, "CODESEARCH_CLONE_SCHEMES", ("https",)))


@transaction.atomic
def go_live(repository: Repository, result: BuildResult) -> IndexVersion:
    version = IndexVersion.objects.create(repository=repository, commit=result.commit, manifest=result.manifest,
                                          path=str(result.directory.relative_to(settings.INDEXES_DIR)))
    Snippet.objects.bulk_create((
        Snippet(version=version, language=f["language"], item=f["item"], func_name=f["func_name"][:500],
                path=f["path"][:1000], start_line=f["start_line"], end_line=f["end_line"],
                code=f["original_string"], summary=f.get("summary", ""))
        for f in read_jsonl(result.directory / "functions.jsonl.gz")), batch_size=2000)
    repository.live_version = version
    repository.save(update_fields=["live_version"])
    return version


def remove_old_versions(repository: Repository, keep: IndexVersion) -> None:
    """Drop superseded versions and any directory no version points at (left by a crash)."""
    for old in repository.versions.exclude(pk=keep.pk):
        directory = old.directory
        old.delete()
        shutil.rmtree(directory, ignore_errors=True)
    home = keep.directory.parent
    for directory in home.iterdir():
        if directory != keep.directory and not directory.name.startswith(".build-"):
            shutil.rmtree(directory, ignore_errors=True)


def spec_for(full_name: str, path: str | Path | None = None, url: str | None = None, commit: str | None = None,
             prefix: str = "", base_model: Path | None = None, n_trees: int = 50,
             reuse_model: bool = False) -> BuildSpec:
    parse_full_name(full_name)
    if url is not None:
        check_url(url, clone_schemes())
    if commit is not None:
        check_commit(commit)
    owner, name = full_name.split("/")
    live = Repository.objects.filter(owner=owner, name=name).select_related("live_version").first()
    previous = live.live_version.directory if live and live.live_version else None
    return BuildSpec(full_name=full_name, indexes_dir=settings.INDEXES_DIR,
                     base_model=Path(base_model or settings.BASE_MODEL_DIR), path=Path(path) if path else None,
                     url=url, commit=commit, prefix=prefix, n_trees=n_trees,
                     min_documented=getattr(settings, "CODESEARCH_FINETUNE_MIN_DOCUMENTED", 200),
                     previous=previous, reuse_model=reuse_model, schemes=clone_schemes())


def index_repository(full_name: str, path: str | Path | None = None, commit: str | None = None, prefix: str = "",
                     base_model: Path | None = None, n_trees: int = 50, force: bool = False, url: str | None = None,
                     reuse_model: bool = False, progress: Progress = lambda stage, fraction: None) -> IndexVersion:
    """Index `full_name` from a local checkout (`path`) or a fetch (`url`, default GitHub); returns the live version."""
    spec = spec_for(full_name, path=path, url=url, commit=commit, prefix=prefix, base_model=base_model,
                    n_trees=n_trees, reuse_model=reuse_model)
    owner, name = full_name.split("/")
    repository, _ = Repository.objects.get_or_create(owner=owner, name=name)
    live = repository.live_version
    if (live and commit and live.commit == commit and live.manifest.get("format") == FORMAT
            and live.directory.is_dir() and not force):
        log.info("%s is already indexed at %s", full_name, commit)
        return live
    return publish(repository, build_version(spec, progress))


def publish(repository: Repository, result: BuildResult) -> IndexVersion:
    try:
        version = go_live(repository, result)
    except BaseException:
        shutil.rmtree(result.directory, ignore_errors=True)
        raise
    remove_old_versions(repository, keep=version)
    return version
