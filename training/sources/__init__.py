"""Where a base corpus's code comes from: one module per source, each turning its registry into a
list of `Unit`s (one package each) that the corpus builder fetches, extracts and caches in turn.

    units = debian.units(cache, languages)   # or npm.units(...), pypi.units(...)
    build(out, units, languages)             # training.corpus (csn has a builder of its own)
"""
from __future__ import annotations

import shutil
import subprocess
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Callable


class SourceError(Exception):
    """A package could not be fetched or unpacked; the build goes on without it and reports it."""


@dataclass
class Unit:
    """One package. `fetch` downloads (cached) and unpacks it, returning (package, tree) parts to
    extract: usually one, several when a big package is better split (JDK modules, stdlib dirs)."""

    name: str
    fetch: Callable[[], list[tuple[str, Path]]]
    language: str | None = None     # extract only this language (a Python package's bundled jQuery is not ours)
    scratch: Path | None = None     # unpacked files to delete once extracted

    def release(self) -> None:
        if self.scratch is not None:
            shutil.rmtree(self.scratch, ignore_errors=True)


def run(cmd: list[str], cwd: Path | None = None) -> str:
    """Run a tool; its failure becomes a SourceError carrying the tool's last line of complaint."""
    try:
        done = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
    except FileNotFoundError as e:
        raise SourceError(f"{cmd[0]} is not installed") from e
    if done.returncode != 0:
        complaint = (done.stderr.strip() or done.stdout.strip() or f"exit {done.returncode}").splitlines()[-1]
        raise SourceError(f"{' '.join(cmd[:2])}: {complaint}")
    return done.stdout


def fresh_dir(path: Path) -> Path:
    """An empty directory (a half-unpacked tree from an interrupted run is thrown away)."""
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    return path


def top_level_parts(package: str, root: Path) -> list[tuple[str, Path]]:
    """Split a big tree into one part per top-level entry, named `package/entry`."""
    return [(f"{package}/{entry.name}", entry) for entry in sorted(root.iterdir())
            if not entry.name.startswith((".", "_"))]


class Downloads:
    """Archives fetched in batches into `dest` and found there again on a rerun.

    `command(names, into)` runs the registry's client for some names; `owner(filename)` says whose
    a downloaded file is, in the spelling of `key(name)`. Asking for one name fetches it together
    with the next ones of `queue` that are missing: one client start-up per batch costs less than
    one per package."""

    def __init__(self, dest: Path, command: Callable[[list[str], Path], None], owner: Callable[[str], str | None],
                 queue: list[str], key: Callable[[str], str] = lambda name: name, batch: int = 100):
        self.dest, self.command, self.owner, self.key, self.batch = Path(dest), command, owner, key, batch
        self.queue = queue
        self.failed: dict[str, str] = {}
        self._index: dict[str, list[Path]] | None = None
        self._lock = threading.Lock()  # fetch threads share one scratch directory and one index

    def find(self, name: str) -> list[Path]:
        if self._index is None:
            self._index = {}
            for path in sorted(self.dest.iterdir()) if self.dest.is_dir() else []:
                self._add(path)
        return self._index.get(self.key(name), [])

    def _add(self, path: Path) -> None:
        owner = self.owner(path.name) if path.is_file() else None
        if owner is not None:
            self._index.setdefault(owner, []).append(path)

    def get(self, name: str) -> list[Path]:
        with self._lock:
            return self._get(name)

    def _get(self, name: str) -> list[Path]:
        found = self.find(name)
        if not found and name not in self.failed:
            start = self.queue.index(name) if name in self.queue else 0
            batch = [n for n in self.queue[start:start + 4 * self.batch]
                     if n not in self.failed and not self.find(n)][:self.batch]
            self._download(batch if name in batch else [name])
            found = self.find(name)
        if not found:
            raise SourceError(f"{name}: {self.failed.get(name, 'not downloaded')}")
        return found

    def _download(self, names: list[str]) -> None:
        # Into a scratch directory first, so an interrupted download never looks finished.
        partial = fresh_dir(self.dest / ".partial")
        try:
            self.command(names, partial)
        except SourceError as e:
            if len(names) == 1:
                self.failed[names[0]] = str(e)
            else:  # one bad name fails a whole batch: find it by fetching one at a time
                for name in names:
                    self._download([name])
                return
        for path in sorted(partial.iterdir()):
            shutil.move(str(path), self.dest / path.name)
            self._add(self.dest / path.name)
        shutil.rmtree(partial, ignore_errors=True)
