"""Loaded into every worker of the tests' Ray instance (its `worker_process_setup_hook`): builds that
misbehave on cue, chosen by the repository's name, so that tests can crash, hold up or hang a real
Ray task. Any other repository is built as usual."""
import os
import threading
import time
from pathlib import Path

from codesearch.repositories import ray_tasks


def misbehave_on_cue() -> None:
    build_version = ray_tasks.build_version

    def on_cue(spec, progress=lambda stage, fraction: None):
        name = spec.full_name.split("/")[1]
        scratch = Path(spec.indexes_dir) / "repositories" / "example" / name / ".build-half-written"
        if name == "crashes":  # the worker process dies mid-build, as in a segfault, leaving its scratch behind
            scratch.mkdir(parents=True)
            os._exit(3)
        if name == "hangs":  # never returns: only the time limit ends it
            scratch.mkdir(parents=True)
            threading.Event().wait()
        if name in ("waits", "taken"):  # build once the test says so (the driver's time limit bounds a failing test)
            while not (Path(spec.indexes_dir) / "go-on").exists():
                time.sleep(0.1)
        return build_version(spec, progress)

    ray_tasks.build_version = on_cue
