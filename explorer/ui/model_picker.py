"""Choosing models for a task, with unusable ones explained rather than hidden."""

from __future__ import annotations

from typing import Sequence

import streamlit as st

from explorer.registry import ModelEntry
from explorer.scorers import capabilities
from explorer.text import escape_markdown


def usable_for(entries: Sequence[ModelEntry], task: str) -> tuple[list[ModelEntry], list[ModelEntry]]:
    """Splits entries into (usable for ``task``, registered for it but broken)."""
    for_task = [e for e in entries if e.task == task]
    return [e for e in for_task if not e.problems], [e for e in for_task if e.problems]


def label_for(entry: ModelEntry) -> str:
    tags = []
    if entry.demo:
        tags.append("demo")
    if tag := capabilities(entry).tag:
        tags.append(tag)
    if entry.origin in {"models.toml", "checkpoints"}:
        tags.append("yours")
    # "Kiwi LM (zero-shot)" says it already: "[zero-shot]" after it would only repeat it.
    tags = [tag for tag in tags if f"({tag})" not in entry.name]
    return entry.name + (f"  [{', '.join(tags)}]" if tags else "")


def missing_reason(entries: Sequence[ModelEntry], name: str, task: str | None = None,
                   otherwise: str = "not available") -> str:
    """Why a model named in a link is not offered here (for ``task``, when a page asks for one)."""
    entry = next((e for e in entries if e.name == name), None)
    if entry is None:
        return "not registered on this server"
    if task and entry.task != task:
        return f"registered for {entry.task}, not {task}" if entry.task else "registered without a task"
    return f"cannot be used: {entry.problems[0]}" if entry.problems else otherwise


def _say_missing(entries: Sequence[ModelEntry], task: str, missing: Sequence[str], shown: Sequence[str]) -> None:
    # A link from a classmate may name a model this server lacks: say so, rather than silently showing others.
    if not missing:
        return
    lines = [f"- **{escape_markdown(n)}**: {missing_reason(entries, n, task)}" for n in missing]
    instead = f" Showing {', '.join(escape_markdown(n) for n in shown)} instead." if shown else ""
    st.warning("The link names models that are not available here:\n" + "\n".join(lines) + "\n\n" + instead.strip())


def pick_models(
    entries: Sequence[ModelEntry], task: str, key: str, preselected: Sequence[str] | None = None
) -> list[ModelEntry]:
    """A multiselect of the models registered for ``task``.

    Args:
        entries: The registry.
        task: Task id (``cola`` ...).
        key: Widget key, unique per page.
        preselected: Names to select first (e.g. from the URL); unknown names are ignored.

    Returns:
        The chosen entries, in registry order.
    """
    usable, broken = usable_for(entries, task)
    names = [e.name for e in usable]
    by_name = {e.name: e for e in usable}
    default = [n for n in (preselected or []) if n in by_name] or names
    if key not in st.session_state:
        _say_missing(entries, task, [n for n in (preselected or []) if n not in by_name], shown=default)
        st.session_state[key] = default
    else:
        st.session_state[key] = [n for n in st.session_state[key] if n in by_name]
    chosen = st.multiselect(
        "Models",
        names,
        key=key,
        format_func=lambda n: label_for(by_name[n]),
        help="Every model registered for this task. Add yours to checkpoints/ or models.toml.",
    )
    if broken:
        with st.expander(f"{len(broken)} registered model(s) cannot be used"):
            for e in broken:
                st.markdown(f"**{escape_markdown(e.name)}** — {escape_markdown(e.problems[0])}")
    return [by_name[n] for n in chosen]
