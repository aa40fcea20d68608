"""The global index of every live repository (training.global_index), kept current.

`refresh()` builds a new one from the live versions, then switches the pointer file
`indexes/global/CURRENT` to it in one rename, so a search reads either the old one or the new one,
never half of one. It runs after a version goes live (in whichever command or worker published it)
and, through `refresh_if_stale()`, in every worker's periodic sweep, which also catches repositories
removed since. Builds are serialised across processes by a file lock; one that starts while another
runs waits for it, then builds with the versions live by then. Superseded builds stay for
CODESEARCH_VERSION_GRACE_SECONDS, for searches still reading them.
"""
from __future__ import annotations

import fcntl
import json
import logging
import os
import shutil
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings

from codesearch.repositories.models import Repository
from training.global_index import Part, build_global, part_cache_name
from training.index import shared_model

log = logging.getLogger(__name__)
POINTER = "CURRENT"


def home() -> Path:
    return Path(settings.INDEXES_DIR) / "global"


def current_directory() -> Path | None:
    """The live global index's directory (None before the first build)."""
    try:
        name = (home() / POINTER).read_text().strip()
    except FileNotFoundError:
        return None
    return home() / name if name else None


def live_parts() -> list[Part]:
    return [Part(version.path, repository.full_name, version.directory)
            for repository in Repository.objects.exclude(live_version=None).select_related("live_version")
            .order_by("owner", "name") for version in [repository.live_version]]


@contextmanager
def _build_lock():
    home().mkdir(parents=True, exist_ok=True)
    with open(home() / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def refresh() -> dict | None:
    """Build the global index of the repositories live now and switch to it; returns its manifest
    (None when there is no base model to embed with)."""
    base_dir = Path(settings.BASE_MODEL_DIR)
    if not (base_dir / "model.pt").is_file():
        log.warning("no base model in %s: the search across repositories is not updated", base_dir)
        return None
    with _build_lock():
        parts = live_parts()  # read under the lock: a build that waited sees what went live meanwhile
        shared = shared_model(base_dir, Path(settings.INDEXES_DIR) / "models")
        name = f"{time.strftime('%Y%m%d-%H%M%S')}-{uuid.uuid4().hex[:8]}"
        try:
            manifest = build_global(parts, shared, home() / name, home() / "parts" / shared.name)
        except BaseException:
            shutil.rmtree(home() / name, ignore_errors=True)
            raise
        scratch = home() / f".{POINTER}.{name}"
        scratch.write_text(name + "\n")
        os.replace(scratch, home() / POINTER)
        _sweep(name, {part_cache_name(part.key) for part in parts}, shared.name)
    log.info("global index %s: %d units of %d repositories in %.1f s%s", name, manifest["rows"],
             manifest["repositories"], manifest["seconds"],
             f"; left out: {', '.join(p['repository'] for p in manifest['left_out'])}" if manifest["left_out"] else "")
    return manifest


def refresh_if_stale() -> dict | None:
    """`refresh()` when the live versions are not the ones the current global index was built from
    (a version went live, or a repository was removed, since)."""
    current = current_directory()
    if current is not None:
        try:
            manifest = json.loads((current / "manifest.json").read_text())
            built = {p["key"] for p in manifest["parts"]} | {p["key"] for p in manifest["left_out"]}
            if built == {part.key for part in live_parts()}:
                return None
        except (OSError, ValueError, KeyError):
            log.warning("the global index in %s can't be read; building it again", current)
    return refresh()


def _sweep(current: str, cached: set[str], base: str) -> None:
    """Remove builds superseded more than the grace period ago (a build stops being read once the
    pointer moves past it, at its successor's time), and cached vectors no live version needs."""
    cutoff = time.time() - settings.CODESEARCH_VERSION_GRACE_SECONDS
    builds = sorted((p for p in home().iterdir() if p.is_dir() and p.name not in ("parts", current)
                     and not p.name.startswith(".")), key=lambda p: p.stat().st_mtime)
    for older, newer in zip(builds, [*builds[1:], home() / current]):
        if newer.stat().st_mtime < cutoff:
            shutil.rmtree(older, ignore_errors=True)
    for folder in (home() / "parts").iterdir() if (home() / "parts").is_dir() else ():
        if folder.name != base:  # vectors by a base model no longer in use
            shutil.rmtree(folder, ignore_errors=True)
            continue
        for path in folder.glob("*.npy"):
            if path.name not in cached:
                path.unlink(missing_ok=True)
