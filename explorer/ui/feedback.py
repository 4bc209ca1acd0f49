"""What every task page says around its results: what is running, whether the table is stale,
which answers are right, that demo models are toys, and when an input is not Korean.

Shared by the one-item task pages (``explorer.ui.task_page``) and the CoLA page
(``pages/acceptability.py``), so each fact is worded in one place.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Sequence

import streamlit as st

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
STALE_INPUT = "These results are for the previous input — press **{run}** to update."
STALE_MODELS = "These results are for the models chosen before — press **{run}** to update."


@dataclass
class Timing:
    """How long a run took: in all and per model (each model's loading included)."""

    total_s: float = 0.0
    per_model: list[tuple[str, float]] = field(default_factory=list)

    def caption(self) -> str:
        """``3 models answered in 8.4 s (a 2.1 s · b 6.3 s)``, names escaped; "" when nothing ran."""
        if not self.per_model:
            return ""
        n = len(self.per_model)
        each = " · ".join(f"{escape_markdown(name)} {seconds:.1f} s" for name, seconds in self.per_model)
        return f"{n} model{'s' if n > 1 else ''} answered in {self.total_s:.1f} s ({each}; loading included)."


def predict_with_status(explorer: Explorer, models: Sequence[ModelEntry], task_id: str, items: Sequence) -> tuple[list[TaskRun], Timing]:
    """``Explorer.predict`` inside a status box that says which model runs (k of n), its items done and
    the seconds since the run began; the box closes to a one-line summary."""
    n, what = len(models), f"{len(items)} item{'s' if len(items) != 1 else ''}"
    began = time.monotonic()
    started: list[float] = []  # when each model began, by model index
    with st.status(f"Running {n} model{'s' if n > 1 else ''} on {what}…", expanded=True) as box:
        line = st.empty()

        def report(k: int, done: int, total: int) -> None:
            now = time.monotonic()
            if len(started) <= k:
                started.append(now)
            name = escape_markdown(models[k].name)
            action = "loading and running" if done == 0 else "running"
            line.markdown(f"{action} **{name}** (model {k + 1} of {n}) · {done} of {total} items done · "
                          f"{now - began:.1f} s so far")
            # The name goes in the body (markdown, escaped); a label is not the place for a checkpoint's name.
            box.update(label=f"Running model {k + 1} of {n}… {now - began:.0f} s")

        runs = explorer.predict(models, task_id, items, device=st.session_state.get("device"),
                                progress=report, precision=current_precision())
        ended = time.monotonic()
        bounds = started + [ended]
        timing = Timing(ended - began, [(m.name, bounds[k + 1] - bounds[k]) for k, m in enumerate(models)
                                        if k + 1 < len(bounds)])
        line.markdown(timing.caption())
        box.update(label=f"Done: {n} model{'s' if n > 1 else ''} in {timing.total_s:.1f} s", state="complete",
                   expanded=False)
    return runs, timing


def stale_warning(run_label: str, inputs_changed: bool, models_changed: bool) -> bool:
    """Warns that the table answers an earlier input (or model choice); returns whether it is stale."""
    if inputs_changed:
        st.warning(STALE_INPUT.format(run=run_label), icon=":material/history:")
    elif models_changed:
        st.warning(STALE_MODELS.format(run=run_label), icon=":material/history:")
    return inputs_changed or models_changed


def demo_note(runs: Sequence[TaskRun]) -> None:
    """One caption saying the demo models in the table are toys and what a real model is for; nothing
    when the table has none."""
    demos = [escape_markdown(r.entry.name) for r in runs if r.entry.demo and r.error is None]
    if demos:
        many = len(demos) > 1
        st.caption(DEMO_NOTE.format(names=join_words([f"**{d}**" for d in demos]),
                                    are="are toy demo models:" if many else "is a toy demo model:"))


def script_warning(note: str) -> None:
    """The ``explorer.text.script_note`` beside a result (nothing when it is empty)."""
    if note:
        st.warning(escape_markdown(note), icon=":material/translate:")
