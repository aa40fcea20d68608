"""Unpacking the archives packages come in: .deb, tar (any compression), zip (also wheels, src.zip).
Only source files are taken out of tar and zip archives: Java source tarballs carry jars and docs
that would cost disk and time for nothing. Tar archives are unpacked by GNU tar, in a process of its
own, so decompression runs beside extraction instead of holding the builder's interpreter."""
from __future__ import annotations

import subprocess
import zipfile
from pathlib import Path

from training.extract import EXTENSIONS
from training.sources import SourceError, fresh_dir, run

SOURCE_SUFFIXES = tuple(EXTENSIONS)


def is_archive(path: Path) -> bool:
    name = path.name.lower()
    return name.endswith((".deb", ".zip", ".whl", ".tgz", ".tar")) or ".tar." in name


def unpack(archive: Path, dest: Path, suffixes: tuple[str, ...] = SOURCE_SUFFIXES) -> Path:
    """Unpack `archive` into a fresh `dest` and return it."""
    fresh_dir(dest)
    name = archive.name.lower()
    try:
        if name.endswith(".deb"):
            run(["dpkg-deb", "-x", str(archive), str(dest)])
        elif name.endswith((".zip", ".whl")):
            with zipfile.ZipFile(archive) as z:
                z.extractall(dest, [m for m in z.namelist() if m.lower().endswith(suffixes)])
        else:
            _untar(archive, dest, suffixes)
    except (OSError, zipfile.BadZipFile) as e:
        raise SourceError(f"{archive.name}: cannot unpack ({e})") from e
    return dest


def _untar(archive: Path, dest: Path, suffixes: tuple[str, ...]) -> None:
    # GNU tar refuses absolute and `..` member names by itself; owners and modes are not restored.
    done = subprocess.run(["tar", "-x", "-f", str(archive), "-C", str(dest), "--no-same-owner",
                           "--no-same-permissions", "--wildcards", "--ignore-case",
                           *(f"*{suffix}" for suffix in suffixes)], capture_output=True, text=True)
    # A pattern that matches nothing is an error to tar, not to us: a package may lack some kinds.
    complaints = [line for line in done.stderr.splitlines()
                  if "Not found in archive" not in line and "Exiting with failure status" not in line]
    if done.returncode != 0 and complaints:
        raise SourceError(f"{archive.name}: {complaints[-1]}")
