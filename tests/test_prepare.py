"""training.prepare: the corpus read in slices by worker processes gives what reading every record
into memory gave, the same sample for the same seed, without the functions of direction pairs;
prepared data is kept for the next run on the same data."""
import subprocess
import sys
from dataclasses import asdict

import pytest
import torch

from training import evaluate as evaluate_module
from training import prepare as prepare_module
from training.corpus import read_corpus, write_jsonl
from training.evaluate import direction_pairs, direction_records
from training.model import ModelConfig
from training.prepare import prepare, prepare_cached
from training.train import Pairs, TrainConfig, build_model, pad32, train

from tests.test_train import synthetic


def _corpus(root, records_by_partition):
    for partition, records in records_by_partition.items():
        for language in ("python", "go"):
            write_jsonl(root / language / "final" / "jsonl" / partition / f"{language}_{partition}_0.jsonl.gz",
                        [{**r, "language": language, "func_name": f"{language}_{r['func_name']}",
                          "code_tokens": [f"{language}_{t}" if t == r["func_name"] else t for t in r["code_tokens"]]}
                         for r in records])


def _rows(pairs: Pairs) -> list[tuple]:
    return sorted(map(tuple, torch.cat([pairs.language[:, None].int(), pairs.query, pairs.code], 1).tolist()))


def _named(records: list[dict]) -> list[dict]:
    """The records with their names among their code's leaves, as a real function's is."""
    return [{**r, "code_tokens": ["def", r["func_name"], "(", *r["code_tokens"], ")"]} for r in records]


# The model's widths, and widths that cut every row: a row's ids are its tokens' until the width.
@pytest.mark.parametrize("widths", [{}, {"max_code_len": 6, "max_query_len": 3}])
def test_prepared_pairs_and_vocabulary_are_those_of_the_records(tmp_path, monkeypatch, widths):
    monkeypatch.setattr("training.prepare.SLICE", 700)  # several slices per file, spread over two workers
    _corpus(tmp_path, {"train": _named(synthetic(2000, 0)), "valid": synthetic(300, 1)})
    config = ModelConfig(languages=["go", "python"], vocab_size=400, embedding_dim=32, bigrams=True, **widths)
    prepared = prepare([tmp_path], config.languages, config, workers=2)
    records = list(read_corpus(tmp_path, "train", config.languages))
    model = build_model(records, config)
    assert prepared.vocabulary.words.get_vocab() == model.vocabulary.words.get_vocab()
    assert prepared.vocabulary.bpe.get_vocab() == model.vocabulary.bpe.get_vocab()
    assert _rows(prepared.train) == _rows(Pairs.from_records(records, model, name_queries=True))
    assert _rows(prepared.valid) == _rows(Pairs.from_records(read_corpus(tmp_path, "valid"), model))
    assert prepared.train.languages == ["go", "python"] and set(prepared.train.language.tolist()) == {0, 1}
    assert (prepared.train.code < 0).any()  # names' ids


def test_a_sample_per_language_is_the_same_for_the_same_seed(tmp_path):
    _corpus(tmp_path, {"train": synthetic(1500, 0), "valid": synthetic(200, 1)})
    config = ModelConfig(languages=["go", "python"], vocab_size=400, embedding_dim=32)
    one, two, other = (prepare([tmp_path], config.languages, config, max_per_language=500, seed=seed,
                               name_queries=False, workers=2) for seed in (3, 3, 4))
    assert [int((one.train.language == i).sum()) for i in (0, 1)] == [500, 500]
    assert len(one.valid) == 2 * 200  # a tenth of 500 is below the 1,000 kept for validation
    assert _rows(one.train) == _rows(two.train) and _rows(one.train) != _rows(other.train)


def test_training_on_a_prepared_corpus_records_what_preparing_took(tmp_path):
    _corpus(tmp_path / "corpus", {"train": synthetic(1500, 0), "valid": synthetic(200, 1)})
    config = ModelConfig(languages=["go", "python"], vocab_size=400, embedding_dim=32)
    prepared = prepare([tmp_path / "corpus"], config.languages, config, workers=2)
    model, summary = train(None, None, tmp_path / "model", config, TrainConfig(epochs=2, batch_size=200, wandb=False),
                           prepared=prepared)
    assert model.languages == ["go", "python"] and summary["data_seconds"] >= round(prepared.seconds, 1) > 0  # the summary keeps tenths
    assert summary["peak_rss_mb"] > 0 and summary["peak_worker_rss_mb"] > 0


def test_a_prepared_cache_that_is_no_directory_is_refused_before_any_work(tmp_path):
    _corpus(tmp_path / "corpus", {"train": synthetic(100, 0), "valid": synthetic(20, 1)})
    (tmp_path / "file").write_text("mine")
    done = subprocess.run([sys.executable, "-m", "training", "train", "--corpus", str(tmp_path / "corpus"),
                           "--out", str(tmp_path / "model"), "--no-wandb", "--prepared-cache", str(tmp_path / "file")],
                          capture_output=True, text=True)
    assert done.returncode == 2 and "--prepared-cache" in done.stderr and len(done.stderr.strip().splitlines()) == 1
    assert (tmp_path / "file").read_text() == "mine" and not (tmp_path / "model").exists()


@pytest.mark.parametrize("broken", ['{"summary": "Convert a hex string to bytes", "code_tokens": [', '["not", "a", "record"]'])
def test_a_corpus_line_that_is_no_record_is_named_in_one_error_line(tmp_path, broken):
    _corpus(tmp_path / "corpus", {"train": synthetic(100, 0), "valid": synthetic(20, 1)})
    path = tmp_path / "corpus" / "go" / "final" / "jsonl" / "train" / "go_train_1.jsonl"
    path.write_text("\n".join(['{"summary": "a record", "code_tokens": ["x"]}', broken, ""]))
    done = subprocess.run([sys.executable, "-m", "training", "train", "--corpus", str(tmp_path / "corpus"),
                           "--out", str(tmp_path / "model"), "--no-wandb"], capture_output=True, text=True)
    assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr  # above it, only progress bars
    assert done.stderr.strip().splitlines()[-1].startswith(f"error: {path}: record 2 is not")
    assert not (tmp_path / "model").exists()


def test_prepared_data_is_kept_for_the_next_run_on_the_same_data(tmp_path, monkeypatch):
    _corpus(tmp_path / "corpus", {"train": synthetic(1500, 0), "valid": synthetic(200, 1)})
    config = ModelConfig(languages=["go", "python"], vocab_size=400, embedding_dim=32, bigrams=True)
    cache = tmp_path / "cache"
    first = prepare_cached(cache, [tmp_path / "corpus"], config.languages, config, workers=2)
    monkeypatch.setattr(prepare_module, "prepare", lambda *a, **k: pytest.fail("prepared again"))
    monkeypatch.chdir(tmp_path)  # the same corpus by another path is the same data
    again = prepare_cached(cache, ["corpus"], config.languages, config, workers=2)
    assert _rows(again.train) == _rows(first.train) and _rows(again.valid) == _rows(first.valid)
    assert again.vocabulary.size == first.vocabulary.size and again.train.languages == ["go", "python"]
    monkeypatch.undo()
    # Other words left out of the direction-pair key hold out other functions: another key.
    key = prepare_module._cache_key([tmp_path / "corpus"], config.languages, config, None, 0, True)
    monkeypatch.setattr(evaluate_module, "_UNSAID", evaluate_module._UNSAID | {"some"})
    assert prepare_module._cache_key([tmp_path / "corpus"], config.languages, config, None, 0, True) != key
    monkeypatch.undo()
    # Other settings or other data: prepared anew, and only the latest KEEP kept.
    prepare_cached(cache, [tmp_path / "corpus"], config.languages, ModelConfig(**{**asdict(config), "bigrams": False}),
                   workers=2)
    _corpus(tmp_path / "corpus", {"train": synthetic(1400, 0), "valid": synthetic(200, 1)})
    changed = prepare_cached(cache, [tmp_path / "corpus"], config.languages, config, workers=2)
    assert len(changed.train) != len(first.train)
    assert len([f for f in cache.iterdir() if f.is_dir()]) == prepare_module.KEEP


def test_functions_whose_summaries_are_direction_pairs_anywhere_are_held_out_of_training(tmp_path):
    def directed(summary: str, name: str) -> dict:
        return {"summary": summary, "code_tokens": ["def", name, "(", "x", ")"], "func_name": name}

    train = [*synthetic(600, 0), directed("Convert a hex string to bytes.", "hex_to_bytes"),
             directed("Send a message to the server.", "send")]
    test = [directed("Convert bytes to a hex string.", "bytes_to_hex")]
    _corpus(tmp_path, {"train": train, "valid": synthetic(100, 1), "test": test})
    config = ModelConfig(languages=["go", "python"], vocab_size=400, embedding_dim=32, bigrams=True)
    prepared = prepare([tmp_path], config.languages, config, workers=2, name_queries=False)
    model = build_model(list(read_corpus(tmp_path, "train", config.languages)), config)
    kept = {tuple(row) for row in prepared.train.query.tolist()}
    # Its pair lies in the test split, yet the train function is left out; an unpaired direction stays.
    assert len(prepared.train) == 2 * 601
    left_out, unpaired = (tuple(pad32([model.query_ids(text)], config.max_query_len)[0].tolist())
                          for text in ("Convert a hex string to bytes.", "Send a message to the server."))
    assert left_out not in kept and unpaired in kept
    assert [{r["summary"] for r in pair} for pair in direction_pairs(direction_records(tmp_path, config.languages))] == [
        {"Convert a hex string to bytes.", "Convert bytes to a hex string."}] * 2  # in each language
