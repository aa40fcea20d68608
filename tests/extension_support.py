"""Running the browser extension's Node tests (extension/test/) from pytest."""
from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# Debian's browsers, which `make test` installs; the tests never download one.
BROWSERS = {
    "chromium": Path(os.environ.get("CHROMIUM", "/usr/bin/chromium")),
    "firefox": Path(os.environ.get("FIREFOX", "/usr/bin/firefox-esr")),
}


def require_node() -> str:
    node = shutil.which("node")
    if node is None:
        pytest.skip("Node.js is not installed (the extension's tests run with `node --test`)")
    return node


def require_browser(name: str) -> None:
    require_node()
    if not (ROOT / "node_modules" / "puppeteer-core").is_dir():
        pytest.skip("node_modules/ is missing: `make test` (or `npm ci`) installs puppeteer-core")
    if not BROWSERS[name].exists():
        pytest.skip(f"{BROWSERS[name]} is missing: `make test` installs Debian's {BROWSERS[name].name}")


def node_test(path: str, env: dict[str, str] | None = None, timeout: int = 1800) -> subprocess.CompletedProcess:
    """`node --test PATH` from the repository root, with a readable reporter for failure messages."""
    return subprocess.run([require_node(), "--test", "--test-reporter=spec", path], cwd=ROOT,
                          env={**os.environ, **(env or {})}, capture_output=True, text=True, timeout=timeout)


def explain(done: subprocess.CompletedProcess) -> str:
    return f"node --test exited {done.returncode}\n{done.stdout[-8000:]}\n{done.stderr[-4000:]}"
