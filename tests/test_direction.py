"""Queries that differ only in direction: a bag of words cannot tell them apart; ordered word pairs can."""
import itertools
import random

import pytest

from training.evaluate import direction_pairs, evaluate_direction
from training.model import ModelConfig
from training.tokenize import code_tokens, query_tokens
from training.train import TrainConfig, train

TYPES = ["alpha", "beta", "gamma", "delta", "omega", "sigma", "kappa", "theta", "lambda", "zeta"]


def record(a: str, b: str, rng: random.Random) -> dict:
    return {"language": "python", "summary": f"convert {a} to {b}", "func_name": f"f_{a}_{b}",
            "code_tokens": ["def", f"{a}_to_{b}", "(", "value", ")", ":", "return", f"noise{rng.randrange(50)}"]}


def test_ordered_pairs_are_extra_tokens():
    assert query_tokens("Convert an int to a string", with_bigrams=True) == [
        "convert", "an", "int", "convert_int", "to", "int_to", "a", "string", "to_string"]
    assert "int_to" not in query_tokens("Convert an int to a string")
    # Each pair follows its second word, so a query cut to its first tokens keeps its pairs too.
    assert "to_string" in query_tokens("int to string " + "word " * 40, with_bigrams=True)[:30]
    assert code_tokens(["int_to_str"], with_bigrams=True) == ["int_to_str", "int", "to", "str", "int_to", "to_str"]
    # A query's "to string" meets camelCase's toString as it meets snake_case's to_string.
    assert code_tokens(["toString", "to_string"], with_bigrams=True) == [
        "tostring", "to", "string", "to_string", "to_string", "to", "string"]


def test_direction_pairs_are_found():
    rng = random.Random(0)
    pairs = direction_pairs([record("alpha", "beta", rng), record("beta", "alpha", rng), record("gamma", "delta", rng)])
    assert len(pairs) == 1 and {p["summary"] for p in pairs[0]} == {"convert alpha to beta", "convert beta to alpha"}
    # Articles do not count; the same words in the same order are no pair; a pair needs a direction word.
    texts = ["Convert a hex string to bytes.", "Convert bytes to a hex string.", "Convert the hex string to bytes",
             "Read the file and parse it", "Parse the file and read it"]
    pairs = direction_pairs([{"language": "go", "summary": t} for t in texts])
    assert [{p["summary"] for p in pair} for pair in pairs] == [{texts[0], texts[1]}]


@pytest.mark.parametrize("bigrams", [False, True])
def test_only_the_order_aware_model_tells_directions_apart(tmp_path, bigrams):
    rng = random.Random(0)
    ordered = list(itertools.permutations(TYPES, 2))
    rng.shuffle(ordered)
    held_out = {tuple(sorted(p)) for p in ordered[:12]}
    train_records = [record(a, b, rng) for a, b in ordered if tuple(sorted((a, b))) not in held_out] * 4
    test_records = [record(a, b, rng) for a, b in ordered if tuple(sorted((a, b))) in held_out]
    model, _ = train(train_records, test_records, tmp_path, model_config=ModelConfig(vocab_size=300, embedding_dim=32,
                                                                                      bigrams=bigrams),
                     config=TrainConfig(epochs=15, batch_size=64, patience=15, wandb=False, name_queries=False))
    result = evaluate_direction(model, direction_pairs(test_records))
    assert result["pairs"] == 12
    if bigrams:
        assert result["model"] >= 0.8, result
    else:
        assert result["model"] == 0.5, result  # the same bag: one of each pair right, exactly
