"""Building a repository's index version: fetch -> extract -> fine-tune -> embed -> Annoy -> checks.

Nothing here touches Django or a database, so a build can run in a child process of the worker
(`build_process`) or as a Ray task on another machine; `indexing.publish()` then switches the checked
result live.
"""
from __future__ import annotations

import json
import shutil
import tempfile
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from codesearch.repositories.fetch import (DEFAULT_HOSTS, FetchLimits, IndexingError, check_commit, check_url,
                                           checkout_commit, clone, github_url, parse_full_name, remote_head)
from codesearch.search.highlight import highlighting
from training.corpus import read_jsonl, write_jsonl
from training.extract import ExtractStats, extract_path
from training.finetune import FinetuneConfig, finetune
from training.index import (DOC_WEIGHT, IndexCheckError, build_index, load_index_model, model_dir_of, model_saved,
                            shared_model, stored_vectors, vector_key)
from training.model import CodeSearchModel

HIGHLIGHTING = "highlighting.jsonl.gz"  # per unit (language, item): its highlighted code, for publishing

# Re-exported: the Django side and the benchmarks import these from here.
__all__ = ["BuildSpec", "BuildResult", "Progress", "build_version", "FetchLimits", "IndexingError", "check_commit",
           "check_url", "checkout_commit", "clone", "github_url", "parse_full_name", "remote_head"]

Progress = Callable[[str, float], None]


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
    hosts: tuple[str, ...] = DEFAULT_HOSTS          # where `url` may point (setting CODESEARCH_CLONE_HOSTS)
    allow_private: bool = False                     # tests only: fetch from loopback/private addresses
    limits: FetchLimits = field(default_factory=FetchLimits)
    code_max_chars: int = 20_000    # how much of a unit results show (setting RESULT_CODE_MAX_CHARS)


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
                commit = clone(spec.url or github_url(spec.full_name), spec.commit, path, spec.schemes,
                               hosts=spec.hosts, limits=spec.limits, allow_private=spec.allow_private)
            progress("extracting functions", 0.1)
            stats = ExtractStats()
            functions = _extract(spec, path, commit, stats)
        if not functions:
            raise IndexingError(f"{spec.full_name}: no functions in a supported language (Go, Java, JavaScript, "
                                f"PHP, Python, Ruby) were found")
        model, model_report, vectors, model_dir = _choose_model(spec, functions, scratch, progress)
        progress("embedding and building the index", 0.7)
        manifest = build_index(model, functions, scratch, n_trees=spec.n_trees, vectors=vectors, model_dir=model_dir, extra={
            "repository": spec.full_name, "commit": commit, "extraction": stats.as_dict(), "model": model_report,
            "source": {"path": str(spec.path), "prefix": spec.prefix} if spec.path is not None
            else {"url": spec.url or github_url(spec.full_name)}})
        shutil.rmtree(scratch / "finetune", ignore_errors=True)
        progress("highlighting the code", 0.9)
        _highlight(scratch, spec.code_max_chars)
        final = home / f"{commit[:40]}-{uuid.uuid4().hex[:8]}"
        scratch.rename(final)
    except IndexCheckError as e:
        raise IndexingError(f"{spec.full_name}: the new index failed its checks ({e}); the live version is unchanged") from e
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    progress("checked", 0.95)
    return BuildResult(final, commit, manifest)


def _highlight(directory: Path, max_chars: int) -> None:
    """HIGHLIGHTING beside the index: each unit's code as results show it, highlighted once here (Pygments
    takes tens of seconds for a large repository), so that neither publishing, which holds the
    repository's row, nor a search does it."""
    write_jsonl(directory / HIGHLIGHTING, (
        {"language": f["language"], "item": f["item"],
         **highlighting(f["original_string"][:max_chars], f["language"], f["start_line"])}
        for f in read_jsonl(directory / "functions.jsonl.gz")))


def _extract(spec: BuildSpec, path: Path, commit: str, stats: ExtractStats) -> list[dict]:
    """Records of the checkout's units (functions, classes, blocks), stopping as soon as there are more
    functions than the limit allows."""
    limit = spec.limits.max_functions
    units = []
    for unit in extract_path(path, repo=spec.full_name, sha=commit, stats=stats, prefix=spec.prefix,
                             max_file_bytes=spec.limits.max_file_bytes, units=True):
        if stats.functions > limit:
            raise IndexingError(f"{spec.full_name} has more functions than the limit max_functions={limit}")
        units.append(unit.to_record())
    return units


def _choose_model(spec: BuildSpec, functions: list[dict], scratch: Path, progress: Progress):
    """(model, report, reusable vectors by `vector_key`, the shared copy of the model or None). A
    repository the base model serves points at one shared copy of it (`indexes/models/`) instead of
    storing its own; a fine-tuned model is stored as its difference from that copy (training.delta)."""
    previous = Path(spec.previous) if spec.previous else None
    if spec.reuse_model and previous and (previous / "manifest.json").is_file():
        manifest = json.loads((previous / "manifest.json").read_text())
        model_dir = model_dir_of(previous, manifest)
        if model_saved(model_dir):
            progress("reusing the repository's model", 0.3)
            model = load_index_model(previous, manifest)
            shared = model_dir if manifest.get("model_shared") else None
            return model, {"model": "reused", "from": previous.name}, _previous_vectors(previous), shared
    base_dir = Path(spec.base_model)
    if not (base_dir / "model.pt").is_file():
        raise IndexingError(f"no base model in {base_dir}: train one first (make base-model, or make demo)")
    base = CodeSearchModel.load(base_dir, device="cpu")
    progress("fine-tuning the repository model", 0.3)
    config = FinetuneConfig(min_documented=spec.min_documented, max_minutes=spec.limits.finetune_minutes)
    model, report = finetune(base, functions, scratch / "finetune", config)
    shared = shared_model(base_dir, Path(spec.indexes_dir) / "models")
    if model is base:
        return model, report, None, shared
    model.base_dir = shared  # the delta is saved beside the index, pointing at the shared base
    return model, report, None, None


def _previous_vectors(directory: Path) -> dict[tuple, np.ndarray]:
    """`vector_key` -> vector of the previous version's units."""
    manifest = json.loads((directory / "manifest.json").read_text())
    if manifest.get("doc_weight", 0.0) != DOC_WEIGHT:  # built with other docs in its vectors: embed anew
        return {}
    vectors = {language: stored_vectors(directory, manifest, language) for language in manifest["languages"]}
    return {vector_key(f): vectors[f["language"]][f["item"]]
            for f in read_jsonl(directory / "functions.jsonl.gz") if f["language"] in vectors}


