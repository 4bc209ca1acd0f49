"""ko-model-explorer: entry point. Run with `make run` (or `streamlit run app.py`).

Everything above `navigation.run()` is cheap to import and draw, so a fresh
server shows the navigation and Home at once; torch and transformers load in
the background meanwhile (explorer.ui.boot).
"""

import streamlit as st

from explorer.tasks.registry import TASKS
from explorer.ui.access import require_access
from explorer.ui.boot import warm_up, warming_up
from explorer.ui.state import device_picker, ensure_defaults, leave_legacy_multipage_mode, precision_picker, settings_or_stop

warm_up()  # no-op when the launcher already started it
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
    st.Page("pages/room.py", title="Peer room", icon=":material/groups:", url_path="room"),
]

settings = settings_or_stop()
navigation = st.navigation(PAGES)
# The page list is drawn here, not by Streamlit: .streamlit/config.toml turns Streamlit's own list off, because
# on a fresh server it would first list the pages/ folder's files (its legacy mode, until this script's first
# st.navigation call).
for page in PAGES:
    st.sidebar.page_link(page)
st.sidebar.caption("Korean checkpoints, side by side")
pickers = st.sidebar.container()
ensure_defaults(settings)


def draw_pickers() -> None:
    with pickers:
        device_picker()
        precision_picker()


if warming_up():
    # A fresh server is still importing torch, which the device and precision pickers need: the page draws first
    # (until then its reads of both fall back to the pickers' defaults), the pickers after it. A page that stops
    # early leaves them out of this one run; nothing was picked yet, so nothing is lost.
    navigation.run()
    draw_pickers()
else:
    draw_pickers()
    navigation.run()
