"""The per-process answer caches are bounded in bytes: large pasted code cannot fill memory."""
from codesearch.search.cache import LRUCache, approximate_size


def test_the_cache_holds_no_more_bytes_than_its_budget_dropping_the_least_recently_used():
    cache = LRUCache(max_bytes=100_000)
    big = b"x" * 20_000
    for i in range(20):
        cache.get_or_compute(("code", "y" * 5_000, i), lambda: big)
        assert cache.bytes <= 100_000
    assert 1 <= len(cache) < 20
    kept = cache.get_or_compute(("code", "y" * 5_000, 19), lambda: b"recomputed")
    assert kept is big  # the newest entry survived
    assert cache.get_or_compute(("code", "y" * 5_000, 0), lambda: b"recomputed") == b"recomputed"


def test_an_entry_larger_than_the_budget_is_answered_but_not_kept():
    cache = LRUCache(max_bytes=1_000)
    assert cache.get_or_compute("key", lambda: b"z" * 5_000) == b"z" * 5_000
    assert len(cache) == 0 and cache.bytes == 0


def test_sizes_count_the_contents_of_tuples_and_lists():
    assert approximate_size(("a" * 1000, ["b" * 1000])) > 2000
