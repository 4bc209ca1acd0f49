"""Result tables coloured to read at a glance, with CSV download; the signs every table shares.

``MISSING`` is the one sign a table shows for a value that is not there (a model without a parameter count,
a probability a model could not give), and ``STALE`` the one style of a table that answers an earlier input.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

DISPLAY_CHARS = 160  # long sentences are shortened on screen; the CSV keeps them whole
# What a cell without a value shows (st.dataframe's ``placeholder``, a Styler's ``na_rep``): a dash reads as
# "nothing here", where Streamlit's default "None" reads like a name or an answer.
MISSING = "—"
STALE = "color: #9e9e9e"  # every cell of a table that answers an earlier input


def probability_colour(p: float) -> str:
    """Red (0) → pale (0.5) → green (1); pale near 0.5 shows the model is unsure."""
    if pd.isna(p):
        return ""
    p = float(p)
    if p >= 0.5:
        strength = (p - 0.5) * 2
        rgb = (int(255 - 155 * strength), int(255 - 45 * strength), int(255 - 135 * strength))
    else:
        strength = (0.5 - p) * 2
        rgb = (int(255 - 15 * strength), int(255 - 140 * strength), int(255 - 140 * strength))
    return f"background-color: rgb{rgb}; color: #111"


def _agreement_colour(value: float) -> str:
    if pd.isna(value):
        return ""
    return "background-color: #fff3c4; color: #111" if value < 1 else "color: #2b6a2b"


def show_probability_table(df: pd.DataFrame, key: str, file_name: str) -> None:
    """Shows a sentence × model table with probabilities coloured.

    Args:
        df: Columns ``sentence``, ``P(...) · model`` per model, ``verdict``,
            ``agreement``, ``notes`` (from ``explorer.tasks.results.matrix_frame``).
        key: Unique key for the widgets.
        file_name: Download file name.
    """
    shown = df.copy()
    shown["sentence"] = shown["sentence"].map(lambda s: s if len(s) <= DISPLAY_CHARS else s[:DISPLAY_CHARS] + "…")
    prob_cols = [c for c in shown.columns if c.startswith("P(")]
    # Short headers keep the table narrow on a laptop; the full name is in the CSV.
    rename = {c: c.split(" · ", 1)[1] for c in prob_cols}
    shown = shown.rename(columns=rename)
    if shown["notes"].eq("").all():
        shown = shown.drop(columns=["notes"])
    styler = (
        shown.style.map(probability_colour, subset=list(rename.values()))
        .map(_agreement_colour, subset=["agreement"])
        .format({**{c: "{:.2f}" for c in rename.values()}, "agreement": "{:.0%}"}, na_rep=MISSING)
    )
    st.dataframe(styler, hide_index=True, key=f"{key}-table", width="stretch", placeholder=MISSING)
    st.download_button(
        "Download CSV",
        df.to_csv(index=False).encode("utf-8-sig"),  # BOM so Excel opens Hangul correctly
        file_name=file_name,
        mime="text/csv",
        key=f"{key}-csv",
    )
