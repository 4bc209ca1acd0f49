"""A bounded, thread-safe cache of loaded models.

Streamlit serves every browser session from one process, so two people may
ask for the same checkpoint at once. A per-key lock makes the second wait for
the first load instead of loading the weights twice; least-recently-used
models are dropped once ``max_models`` is reached.
"""

from __future__ import annotations

import gc
import threading
from collections import OrderedDict
from typing import Callable, Generic, TypeVar

T = TypeVar("T")


class ModelCache(Generic[T]):
    """LRU cache keyed by strings, loading each value at most once at a time.

    Args:
        max_items: How many values to keep.
    """

    def __init__(self, max_items: int = 6) -> None:
        self.max_items = max(1, max_items)
        self._items: OrderedDict[str, T] = OrderedDict()
        self._lock = threading.Lock()
        self._key_locks: dict[str, threading.Lock] = {}

    def get(self, key: str, load: Callable[[], T]) -> T:
        """Returns the cached value for ``key``, calling ``load`` if absent.

        Exceptions from ``load`` propagate and nothing is cached, so a fixed
        checkpoint can be retried without restarting the app.
        """
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
            key_lock = self._key_locks.setdefault(key, threading.Lock())
        with key_lock:
            with self._lock:
                if key in self._items:
                    return self._items[key]
            value = load()
            with self._lock:
                self._items[key] = value
                self._items.move_to_end(key)
                evicted = False
                while len(self._items) > self.max_items:
                    self._items.popitem(last=False)
                    evicted = True
            if evicted:
                gc.collect()
            return value

    def keys(self) -> list[str]:
        with self._lock:
            return list(self._items)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
        gc.collect()
