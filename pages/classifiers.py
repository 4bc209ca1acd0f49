"""Other classifiers: checkpoints whose labels no registered task uses, each shown with its own label names."""

import streamlit as st

from explorer.tasks.generic import is_generic
from explorer.tasks.registry import TASKS, get
from explorer.ui.state import get_explorer, leave_legacy_multipage_mode
from explorer.ui.task_page import render

leave_legacy_multipage_mode()
explorer = get_explorer()
entries, _ = explorer.registry()
label_sets = list(dict.fromkeys(e.task for e in entries if is_generic(e.task)))
if not label_sets:
    st.title("Other classifiers")
    st.info(
        "No checkpoint here has a classification head that no task claims. A checkpoint whose `config.json` names "
        "labels no task uses (say `id2label = {0: \"bad\", 1: \"good\"}`) is listed here with its own labels, and can "
        f"be evaluated on a TSV with `text` and `label` columns. Registered tasks: {', '.join(TASKS)}."
    )
    st.stop()

# A shared link names models: open the label set they belong to.
linked = [e.task for e in entries if e.name in st.query_params.get_all("m") and e.task in label_sets]
start = label_sets.index(linked[0]) if linked else 0
counts = {t: sum(e.task == t for e in entries) for t in label_sets}
chosen = label_sets[0] if len(label_sets) == 1 else st.selectbox(
    "Label set", label_sets, index=start, key="classifiers_task",
    format_func=lambda t: f"{' / '.join(get(t).label_names.values())} ({counts[t]} model{'s' * (counts[t] > 1)})",
)
render(get(chosen))
