"""A thread-safe cache of loaded models, bounded by the bytes their weights take.

Streamlit serves every browser session from one process, so two people may
ask for the same checkpoint at once. A per-key lock makes the second wait for
the first load instead of loading the weights twice. Models are dropped least
recently used first once their weights exceed ``max_bytes`` or their number
exceeds ``max_items``. Values whose size function returns None (the Kiwi
scorers every page shares) are kept outside both bounds and never dropped.
"""

from __future__ import annotations

import gc
import threading
from collections import OrderedDict
from typing import Any, Callable, Generic, TypeVar

T = TypeVar("T")


def weight_bytes(value: Any) -> int | None:
    """Bytes of parameters and buffers of a torch module or of anything with a ``.model`` (a ``LoadedModel``).

    Returns None for anything else: it is not a model and stays outside the bounds.
    Tied weights are counted once (``parameters()`` yields a shared tensor once).
    """
    module = getattr(value, "model", value)
    if not (hasattr(module, "parameters") and hasattr(module, "buffers")):
        return None
    tensors = [*module.parameters(), *module.buffers()]
    return sum(t.numel() * t.element_size() for t in tensors)


class ModelCache(Generic[T]):
    """LRU cache keyed by strings, loading each value at most once at a time.

    Args:
        max_bytes: Budget for the sizes of the held models. A single model
            larger than the whole budget is still kept (so it can be used), but
            everything else is dropped for it. None: no byte bound.
        max_items: How many models to keep at most (values outside the bounds
            not counted).
        size: Bytes a value takes, or None to keep it outside the bounds.
    """

    def __init__(self, max_bytes: int | None = None, max_items: int = 6,
                 size: Callable[[T], int | None] = weight_bytes) -> None:
        self.max_bytes = max_bytes
        self.max_items = max(1, max_items)
        self._size = size
        self._items: OrderedDict[str, T] = OrderedDict()
        self._sizes: dict[str, int | None] = {}
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
                    self._items.move_to_end(key)
                    return self._items[key]
            value = load()
            size = self._size(value)
            with self._lock:
                self._items[key] = value
                self._sizes[key] = size
                evicted = self._evict(keep=key)
            if evicted:
                gc.collect()  # drop the evicted weights now, before the next load adds more
            return value

    def _evict(self, keep: str) -> list[str]:
        """Drops least recently used models until both bounds hold (``keep``, just loaded, stays)."""
        evicted = []
        for key in list(self._items):
            if not self._over_bounds():
                break
            if key != keep and self._sizes[key] is not None:
                del self._items[key], self._sizes[key]
                evicted.append(key)
        return evicted

    def _over_bounds(self) -> bool:
        sizes = [s for s in self._sizes.values() if s is not None]
        too_many = len(sizes) > self.max_items
        return too_many or (self.max_bytes is not None and sum(sizes) > self.max_bytes)

    def keys(self) -> list[str]:
        """Keys held, least recently used first."""
        with self._lock:
            return list(self._items)

    def bytes_used(self) -> int:
        """Bytes of the models held (values outside the bounds not counted)."""
        with self._lock:
            return sum(s for s in self._sizes.values() if s is not None)

    def drop(self, keep: Callable[[str], bool]) -> list[str]:
        """Forgets every value whose key ``keep`` refuses (a model replaced on disk); returns their keys."""
        with self._lock:
            dropped = [key for key in self._items if not keep(key)]
            for key in dropped:
                del self._items[key], self._sizes[key]
        if dropped:
            gc.collect()
        return dropped

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._sizes.clear()
        gc.collect()


class PredictionMemo:
    """Answers already computed, per scorer object: a rerun with the same inputs does no model work.

    Streamlit reruns a page on every widget change, and peers in one session often
    score the same sentences. Entries belong to the scorer object itself (a loaded
    model, a built-in scorer): when the model cache drops a model and it is freed,
    its answers go with it, and a model loaded anew starts empty, so no answer
    outlives the weights that gave it. Within a scorer, the key is (task, input
    format, item); items are frozen dataclasses, so an item's key is its content.
    Each scorer keeps at most ``per_scorer`` answers, least recently used dropped first.
    """

    def __init__(self, per_scorer: int = 4096) -> None:
        self.per_scorer = per_scorer
        # By id(): models are dataclasses without a hash. A weakref.finalize per object removes its
        # answers when it is freed, before its id can be reused.
        self._by_scorer: dict[int, OrderedDict] = {}
        self._lock = threading.RLock()  # re-entrant: a model freed while the lock is held forgets itself here

    def get(self, scorer: Any, key: Any) -> Any | None:
        with self._lock:
            answers = self._by_scorer.get(id(scorer))
            if answers is None or key not in answers:
                return None
            answers.move_to_end(key)
            return answers[key]

    def put(self, scorer: Any, key: Any, value: Any) -> None:
        import weakref

        with self._lock:
            answers = self._by_scorer.get(id(scorer))
            if answers is None:
                try:
                    weakref.finalize(scorer, self._forget, id(scorer))
                except TypeError:  # an object that cannot be weakly referenced is simply not remembered
                    return
                answers = self._by_scorer[id(scorer)] = OrderedDict()
            answers[key] = value
            answers.move_to_end(key)
            while len(answers) > self.per_scorer:
                answers.popitem(last=False)

    def _forget(self, scorer_id: int) -> None:
        with self._lock:
            self._by_scorer.pop(scorer_id, None)

    def __len__(self) -> int:
        with self._lock:
            return sum(len(answers) for answers in self._by_scorer.values())
