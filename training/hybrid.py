"""Hybrid ranking: the neural model's cosine and BM25's score of each candidate, put on one scale and
added.

The candidates of a query are the union of each system's top CANDIDATES; over them each system's
scores are standardised (z-scores) and the BM25 ones weighted by BM25_WEIGHT. Mixing scores rather
than ranks (reciprocal-rank fusion, which this replaced) keeps how far ahead a system's best match
is: a query naming a rare identifier gives that function a BM25 score far above the rest, and a
rank alone throws the gap away. On an earlier base model's validation split RRF gave macro MRR 0.659
(Go 0.778) and this mix 0.700 (Go 0.798), and the mix beat the model alone in every language, which
RRF did not (benchmarks/results/base-model/recipe.md).

The evaluation (training.evaluate) and the product's search (training.index) both rank with `mix`
over `candidates`, so the figures measure what people are served.
"""
from __future__ import annotations

import numpy as np

CANDIDATES = 100  # per system
# Chosen on the validation split with the base model: 0.1, 0.2, 0.3, 0.5, 0.7 gave macro MRR 0.744,
# 0.751, 0.754, 0.748, 0.739 (the model alone 0.729). A weaker model wanted 0.5 (recipe.md).
BM25_WEIGHT = 0.3


def candidates(neural: np.ndarray, lexical: np.ndarray, n: int = CANDIDATES) -> np.ndarray:
    """Boolean mask over the last axis: each system's top `n`, together."""
    return _top(neural, n) | _top(lexical, n)


def _top(scores: np.ndarray, n: int) -> np.ndarray:
    mask = np.zeros(scores.shape, dtype=bool)
    if scores.shape[-1] <= n:
        mask[...] = True
        return mask
    top = np.argpartition(-scores, n - 1, axis=-1)[..., :n]
    np.put_along_axis(mask, top, True, axis=-1)
    return mask


def _mean_std(scores: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and standard deviation over the masked entries of the last axis (kept as an axis)."""
    n = np.maximum(mask.sum(-1, keepdims=True), 1)
    mean = np.where(mask, scores, 0).sum(-1, keepdims=True) / n
    return mean, np.sqrt(np.where(mask, (scores - mean) ** 2, 0).sum(-1, keepdims=True) / n)


def standardise(scores: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """z-scores over the masked entries of the last axis; a system that cannot tell them apart (BM25
    with no query word in the index) gives all of them 0 and leaves the decision to the other."""
    mean, std = _mean_std(scores, mask)
    return np.where(std > 1e-9, (scores - mean) / np.maximum(std, 1e-9), 0.0)


def mix(neural: np.ndarray, lexical: np.ndarray, mask: np.ndarray | None = None,
        weight: float = BM25_WEIGHT) -> np.ndarray:
    """Hybrid scores over the last axis (higher is better); outside `mask` -inf.

    Where the mixed scores tie, the neural score decides: the tie-break is far below any real
    difference between mixed scores."""
    mask = candidates(neural, lexical) if mask is None else mask
    mixed = standardise(neural, mask) + weight * standardise(lexical, mask) + 1e-9 * neural
    return np.where(mask, mixed, -np.inf)


def on_cosine_scale(neural: np.ndarray, mixed: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Mixed scores (`mix`, or BM25's z-scores) put back on the cosines' scale, for people to read: the
    cosines' mean plus the mixed score times their spread. That is each candidate's cosine plus BM25's
    evidence for it in cosine units, so it orders the candidates exactly as the ranking does, where
    the cosine alone would not; clipped to [-1, 1]."""
    mean, std = _mean_std(neural, mask)
    return np.clip(mean + std * mixed, -1.0, 1.0)


def ranked(cosines: np.ndarray, bm25: np.ndarray, demoted: np.ndarray, weight: float = BM25_WEIGHT,
           demotion: float = 0.0, lexical_only: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """A query's candidates in ranking order, and each one's score on the cosines' scale: the hybrid
    (`mix`; BM25's z-scores alone with `lexical_only`), less `demotion` for the `demoted` ones."""
    everyone = np.ones(len(cosines), bool)
    ranking = standardise(bm25, everyone) if lexical_only else mix(cosines, bm25, everyone, weight)
    ranking = ranking - demotion * demoted
    return np.argsort(-ranking, kind="stable"), on_cosine_scale(cosines, ranking, everyone)
