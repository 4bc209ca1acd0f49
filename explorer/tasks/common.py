"""Running sequence-classification and multiple-choice heads on text pairs.

All tasks reduce to two calls: ``classify`` (one text or a pair → class
probabilities) and ``choose`` (a first text and N endings → one score per
ending). Both sort by length so padding stays small, always pass the attention
mask, and report how many tokens truncation dropped.
"""

from __future__ import annotations

import threading
import weakref
from dataclasses import dataclass
from typing import Any, Callable, Sequence

import torch

from explorer.forward import queue_for
from explorer.loading import LoadedModel

Progress = Callable[[int, int], None]

# --------------------------------------------------------------------------- one tokenizer, many threads
#
# A fast tokenizer keeps padding and truncation in its Rust backend, and every
# call first rewrites them (``set_truncation_and_padding``) and then encodes.
# Streamlit sessions share one loaded model, so two calls at once mix their
# settings: ragged batches ("Unable to create tensor"), or token counts from
# the other call's truncation. Each tokenizer therefore gets a lock held for
# the encoding only; forward passes still run side by side.

_TOKENIZER_LOCKS: weakref.WeakKeyDictionary[Any, threading.RLock] = weakref.WeakKeyDictionary()
_LOCKS_GUARD = threading.Lock()
_GUARDED_CLASSES: dict[type, type] = {}


def tokenizer_lock(tokenizer: Any) -> threading.RLock:
    """The lock every encoding call on this tokenizer object holds (one per object, copies get their own)."""
    with _LOCKS_GUARD:
        lock = _TOKENIZER_LOCKS.get(tokenizer)
        if lock is None:
            lock = _TOKENIZER_LOCKS[tokenizer] = threading.RLock()
        return lock


def _guarded_class(cls: type) -> type:
    """``cls`` whose ``_encode_plus`` (where every call, ``tokenize`` included, sets and encodes) holds the lock."""
    with _LOCKS_GUARD:
        guarded = _GUARDED_CLASSES.get(cls)
        if guarded is None:
            def _encode_plus(self, *args, **kwargs):
                with tokenizer_lock(self):
                    return super(guarded, self)._encode_plus(*args, **kwargs)

            # Same name, so messages and reprs that show the class do not change.
            guarded = type(cls.__name__, (cls,), {"_encode_plus": _encode_plus, "__module__": cls.__module__,
                                                  "_explorer_thread_safe": True})
            _GUARDED_CLASSES[cls] = guarded
        return guarded


def thread_safe_tokenizer(tokenizer: Any) -> Any:
    """Makes every encoding call on ``tokenizer`` hold its own lock; returns it (idempotent).

    Done once where a model enters the shared cache, so every caller is covered
    (task scoring, attributions, the internals views) without each one having to
    remember a lock. Deep copies (``with_pad_token``) keep the guard and get a
    lock of their own. Objects without ``_encode_plus`` are returned unchanged.
    """
    if getattr(tokenizer, "_explorer_thread_safe", False) or not hasattr(tokenizer, "_encode_plus"):
        return tokenizer
    tokenizer.__class__ = _guarded_class(type(tokenizer))
    return tokenizer


@dataclass
class Scored:
    """Class probabilities for one input.

    Attributes:
        probs: Softmax over the head's classes (or over the alternatives).
        n_tokens: Tokens the model read (per alternative: the longest).
        n_dropped: Tokens truncation removed.
    """

    probs: list[float]
    n_tokens: int
    n_dropped: int


def _lengths(tokenizer, firsts: Sequence[str], seconds: Sequence[str] | None, special: bool = True) -> list[int]:
    enc = tokenizer(list(firsts), list(seconds) if seconds is not None else None, add_special_tokens=special)
    return [len(ids) for ids in enc["input_ids"]]


def _check_kept_side(loaded: LoadedModel, firsts: Sequence[str], seconds: Sequence[str], truncation: str,
                     owners: Sequence[int] | None = None) -> None:
    """Refuses a pair whose uncut side alone fills the model (the tokenizer's own error names no input).

    With ``only_first`` the second text is never cut (BoolQ: the question), so
    it and the special tokens must leave room for at least one token of the first.

    Args:
        owners: The input (0-based) each pair belongs to, when an input has several
            pairs (one per ending); by default pair k is input k.
    """
    kept = seconds if truncation == "only_first" else firsts
    room = loaded.max_length - loaded.tokenizer.num_special_tokens_to_add(pair=True)
    for i, n in enumerate(_lengths(loaded.tokenizer, kept, None, special=False)):
        if n >= room:
            side = "second" if truncation == "only_first" else "first"
            where = (owners[i] if owners is not None else i) + 1
            raise ValueError(
                f"input {where}: its {side} text (the part never cut, such as BoolQ's question) alone is {n} "
                f"tokens, and only the other text may be cut; the model reads {loaded.max_length} tokens in all. Shorten it."
            )


def _encode_rows(loaded: LoadedModel, firsts: Sequence[str], seconds: Sequence[str] | None,
                 truncation: str) -> tuple[list[dict[str, list[int]]], list[int]]:
    """Each input tokenized once as the model reads it (cut, unpadded), and its length before the cut."""
    tok = loaded.tokenizer
    full = _lengths(tok, firsts, seconds)
    enc = tok(list(firsts), list(seconds) if seconds is not None else None, truncation=truncation,
              max_length=loaded.max_length)
    return [{key: enc[key][i] for key in enc.keys()} for i in range(len(firsts))], full


def classify(
    loaded: LoadedModel,
    firsts: Sequence[str],
    seconds: Sequence[str] | None = None,
    truncation: str = "longest_first",
    batch_size: int | None = None,
    progress: Progress | None = None,
    precision: str = "fp32",
) -> list[Scored]:
    """Class probabilities for single texts or pairs.

    The texts are tokenized once, then run through the model's shared
    ``ForwardQueue`` (``explorer.forward``): length-sorted batches cut by a token
    budget, shared with any other session asking the same model at that moment.

    Args:
        loaded: A model with a sequence-classification head.
        firsts: First texts.
        seconds: Second texts of each pair, or None for single texts.
        truncation: ``longest_first``, or ``only_first`` / ``only_second`` to
            cut one side only (BoolQ cuts the passage, never the question).
        batch_size: At most this many inputs per forward pass; None: as many as
            the token budget holds.
        progress: Called with (done, total) as batches finish.
        precision: ``fp32`` or ``bf16`` (``explorer.device.autocast``).
    """
    if loaded.head != "sequence":
        raise ValueError(f"{loaded.entry.name} has a {loaded.head} head; this needs sequence classification.")
    if not firsts:
        return []
    if seconds is not None and truncation in ("only_first", "only_second"):
        _check_kept_side(loaded, firsts, seconds, truncation)
    rows, full = _encode_rows(loaded, firsts, seconds, truncation)
    logits = queue_for(loaded).run(rows, precision, batch_size, progress)
    probs = torch.softmax(logits, dim=-1).tolist()
    return [Scored(p, len(row["input_ids"]), max(0, n - len(row["input_ids"]))) for p, row, n in zip(probs, rows, full)]


def choose(
    loaded: LoadedModel,
    firsts: Sequence[str],
    endings: Sequence[Sequence[str]],
    truncation: str = "longest_first",
    batch_size: int | None = None,
    progress: Progress | None = None,
    precision: str = "fp32",
) -> list[Scored]:
    """Scores N endings per first text with a multiple-choice head.

    Items may have different numbers of endings: a head scores a
    ``[batch, endings, tokens]`` block, so each batch holds items with the same number.

    Args:
        truncation: ``longest_first``, or ``only_first`` so an ending is never cut
            (a long context is), or ``only_second``.

    Returns:
        Per item, in input order, the softmax over its endings.

    Raises:
        ValueError: a model without a multiple-choice head, an item with fewer than two
            endings, or (with one-sided truncation) an uncut side that alone fills the model.
    """
    if loaded.head != "multiple_choice":
        raise ValueError(f"{loaded.entry.name} has a {loaded.head} head; this needs a multiple-choice head.")
    if len(endings) != len(firsts):
        raise ValueError(f"{len(firsts)} first texts but {len(endings)} lists of endings.")
    by_count: dict[int, list[int]] = {}
    for i, item_endings in enumerate(endings):
        if len(item_endings) < 2:
            raise ValueError(f"input {i + 1} has {len(item_endings)} ending(s); a choice needs at least two.")
        by_count.setdefault(len(item_endings), []).append(i)
    owners = [i for i, e in enumerate(endings) for _ in e]  # one (first, ending) pair per ending
    pair_a, pair_b = [firsts[i] for i in owners], [x for e in endings for x in e]
    if truncation in ("only_first", "only_second"):
        _check_kept_side(loaded, pair_a, pair_b, truncation, owners)
    flat, full = _encode_rows(loaded, pair_a, pair_b, truncation)
    starts = [0]
    for e in endings:
        starts.append(starts[-1] + len(e))
    out: list[Scored | None] = [None] * len(firsts)
    done = 0
    for n_choices, members in by_count.items():
        blocks = [flat[starts[i] : starts[i + 1]] for i in members]
        offset = done
        report = (lambda d, _t, offset=offset: progress(offset + d, len(firsts))) if progress else None
        logits = queue_for(loaded).run(blocks, precision, batch_size, report, group=n_choices)
        for i, p, block in zip(members, torch.softmax(logits, dim=-1).tolist(), blocks):
            lens = [len(r["input_ids"]) for r in block]
            dropped = sum(max(0, full[starts[i] + k] - lens[k]) for k in range(n_choices))
            out[i] = Scored(p, max(lens), dropped)
        done += len(members)
    return [s for s in out if s is not None]
