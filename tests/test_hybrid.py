import numpy as np

from training.hybrid import candidates, mix, standardise


def test_the_document_both_systems_like_beats_each_ones_favourite():
    neural = np.array([0.60, 0.58, 0.20, 0.10])
    bm25 = np.array([1.0, 9.0, 9.5, 0.0])
    assert mix(neural, bm25).argmax() == 1


def test_a_wide_lead_outweighs_a_narrow_one():
    """Scores, not ranks: a function far ahead on BM25 (a rare name in the query) beats one barely
    ahead on the model, and the other way round."""
    near_tie = np.array([0.51, 0.50, 0.10, 0.05, 0.00])
    far_apart = np.array([1.0, 12.0, 1.0, 0.5, 0.0])
    assert mix(near_tie, far_apart).argmax() == 1
    assert mix(far_apart / 12, near_tie * 10).argmax() == 1


def test_bm25_without_evidence_leaves_the_ranking_to_the_model():
    neural = np.array([[0.1, 0.7, 0.3]])
    assert np.array_equal(np.argsort(-mix(neural, np.zeros((1, 3)))), np.argsort(-neural))
    assert mix(np.array([[0.1, 0.3]]), np.array([[2.0, 2.0]]))[0].argmax() == 1


def test_only_each_systems_top_candidates_are_ranked():
    neural = np.array([[0.9, 0.8, 0.1, 0.0]])
    bm25 = np.array([[0.0, 0.0, 0.0, 5.0]])
    mask = candidates(neural, bm25, n=1)
    assert mask.tolist() == [[True, False, False, True]]
    mixed = mix(neural, bm25, mask)
    assert np.isneginf(mixed[0, [1, 2]]).all() and np.isfinite(mixed[0, [0, 3]]).all()


def test_standardise_uses_only_the_masked_scores():
    scores = np.array([[1.0, 3.0, 100.0]])
    z = standardise(scores, np.array([[True, True, False]]))
    assert np.allclose(z[0, :2], [-1.0, 1.0])
