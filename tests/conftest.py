"""Shared fixtures: a small model really trained on the Python standard library, and a fixture
repository indexed with it. Both are built once per test session (about a minute on 2 cores)."""
from __future__ import annotations

import fcntl
import hashlib
import ipaddress
import os
import socket
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

os.environ.setdefault("WANDB_MODE", "offline")
os.environ.setdefault("WANDB_SILENT", "true")

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).parent / "fixtures"
SAMPLE_REPO = FIXTURES / "sample_repo"
CSN_SAMPLE = Path(__file__).resolve().parents[2] / "shared" / "data" / "codesearchnet-sample"


# Modules of training/ that neither `corpus build` nor `train` runs: changing them keeps the trained model.
SERVING_ONLY = {"index.py", "delta.py", "hnsw.py", "finetune.py", "global_index.py", "direction.py"}


def run_cli(*args: str) -> subprocess.CompletedProcess:
    """Run `python -m training ...` as a user would; fail the test with its output if it fails."""
    done = subprocess.run([sys.executable, "-m", "training", *args], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-3000:]
    return done


@pytest.fixture(scope="session")
def stdlib_corpus(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("corpus")
    run_cli("corpus", "build", "--out", str(out), "--source", "local", "--path", sysconfig.get_paths()["stdlib"],
            "--languages", "python")
    return out


@pytest.fixture(scope="session")
def trained_model_dir(request) -> Path:
    """A Python model trained for real, by the CLI, on the documented functions of the standard library
    and this venv's packages (Django left out: the tests index it), about 50,000 pairs.

    Kept in pytest's cache under a hash of the training code, so the PostgreSQL pass and reruns reuse
    it; any change to the code that builds corpora and trains trains a new one."""
    code = b"".join(p.read_bytes() for p in sorted((ROOT / "training").rglob("*.py")) if p.name not in SERVING_ONLY)
    out = Path(request.config.cache.mkdir(f"trained-model-{hashlib.sha256(code).hexdigest()[:16]}"))
    # Two test runs at once (say a developer's and a helper's) must not train into one folder together:
    # the second waits for the first and uses its model.
    with open(out.parent / f"{out.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (out / "training.json").is_file():
            corpus = out / "corpus"
            shutil.rmtree(corpus, ignore_errors=True)
            run_cli("corpus", "build", "--out", str(corpus), "--source", "local", "--languages", "python",
                    "--path", sysconfig.get_paths()["stdlib"], "--path", sysconfig.get_paths()["purelib"],
                    "--exclude", "django")
            run_cli("train", "--corpus", str(corpus), "--out", str(out), "--epochs", "6", "--patience", "2",
                    "--no-wandb", "--no-prepared-cache", "--force")
            shutil.rmtree(corpus)
    return out


@pytest.fixture(scope="session")
def trained_model(trained_model_dir):
    from training.model import CodeSearchModel

    return CodeSearchModel.load(trained_model_dir)


@pytest.fixture
def indexes_dir(tmp_path, settings, trained_model_dir):
    """INDEXES_DIR in a temporary directory, with the trained model as the base model."""
    settings.INDEXES_DIR = tmp_path / "indexes"
    settings.BASE_MODEL_DIR = tmp_path / "indexes" / "base"
    shutil.copytree(trained_model_dir, settings.BASE_MODEL_DIR)
    return settings.INDEXES_DIR


@pytest.fixture
def indexed_sample(db, indexes_dir):
    """The fixture repository, indexed as example/sample at commit 0123abc."""
    from codesearch.repositories.indexing import index_repository

    return index_repository("example/sample", SAMPLE_REPO, commit="0123abc")


@pytest.fixture(autouse=True)
def fresh_rate_limits():
    """Rate limits count in the cache; each test starts with none spent."""
    from django.core.cache import cache

    cache.clear()


def process_env(**extra: str) -> dict[str, str]:
    """The environment for a manage.py process started by a test: the test database and indexes."""
    from django.conf import settings
    from django.db import connection

    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        url = f"sqlite:///{db['NAME']}"
    else:
        url = f"postgres://{db['USER'] or 'postgres'}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    return {**os.environ, "DATABASE_URL": url, "CODESEARCH_INDEXES": str(settings.INDEXES_DIR),
            "CODESEARCH_BASE_MODEL": str(settings.BASE_MODEL_DIR), **extra}


def manage_process(*args: str, **extra_env: str) -> subprocess.Popen:
    """`python manage.py ARGS` as its own process, as an operator would start it."""
    return subprocess.Popen([sys.executable, "manage.py", *args], cwd=ROOT, env=process_env(**extra_env),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def _loopback(host) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@pytest.fixture
def loopback_network_only(monkeypatch):
    """Fail a test that looks a name up, or connects, anywhere but loopback (the database may), or
    makes a reverse look-up: the code under test must refuse before it reaches the network."""
    lookup, connect = socket.getaddrinfo, socket.socket.connect

    def guarded_lookup(host, *args, **kwargs):
        if not _loopback(host):
            pytest.fail(f"a test looked up {host!r}")
        return lookup(host, *args, **kwargs)

    def guarded_connect(self, address):
        if not (isinstance(address, (str, bytes)) or _loopback(address[0])):
            pytest.fail(f"a test connected to {address!r}")
        return connect(self, address)
    monkeypatch.setattr(socket, "getaddrinfo", guarded_lookup)
    monkeypatch.setattr(socket.socket, "connect", guarded_connect)
    monkeypatch.setattr(socket, "gethostbyaddr", lambda *args: pytest.fail("a reverse DNS look-up"))
