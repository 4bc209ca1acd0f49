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

# Only the open tab runs (and the tab is kept in the link): attributions and rescoring
# every edit are too slow to recompute for tabs nobody is looking at.
tabs = st.tabs(list(inside.SECTIONS), key="int_tab", on_change="rerun", bind="query-params")
for tab, section in zip(tabs, inside.SECTIONS.values()):
    if tab.open:
        with tab:
            section(ctx)
