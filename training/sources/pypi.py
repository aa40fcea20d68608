"""PyPI packages as a corpus source: `pip download` of a curated list of well-documented pure-Python
libraries into CACHE/pypi, one unit per package. Wheels first (they are the package's own source,
nothing to build); a source archive where a project publishes no wheel."""
from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Iterable

from training.sources import Downloads, SourceError, Unit, run
from training.sources.archives import is_archive, unpack

PACKAGES = (
    "requests", "urllib3", "flask", "werkzeug", "jinja2", "click", "itsdangerous", "sqlalchemy", "alembic",
    "django", "attrs", "httpx", "httpcore", "rich", "sympy", "networkx", "docutils", "sphinx", "pygments",
    "babel", "boto3", "botocore", "marshmallow", "celery", "kombu", "twisted", "tornado", "aiohttp", "scrapy",
    "pyparsing", "packaging", "setuptools", "pip", "more-itertools", "toolz", "python-dateutil",
    "pytz", "arrow", "pendulum", "paramiko", "fabric", "ansible-core", "black", "pylint", "astroid", "mypy",
)


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "_", name).lower()


def archive_owner(filename: str) -> str | None:
    """Wheels and source archives are named `{project}-{version}...`, the project spelt loosely."""
    m = re.match(r"^(.+?)-\d", filename)
    return canonical(m.group(1)) if m and is_archive(Path(filename)) else None


def _download(names: list[str], into: Path) -> None:
    pip = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--disable-pip-version-check",
           "--dest", str(into)]
    try:
        run([*pip, "--only-binary", ":all:", *names])
    except SourceError:
        if len(names) > 1:
            raise  # find which one has no wheel, one at a time
        run([*pip, "--no-binary", ":all:", *names])


def units(cache: Path, languages: Iterable[str], path: Path | None = None,
          packages: Iterable[str] = PACKAGES) -> list[Unit]:
    """One unit per package: from the registry, or from the wheels and sdists in `path`."""
    if "python" not in set(languages):
        return []
    cache = Path(cache) / "pypi"
    if path is not None:
        names = sorted({archive_owner(p.name) for p in Path(path).iterdir() if archive_owner(p.name)})
        downloads = Downloads(Path(path), _download, archive_owner, names, key=canonical)
    else:
        names = list(packages)
        downloads = Downloads(cache / "archives", _download, archive_owner, names, key=canonical)

    def unit(name: str) -> Unit:
        scratch = cache / "unpacked" / canonical(name)
        return Unit(f"pypi/{canonical(name)}",
                    lambda: [(f"pypi/{canonical(name)}", unpack(downloads.get(name)[-1], scratch, (".py",)))],
                    language="python", scratch=scratch)

    return [unit(name) for name in names]
