"""Per-repository fine-tuning, initialised from the base model.

The vocabulary is the base vocabulary plus the repository's own frequent tokens (from its
docstrings and code) that the base lacks. Rows of tokens shared with the base start from the base
weights; a new token starts as the mean of the base embeddings (and of each encoder's weights) of
the pieces the base model would have spelled it with, so it means at first what it meant to the
base. The fine-tuned model is kept only if it beats the base on held-out documented functions that
training never saw, early stopping included: the held-out files are split in two, one half to pick
the best epoch and the other to judge it, since the half that picked the epoch favours it. A kept
model is served as its difference from the base (training.delta).
"""
from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import torch

from training.corpus import keep
from training.delta import PatchedModel
from training.model import CodeSearchModel
from training.tokenize import ExtendedVocabulary, Vocabulary, code_tokens, query_tokens
from training.train import Pairs, TrainConfig, train, validation_mrr


# How much held-out MRR storing a fine-tuned model's changes in float16 may cost (rounding alone moves
# a few ranks either way) before they are stored in float32.
DELTA_TOLERANCE = 0.001


@dataclass
class FinetuneConfig:
    min_documented: int = 200     # below this, the base model serves the repository
    held_out: float = 0.2          # share of documented functions (by file) kept for the comparison
    new_tokens: int = 5000         # at most this many repository tokens added to the vocabulary
    min_count: int = 3             # a token must occur this often to be added
    max_minutes: float | None = 10  # wall-time cap (checked after each epoch; the best epoch is kept)
    train: TrainConfig = None

    def __post_init__(self):
        if self.train is None:
            self.train = TrainConfig(epochs=10, lr=0.002, patience=2, warmup_steps=10, wandb=False)
        cap = self.max_minutes
        if cap is not None and (self.train.max_minutes is None or self.train.max_minutes > cap):
            self.train = replace(self.train, max_minutes=cap)


def split_by_file(records: list[dict], held_out: float, salt: str = "") -> tuple[list[dict], list[dict]]:
    def bucket(r):
        return int(hashlib.md5((salt + r["path"]).encode()).hexdigest()[:8], 16) / 0xFFFFFFFF
    return [r for r in records if bucket(r) >= held_out], [r for r in records if bucket(r) < held_out]


def held_out_halves(held_out: list[dict]) -> tuple[list[dict], list[dict]]:
    """(the files that pick the best epoch, the files that judge it)."""
    return split_by_file(held_out, 0.5, salt="judge:")


def extend_vocabulary(base: Vocabulary, token_lists, limit: int, min_count: int) -> tuple[Vocabulary, list[str]]:
    counts: Counter = Counter()
    for tokens in token_lists:
        counts.update(tokens)
    known = base.words.get_vocab()
    new = [t for t, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
           if n >= min_count and t not in known][:limit]
    return ExtendedVocabulary(base, new), new


def _initial_rows(base_vocab: Vocabulary, base_rows: torch.Tensor, vocab: Vocabulary, new: list[str]) -> torch.Tensor:
    """Rows (one per entry of `vocab`, any trailing shape) from the base's: base rows where the token
    is shared, the mean of its base pieces' rows for a new token."""
    n_words = len(base_vocab.words.get_vocab())
    rows = torch.empty(vocab.size, *base_rows.shape[1:])
    rows[:n_words] = base_rows[:n_words]
    for i, token in enumerate(new):
        rows[n_words + i] = base_rows[list(base_vocab.encode([token], 64))].mean(0)
    rows[n_words + len(new):] = base_rows[n_words:]  # BPE pieces, shifted past the new words
    return rows


def extend_model(base: CodeSearchModel, records: list[dict], config: FinetuneConfig) -> tuple[CodeSearchModel, int]:
    """A copy of `base` whose vocabulary also holds the repository's frequent new tokens."""
    bigrams = base.config.bigrams
    streams = [query_tokens(r["summary"], bigrams) for r in records]
    streams += [code_tokens(r["code_tokens"], bigrams) for r in records if r["language"] in base.languages]
    vocabulary, added = extend_vocabulary(base.vocabulary, streams, config.new_tokens, config.min_count)
    model = CodeSearchModel(replace(base.config), vocabulary)
    with torch.no_grad():
        model.embedding.weight.copy_(_initial_rows(base.vocabulary, base.embedding.weight.cpu(), vocabulary, added))
        for name in model.encoder_names:
            model.token_weights[name].copy_(
                _initial_rows(base.vocabulary, base.token_weights[name].cpu(), vocabulary, added))
        if base.config.names:
            model.name_boost.copy_(base.name_boost)
    return model, len(added)


def finetune(base: CodeSearchModel, functions: list[dict], out: str | Path,
             config: FinetuneConfig | None = None) -> tuple[CodeSearchModel, dict]:
    """The model to serve the repository with, and a report of how it was chosen."""
    config = config or FinetuneConfig()
    # Functions only: a block's code is part of its function's, and the corpus the base model and its
    # held-out comparison follow pairs docs with whole functions.
    documented = [f for f in functions if f["language"] in base.languages and f.get("kind", "function") == "function"
                  and keep(f)]
    report = {"documented": len(documented), "min_documented": config.min_documented}
    if len(documented) < config.min_documented:
        return base, {**report, "model": "base", "reason": "too few documented functions to fine-tune"}
    train_records, held_out = split_by_file(documented, config.held_out)
    stopping, judge = held_out_halves(held_out)
    if min(len(stopping), len(judge), len(train_records)) < 10:
        return base, {**report, "model": "base", "reason": "too few files to hold functions out"}
    model, added = extend_model(base, train_records, config)
    tuned, summary = train(train_records, stopping, out, config=config.train, model=model, resume=False)
    figures = {name: [validation_mrr(m, Pairs.from_records(records, m))["macro"] for m in (base, tuned)]
               for name, records in (("stopping", stopping), ("judge", judge))}
    base_mrr, tuned_mrr = figures["judge"]
    report.update(held_out=len(held_out), judged_on=len(judge), base_mrr=round(base_mrr, 4),
                  finetuned_mrr=round(tuned_mrr, 4), stopping_base_mrr=round(figures["stopping"][0], 4),
                  stopping_finetuned_mrr=round(figures["stopping"][1], 4),
                  added_tokens=added, epochs=summary["epochs"], seconds=summary["seconds"])
    if tuned_mrr <= base_mrr:
        return base, {**report, "model": "base", "reason": "the fine-tuned model did not beat the base on held-out functions"}
    delta, delta_report = as_delta(tuned, base, judge, tuned_mrr)
    return delta, {**report, **delta_report, "model": "fine-tuned"}


def as_delta(tuned: CodeSearchModel, base: CodeSearchModel, judge: list[dict],
             tuned_mrr: float) -> tuple[PatchedModel, dict]:
    """`tuned` as its difference from `base` (training.delta), its rows in float16 unless that loses
    more than DELTA_TOLERANCE of MRR on the judging half, which then measures the float32 delta too."""
    pairs = Pairs.from_records(judge, tuned)
    report = {}
    for dtype in (np.float16, np.float32):
        delta = PatchedModel.from_models(tuned, base, dtype)
        mrr = validation_mrr(delta, pairs)["macro"]
        report[f"{np.dtype(dtype).name}_mrr"] = round(mrr, 4)
        if mrr >= tuned_mrr - DELTA_TOLERANCE:
            break
    return delta, {**report, "delta_rows": delta.rows, "delta_dtype": np.dtype(dtype).name}
