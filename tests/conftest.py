"""Shared fixtures: a small model really trained on the Python standard library, and a fixture
repository indexed with it. Both are built once per test session (about a minute on 2 cores)."""
from __future__ import annotations

import os
import shutil
import sysconfig
from pathlib import Path

import pytest

os.environ.setdefault("WANDB_MODE", "offline")
os.environ.setdefault("WANDB_SILENT", "true")

FIXTURES = Path(__file__).parent / "fixtures"
SAMPLE_REPO = FIXTURES / "sample_repo"
CSN_SAMPLE = Path(__file__).resolve().parents[2] / "shared" / "data" / "codesearchnet-sample"


@pytest.fixture(scope="session")
def stdlib_corpus(tmp_path_factory) -> Path:
    from training.corpus import build_local

    out = tmp_path_factory.mktemp("corpus")
    build_local(out, [sysconfig.get_paths()["stdlib"]], languages=["python"])
    return out


@pytest.fixture(scope="session")
def trained_model_dir(stdlib_corpus, tmp_path_factory) -> Path:
    """A Python model trained for real on the standard library's documented functions."""
    from training.corpus import read_corpus
    from training.train import TrainConfig, train

    out = tmp_path_factory.mktemp("model")
    train(list(read_corpus(stdlib_corpus, "train")), list(read_corpus(stdlib_corpus, "valid")), out,
          config=TrainConfig(epochs=12, patience=12, wandb=False))
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
    from codesearch.repositories.pipeline import index_repository

    return index_repository("example/sample", SAMPLE_REPO, commit="0123abc")
