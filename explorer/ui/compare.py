"""Pieces of the Comparison page: the styled table, charts, anatomy and curves."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import altair as alt
import pandas as pd
import streamlit as st

from explorer.compare import metric_columns
from explorer.scorers import capabilities

OURS_STYLE = "background-color: #e8f0fe; font-weight: 600"


def show_comparison(frame: pd.DataFrame, key: str) -> None:
    """Sortable table: our rows tinted, the best value per metric column in green, CSV export."""
    metrics = [c for c in metric_columns() if c in frame.columns]
    styler = (
        frame.style.apply(lambda row: [OURS_STYLE if row["ours"] else "" for _ in row], axis=1)
        .highlight_max(subset=metrics, color="#b7e1b7", props="background-color: #b7e1b7; font-weight: 700")
        .format({c: "{:.2f}" for c in metrics} | {"params (M)": "{:.1f}"}, na_rep="")
    )
    st.dataframe(styler, hide_index=True, width="stretch", key=f"{key}-table", placeholder="",
                 column_config={"ours": st.column_config.CheckboxColumn("ours", width="small"),
                                "source": st.column_config.TextColumn("source", width="large")})
    st.download_button("Download CSV", frame.to_csv(index=False).encode("utf-8-sig"), file_name="comparison.csv",
                       mime="text/csv", key=f"{key}-csv")


def metric_chart(frame: pd.DataFrame, metric: str) -> alt.Chart:
    """Bars for one metric, best first; our models in blue, published ones in grey."""
    data = frame[frame[metric].notna()][["model", metric, "ours", "source"]].copy()
    data["who"] = data["ours"].map({True: "ours", False: "published"})
    return (
        alt.Chart(data)
        .mark_bar()
        .encode(
            x=alt.X(f"{metric}:Q", title=metric),
            y=alt.Y("model:N", sort="-x", title=None, axis=alt.Axis(labelLimit=260)),
            color=alt.Color("who:N", scale=alt.Scale(domain=["ours", "published"], range=["#2f6fde", "#a0a0a0"]), title=None),
            tooltip=["model", alt.Tooltip(f"{metric}:Q", format=".2f"), "source"],
        )
        .properties(height=max(120, 24 * len(data)))
    )


def anatomy_chart(frame: pd.DataFrame) -> alt.Chart:
    """Stacked bars: where each model's parameters live."""
    return (
        alt.Chart(frame[frame["parameters"] > 0])
        .mark_bar()
        .encode(
            x=alt.X("parameters:Q", title="parameters", axis=alt.Axis(format="~s")),
            y=alt.Y("model:N", title=None, axis=alt.Axis(labelLimit=260)),
            color=alt.Color("part:N", sort=alt.SortField("order"), title="part"),
            order=alt.Order("order:Q"),
            tooltip=["model", "part", alt.Tooltip("parameters:Q", format=","), alt.Tooltip("share:Q", format=".1%")],
        )
        .properties(height=max(120, 40 * frame["model"].nunique()))
    )


def curves_chart(frame: pd.DataFrame, names: Sequence[str]) -> alt.Chart:
    """Training/eval curves of several runs overlaid, one panel per logged name; best checkpoints circled."""
    data = frame[frame["name"].isin(names)]
    lines = alt.Chart().mark_line(point=True).encode(
        x=alt.X("step:Q"), y=alt.Y("value:Q", scale=alt.Scale(zero=False)), color="model:N",
        tooltip=["model", "name", "step", "epoch", alt.Tooltip("value:Q", format=".4f")],
    )
    best = alt.Chart().transform_filter("datum.best").mark_point(
        size=180, shape="circle", filled=False, strokeWidth=2, color="black"
    ).encode(x="step:Q", y="value:Q")
    # Facets need the data on the layer, not on each part.
    return (
        alt.layer(lines, best, data=data)
        .properties(width=330, height=220)
        .facet(facet=alt.Facet("name:N", title=None), columns=2)
        .resolve_scale(y="independent")
    )


def checkpoint_folders(entries) -> dict[str, Path]:
    """Registered transformer checkpoints that are local folders (curves and anatomy need the files)."""
    out = {}
    for e in entries:
        path = Path(e.source)
        if capabilities(e).checkpoint and not e.problems and path.is_dir():
            # Trainer output often sits one level up from the registered checkpoint-N folder.
            out[e.name] = path.parent if path.name.startswith("checkpoint-") else path
    return out
