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
over `candidates`, so the figures measure what people are served. A repository's index and the
global index gather a query's candidates with `gathered` and show one unit per group with
`first_per_group`, in numpy throughout: a search handles a few hundred candidates.
"""
from __future__ import annotations

from typing import Callable

import numpy as np

CANDIDATES = 100  # per system
# Chosen on the validation split with the base model: 0.1, 0.2, 0.3, 0.5, 0.7 gave macro MRR 0.744,
# 0.751, 0.754, 0.748, 0.739 (the model alone 0.729). A weaker model wanted 0.5 (recipe.md).
BM25_WEIGHT = 0.3


def candidates(neural: np.ndarray, lexical: np.ndarray, n: int = CANDIDATES) -> np.ndarray:
    """Boolean mask over the last axis: each system's top `n`, together."""
    return _top(neural, n) | _top(lexical, n)


def best_first(scores: np.ndarray, n: int) -> np.ndarray:
    """The first `n` of `np.argsort(-scores, kind="stable")` (ties in index order) without sorting all of
    the scores: a search wants 100 of tens of thousands, and a full sort took most of its time."""
    if n >= len(scores):
        return np.argsort(-scores, kind="stable")
    threshold = np.partition(scores, len(scores) - n)[len(scores) - n]  # the n-th highest
    above = np.flatnonzero(scores > threshold)
    chosen = np.concatenate([above, np.flatnonzero(scores == threshold)[:n - len(above)]])
    return chosen[np.lexsort((chosen, -scores[chosen]))]


def gathered(neural_rows: np.ndarray, neural_cosines: np.ndarray, lexical: np.ndarray,
             cosines_of: Callable[[np.ndarray], np.ndarray], n: int = CANDIDATES
             ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A query's candidates in one space of rows, each with its cosine and BM25 score: the neural top `n`
    (`neural_rows` and their cosines, best first) and then BM25's top `n` of positive score (`lexical`:
    every row's score) that are not among them, whose cosines `cosines_of(rows)` looks up. The neural
    ones come first, so that ties in the ranking keep their order."""
    top = best_first(lexical, n)
    top = top[lexical[top] > 0]
    others = top[~np.isin(top, neural_rows)]
    rows = np.concatenate([neural_rows, others]).astype(np.int64)
    cosines = np.concatenate([np.asarray(neural_cosines, np.float64),
                              np.asarray(cosines_of(others), np.float64) if len(others) else np.zeros(0)])
    return rows, cosines, lexical[rows].astype(np.float64)


def first_per_group(groups: np.ndarray, k: int, exclude: int | None = None) -> np.ndarray:
    """Positions of the first `k` entries of `groups` (in ranking order) whose group no entry before
    them had, nor `exclude`."""
    _, first = np.unique(groups, return_index=True)
    first.sort()
    if exclude is not None:
        first = first[groups[first] != exclude]
    return first[:k]


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
