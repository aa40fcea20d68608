"""`make demo`: base model -> index django/django -> serve, each step timed and skipped when done.

Every step is one of the project's own commands, run as a user would run it.
"""
from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import time
from pathlib import Path

import django

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
INDEXES = ROOT / "indexes"
FULL_BASE = INDEXES / "base"            # the six-language model from `make base-model`, when built
DEMO_BASE = INDEXES / "demo-base"       # a small Python-only model trained here otherwise
CORPUS = INDEXES / "corpus" / "demo"
HOST = os.environ.get("DEMO_HOST", "127.0.0.1:8000")
# A developer's machine, served on loopback: debug pages and the development key. The settings fail
# closed without this (a public server must set DJANGO_SECRET_KEY instead).
os.environ.setdefault("DJANGO_DEBUG", "1")

timings: list[tuple[str, float]] = []


def step(title: str, *command: str) -> None:
    print(f"\n==> {title}\n    $ {' '.join(command)}", flush=True)
    started = time.time()
    subprocess.run(command, cwd=ROOT, check=True)
    timings.append((title, time.time() - started))


def main() -> None:
    base = FULL_BASE if (FULL_BASE / "model.pt").is_file() else DEMO_BASE
    if base == DEMO_BASE:
        step("build a corpus of documented Python functions (stdlib + this venv's packages, Django left out)",
             PY, "-m", "training", "corpus", "build", "--out", str(CORPUS), "--source", "local",
             "--path", sysconfig.get_paths()["stdlib"], "--path", sysconfig.get_paths()["purelib"],
             "--languages", "python", "--exclude", "django")
        step("train the base model", PY, "-m", "training", "train", "--corpus", str(CORPUS), "--out", str(DEMO_BASE),
             "--epochs", "15")
    else:
        print(f"using the base model in {FULL_BASE}")
    # The site's base model (CODESEARCH_BASE_MODEL) is the demo's, for the indexing below and the server:
    # the search across repositories embeds with it.
    os.environ["CODESEARCH_BASE_MODEL"] = str(base)
    step("create the database", PY, "manage.py", "migrate", "--verbosity", "0")
    # The installed Django is the source of tag <version>; GitHub's django/django keeps it under django/.
    version = django.__version__
    step(f"index django/django at tag {version}", PY, "manage.py", "add_repository", "django/django",
         "--path", str(Path(django.__file__).parent), "--prefix", "django/", "--commit", version,
         "--base-model", str(base))
    print("\nStep timings:")
    for title, seconds in timings:
        print(f"  {seconds:7.1f} s  {title}")
    print(f"\nServing on http://{HOST}/  (Ctrl+C stops)")
    print(f"Try: http://{HOST}/django/django/?q=send+mail")
    print(f"API: curl 'http://{HOST}/api/v1/repositories/django/django/search?q=send+mail'\n", flush=True)
    os.execv(PY, [PY, "manage.py", "runserver", "--noreload", HOST])


if __name__ == "__main__":
    main()
