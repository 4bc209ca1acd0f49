"""Attention maps block: pick an input, layer and head; padding hidden unless asked.

The chart builders (:func:`head_heatmap`, :func:`pad_share_heatmap`) are pure: they
take :class:`~explorer.internals.attention.AttentionMaps` and return Altair charts,
so they are tested without a running app. :func:`attention_view` only adds widgets.
"""

from __future__ import annotations

from collections.abc import Sequence

import altair as alt
import pandas as pd

from explorer.internals.attention import AttentionMaps, head_map, pad_attention_share

_CELL_PX = 22  # per token: Hangul labels need ~20 px of height to stay legible
_MAX_PX = 600  # beyond this a laptop screen scrolls; cells shrink instead
_MIN_PX = 120
MEAN_OF_HEADS = "mean of heads"
# Streamlit fits a chart's *whole* box (axis labels and legend included) into width/height,
# so long Korean token labels would squeeze the cells; "pad" sizes the cells and grows the box.
_PAD = alt.AutoSizeParams(type="pad")


def _extent(n: int) -> int:
    return max(_MIN_PX, min(_MAX_PX, _CELL_PX * n))


def _axis(n: int, **extra) -> alt.Axis:
    """Token labels shrink with the cells; past ~60 tokens some are skipped rather
    than printed on top of each other (the tooltip still names every cell)."""
    size = max(7, min(12, _extent(n) // max(n, 1)))
    return alt.Axis(labelFontSize=size, labelLimit=160, labelOverlap="greedy", **extra)


def head_heatmap(
    maps: AttentionMaps, layer: int, head: int | None, row: int, show_padding: bool = False, label: str | None = None
) -> alt.Chart:
    """Query tokens (y) x key tokens (x) for one layer, head (None: mean) and input.

    Labels are ``position:token`` so repeated tokens stay distinct and the axes keep
    input order; pad keys are outlined in grey when shown.
    """
    hm = head_map(maps, layer, head, row, show_padding=show_padding)
    data = pd.DataFrame(
        [
            {"query": q, "key": k, "weight": float(hm.weights[i, j]), "key_is_pad": hm.key_pad[j],
             "query_is_pad": hm.query_pad[i]}
            for i, q in enumerate(hm.query_labels)
            for j, k in enumerate(hm.key_labels)
        ],
        columns=["query", "key", "weight", "key_is_pad", "query_is_pad"],
    )
    return (
        # The page's own name for the row (``2·alt 1`` for COPA) when given.
        alt.Chart(data, title=hm.title if label is None else hm.title.rsplit("input", 1)[0] + f"input {label}")
        .mark_rect()
        .encode(
            # Explicit sort lists keep input order (labels are unique thanks to the position prefix).
            # Vertical labels fit one cell each; slanted ones overlap and Vega drops every other one.
            x=alt.X("key:N", sort=hm.key_labels, title="key (attended to)", axis=_axis(len(hm.key_labels), labelAngle=-90)),
            y=alt.Y("query:N", sort=hm.query_labels, title="query (attending)", axis=_axis(len(hm.query_labels))),
            color=alt.Color("weight:Q", scale=alt.Scale(scheme="blues", zero=True), title="weight"),
            stroke=alt.condition("datum.key_is_pad", alt.value("#999"), alt.value(None)),
            tooltip=["query", "key", alt.Tooltip("weight:Q", format=".4f"), "key_is_pad"],
        )
        .properties(width=_extent(len(hm.key_labels)), height=_extent(len(hm.query_labels)), autosize=_PAD)
    )


def pad_share_heatmap(maps: AttentionMaps) -> alt.Chart | None:
    """Layer x head share of real tokens' attention on [PAD]; None without padding."""
    share = pad_attention_share(maps)
    if not maps.has_padding or bool(share.isnan().all()):
        return None
    data = pd.DataFrame(
        [{"layer": layer, "head": head, "share": float(share[layer, head])}
         for layer in range(share.shape[0]) for head in range(share.shape[1])]
    )
    return (
        alt.Chart(data, title="attention on [PAD] (share, real-token queries)")
        .mark_rect(stroke="white")
        .encode(
            x=alt.X("head:O"),
            y=alt.Y("layer:O"),
            # A fixed 0..1 scale: with the mask every cell is white, which is the point.
            color=alt.Color("share:Q", scale=alt.Scale(scheme="orangered", domain=[0, 1]), title="share"),
            tooltip=["layer", "head", alt.Tooltip("share:Q", format=".2%")],
        )
        .properties(width=min(_MAX_PX // 2, 28 * share.shape[1]), height=min(_MAX_PX // 2, 24 * share.shape[0]),
                    autosize=_PAD)
    )


def _row_label(maps: AttentionMaps, row: int, labels: Sequence[str] | None = None) -> str:
    text = maps.texts[row] if maps.pairs is None else f"{maps.texts[row]} / {maps.pairs[row]}"
    pads = sum(maps.pad[row])
    name = labels[row] if labels is not None and row < len(labels) else str(row + 1)
    return f"{name}: {text[:40]}{'…' if len(text) > 40 else ''}" + (f" ({pads} pad)" if pads else "")


def attention_view(maps: AttentionMaps, key: str, labels: Sequence[str] | None = None) -> None:
    """The block: input/layer/head pickers, a "show padding" toggle, the head map and
    the layer x head pad-share overview. Widget keys derive from ``key``; ``labels``
    name the rows as the rest of the page does (``1·alt 2`` for COPA)."""
    import streamlit as st

    cols = st.columns([3, 1, 1, 1])
    row = cols[0].selectbox("input", range(maps.num_rows), format_func=lambda r: _row_label(maps, r, labels),
                            key=f"{key}_row")
    layer = cols[1].selectbox("layer", range(maps.num_layers), key=f"{key}_layer")
    head = cols[2].selectbox("head", [None, *range(maps.num_heads)], key=f"{key}_head",
                             format_func=lambda h: MEAN_OF_HEADS if h is None else str(h))
    show_padding = cols[3].toggle("show padding", value=False, key=f"{key}_pad")
    label = labels[row] if labels is not None and row < len(labels) else None
    st.altair_chart(head_heatmap(maps, layer, head, row, show_padding, label), width="content")
    mask_state = "with the attention mask" if maps.with_mask else "WITHOUT the attention mask (all ones)"
    st.caption(f"Run {mask_state}. Each row (query) sums to 1 over all keys, pads included.")
    overview = pad_share_heatmap(maps)
    if overview is None:
        st.caption("No padding in this batch (all inputs have the same length): nothing can leak to [PAD].")
    else:
        st.altair_chart(overview, width="content")
        largest = float(pad_attention_share(maps).nan_to_num(0.0).max())
        st.caption("How much of real tokens' attention goes to [PAD] per layer and head: ~0 with the mask; "
                   f"without it, attention leaks to the padding. Largest share here: {largest:.1%}.")
    for note in maps.notes:
        st.caption(note)
