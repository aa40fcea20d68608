import numpy as np
import pytest

from training.hnsw import HnswGraph, build_hnsw


def _rss_mb() -> float:
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


@pytest.fixture(scope="module")
def vectors():
    rng = np.random.default_rng(0)
    centres = rng.standard_normal((50, 64)).astype(np.float32)
    return (centres[rng.integers(0, 50, 3000)] + 0.3 * rng.standard_normal((3000, 64))).astype(np.float32)


def test_nearest_are_the_exact_cosine_neighbours(vectors, tmp_path):
    build_hnsw(vectors, tmp_path / "g.hnsw", m=16)
    graph = HnswGraph(tmp_path / "g.hnsw", ef_search=200)
    unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    assert graph.n_items == len(vectors)
    np.testing.assert_allclose(graph.vector(7), unit[7], rtol=1e-6)  # stored normalised: scores are cosines
    found = 0
    for q in vectors[:50] * 3.0 + 0.1:  # any length: the query is normalised too
        hits = graph.nearest(q, 10)
        exact = np.argsort(-(unit @ (q / np.linalg.norm(q))))[:10]
        assert [c for _, c in hits] == sorted((c for _, c in hits), reverse=True)
        assert hits[0][1] == pytest.approx(float(unit[hits[0][0]] @ (q / np.linalg.norm(q))), abs=1e-5)
        found += len({i for i, _ in hits} & set(exact.tolist()))
    assert found / 500 >= 0.95


def test_asking_for_more_than_there_is(vectors, tmp_path):
    build_hnsw(vectors[:5], tmp_path / "g.hnsw", m=4)
    assert sorted(i for i, _ in HnswGraph(tmp_path / "g.hnsw", ef_search=16).nearest(vectors[0], 10)) == [0, 1, 2, 3, 4]


def test_the_vectors_are_memory_mapped_not_read_in(tmp_path):
    """Gunicorn workers share a mapped file's pages; a graph read into memory would be copied per worker."""
    rows = np.random.default_rng(1).standard_normal((40_000, 256)).astype(np.float32)  # 41 MB of vectors
    build_hnsw(rows, tmp_path / "big.hnsw", m=8, ef_construction=16)
    del rows
    before = _rss_mb()
    graph = HnswGraph(tmp_path / "big.hnsw", ef_search=16)
    grown = _rss_mb() - before
    assert grown < 20, f"loading the graph took {grown:.0f} MB of private memory"  # links: about 5 MB
    assert graph.n_items == 40_000
