"""Evaluate: models × a NIKL/KoBEST file → metrics, confusion, slices, errors."""

import pandas as pd
import streamlit as st

from explorer.evaluate import ResultStore, data_label, slice_context_of
from explorer.registry import TASKS
from explorer.tasks.generic import is_generic
from explorer.tasks.registry import get as get_task
from explorer.text import escape_markdown
from explorer.ui.evaluate import (
    RUN_LABEL,
    EvalRun,
    choose_dataset,
    data_key,
    model_names,
    parsed_upload,
    run_evaluations,
    show_run,
)
from explorer.ui.feedback import stale_warning
from explorer.ui.model_picker import pick_models
from explorer.ui.state import get_explorer, leave_legacy_multipage_mode
from explorer.ui.tables import MISSING

leave_legacy_multipage_mode()
explorer = get_explorer()
store = ResultStore(explorer.settings.results)
st.title("Evaluate")
st.caption("Score checkpoints on the NIKL 2021 or KoBEST files you have. Results are saved and feed the comparison.")

entries, _ = explorer.registry()
# Registered tasks, then the label sets of checkpoints no task claims (each evaluated on a text/label TSV).
choices = [*TASKS, *dict.fromkeys(e.task for e in entries if is_generic(e.task))]
task = st.segmented_control("Task", choices, default=choices[0], format_func=lambda t: get_task(t).title,
                            key="eval_task") or choices[0]
if is_generic(task):
    st.caption("A classifier of its own: upload a TSV with a `text` column (and optionally `text_pair` and `id`) and a "
               f"`label` column holding a class id or a label name "
               f"({escape_markdown(', '.join(get_task(task).label_names.values()))}).")
dataset, content = choose_dataset(task, explorer.settings.data_dir, key="eval")
targets = None
if dataset is not None:
    st.caption(
        f"{escape_markdown(dataset.path)}: {len(dataset.items):,} items, format {dataset.format}, "
        + ("labelled" if dataset.labelled else "unlabelled: predictions only")
    )
    for warning in dataset.warnings:
        st.warning(warning)
    if get_task(task).slice_upload:
        train = parsed_upload(get_task(task).slice_upload, ["tsv"], f"eval_train_{task}", kind=f"{task}-slice-context",
                              parse=lambda data, name: slice_context_of(task, data, name=name))
        if train is not None and train.error:
            st.error(f"The train file cannot be read: {train.error}")
        elif train is not None:
            targets = train.value

models = pick_models(entries, task, key=f"eval_models_{task}")
batch_size = st.select_slider("Batch size", [8, 16, 32, 64, 128], value=32, key="eval_bs")
if st.button(RUN_LABEL, type="primary", key="eval_run", disabled=dataset is None or not models):
    results, errors, timing = run_evaluations(explorer, models, task, dataset, content, store, batch_size)
    st.session_state["eval_state"] = EvalRun(task, dataset, results, errors, targets, model_names(models), timing)

run = st.session_state.get("eval_state")
if isinstance(run, EvalRun) and run.task == task:
    show_run(run, store, stale=stale_warning(RUN_LABEL, run.data_key != data_key(dataset),
                                             run.models != model_names(models), what="file"))

with st.expander("Saved results"):
    saved = store.load_all()
    if saved:
        st.dataframe(
            pd.DataFrame([{"model": r.model, "task": r.task, "data": data_label(r.data), "n": len(r.predictions),
                           "main metric": r.main_metric, "when": r.created} for r in saved]),
            hide_index=True, width="stretch", placeholder=MISSING,
        )
    else:
        st.caption("None yet.")
