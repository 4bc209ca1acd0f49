"""Pieces of the Comparison page: the styled table, charts, anatomy and curves."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import altair as alt
import pandas as pd
import streamlit as st

from explorer.compare import best_cells, metric_columns
from explorer.registry import ModelEntry
from explorer.scorers import capabilities
from explorer.service import Explorer

OURS_STYLE = "background-color: #e8f0fe; font-weight: 600"
BEST_STYLE = "background-color: #b7e1b7; font-weight: 700"


def show_comparison(frame: pd.DataFrame, key: str) -> None:
    """Sortable table: our registered models tinted, each column's best dev and best test value in green, CSV export.

    Each row says its split beside the model's name, and ``data`` names the file behind each number.
    """
    metrics = [c for c in metric_columns() if c in frame.columns]
    best = best_cells(frame, metrics)  # the best dev number and the best test number of each column
    styler = (
        frame.style.apply(lambda row: [OURS_STYLE if row["ours"] else "" for _ in row], axis=1)
        .apply(lambda cells: best.loc[cells.index, cells.columns].map(lambda b: BEST_STYLE if b else ""),
               axis=None, subset=metrics)
        .format({c: "{:.2f}" for c in metrics} | {"params (M)": "{:.1f}"}, na_rep="")
    )
    shown = [c for c in frame.columns if c != "evaluated here"]  # a model not registered now says so in its name
    st.dataframe(styler, hide_index=True, width="stretch", key=f"{key}-table", placeholder="", column_order=shown,
                 column_config={"ours": st.column_config.CheckboxColumn("ours", width="small",
                                                                        help="a model registered here, evaluated here"),
                                "split": st.column_config.TextColumn("split", width="small",
                                                                     help=SPLIT_HELP),
                                "data": st.column_config.TextColumn("data", help="the file behind each number"),
                                "source": st.column_config.TextColumn("source", width="large")})
    st.download_button("Download CSV", frame.to_csv(index=False).encode("utf-8-sig"),
                       file_name="comparison.csv", mime="text/csv", key=f"{key}-csv")


SPLIT_HELP = ("the data every number in the row was measured on: dev, test, train, generated (the project's own "
              "demo data) or unknown (the file's name does not say)")
# Bars: our registered models blue, results of models no longer registered light blue, published grey.
_WHO = {"ours": "#2f6fde", "evaluated here, not registered now": "#9dbcf0", "published": "#a0a0a0"}


def metric_chart(frame: pd.DataFrame, metric: str) -> alt.Chart:
    """Horizontal bars for one metric, best first, every bar named (model · split) and labelled with its value."""
    data = frame[frame[metric].notna()][["model", "split", metric, "ours", "evaluated here", "source"]].copy()
    data["bar"] = data["model"] + " · " + data["split"].astype(str)
    data["who"] = ["ours" if ours else "evaluated here, not registered now" if here else "published"
                   for ours, here in zip(data["ours"], data["evaluated here"])]
    data["score"] = data[metric]  # a plain field name: vega reads dots and brackets in names as paths
    data["value"] = data["score"].map(lambda v: f"{v:.2f}")
    # A bar's name sits on the axis (Korean names read across, never slanted); its value at the bar's end.
    # The order is given as a list: a layered chart does not sort by its x field.
    order = list(data.sort_values("score", ascending=False, kind="stable")["bar"])
    y = alt.Y("bar:N", sort=order, title=None, axis=alt.Axis(labelLimit=320, labelOverlap=False, labelFontSize=12))
    # "~g": ticks read 0, 20, 40 (with every score equal, vega's own format wrote 0.000000).
    base = alt.Chart(data).encode(y=y, x=alt.X("score:Q", title=metric, axis=alt.Axis(format="~g")))
    bars = base.mark_bar().encode(
        color=alt.Color("who:N", scale=alt.Scale(domain=list(_WHO), range=list(_WHO.values())), title=None,
                        legend=alt.Legend(orient="bottom", labelLimit=400)),  # "…, not registered now" whole
        tooltip=["model", "split", alt.Tooltip("score:Q", format=".2f", title=metric), "source"],
    )
    # Negative values (an MCC below 0) get their label on the left of the bar's end.
    labels = base.mark_text(align="left", dx=4, fontSize=12).encode(text="value:N").transform_filter("datum.score >= 0")
    negative = base.mark_text(align="right", dx=-4, fontSize=12).encode(text="value:N").transform_filter("datum.score < 0")
    # A step per bar, not a fixed height: Streamlit squeezed a layered chart's fixed height and names overlapped.
    return (bars + labels + negative).properties(height=alt.Step(24))


def anatomy_chart(frame: pd.DataFrame, shares: bool = True) -> alt.Chart:
    """One bar per model, split into its parts (``explorer.anatomy.parts_frame``), each part labelled.

    Args:
        shares: Bars of 100 % (each model's own shares, so small models read beside large ones);
            False: parameter counts.
    """
    field, axis = ("share:Q", alt.Axis(format="%")) if shares else ("parameters:Q", alt.Axis(format="~s"))
    # A part's share is written inside it when it is at least 6 % of the bar's axis wide; thinner ones cannot hold it
    # (with counts, the axis is the largest model: a 1M demo's parts are all too thin beside e5's 118M).
    widest = 1.0 if shares else frame.groupby("model")["parameters"].sum().max()
    width = frame["share"] if shares else frame["parameters"] / widest
    data = frame.assign(label=[f"{share:.0%}" if w >= 0.06 else "" for share, w in zip(frame["share"], width)])
    base = alt.Chart(data).encode(
        x=alt.X(field, title="share of the model's parameters" if shares else "parameters", axis=axis,
                stack="zero", scale=alt.Scale(domain=[0, 1]) if shares else alt.Undefined),
        y=alt.Y("model:N", title=None, sort=None, axis=alt.Axis(labelLimit=260, labelFontSize=12)),
        order=alt.Order("order:Q"),
    )
    present = [part for part in _PART_COLOURS if part in set(frame["part"])]  # the legend lists only parts shown
    bars = base.mark_bar().encode(
        color=alt.Color("part:N", sort=alt.SortField("order"), title=None, legend=alt.Legend(orient="bottom"),
                        scale=alt.Scale(domain=present, range=[_PART_COLOURS[p] for p in present])),
        tooltip=["model", "part", alt.Tooltip("parameters:Q", format=","), alt.Tooltip("share:Q", format=".1%")],
    )
    text = base.mark_text(align="right", dx=-4, color="white", fontSize=12, fontWeight="bold").encode(text="label:N")
    # A step per bar, not a fixed height: Streamlit squeezed a layered chart's fixed height and dropped names.
    return (bars + text).properties(height=alt.Step(34))


_PART_COLOURS = {"embeddings": "#2f6fde", "encoder layers": "#9aa5b1", "pooler + head": "#f0a030", "other": "#d0d0d0"}


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


def ask_every_model(explorer: Explorer, entries: Sequence[ModelEntry], live: dict[str, str]) -> None:
    """Runs the live form through every registered model of each task it fills; keeps the table and the link.

    An empty sentence is refused as every task page refuses an empty field, and the previous table goes, so an
    answer never stands under inputs it was not given. The link carries exactly what was asked.
    """
    from explorer.compare import live_items, live_table
    from explorer.tasks.items import InputError
    from explorer.ui.state import current_precision

    try:
        if not live.get("s", "").strip():
            raise InputError("Fill in the sentence.")
        items = live_items(live, analyse=explorer.kiwi().morphemes)
        if not items:
            raise InputError("No task can take these inputs.")
    except InputError as exc:
        st.warning(f"{exc} Type your own; every model then answers it.")
        st.session_state.pop("live_result", None)
        for key in live:  # the link keeps no inputs the page refused
            st.query_params.pop(key, None)
        return
    with st.spinner(f"Asking the models of {len(items)} task(s)…"):
        runs = {task: explorer.predict([e for e in entries if e.task == task and not e.problems], task, [item],
                                       device=st.session_state.get("device"), precision=current_precision())
                for task, item in items.items()}
    st.session_state["live_result"] = live_table(runs)
    for key, value in live.items():  # the link carries what was asked, and forgets cleared fields
        if value:
            st.query_params[key] = value
        else:
            st.query_params.pop(key, None)
