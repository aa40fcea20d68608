"""Retrieval metrics: CodeSearchNet MRR (each query against 999 distractors of its language)."""
from __future__ import annotations

import numpy as np


def mrr(queries: np.ndarray, codes: np.ndarray, chunk: int = 1000) -> float:
    """Mean reciprocal rank of code i for query i, ranked within chunks of `chunk` pairs (CSN protocol).

    A trailing chunk smaller than `chunk` is dropped when there is at least one full chunk, as
    CodeSearchNet does, so every query faces the same number of distractors.
    """
    n = len(queries)
    if n == 0:
        return 0.0
    ranks = []
    starts = range(0, n - chunk + 1, chunk) if n >= chunk else [0]
    for start in starts:
        q, c = queries[start:start + chunk], codes[start:start + chunk]
        scores = q @ c.T
        correct = np.diag(scores)
        ranks.append((scores > correct[:, None]).sum(1) + 1)
    return float(np.mean(1.0 / np.concatenate(ranks)))
