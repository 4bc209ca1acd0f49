"""What every task page says around its results: what is running, whether the table is stale,
which answers are right, that demo models are toys, and when an input is not Korean.

Shared by the one-item task pages (``explorer.ui.task_page``) and the CoLA page
(``pages/acceptability.py``), so each fact is worded in one place.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Sequence

import streamlit as st

from explorer.defaults.from_data import ORIGIN
from explorer.registry import ModelEntry
from explorer.service import Explorer, TaskRun
from explorer.text import escape_markdown, join_words
from explorer.ui.state import current_precision

DEMO_NOTE = (
    "{names} {are} trained in seconds on sentences this project generates from templates. "
    "Demos show how the page works, not what a Korean model can do; real sentences often fool them. "
    "A real model is trained on real data: `python -m explorer prepare --data DIR` fine-tunes one for each task "
    "whose NIKL 2021 or KoBEST train and dev files it finds in DIR (or `python -m explorer finetune` for one task)."
)
STALE_INPUT = "These results are for the previous {what} — press **{run}** to update."
STALE_MODELS = "These results are for the models chosen before — press **{run}** to update."


@dataclass
class Timing:
    """How long a run took: in all and per model (each model's loading included).

    Attributes:
        verb: What the models did, for the caption (``answered``, ``evaluated``).
    """

    total_s: float = 0.0
    per_model: list[tuple[str, float]] = field(default_factory=list)
    verb: str = "answered"

    def caption(self) -> str:
        """``3 models answered in 8.4 s (a 2.1 s · b 6.3 s)``, names escaped; "" when nothing ran."""
        if not self.per_model:
            return ""
        n = len(self.per_model)
        each = " · ".join(f"{escape_markdown(name)} {seconds:.1f} s" for name, seconds in self.per_model)
        return f"{n} model{'s' if n > 1 else ''} {self.verb} in {self.total_s:.1f} s ({each}; loading included)."


class RunStatus:
    """What a status box says while models run one after another: which model runs (k of n), its items done
    of the total, and the seconds since the run began; then a one-line summary with each model's time.

    Made by ``run_status``; whatever runs the models calls ``report`` (the ``progress`` of ``Explorer.predict``
    has its signature), at least with ``done`` 0 as each model starts.
    """

    def __init__(self, box: Any, names: Sequence[str], verb: str) -> None:
        self.box, self.names, self.verb = box, list(names), verb
        self.line = st.empty()
        self.began = time.monotonic()
        self.started: dict[int, float] = {}  # when each model began, by its index (a model that failed to load
        # before it reported has no entry, and the timing skips it)
        self.timing = Timing(verb=verb)

    def report(self, k: int, done: int, total: int) -> None:
        now = time.monotonic()
        self.started.setdefault(k, now)
        n = len(self.names)
        action = "loading and running" if done == 0 else "running"
        self.line.markdown(f"{action} **{escape_markdown(self.names[k])}** (model {k + 1} of {n}) · "
                           f"{done:,} of {total:,} items done · {now - self.began:.1f} s so far")
        # The name goes in the body (markdown, escaped); a label is not the place for a checkpoint's name.
        self.box.update(label=f"Running model {k + 1} of {n}… {now - self.began:.0f} s")

    def finish(self) -> Timing:
        """Closes the box to a one-line summary; returns the timing."""
        ended = time.monotonic()
        ks = sorted(self.started)
        bounds = [self.started[k] for k in ks] + [ended]
        self.timing = Timing(ended - self.began, [(self.names[k], bounds[i + 1] - bounds[i]) for i, k in enumerate(ks)],
                             self.verb)
        self.line.markdown(self.timing.caption())
        n = len(self.names)
        self.box.update(label=f"Done: {n} model{'s' if n > 1 else ''} in {self.timing.total_s:.1f} s", state="complete",
                        expanded=False)
        return self.timing


@contextmanager
def run_status(names: Sequence[str], what: str, verb: str = "answered") -> Iterator[RunStatus]:
    """A status box for running the models ``names`` on ``what`` (``3 items``), one at a time.

    ``what`` goes in the box's label, so it holds counts, never a name a user chose (a label does not take
    escaped markdown; names go in the body, which ``report`` writes).

    Yields:
        The ``RunStatus`` whose ``report`` the run calls; its ``timing`` is set when the block ends.
    """
    n = len(names)
    with st.status(f"Running {n} model{'s' if n > 1 else ''} on {what}…", expanded=True) as box:
        status = RunStatus(box, names, verb)
        yield status
        status.finish()


def predict_with_status(explorer: Explorer, models: Sequence[ModelEntry], task_id: str, items: Sequence) -> tuple[list[TaskRun], Timing]:
    """``Explorer.predict`` inside a ``run_status`` box (model k of n, items done, seconds so far)."""
    with run_status([m.name for m in models], f"{len(items)} item{'s' if len(items) != 1 else ''}") as status:
        runs = explorer.predict(models, task_id, items, device=st.session_state.get("device"),
                                progress=status.report, precision=current_precision())
    return runs, status.timing


def stale_warning(run_label: str, inputs_changed: bool, models_changed: bool, what: str = "input") -> bool:
    """Warns that the table answers an earlier input (or model choice); returns whether it is stale.

    Args:
        what: What the input is called on the page (``input``, ``file``).
    """
    if inputs_changed:
        st.warning(STALE_INPUT.format(run=run_label, what=what), icon=":material/history:")
    elif models_changed:
        st.warning(STALE_MODELS.format(run=run_label), icon=":material/history:")
    return inputs_changed or models_changed


def demo_note(runs: Sequence[TaskRun]) -> None:
    """What the models in the table are: one caption saying the demos are toys and what a real model is for,
    and for each model trained from the user's data (``prepare --data``) its measured dev score and limits, so
    a weak real model's answers are read as such; nothing for other models."""
    demos = [escape_markdown(r.entry.name) for r in runs if r.entry.demo and r.error is None]
    if demos:
        many = len(demos) > 1
        st.caption(DEMO_NOTE.format(names=join_words([f"**{d}**" for d in demos]),
                                    are="are toy demo models:" if many else "is a toy demo model:"))
    for run in runs:
        if run.entry.origin == ORIGIN and run.error is None and run.entry.description:
            st.caption(f"**{escape_markdown(run.entry.name)}**: {escape_markdown(run.entry.description)}")


def script_warning(note: str) -> None:
    """The ``explorer.text.script_note`` beside a result (nothing when it is empty)."""
    if note:
        st.warning(escape_markdown(note), icon=":material/translate:")
