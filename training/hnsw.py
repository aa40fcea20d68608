"""HNSW graphs (faiss) for the languages too large for Annoy to answer fast and well.

On real 256-d embeddings Annoy needs search_k 50,000–100,000 (8–14 ms a query) to reach recall@10
0.95 at a million functions (benchmarks/results/annoy_recall_real.json); a navigable small-world
graph gets there in a fraction of a millisecond (benchmarks/results/hnsw_recall_real.json).

    build_hnsw(vectors, "python.hnsw", m=32)
    graph = HnswGraph("python.hnsw", ef_search=64)
    graph.nearest(vector, 10)  # -> [(item, cosine), ...], best first

Vectors are stored normalised and compared by inner product, so scores are cosines. The file is
memory-mapped when loaded (faiss's IO_FLAG_MMAP_IFC): the vectors, most of the file, are shared by
every process that serves it, as Annoy's are; only the graph's links are read into memory.
"""
from __future__ import annotations

from pathlib import Path

import faiss
import numpy as np

# Candidates kept while linking a new vector: higher builds slower and links better. On a million real
# vectors (benchmarks/results/hnsw_recall_real.json), 200 instead of 80 took the build from 185 s to
# 494 s and recall@10 0.95 from ef_search 192 (0.75 ms a query) to ef_search 96 (0.43 ms).
EF_CONSTRUCTION = 200


def unit_rows(vectors: np.ndarray) -> np.ndarray:
    vectors = np.array(vectors, dtype=np.float32)  # a copy, C-ordered, as faiss wants
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True).clip(1e-12)
    return vectors


def build_hnsw(vectors: np.ndarray, path: str | Path, m: int = 32, ef_construction: int = EF_CONSTRUCTION) -> None:
    """Write an HNSW graph of `vectors` (item i = row i), `m` links per vector, to `path`."""
    graph = faiss.IndexHNSWFlat(vectors.shape[1], m, faiss.METRIC_INNER_PRODUCT)
    graph.hnsw.efConstruction = ef_construction
    graph.add(unit_rows(vectors))  # faiss builds with every core (OpenMP)
    faiss.write_index(graph, str(path))


class HnswGraph:
    """A saved graph, memory-mapped; `ef_search` is how many candidates a query keeps (recall vs speed)."""

    def __init__(self, path: str | Path, ef_search: int):
        self.index = faiss.read_index(str(path), faiss.IO_FLAG_MMAP_IFC)
        self.ef_search = ef_search

    @property
    def n_items(self) -> int:
        return self.index.ntotal

    def vector(self, item: int) -> np.ndarray:
        return self.index.reconstruct(int(item))

    def search(self, vector: np.ndarray, n: int, ef_search: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """The `n` items most cosine-similar to `vector` and their cosines (two arrays), best first."""
        query = unit_rows(np.asarray(vector, dtype=np.float32)[None, :])
        n = min(n, self.n_items)
        # Per-call parameters rather than setting hnsw.efSearch: concurrent searches share the index.
        params = faiss.SearchParametersHNSW(efSearch=max(ef_search or self.ef_search, n))
        cosines, items = self.index.search(query, n, params=params)
        found = items[0] >= 0
        return items[0][found], cosines[0][found]

    def nearest(self, vector: np.ndarray, n: int, ef_search: int | None = None) -> list[tuple[int, float]]:
        """`search` as (item, cosine) pairs."""
        items, cosines = self.search(vector, n, ef_search)
        return list(zip(items.tolist(), cosines.tolist()))
