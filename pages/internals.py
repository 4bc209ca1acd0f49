"""Inside a model: tokens, padding and the mask; positions; attention; attributions; counterfactuals."""

import streamlit as st

from explorer.ui import inside
from explorer.ui.state import get_explorer, leave_legacy_multipage_mode

leave_legacy_multipage_mode()
st.title("Inside a model")
st.caption("Must padding be fed to the model, and what does the attention mask do? Must position embeddings be passed in? "
           "Which tokens drive a judgement, and which small edit flips it? Pick a checkpoint of any task and type inputs "
           "in its shape.")
ctx = inside.choose_input(get_explorer())

tokens_tab, positions_tab, attention_tab, attr_tab, counter_tab = st.tabs(
    ["Tokens, padding and the mask", "Positional embeddings", "Attention maps", "Token attributions",
     "Korean counterfactuals"]
)
with tokens_tab:
    inside.tokens_section(ctx)
with positions_tab:
    inside.positions_section(ctx)
with attention_tab:
    inside.attention_section(ctx)
with attr_tab:
    inside.attributions_section(ctx)
with counter_tab:
    inside.counterfactuals_section(ctx)
