"""Pieces of the Internals page: token grids, heatmaps and position charts."""

from __future__ import annotations

from typing import Any, Sequence

import altair as alt
import pandas as pd
import torch

SEGMENT_COLOURS = ("#e8f0fe", "#fdf0e0")
_MEMO_SIZE = 32


def memo(key: tuple, compute, slot: str | None = None):
    """Reuses a result computed for the same inputs earlier in this browser session.

    A click in one view reruns the whole page; without this it would rerun
    Integrated Gradients, the live checks and the counterfactual scoring too.
    Results are per session (no cross-session sharing of user input).

    Args:
        key: Everything the result depends on.
        compute: Makes the result.
        slot: Keep only the latest result of this kind. For big results (attention
            maps hold layers × heads × seq² floats per input: ~70 MB for a 12-layer
            model on 8 long inputs) that are cheap to recompute.
    """
    import streamlit as st

    store = st.session_state.setdefault("_internals_memo", {})
    if slot is not None:
        held = store.get(("slot", slot))
        if held is None or held[0] != key:
            store[("slot", slot)] = None  # let the old maps go before computing new ones
            store[("slot", slot)] = (key, compute())
        return store[("slot", slot)][1]
    if key not in store:
        if len(store) >= _MEMO_SIZE:
            store.pop(next(iter(store)))
        store[key] = compute()
    return store[key]


def mask_heatmap(rows: Sequence[Sequence[dict[str, Any]]], labels: Sequence[str] | None = None) -> alt.Chart:
    """The attention mask as a text × position heatmap (1 = attended, 0 = padding)."""
    labels = list(labels) if labels is not None else [str(i + 1) for i in range(len(rows))]
    data = pd.DataFrame([{"text": labels[i], "position": j, "token": c["token"],
                          "mask": "1 · attended" if int(c["attention_mask"]) else "0 · padding"}
                         for i, row in enumerate(rows) for j, c in enumerate(row)])
    return (
        alt.Chart(data).mark_rect(stroke="white")
        .encode(x=alt.X("position:O"), y=alt.Y("text:N", title="input", sort=labels),
                color=alt.Color("mask:N", scale=alt.Scale(domain=["1 · attended", "0 · padding"], range=["#2f6fde", "#e6e6e6"]),
                                title="attention mask"),
                tooltip=["text", "position", "token", "mask"])
        .properties(height=alt.Step(28))
    )


def cosine_heatmap(matrix: torch.Tensor, used: int | None = None) -> alt.Chart:
    """Cosine similarity between positions; the used range is outlined."""
    n = matrix.shape[0]
    data = pd.DataFrame([{"i": i, "j": j, "cosine": float(matrix[i, j])} for i in range(n) for j in range(n)])
    chart = alt.Chart(data).mark_rect().encode(
        x=alt.X("i:O", axis=alt.Axis(labels=n <= 64, title="position")),
        y=alt.Y("j:O", axis=alt.Axis(labels=n <= 64, title="position")),
        color=alt.Color("cosine:Q", scale=alt.Scale(scheme="redblue", domain=[-1, 1])),
        tooltip=["i", "j", alt.Tooltip("cosine:Q", format=".3f")],
    )
    return chart.properties(width=360, height=360)


def pca_chart(points: torch.Tensor, used: int) -> alt.Chart:
    """Positions in 2-D (PCA), coloured by index; the positions the input used are larger."""
    data = pd.DataFrame({"x": points[:, 0].tolist(), "y": points[:, 1].tolist(), "position": range(points.shape[0])})
    data["used"] = data["position"] < used
    return (
        alt.Chart(data).mark_circle()
        .encode(x="x:Q", y="y:Q", color=alt.Color("position:Q", scale=alt.Scale(scheme="viridis")),
                size=alt.condition("datum.used", alt.value(70), alt.value(18)), tooltip=["position"])
        .properties(width=360, height=360)
    )


def norms_chart(values: torch.Tensor, used: int) -> alt.Chart:
    data = pd.DataFrame({"position": range(len(values)), "norm": values.tolist()})
    line = alt.Chart(data).mark_line().encode(x="position:Q", y=alt.Y("norm:Q", scale=alt.Scale(zero=False)))
    rule = alt.Chart(pd.DataFrame({"position": [used - 0.5]})).mark_rule(color="#d33", strokeDash=[4, 4]).encode(x="position:Q")
    return (line + rule).properties(height=200)


def attribution_bars(result) -> alt.Chart:
    """Signed score per token, in input order (specials included, so nothing is hidden)."""
    data = pd.DataFrame({"i": range(len(result.tokens)), "token": [f"{i}:{t}" for i, t in enumerate(result.tokens)],
                         "score": [float(s) for s in result.scores]})
    return (
        alt.Chart(data).mark_bar()
        .encode(x=alt.X("token:N", sort=alt.SortField("i"), title=None, axis=alt.Axis(labelAngle=-45)),
                y=alt.Y("score:Q"), color=alt.condition("datum.score >= 0", alt.value("#3a9a4a"), alt.value("#d04545")),
                tooltip=["token", alt.Tooltip("score:Q", format=".4f")])
        .properties(height=220)
    )
