"""Running `build.build_version` in a child process, so that a build can be stopped at any moment.

The process that asks for a build stays free to renew its leases, notice a cancellation or a SIGTERM,
and enforce a time limit; stopping a build is killing its child, which also gives back all of its
memory (an out-of-memory kill takes the child, not the worker). The child is started with `spawn`
(never `fork`: a forked copy of a process that has used torch's thread pools can hang) and reused for
the next build, so only the first build of a process pays for starting Python and importing torch.

No Django here: the child imports only the build and the ML library.
"""
from __future__ import annotations

import multiprocessing
import time
from multiprocessing.connection import Connection
from typing import Callable

from codesearch.repositories.build import BuildResult, BuildSpec, IndexingError, Progress, build_version


class BuildCrashed(IndexingError):
    """The build process died or failed unexpectedly; the details are in the log, not in the message."""


def _die_with_parent() -> None:
    """Linux: the kernel kills this child when its parent dies (kill -9 included), so an orphaned build
    never goes on writing; elsewhere the child stops at its next progress report (a broken pipe)."""
    try:
        import ctypes
        import signal

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # 1: PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _serve(conn: Connection) -> None:
    """The child: run each spec it is sent, reporting progress, until told to stop (None)."""
    _die_with_parent()
    while True:
        spec = conn.recv()
        if spec is None:
            return
        try:
            result = build_version(spec, progress=lambda stage, fraction: conn.send(("progress", stage, fraction)))
        except IndexingError as e:
            conn.send(("failed", str(e)))
        except BaseException as e:  # noqa: BLE001 - reported to the parent, which decides
            conn.send(("crashed", f"{e.__class__.__name__}: {e}"))
        else:
            conn.send(("done", result))


class BuildProcess:
    """One reusable child process that runs builds one at a time."""

    def __init__(self):
        self._process: multiprocessing.process.BaseProcess | None = None
        self._conn: Connection | None = None

    def run(self, spec: BuildSpec, progress: Progress = lambda stage, fraction: None,
            tick: Callable[[], None] = lambda: None, every: float = 1.0, timeout: float | None = None) -> BuildResult:
        """Build `spec` in the child. `tick()` is called about every `every` seconds while it runs; an
        exception it raises stops the build (the child is killed) and is raised here."""
        conn = self._start()
        deadline = None if timeout is None else time.monotonic() + timeout
        try:
            conn.send(spec)
            while True:
                tick()
                if deadline is not None and time.monotonic() > deadline:
                    raise IndexingError(f"the build took longer than its limit of {timeout:.0f} s")
                if not conn.poll(every):
                    if not self._process.is_alive():
                        raise BuildCrashed(f"the build process died (exit code {self._process.exitcode}); "
                                           f"it may have run out of memory")
                    continue
                kind, *payload = conn.recv()
                if kind == "progress":
                    progress(*payload)
                elif kind == "done":
                    return payload[0]
                elif kind == "failed":
                    raise IndexingError(payload[0])
                else:
                    raise BuildCrashed(f"the build failed unexpectedly: {payload[0]}"[:2000])
        except EOFError:
            self.stop()
            raise BuildCrashed("the build process died; it may have run out of memory") from None
        except BaseException:
            # Whatever stopped us (a cancellation, SIGTERM, the time limit), the child may be mid-build.
            self.stop()
            raise

    def _start(self) -> Connection:
        if self._process is None or not self._process.is_alive():
            context = multiprocessing.get_context("spawn")
            self._conn, child = context.Pipe()
            self._process = context.Process(target=_serve, args=(child,), daemon=True, name="codesearch-build")
            self._process.start()
            child.close()
        return self._conn

    def stop(self) -> None:
        """Kill the child now (a build it was running leaves a scratch directory for the sweep)."""
        if self._process is not None:
            self._process.kill()
            self._process.join()
            self._conn.close()
        self._process = self._conn = None


_shared = BuildProcess()


def run_build(spec: BuildSpec, progress: Progress = lambda stage, fraction: None,
              tick: Callable[[], None] = lambda: None, timeout: float | None = None) -> BuildResult:
    """Build in this process's build child (started on first use)."""
    return _shared.run(spec, progress=progress, tick=tick, timeout=timeout)
