import pytest
import torch

from training.corpus import read_corpus
from training.corpus import keep
from training.delta import PatchedModel
from training.finetune import DELTA_TOLERANCE, FinetuneConfig, extend_model, finetune, split_by_file
from training.model import QUERY, CodeSearchModel
from training.train import TrainConfig


@pytest.fixture(scope="module")
def repository_functions(stdlib_corpus):
    """The standard library's held-out packages stand in for one repository's documented functions."""
    return list(read_corpus(stdlib_corpus, "valid")) + list(read_corpus(stdlib_corpus, "test"))


def config(**kw):
    return FinetuneConfig(min_documented=50, train=TrainConfig(epochs=2, lr=0.002, warmup_steps=2, wandb=False), **kw)


def test_extended_vocabulary_starts_from_the_base_weights(trained_model, repository_functions):
    model, added = extend_model(trained_model, repository_functions, config())
    assert added > 0
    base_vocab, vocab = trained_model.vocabulary, model.vocabulary
    base_rows, rows = trained_model.embedding.weight.detach().cpu(), model.embedding.weight.detach().cpu()
    for token in ["return", "self", "file"]:
        assert token in base_vocab.words.get_vocab()
        assert torch.equal(rows[vocab.encode([token], 1)[0]], base_rows[base_vocab.encode([token], 1)[0]])
    new_token = next(t for t in vocab.words.get_vocab() if t not in base_vocab.words.get_vocab())
    pieces = base_vocab.encode([new_token], 64)
    assert torch.allclose(rows[vocab.encode([new_token], 1)[0]], base_rows[pieces].mean(0))
    for name in (QUERY, "python"):
        weights = model.token_weights[name].detach().cpu()
        assert torch.isclose(weights[vocab.encode([new_token], 1)[0]],
                             trained_model.token_weights[name].detach().cpu()[pieces].mean())
    # BPE pieces keep their base rows, shifted past the new words.
    assert torch.equal(rows[-1], base_rows[-1])
    assert torch.equal(model.name_boost.detach().cpu(), trained_model.name_boost.detach().cpu())
    # Same encodings for text made only of shared tokens: the copy really is the base model.
    assert torch.allclose(torch.tensor(model.cpu().encode_queries(["return the file"])),
                          torch.tensor(trained_model.cpu().encode_queries(["return the file"])), atol=1e-5)


def test_fine_tuning_trains_the_carried_over_weights(trained_model, repository_functions, tmp_path):
    cfg = config()
    train_records, _ = split_by_file([f for f in repository_functions if keep(f)], cfg.held_out)
    start, _ = extend_model(trained_model, train_records, cfg)
    assert all(p.requires_grad for p in start.parameters())
    chosen, report = finetune(trained_model, repository_functions, tmp_path, cfg)
    assert report["documented"] >= 50 and {"base_mrr", "finetuned_mrr", "stopping_finetuned_mrr"} <= set(report)
    assert 10 <= report["judged_on"] < report["held_out"]
    # The choice, checked against MRRs this test measures itself on the held-out functions.
    base_mrr, tuned_mrr = held_out_mrr(trained_model, repository_functions, cfg, tmp_path)
    assert (chosen is trained_model) == (tuned_mrr <= base_mrr)
    if chosen is not trained_model:  # kept: served as its changes from the base, float16 unless that loses MRR
        assert isinstance(chosen, PatchedModel) and chosen.base is trained_model
        assert report["delta_dtype"] == "float16" or report["float16_mrr"] < report["finetuned_mrr"] - DELTA_TOLERANCE
        assert 0 < report["delta_rows"] < chosen.vocabulary.size
    before = start.embedding.weight.detach().cpu()
    after = CodeSearchModel.load(tmp_path).embedding.weight.detach().cpu()
    assert after.shape == before.shape
    assert not torch.allclose(after, before)  # not frozen: the carried-over rows were trained


def held_out_mrr(base, functions, cfg, tuned_dir) -> tuple[float, float]:
    """(base, fine-tuned) macro MRR on the held-out functions that judge the fine-tuned model (those
    early stopping never saw), measured here."""
    from training.finetune import held_out_halves
    from training.train import Pairs, validation_mrr

    _, held_out = held_out_halves(split_by_file([f for f in functions if keep(f)], cfg.held_out)[1])
    tuned = CodeSearchModel.load(tuned_dir)
    return (validation_mrr(base, Pairs.from_records(held_out, base))["macro"],
            validation_mrr(tuned, Pairs.from_records(held_out, tuned))["macro"])


def test_a_fine_tuned_model_that_is_worse_is_dropped(trained_model, repository_functions, tmp_path):
    """A learning rate far too high wrecks the carried-over weights: the result must not be served."""
    cfg = FinetuneConfig(min_documented=50, train=TrainConfig(epochs=1, lr=5.0, warmup_steps=0, patience=1,
                                                              wandb=False))
    chosen, report = finetune(trained_model, repository_functions, tmp_path, cfg)
    base_mrr, tuned_mrr = held_out_mrr(trained_model, repository_functions, cfg, tmp_path)
    assert tuned_mrr < base_mrr - 0.05  # really worse, by this test's own measure
    assert chosen is trained_model and report["model"] == "base"


def test_small_repositories_keep_the_base_model(trained_model, repository_functions, tmp_path):
    model, report = finetune(trained_model, repository_functions[:20], tmp_path, config())
    assert model is trained_model and report["model"] == "base" and "too few" in report["reason"]
