"""Pieces of the acceptability page: URL state, examples, sentences as items, Kiwi morpheme chart."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence
from urllib.parse import quote

import altair as alt
import pandas as pd
import streamlit as st

from explorer.tasks.cola import ColaItem
from explorer.tasks.predict import Prediction
from explorer.tasks.registry import get as get_task
from explorer.tasks.results import model_tallies
from explorer.tasks.runs import TaskRun
from explorer.tasks.base import short
from explorer.text import CleanedInput, escape_markdown, script_note
from explorer.ui.feedback import Timing

MAX_URL_CHARS = 6000  # browsers and chat apps cut longer links


def read_url_state() -> tuple[str, list[str]]:
    """Sentences (``s``, newline-separated) and model names (``m``, repeated) from the URL."""
    text = st.query_params.get("s", "")
    models = st.query_params.get_all("m")
    return text, models


def write_url_state(text: str, model_names: list[str]) -> None:
    """Puts the inputs in the URL so a copied link reproduces the table."""
    if len(quote(text)) > MAX_URL_CHARS:
        st.caption("The sentences are too long to share in a link; the URL keeps only the models.")
        text = ""
    st.query_params.from_dict({"s": text, "m": model_names} if text else {"m": model_names})


def add_example(examples: list[tuple[str, str]]) -> None:
    """Appends the clicked example to the text area, then clears the pill (a callback)."""
    picked = st.session_state.get("cola_example")
    st.session_state["cola_example"] = None
    if picked is None:
        return
    sentence = examples[picked][0]
    current = st.session_state.get("cola_text", "").rstrip("\n")
    if sentence not in current.splitlines():
        st.session_state["cola_text"] = (current + "\n" if current else "") + sentence


@dataclass
class CoLAResult:
    """What the page scored: the text as typed (to tell when the box has changed since), the cleaned
    sentences, their items, each model's run, and how long it took."""

    text: str
    cleaned: CleanedInput
    items: list[ColaItem]
    runs: list[TaskRun]
    timing: Timing = field(default_factory=Timing)


def expected_labels(sentences: Sequence[str]) -> list[int | None]:
    """Per sentence, the right answer when it is a built-in example, else None (no guess)."""
    cola = get_task("cola")
    return [cola.expected_label({"sentence": s}) for s in sentences]


def tally_line(runs: Sequence[TaskRun], expected: Sequence[int | None]) -> str:
    """How many built-in examples each model got right, as markdown; "" when no sentence is one."""
    tallies = model_tallies(runs, expected)
    if not tallies or not any(e is not None for e in expected):
        return ""
    known = next(iter(tallies.values()))[1]
    each = " · ".join(f"{escape_markdown(name)} {right} of {total}" for name, (right, total) in tallies.items())
    what = "sentence is a built-in example" if known == 1 else "sentences are built-in examples"
    return f"**Right answers:** {known} {what} with a known answer — {each}"


def sentences_script_note(sentences: Sequence[str]) -> str:
    """Names the sentences with little or no Korean (quoted, shortened); "" when all are Korean."""
    return script_note({f"“{short(s, 24)}”": s for s in sentences})


def sentence_items(sentences: Sequence[str]) -> list[ColaItem]:
    """Typed sentences (already cleaned) as CoLA items, numbered from 1, for ``Explorer.predict``."""
    return [ColaItem(str(n), sentence, None) for n, sentence in enumerate(sentences, start=1)]


def morpheme_chart(prediction: Prediction) -> alt.Chart:
    """Bar chart of Kiwi's log-probability per morpheme (from a Kiwi LM prediction's ``details``);
    the lowest bars mark the trouble."""
    morphemes = (prediction.details or {}).get("morphemes", [])
    frame = pd.DataFrame(
        {
            "position": list(range(len(morphemes))),
            "morpheme": [f"{m['form']}/{m['tag']}" for m in morphemes],
            "log-probability": [m["logprob"] for m in morphemes],
        }
    )
    return (
        alt.Chart(frame)
        .mark_bar()
        .encode(
            x=alt.X("morpheme:N", sort=alt.SortField("position"), title=None, axis=alt.Axis(labelAngle=0, labelFontSize=13)),
            y=alt.Y("log-probability:Q", title="log-probability"),
            color=alt.Color("log-probability:Q", scale=alt.Scale(scheme="redyellowgreen", domain=[-12, 0]), legend=None),
            tooltip=["morpheme", alt.Tooltip("log-probability:Q", format=".2f")],
        )
        .properties(height=260)
    )
