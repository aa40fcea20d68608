"""Building a repository's index version: fetch -> extract -> fine-tune -> embed -> Annoy -> checks.

Nothing here touches Django or a database, so a build can run in this process, in the worker, or as
a Ray task on another machine; `pipeline.go_live()` then switches the checked result live.
"""
from __future__ import annotations

import json
import re
import shutil
import subprocess
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Callable
from urllib.parse import urlsplit

from annoy import AnnoyIndex

from training.corpus import code_hash, read_jsonl
from training.extract import ExtractStats, extract_path
from training.finetune import FinetuneConfig, finetune
from training.index import IndexCheckError, build_index
from training.model import CodeSearchModel

_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,100}/[A-Za-z0-9_.-]{1,100}$")
_COMMIT = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_./-]{0,99}$")
Progress = Callable[[str, float], None]


class IndexingError(Exception):
    """Something about the request or the source that a user must fix; the message says what."""


def parse_full_name(full_name: str) -> tuple[str, str]:
    if not _NAME.match(full_name or "") or ".." in full_name:
        raise IndexingError(f"{full_name!r} is not a repository name of the form owner/name")
    owner, name = full_name.split("/")
    return owner, name


def check_commit(commit: str) -> str:
    if not _COMMIT.match(commit or "") or ".." in commit:
        raise IndexingError(f"{commit!r} is not a commit, branch or tag name")
    return commit


def check_url(url: str, schemes: tuple[str, ...] = ("https",)) -> str:
    """An https clone URL; anything that could be read as a git option or a local path is refused."""
    parts = urlsplit(url or "")
    if (parts.scheme not in schemes or (parts.scheme != "file" and not parts.hostname) or url.startswith("-")
            or any(c.isspace() or ord(c) < 32 for c in url) or parts.username or parts.password):
        raise IndexingError(f"{url!r} is not an https clone URL (https://host/owner/name)")
    return url


def github_url(full_name: str) -> str:
    return f"https://github.com/{full_name}.git"


def _git(*args: str, cwd: Path | None = None, timeout: int = 600) -> str:
    done = subprocess.run(["git", "-c", "protocol.file.allow=user", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=timeout, env={"GIT_TERMINAL_PROMPT": "0", "PATH": "/usr/bin:/bin:/usr/local/bin"})
    if done.returncode != 0:
        raise IndexingError(f"git {args[0]} failed: {(done.stderr.strip().splitlines() or ['no output'])[-1]}")
    return done.stdout.strip()


def clone(url: str, commit: str | None, dest: Path, schemes: tuple[str, ...] = ("https",)) -> str:
    """Shallow fetch of one commit (default: the default branch) into `dest`; returns its SHA."""
    check_url(url, schemes)
    ref = check_commit(commit) if commit else "HEAD"
    dest.mkdir(parents=True, exist_ok=True)
    _git("init", "--quiet", cwd=dest)
    try:
        _git("fetch", "--quiet", "--depth", "1", "--no-tags", "--", url, ref, cwd=dest)
    except subprocess.TimeoutExpired:
        raise IndexingError(f"fetching {url} timed out")
    _git("checkout", "--quiet", "FETCH_HEAD", cwd=dest)
    return _git("rev-parse", "HEAD", cwd=dest)


def remote_head(url: str, schemes: tuple[str, ...] = ("https",)) -> str:
    """SHA of the default branch of a remote, without cloning."""
    out = _git("ls-remote", "--", check_url(url, schemes), "HEAD", timeout=60)
    if not out:
        raise IndexingError(f"{url} has no default branch (an empty repository?)")
    return out.split()[0]


def checkout_commit(path: Path) -> str:
    """HEAD of the git checkout rooted at `path`, or an error asking for --commit."""
    try:
        # A directory inside some other repository's work tree is not a checkout of this one.
        if Path(_git("rev-parse", "--show-toplevel", cwd=path)).resolve() == path.resolve():
            return _git("rev-parse", "HEAD", cwd=path)
    except (IndexingError, FileNotFoundError, subprocess.TimeoutExpired):
        pass
    raise IndexingError(f"{path} is not a git checkout; give the commit or tag it holds with --commit")


@dataclass
class BuildSpec:
    """Everything a build needs; plain data, so it can be shipped to a Ray worker."""

    full_name: str
    indexes_dir: Path
    base_model: Path
    path: Path | None = None        # a local checkout, or
    url: str | None = None          # an https URL to fetch
    commit: str | None = None
    prefix: str = ""
    n_trees: int = 50
    min_documented: int = 200
    previous: Path | None = None    # the live version's directory, for reuse on updates
    reuse_model: bool = False       # serve with the previous version's model and reuse its vectors
    schemes: tuple[str, ...] = ("https",)


@dataclass
class BuildResult:
    directory: Path
    commit: str
    manifest: dict


def build_version(spec: BuildSpec, progress: Progress = lambda stage, fraction: None) -> BuildResult:
    """Build and check a new index version; no database access."""
    owner, name = parse_full_name(spec.full_name)
    home = Path(spec.indexes_dir) / "repositories" / owner / name
    home.mkdir(parents=True, exist_ok=True)
    scratch = home / f".build-{uuid.uuid4().hex[:12]}"
    try:
        with tempfile.TemporaryDirectory(prefix="codesearch-checkout-") as tmp:
            if spec.path is not None:
                path = Path(spec.path)
                if not path.is_dir():
                    raise IndexingError(f"{path}: not a directory")
                commit = check_commit(spec.commit) if spec.commit else checkout_commit(path)
            else:
                progress("fetching", 0.02)
                path = Path(tmp) / "checkout"
                commit = clone(spec.url or github_url(spec.full_name), spec.commit, path, spec.schemes)
            progress("extracting functions", 0.1)
            stats = ExtractStats()
            functions = [f.to_record() for f in extract_path(path, repo=spec.full_name, sha=commit, stats=stats,
                                                             prefix=spec.prefix)]
        if not functions:
            raise IndexingError(f"{spec.full_name}: no functions in a supported language (Go, Java, JavaScript, "
                                f"PHP, Python, Ruby) were found")
        model, model_report, vectors = _choose_model(spec, functions, scratch, progress)
        progress("embedding and building the index", 0.7)
        manifest = build_index(model, functions, scratch, n_trees=spec.n_trees, vectors=vectors, extra={
            "repository": spec.full_name, "commit": commit, "extraction": stats.as_dict(), "model": model_report,
            "source": {"path": str(spec.path), "prefix": spec.prefix} if spec.path is not None
            else {"url": spec.url or github_url(spec.full_name)}})
        shutil.rmtree(scratch / "finetune", ignore_errors=True)
        final = home / f"{commit[:40]}-{uuid.uuid4().hex[:8]}"
        scratch.rename(final)
    except IndexCheckError as e:
        raise IndexingError(f"{spec.full_name}: the new index failed its checks ({e}); the live version is unchanged") from e
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    progress("checked", 0.95)
    return BuildResult(final, commit, manifest)


def _choose_model(spec: BuildSpec, functions: list[dict], scratch: Path, progress: Progress):
    """(model, report, reusable vectors by code hash)."""
    if spec.reuse_model and spec.previous and (Path(spec.previous) / "model" / "model.pt").is_file():
        progress("reusing the repository's model", 0.3)
        model = CodeSearchModel.load(Path(spec.previous) / "model", device="cpu")
        return model, {"model": "reused", "from": Path(spec.previous).name}, _previous_vectors(Path(spec.previous))
    base_dir = Path(spec.base_model)
    if not (base_dir / "model.pt").is_file():
        raise IndexingError(f"no base model in {base_dir}: train one first (make base-model, or make demo)")
    base = CodeSearchModel.load(base_dir, device="cpu")
    progress("fine-tuning the repository model", 0.3)
    model, report = finetune(base, functions, scratch / "finetune", FinetuneConfig(min_documented=spec.min_documented))
    return model, report, None


def _previous_vectors(directory: Path) -> dict[tuple[str, str], list[float]]:
    """(language, code hash) -> vector of the previous version's functions."""
    manifest = json.loads((directory / "manifest.json").read_text())
    indexes = {}
    for language, entry in manifest["languages"].items():
        ann = AnnoyIndex(manifest["dims"], manifest["metric"])
        ann.load(str(directory / entry["file"]))
        indexes[language] = ann
    return {(f["language"], code_hash(f)): indexes[f["language"]].get_item_vector(f["item"])
            for f in read_jsonl(directory / "functions.jsonl.gz") if f["language"] in indexes}


