"""A small least-recently-used cache bounded in bytes, one per process: each gunicorn worker keeps its own.

Bounded by size, not by entry count: keys hold what users typed or pasted (up to CODE_MAX_CHARS), so a
count bound lets a stranger fill memory with large entries.
"""
from __future__ import annotations

import sys
import threading
from collections import OrderedDict
from typing import Callable, Hashable, TypeVar

T = TypeVar("T")


def approximate_size(value) -> int:
    """Bytes `value` holds, counting into tuples and lists (what keys and cached rankings are made of)."""
    if isinstance(value, (tuple, list)):
        return sys.getsizeof(value) + sum(approximate_size(item) for item in value)
    return sys.getsizeof(value)


class LRUCache:
    def __init__(self, max_bytes: int):
        self.max_bytes = max_bytes
        self.bytes = 0
        self._entries: OrderedDict[Hashable, tuple[object, int]] = OrderedDict()
        self._lock = threading.Lock()

    def get_or_compute(self, key: Hashable, compute: Callable[[], T]) -> T:
        with self._lock:
            if key in self._entries:
                self._entries.move_to_end(key)
                return self._entries[key][0]
        # Computed outside the lock: two threads may both compute a new key, which is harmless.
        value = compute()
        size = approximate_size(key) + approximate_size(value)
        if size > self.max_bytes:
            return value
        with self._lock:
            if key in self._entries:
                self.bytes -= self._entries.pop(key)[1]
            self._entries[key] = (value, size)
            self.bytes += size
            while self.bytes > self.max_bytes:
                self.bytes -= self._entries.popitem(last=False)[1][1]
        return value

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self.bytes = 0

    def __len__(self) -> int:
        return len(self._entries)
