"""A fine-tuned model stored as its difference from the base (training.delta): it encodes as the
fine-tuned model does, stores only what moved, and shares the base."""
import numpy as np
import pytest
import torch

from training.corpus import read_corpus
from training.delta import PatchedModel, is_delta
from training.finetune import FinetuneConfig, extend_model
from training.index import RepositoryIndex, build_index, load_index_model, shared_model
from training.model import QUERY

QUERIES = ["read the configuration file", "parse an http header", "zzqx frobnicate"]


@pytest.fixture(scope="module")
def records(stdlib_corpus):
    return list(read_corpus(stdlib_corpus, "valid"))[:300]


@pytest.fixture(scope="module")
def tuned(trained_model, records):
    """The base extended with the records' new words, with some rows and weights moved as training
    moves them: a few shared words', one added word's, one BPE piece's."""
    model, added = extend_model(trained_model, records, FinetuneConfig(min_documented=1))
    assert added > 0
    vocabulary = model.vocabulary
    moved = [vocabulary.encode([w], 1)[0] for w in ("file", "header", "read")] + [vocabulary._offset - 1,
                                                                                  vocabulary.size - 1]
    generator = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for i in moved:
            model.embedding.weight[i] += 0.05 * torch.randn(model.config.embedding_dim, generator=generator)
            model.token_weights["python"][i] += 0.3
        model.name_boost += 0.1
    return model.eval(), moved


def close(a, b, atol):
    return np.allclose(np.asarray(a), np.asarray(b), atol=atol)


def test_a_delta_encodes_as_the_fine_tuned_model(trained_model, tuned, records):
    model, moved = tuned
    delta = PatchedModel.from_models(model, trained_model, np.float32)
    # Only the moved rows and the added words are stored, nothing of the rest of the table.
    assert set(delta.ids.tolist()) == set(moved) | set(range(trained_model.vocabulary._offset,
                                                               trained_model.vocabulary._offset + len(delta.vocabulary.added)))
    code = [r["code_tokens"] for r in records[:50]]
    assert close(delta.encode_queries(QUERIES), model.encode_queries(QUERIES), 1e-5)
    assert close(delta.encode_code(code, "python"), model.encode_code(code, "python"), 1e-5)
    assert delta.encode_functions(records[:5], "python").shape == (5, trained_model.config.embedding_dim)
    query = model.encode_queries(["read file"])[0]
    ours, theirs = (m.contributions(query, code[0], "python", "read") for m in (delta, model))
    assert [t[:2] for t in ours] == [t[:2] for t in theirs]
    assert [t[2] for t in ours] == pytest.approx([t[2] for t in theirs], abs=1e-5)
    # An added word gets its own id, as in the fine-tuned vocabulary.
    word = delta.vocabulary.added[0]
    assert delta.vocabulary.encode([word], 5) == model.vocabulary.encode([word], 5)
    assert delta.query_ids("zzqx " + word) == model.query_ids("zzqx " + word)


def test_a_saved_delta_loads_over_the_shared_base(trained_model, trained_model_dir, tuned, records, tmp_path):
    model, moved = tuned
    delta = PatchedModel.from_models(model, trained_model)  # float16 rows
    delta.save(tmp_path / "delta", trained_model_dir)
    assert is_delta(tmp_path / "delta")
    stored = sum(p.stat().st_size for p in (tmp_path / "delta").iterdir())
    full = (trained_model_dir / "model.pt").stat().st_size
    assert stored < full / 10
    loaded = PatchedModel.load(tmp_path / "delta", trained_model)
    assert loaded.base is trained_model and isinstance(loaded.embedding_delta, np.memmap)
    assert PatchedModel.base_dir_of(tmp_path / "delta") == trained_model_dir.resolve()
    code = [r["code_tokens"] for r in records[:50]]
    # float16 rows: the vectors agree to rounding.
    assert close(loaded.encode_code(code, "python"), model.encode_code(code, "python"), 2e-3)
    assert close(loaded.encode_queries(QUERIES), model.encode_queries(QUERIES), 2e-3)


def test_an_index_of_a_fine_tuned_model_stores_the_delta_and_shares_the_base(
        trained_model, trained_model_dir, tuned, records, tmp_path):
    model, _ = tuned
    delta = PatchedModel.from_models(model, trained_model)
    delta.base_dir = shared_model(trained_model_dir, tmp_path / "models")
    functions = [{**r, "kind": "function"} for r in records[:200]]
    build_index(delta, functions, tmp_path / "a", n_trees=5, recall_sample=50)
    build_index(delta, functions, tmp_path / "b", n_trees=5, recall_sample=50)
    assert is_delta(tmp_path / "a" / "model") and not (tmp_path / "a" / "model" / "model.pt").exists()
    a, b = RepositoryIndex(tmp_path / "a"), RepositoryIndex(tmp_path / "b")
    # One base in the process, however many repositories.
    assert a.model.base is b.model.base is load_index_model(tmp_path / "a").base
    wanted = functions[7]
    hits = a.search(wanted["summary"], k=10, mode="neural")
    assert hits and hits[0].language == "python"
    direct = model.encode_queries([wanted["summary"]])[0]
    assert close(a.model.encode_queries([wanted["summary"]])[0], direct, 2e-3)
