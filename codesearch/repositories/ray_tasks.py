"""What a Ray worker runs when `indexing.build_and_publish` spreads builds over a Ray cluster.

No Django here (a worker has no database; the driver publishes): only the build and the ML library,
which every node must be able to import (the same code and virtualenv on each node).
"""
from __future__ import annotations

from collections.abc import Iterator

from codesearch.repositories.build import BuildResult, BuildSpec, build_version

STARTED = "started"


def build_task(spec: BuildSpec) -> Iterator[str | BuildResult]:
    """One build as a Ray streaming task: it says when it starts, so that the driver counts the time
    limit from then and not from when it was queued behind other builds for a free CPU; then it
    yields its result (an `IndexingError` comes back to the driver inside a `RayTaskError`)."""
    yield STARTED
    yield build_version(spec)
