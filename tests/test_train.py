import json
import random

import numpy as np
import pytest

from training.evaluate import mrr
from training.model import CodeSearchModel, ModelConfig
from training.train import Callback, Pairs, TrainConfig, build_model, train, validation_mrr

TOPICS = 40


def synthetic(n: int, seed: int) -> list[dict]:
    """Each pair is about two of 40 topics; its query and code words share no token, nor even a
    letter (each side spells its words with its own alphabet, so no BPE piece is shared either), so
    only a trained model pairs them, and unseen combinations test that it generalises."""
    rng = random.Random(seed)

    def word(alphabet: str, topic: int, variant: int) -> str:
        return "".join(alphabet[int(d)] for d in f"{topic:02d}{variant}")

    records = []
    for i in range(n):
        query, code = [], [f"noise{rng.randrange(500)}"]
        for t in rng.sample(range(TOPICS), 2):
            query += rng.sample([word("abcdefghij", t, j) for j in range(4)], 2)
            code += rng.sample([word("klmnpqrstu", t, j) for j in range(6)], 3)
        records.append({"language": "python", "summary": " ".join(query), "code_tokens": code, "func_name": f"f{i}"})
    return records


CONFIG = ModelConfig(languages=["python"], vocab_size=400, embedding_dim=32)


def test_mrr_protocol():
    eye = np.eye(5, dtype=np.float32)
    assert mrr(eye, eye) == 1.0
    reversed_codes = eye[::-1]
    assert 0 < mrr(eye, reversed_codes) < 1


def test_training_learns_pairs_that_share_no_tokens(tmp_path):
    train_records, valid_records = synthetic(3000, 0), synthetic(300, 1)
    untrained = build_model(train_records, CONFIG)
    before = validation_mrr(untrained, Pairs.from_records(valid_records, untrained))["macro"]
    model, summary = train(train_records, valid_records, tmp_path,
                           model_config=ModelConfig(**{**CONFIG.__dict__}),
                           config=TrainConfig(epochs=6, batch_size=200, lr=0.01, wandb=False, name_queries=False))
    after = validation_mrr(model, Pairs.from_records(valid_records, model))["macro"]
    assert before < 0.1 and after > 0.5, (before, after)
    assert summary["best_valid_mrr"] == pytest.approx(after, abs=1e-6)
    history = json.loads((tmp_path / "history.json").read_text())
    assert len(history["valid"]) == summary["epochs"] and history["loss"][0][1] > history["loss"][-1][1]
    assert (tmp_path / "training_curves.png").stat().st_size > 1000
    assert not (tmp_path / "checkpoint.pt").exists()
    assert isinstance(CodeSearchModel.load(tmp_path), CodeSearchModel)


def test_early_stopping_stops_when_validation_does_not_improve(tmp_path):
    records = synthetic(400, 0)
    _, summary = train(records, synthetic(100, 1), tmp_path, model_config=ModelConfig(**{**CONFIG.__dict__}),
                       config=TrainConfig(epochs=20, batch_size=100, lr=0.0, patience=2, wandb=False))
    assert summary["epochs"] == 3 and summary["best_epoch"] == 1


class Interrupt(Callback):
    def on_epoch_end(self, trainer, metrics):
        if trainer.state["epoch"] == 2:
            raise KeyboardInterrupt


def test_interrupted_training_resumes_from_its_checkpoint(tmp_path):
    records, valid = synthetic(600, 0), synthetic(100, 1)
    config = TrainConfig(epochs=4, batch_size=100, patience=10, wandb=False)
    with pytest.raises(KeyboardInterrupt):
        train(records, valid, tmp_path, model_config=ModelConfig(**{**CONFIG.__dict__}), config=config,
              callbacks=[Interrupt()])
    assert (tmp_path / "checkpoint.pt").exists()
    _, summary = train(records, valid, tmp_path, model_config=ModelConfig(**{**CONFIG.__dict__}), config=config)
    epochs = [row["epoch"] for row in json.loads((tmp_path / "history.json").read_text())["valid"]]
    assert epochs == [1, 2, 3, 4] and summary["epochs"] == 4


def test_wandb_logs_offline(tmp_path, monkeypatch):
    monkeypatch.setenv("WANDB_MODE", "offline")
    monkeypatch.delenv("WANDB_API_KEY", raising=False)
    train(synthetic(300, 0), synthetic(100, 1), tmp_path, model_config=ModelConfig(**{**CONFIG.__dict__}),
          config=TrainConfig(epochs=1, batch_size=100, wandb=True))
    assert list((tmp_path / "wandb").glob("offline-run-*"))


def test_name_queries_add_pairs_without_the_name_in_the_code():
    records = [{"language": "python", "summary": "deliver a letter", "func_name": "Mailer.send_mail",
                "code_tokens": ["def", "send_mail", "(", "smtp", ")"]}]
    model = build_model(records, CONFIG)
    plain = Pairs.from_records(records, model)
    named = Pairs.from_records(records, model, name_queries=True)
    assert len(plain) == 1 and len(named) == 2
    hidden = model.code_ids(["def", "(", "smtp", ")"], "python")
    assert named.code[1][:len(hidden)].tolist() == hidden
    # The summary's pair carries the name apart from the code (negated ids first); the name's own pair does not.
    with_name = model.code_ids(records[0]["code_tokens"], "python", "send_mail")
    assert named.code[0][:len(with_name)].tolist() == with_name and with_name[0] < 0


def test_no_training_pairs_is_a_clear_error(tmp_path):
    with pytest.raises(ValueError, match="no training pairs"):
        train([], [], tmp_path, model_config=ModelConfig(**{**CONFIG.__dict__}), config=TrainConfig(wandb=False))
