"""The learned reading of direction (training.direction_head): it learns which way a function goes from
where its words are, is saved beside its model, and moves what evaluation and every search score, where
the rules of training.direction say nothing."""
import itertools
import json
import random
import shutil
import subprocess
import sys

import numpy as np
import pytest

from conftest import ROOT
from training import direction_head
from training.direction_head import LAM, DirectionHead, examples
from training.evaluate import direction_pairs, evaluate_direction
from training.extract import extract_path
from training.global_index import GlobalIndex, Part, build_global
from training.index import IndexCheckError, RepositoryIndex, build_index, check_index, shared_model
from training.model import CodeSearchModel

TYPES = ["alpha", "beta", "gamma", "delta", "omega", "sigma", "kappa", "theta", "lambda", "zeta"]


def leaves(a: str, b: str) -> list[str]:
    """A function from `a` to `b` whose name and signature say nothing of either: only where the words
    are (read first, given back last) says which way it goes."""
    return ["def", f"f_{a}_{b}", "(", "value", ")", ":", "checked", "=", f"load_{a}", "(", "value", ")",
            "return", f"{b}_of", "(", "checked", ")"]


def source(a: str, b: str) -> str:
    return f"def f_{a}_{b}(value):\n    checked = load_{a}(value)\n    return {b}_of(checked)\n\n\n"


@pytest.fixture(scope="module")
def learned():
    """A head learned on functions between most pairs of TYPES, and the pairs it never saw."""
    ordered = list(itertools.permutations(TYPES, 2))
    random.Random(0).shuffle(ordered)
    unseen = {tuple(sorted(p)) for p in ordered[:10]}
    seen = [(a, b) for a, b in ordered if tuple(sorted((a, b))) not in unseen]
    training = examples((f"convert {a} to {b}", (f"f_{a}_{b}", leaves(a, b), "python")) for a, b in seen * 20)
    held_out = [(a, b) for a, b in ordered if tuple(sorted((a, b))) in unseen]
    head = direction_head.train(training, examples((f"convert {a} to {b}", (f"f_{a}_{b}", leaves(a, b), "python"))
                                                   for a, b in held_out), epochs=5, batch_size=64)
    assert head.report["examples"] == len(seen) * 20 and len(held_out) == 2 * len(unseen)
    return head, held_out


def test_the_head_learns_which_way_a_function_goes_from_where_its_words_are(learned):
    head, held_out = learned
    assert head.report["held_out_sign_accuracy"] >= 0.9
    vectors = head.function_vectors([(f"f_{a}_{b}", leaves(a, b), "python") for a, b in held_out])
    asked = head.adjustment([f"convert {a} to {b}" for a, b in held_out], vectors)
    reversed_ = head.adjustment([f"convert {b} to {a}" for a, b in held_out], vectors)
    right = np.diag(asked) > np.diag(reversed_)
    assert right.mean() >= 0.9, right
    assert np.abs(asked).max() <= LAM  # never more than the rules' weakest say
    # A query that does not say both ends gets nothing from it.
    assert not head.adjustment(["send mail", "convert to json"], vectors).any()


def test_a_head_is_saved_beside_its_model_and_read_back(learned, tmp_path):
    head, held_out = learned
    functions = [(f"f_{a}_{b}", leaves(a, b), "python") for a, b in held_out]
    assert DirectionHead.load(tmp_path) is None  # a model saved without one
    head.save(tmp_path)
    again = DirectionHead.load(tmp_path)
    assert np.allclose(again.function_vectors(functions), head.function_vectors(functions), atol=1e-3)
    assert again.report["examples"] == head.report["examples"]
    # Only the rows training touched are kept: far fewer than the buckets.
    assert len(again.code.buckets) < 200 and len(again.query.buckets) == len(TYPES)
    saved = json.loads((tmp_path / "direction_head" / "head.json").read_text())
    (tmp_path / "direction_head" / "head.json").write_text(json.dumps({**saved, "buckets": 1 << 10}))
    assert DirectionHead.load(tmp_path) is None  # hashed otherwise: it would read the wrong words


def test_training_a_model_learns_its_head_and_loads_it_with_the_model(trained_model, trained_model_dir, tmp_path):
    head = trained_model.direction_head
    assert head is not None and head.report["examples"] > 100, head and head.report
    assert 0.5 < head.report["held_out_sign_accuracy"] <= 1.0
    # Learned again for a model trained before there were heads: a model that is not there is one line.
    done = subprocess.run([sys.executable, "-m", "training", "direction-head", "--corpus", str(tmp_path), "--model",
                           str(tmp_path / "none")], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 2 and done.stderr.strip().count("\n") == 0 and "no model" in done.stderr
    before = sorted(p.name for p in (trained_model_dir / "direction_head").iterdir())
    done = subprocess.run([sys.executable, "-m", "training", "direction-head", "--corpus", str(tmp_path), "--model",
                           str(trained_model_dir)], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 2 and "no CodeSearchNet-layout data" in done.stderr and done.stderr.strip().count("\n") == 0
    assert sorted(p.name for p in (trained_model_dir / "direction_head").iterdir()) == before


def test_evaluation_reads_direction_with_the_head(learned, trained_model, monkeypatch):
    """The names and signatures say nothing and the bags hold the same words: what the head adds (at
    most LAM) decides the pairs whose cosines are that close."""
    head, held_out = learned
    records = [{"language": "python", "summary": f"convert {a} to {b}", "func_name": f"f_{a}_{b}",
                "code_tokens": leaves(a, b)} for a, b in held_out]
    pairs = direction_pairs(records)
    assert len(pairs) == len(held_out) // 2
    monkeypatch.setattr(trained_model, "direction_head", None)
    without = evaluate_direction(trained_model, pairs)
    assert without["model"] == without["cosine"]
    monkeypatch.setattr(trained_model, "direction_head", head)
    with_head = evaluate_direction(trained_model, pairs)
    assert with_head["cosine"] == without["cosine"] and with_head["model"] > without["model"], with_head


def units_of(held_out, root) -> list[dict]:
    """The functions of a repository of `held_out`'s conversions, as the product extracts them."""
    (root / "repo").mkdir()
    (root / "repo" / "convert.py").write_text("".join(source(a, b) for a, b in held_out))
    return [f.to_record() for f in extract_path(root / "repo", repo="example/convert", sha="0" * 40)]


@pytest.fixture
def conversions(learned, trained_model_dir, tmp_path):
    """A repository of the pairs the head never saw, indexed by the trained model with that head."""
    head, held_out = learned
    model_dir = tmp_path / "model"
    shutil.copytree(trained_model_dir, model_dir, ignore=shutil.ignore_patterns("checkpoint*", "wandb"))
    shutil.rmtree(model_dir / "direction_head")
    head.save(model_dir)
    shared = shared_model(model_dir, tmp_path / "models")
    build_index(CodeSearchModel.load(shared), units_of(held_out, tmp_path), tmp_path / "index", n_trees=5,
                model_dir=shared)
    return tmp_path, RepositoryIndex(tmp_path / "index"), held_out


def ranked_right(index, held_out, names, mode: str | None = None) -> int:
    """How many of `held_out`'s conversions the search ranks above their reversal when asked for them."""
    right = 0
    for a, b in held_out:
        found = [names[h.item] for h in index.search(f"convert {a} to {b}", k=len(names), **({"mode": mode} if mode else {}))]
        right += found.index(f"f_{a}_{b}") < found.index(f"f_{b}_{a}")
    return right


def test_an_index_keeps_each_units_head_vector_and_its_search_reads_them(conversions):
    root, index, held_out = conversions
    names = {f["item"]: f["func_name"] for f in index.functions()}
    entry = index.manifest["languages"]["python"]["directions"]
    assert np.load(root / "index" / entry["file"]).shape == (len(names), direction_head.DIM)
    for mode in ("neural", "hybrid"):
        with_head = ranked_right(index, held_out, names, mode)
        kept, index.learned_directions = index.learned_directions, {}  # as an index built without them
        without = ranked_right(index, held_out, names, mode)
        index.learned_directions = kept
        assert with_head > without, (mode, with_head, without)
    np.save(root / "index" / entry["file"], np.zeros((1, direction_head.DIM), np.float16))
    with pytest.raises(IndexCheckError, match="python.directions.npy"):
        check_index(root / "index")


def test_the_search_across_repositories_reads_the_head_too(conversions):
    root, _, held_out = conversions
    build_global([Part("v/convert", "example/convert", root / "index")], shared_model(root / "model", root / "models"),
                 root / "global", root / "cache")
    names = {f["item"]: f["func_name"] for f in RepositoryIndex(root / "index").functions()}
    index = GlobalIndex(root / "global")
    assert index.learned_directions is not None and len(index.learned_directions) == len(names)
    with_head = ranked_right(index, held_out, names)
    index.learned_directions = None
    assert with_head > ranked_right(index, held_out, names)


def test_an_index_built_without_a_head_reads_direction_by_the_rules_alone(learned, trained_model, trained_model_dir,
                                                                           monkeypatch, tmp_path):
    monkeypatch.setattr(trained_model, "direction_head", None)
    build_index(trained_model, units_of(learned[1], tmp_path), tmp_path / "index", n_trees=5,
                model_dir=shared_model(trained_model_dir, tmp_path / "models"))
    assert "directions" not in json.loads((tmp_path / "index" / "manifest.json").read_text())["languages"]["python"]
    index = RepositoryIndex(tmp_path / "index")
    assert index.learned_directions == {} and index.search("convert alpha to beta", k=3)
