"""Re-indexing repositories whose source moved, in this process or as Ray tasks.

Only the build runs remotely (`build.build_version` needs no Django); results come back to this
process, which switches them live in the database. Updates keep the repository's model and reuse the
vectors of unchanged functions (by code hash), so only changed code is embedded again.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from codesearch.repositories.build import BuildSpec, IndexingError, build_version, checkout_commit, remote_head
from codesearch.repositories.models import Repository
from codesearch.repositories.pipeline import clone_schemes, publish, spec_for

log = logging.getLogger(__name__)


@dataclass
class Outcome:
    repository: str
    status: str  # "up to date", "updated", "skipped", "failed"
    detail: str = ""


def pending_update(repository: Repository) -> tuple[BuildSpec | None, str]:
    """The build that would bring the repository up to date, or None and why not."""
    live = repository.live_version
    if live is None:
        return None, "not indexed yet"
    source = live.manifest.get("source", {})
    if "url" in source:
        head = remote_head(source["url"], clone_schemes())
        spec = spec_for(repository.full_name, url=source["url"], commit=head, reuse_model=True)
    elif "path" in source and Path(source["path"]).is_dir():
        head = checkout_commit(Path(source["path"]))
        spec = spec_for(repository.full_name, path=source["path"], commit=head, prefix=source.get("prefix", ""),
                        reuse_model=True)
    else:
        return None, "no fetchable source recorded"
    if head == live.commit:
        return None, "up to date"
    return spec, f"{live.commit[:12]} -> {head[:12]}"


def update_repositories(repositories, backend: str = "local", address: str | None = None) -> list[Outcome]:
    outcomes, todo = [], []
    for repository in repositories:
        try:
            spec, detail = pending_update(repository)
        except IndexingError as e:
            outcomes.append(Outcome(repository.full_name, "failed", str(e)))
            continue
        if spec is None:
            outcomes.append(Outcome(repository.full_name, "up to date" if detail == "up to date" else "skipped", detail))
        else:
            todo.append((repository, spec, detail))
    results = _run_ray(todo, address) if backend == "ray" else _run_local(todo)
    for (repository, _, detail), result in zip(todo, results):
        if isinstance(result, Exception):
            outcomes.append(Outcome(repository.full_name, "failed", str(result)))
        else:
            version = publish(repository, result)
            reused = sum(e.get("reused_vectors", 0) for e in version.manifest["languages"].values())
            outcomes.append(Outcome(repository.full_name, "updated",
                                    f"{detail}; {version.manifest['functions']} functions, {reused} vectors reused"))
    return outcomes


def _run_local(todo) -> list:
    results = []
    for repository, spec, _ in todo:
        try:
            results.append(build_version(spec))
        except IndexingError as e:
            results.append(e)
    return results


def _run_ray(todo, address: str | None) -> list:
    import ray

    started_here = not ray.is_initialized()
    if started_here:
        ray.init(address=address, include_dashboard=False, logging_level=logging.WARNING,
                 runtime_env={"working_dir": None} if address else None)
    try:
        remote_build = ray.remote(num_cpus=1)(build_version)
        futures = [remote_build.remote(spec) for _, spec, _ in todo]
        results = []
        for future in futures:
            try:
                results.append(ray.get(future))
            except ray.exceptions.RayTaskError as e:
                cause = e.as_instanceof_cause()
                results.append(cause if isinstance(cause, IndexingError) else IndexingError(str(e).splitlines()[0]))
        return results
    finally:
        if started_here:
            ray.shutdown()
