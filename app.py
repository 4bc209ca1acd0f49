"""ko-model-explorer: entry point. Run with `make run` (or `streamlit run app.py`)."""

import streamlit as st

from explorer.tasks.registry import TASKS
from explorer.ui.access import require_access
from explorer.ui.state import device_picker, ensure_defaults, explorer_or_stop, leave_legacy_multipage_mode, precision_picker

leave_legacy_multipage_mode()
st.set_page_config(page_title="ko-model-explorer", page_icon="🔎", layout="wide")
require_access()  # before st.navigation: no page runs for a session without the code (when one is needed)

# Task pages come from the task registry, in its order: a registered task is listed with no edit here.
PAGES = [
    st.Page("pages/home.py", title="Home", icon=":material/home:", default=True),
    *(st.Page(task.nav.file, title=task.nav.title, icon=task.nav.icon, url_path=task.nav.url_path)
      for task in TASKS.values()),
    # Checkpoints whose labels no registered task uses, each with its own labels (explorer.tasks.generic).
    st.Page("pages/classifiers.py", title="Other classifiers", icon=":material/category:", url_path="classifiers"),
    st.Page("pages/evaluate.py", title="Evaluate", icon=":material/fact_check:", url_path="evaluate"),
    st.Page("pages/internals.py", title="Inside a model", icon=":material/biotech:", url_path="internals"),
    st.Page("pages/compare.py", title="Comparison", icon=":material/leaderboard:", url_path="compare"),
]

explorer = explorer_or_stop()
navigation = st.navigation(PAGES)
st.sidebar.caption("Korean checkpoints, side by side")
device_picker()
precision_picker()
ensure_defaults(explorer)
navigation.run()
