"""Forward passes of one model, shared by every thread that asks at the same moment.

Streamlit serves every browser session from one process. When eight peers press
"score" together, eight threads used to run eight small forward passes of the same
model side by side: each pass wanted every core, so they fought for them and every
peer waited for all of them. A ``ForwardQueue`` (one per loaded model) lets the
first caller lead: it takes every request waiting for that model, sorts all their
rows by length, runs them as shared token-budget batches, and hands each caller its
own rows back. Whoever arrives while a round runs waits for the next one, which
the next waiting caller leads. A caller alone gets exactly the batches it would
have had; rows in a shared batch get the same answer up to float rounding
(about 1e-7 in a probability: a different batch shape sums in another order).

Batches are cut by tokens, not rows: sorted rows of similar length are packed
until ``rows × longest row`` reaches the budget, so short sentences run in large
batches (the matrix products get big enough to use the CPU well) and long ones in
small batches (memory stays bounded).
"""

from __future__ import annotations

import threading
import time
import weakref
from collections.abc import Callable, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field
from typing import Any

import torch

from explorer.device import autocast

Row = dict[str, list[int]]  # one tokenized sequence, unpadded: input_ids (token_type_ids, ...)
# An input is one Row for a sequence-classification head, or a block of N Rows (one per ending) for a
# multiple-choice head, which scores the N together.
Input = Row | Sequence[Row]
Progress = Callable[[int, int], None]

# Padded tokens per forward pass. On 2 CPU cores (2026-12-01, 1,000 NIKL CoLA sentences, alternating), 1,024
# was fastest for e5-small and BERT-base alike: 8,192 took 1.3-1.4x as long, 16,384 1.7-1.8x (activations
# that outgrow the caches make the element-wise layers memory-bound). A GPU wants far bigger batches.
TOKENS_PER_BATCH = {"cpu": 1024, "cuda": 65536}
MAX_ROWS = 512  # rows per pass, however short they are
# When peers were active on a model a moment ago, its next leader waits this long for the rest of a burst
# before it starts, so eight peers pressing "score" together share one pass instead of two. A peer alone
# never waits: the window opens only after another caller had to queue behind a round.
GATHER_SECONDS = 0.005
PEERS_RECENT_SECONDS = 30.0

# One forward pass at a time per CPU: two passes side by side each want every core and both run slower
# than one after the other. (On CUDA the kernels queue on the device anyway.)
_CPU_COMPUTE = threading.Lock()


def token_batches(lengths: Sequence[int], budget: int, max_rows: int = MAX_ROWS) -> list[list[int]]:
    """Indices of ``lengths`` in length order, cut so each batch's ``rows × longest`` stays within ``budget``.

    A row longer than the whole budget still gets a batch of its own.
    """
    order = sorted(range(len(lengths)), key=lambda i: (lengths[i], i))
    batches: list[list[int]] = []
    current: list[int] = []
    for i in order:
        longest = max(lengths[i], 1)  # sorted: the new row is the longest so far
        if current and ((len(current) + 1) * longest > budget or len(current) >= max_rows):
            batches.append(current)
            current = []
        current.append(i)
    if current:
        batches.append(current)
    return batches


@dataclass(eq=False)
class _Request:
    rows: Sequence[Input]
    precision: str
    group: int  # sequences per input: 1, or N endings for a multiple-choice head
    max_rows: int
    logits: list[torch.Tensor | None] = field(init=False)  # one per row, filled as batches finish
    done: int = 0
    error: BaseException | None = None
    finished: bool = False

    def __post_init__(self) -> None:
        self.logits = [None] * len(self.rows)


class ForwardQueue:
    """Runs one model's forward passes for every thread, as shared batches (see the module doc).

    Args:
        model: A module in eval mode whose output has ``.logits`` (one row per input).
        tokenizer: Pads rows (its padding side and pad token are the model's).
        device: Where the model runs.
    """

    def __init__(self, model: Any, tokenizer: Any, device: torch.device) -> None:
        # Weak: the queue lives in a WeakKeyDictionary keyed by this model, so a strong reference here would
        # keep every evicted model's weights in memory for good.
        self._model = weakref.ref(model)
        self.tokenizer = tokenizer
        self.device = torch.device(device)
        self.budget = TOKENS_PER_BATCH.get(self.device.type, TOKENS_PER_BATCH["cpu"])
        self._cond = threading.Condition()
        self._pending: list[_Request] = []
        self._leading = False
        self._peers_seen_at = float("-inf")  # when a caller last had to queue behind a round
        self.rounds = 0  # forward rounds run, and how many callers shared them (for tests and benchmarks)
        self.shared = 0

    def run(self, rows: Sequence[Input], precision: str = "fp32", max_rows: int | None = None,
            progress: Progress | None = None, group: int = 1) -> torch.Tensor:
        """Logits (float32, on the CPU) for ``rows``, in their order.

        Args:
            rows: Tokenized inputs, already truncated to what the model reads: a Row
                each, or (``group`` > 1) a block of ``group`` Rows each.
            group: 1 for a sequence-classification head; N for a multiple-choice
                head scoring blocks of N endings. Only requests of one group size
                (and one precision) share a batch.
            precision: ``fp32`` or ``bf16`` (``explorer.device.autocast``); only
                requests of one precision share a batch.
            max_rows: At most this many rows per pass (the caller's batch size).
            progress: Called in the caller's own thread with (rows done, rows).
        """
        if not rows:
            return torch.empty(0)
        request = _Request(rows, precision, group, max_rows or MAX_ROWS)
        with self._cond:
            self._pending.append(request)
            seen = 0
            if self._leading:
                self._peers_seen_at = time.monotonic()
            while not request.finished and self._leading:
                self._cond.wait()
                if progress and request.done != seen and not request.finished:
                    seen = request.done
                    self._cond.release()  # a page's progress bar may be slow: never hold the queue for it
                    try:
                        progress(seen, len(rows))
                    finally:
                        self._cond.acquire()
            if not request.finished:
                self._leading = True
        if not request.finished:
            self._lead(request, progress)
        if request.error is not None:
            raise request.error
        if progress:
            progress(len(rows), len(rows))
        return torch.stack(request.logits)  # every row answered: a missing one would fail here, never shift rows

    def _lead(self, mine: _Request, progress: Progress | None) -> None:
        """Serve rounds until ``mine`` is answered, then hand the lead to whoever waits.

        A progress callback that raises (Streamlit stops a script this way when its
        user reruns the page) never cuts a round short: the round's other callers
        still get their answers, and the exception is raised once the lead is handed on.
        """
        interrupted: BaseException | None = None
        try:
            while not mine.finished:
                with self._cond:
                    if time.monotonic() - self._peers_seen_at < PEERS_RECENT_SECONDS:
                        self._cond.wait(GATHER_SECONDS)  # the rest of a burst joins this round
                    alike = [r for r in self._pending if (r.precision, r.group) == (mine.precision, mine.group)]
                    self._pending = [r for r in self._pending if r not in alike]
                interrupted = self._round(alike, mine, None if interrupted else progress) or interrupted
        finally:
            with self._cond:
                self._leading = False
                self._cond.notify_all()
        if interrupted is not None:
            raise interrupted

    def _round(self, requests: list[_Request], mine: _Request, progress: Progress | None) -> BaseException | None:
        """One shared pass over ``requests``; every request ends finished (answered or with its error).

        Returns what the leader's own progress callback raised, if it did.
        """
        self.rounds += 1
        self.shared += len(requests) > 1
        interrupted: BaseException | None = None
        try:
            owners = [(r, k) for r in requests for k in range(len(r.rows))]
            group = requests[0].group
            lengths = [_longest(r.rows[k], group) for r, k in owners]
            for idx in token_batches(lengths, self.budget // group, min(r.max_rows for r in requests)):
                logits = self._forward([owners[i][0].rows[owners[i][1]] for i in idx], requests[0].precision, group)
                with self._cond:
                    for i, row in zip(idx, logits):
                        request, k = owners[i]
                        request.logits[k] = row
                        request.done += 1
                    self._cond.notify_all()
                if progress and interrupted is None and mine in requests:
                    try:
                        progress(mine.done, len(mine.rows))
                    except BaseException as exc:  # noqa: BLE001 - raised by _lead once the round is over
                        interrupted = exc
        except Exception as exc:  # noqa: BLE001 - handed to the callers, who raise it in their own thread
            if len(requests) > 1:  # a shared round failed: run each caller alone, so only a faulty one fails
                for request in requests:
                    request.logits, request.done = [None] * len(request.rows), 0
                    interrupted = self._round([request], mine, None) or interrupted
                return interrupted
            requests[0].error = exc
        finally:
            with self._cond:
                for request in requests:
                    if not request.finished and request.error is None and any(t is None for t in request.logits):
                        request.error = request.error or RuntimeError("the shared forward pass was interrupted")
                    request.finished = True
                self._cond.notify_all()
        return interrupted

    @torch.inference_mode()
    def _forward(self, rows: list[Input], precision: str, group: int) -> torch.Tensor:
        flat = [dict(r) for r in rows] if group == 1 else [dict(r) for block in rows for r in block]
        batch = self.tokenizer.pad(flat, padding=True, return_tensors="pt")
        if group > 1:  # [inputs × endings, tokens] -> [inputs, endings, tokens], as a multiple-choice head reads it
            batch = {k: v.view(len(rows), group, -1) for k, v in batch.items()}
        batch = {k: v.to(self.device) for k, v in batch.items()}
        with _CPU_COMPUTE if self.device.type == "cpu" else nullcontext(), autocast(precision, self.device):
            logits = self._model()(**batch).logits
        return logits.float().cpu()


def _longest(row: Input, group: int) -> int:
    return len(row["input_ids"]) if group == 1 else max(len(r["input_ids"]) for r in row)


_QUEUES: weakref.WeakKeyDictionary[Any, ForwardQueue] = weakref.WeakKeyDictionary()
_QUEUES_GUARD = threading.Lock()


def queue_for(loaded: Any) -> ForwardQueue:
    """The one queue of a loaded model (by its module object, so every session's copy of the entry shares it)."""
    with _QUEUES_GUARD:
        queue = _QUEUES.get(loaded.model)
        if queue is None:
            queue = _QUEUES[loaded.model] = ForwardQueue(loaded.model, loaded.tokenizer, loaded.device)
        return queue
