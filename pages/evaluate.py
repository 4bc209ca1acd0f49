"""Evaluate: models × a NIKL/KoBEST file → metrics, confusion, slices, errors."""

import pandas as pd
import streamlit as st

from explorer.evaluate import (
    METRIC_COLUMNS,
    ResultStore,
    disagreements,
    metrics_frame,
    predictions_frame,
    slice_context_of,
    slice_metrics,
)
from explorer.registry import TASKS
from explorer.tasks.generic import is_generic
from explorer.tasks.registry import get as get_task
from explorer.ui.evaluate import (
    choose_dataset,
    confusion_chart,
    filter_predictions,
    parsed_upload,
    result_downloads,
    run_evaluations,
)
from explorer.ui.model_picker import pick_models
from explorer.ui.state import get_explorer, leave_legacy_multipage_mode

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
               f"`label` column holding a class id or a label name ({', '.join(get_task(task).label_names.values())}).")
dataset, content = choose_dataset(task, explorer.settings.data_dir, key="eval")
targets = None
if dataset is not None:
    st.caption(
        f"{dataset.path}: {len(dataset.items):,} items, format {dataset.format}, "
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
if st.button("Evaluate", type="primary", key="eval_run", disabled=dataset is None or not models):
    results, errors = run_evaluations(explorer, models, task, dataset, content, store, batch_size)
    st.session_state["eval_state"] = (task, dataset, results, errors, targets)

state = st.session_state.get("eval_state")
if state and state[0] == task:
    _, dataset, results, errors, targets = state
    for error in errors:
        st.error(error)
    if results:
        st.success(f"Evaluated {len(results)} model(s) on {results[0].data['name']}; results saved to {store.folder}.")
        st.subheader("Metrics")
        frame = metrics_frame(results)
        main = METRIC_COLUMNS[get_task(task).main_metric]
        st.dataframe(
            frame.style.highlight_max(subset=[main], color="#cdeccd").format(
                {"accuracy": "{:.4f}", "MCC": "{:.4f}", "F1 macro": "{:.4f}", "seconds": "{:.1f}"}, na_rep="–"
            ),
            hide_index=True, width="stretch",
        )
        if results[0].metrics:
            st.subheader("Confusion matrices")
            cols = st.columns(min(3, len(results)))
            for i, r in enumerate(results):
                cols[i % len(cols)].altair_chart(confusion_chart(r, task))
            st.subheader("Slices")
            slices = pd.DataFrame([row for r in results for row in slice_metrics(dataset, r, targets)])
            if not slices.empty:
                pivot = slices.pivot_table(index=["slice", "value", "n"], columns="model", values="accuracy").reset_index()
                st.dataframe(pivot.style.format(precision=3), hide_index=True, width="stretch")
                st.caption("Accuracy per slice; n is the number of items in the slice.")
        st.subheader("Error browser")
        preds = predictions_frame(dataset, results)
        shown = filter_predictions(preds, [r.model for r in results], get_task(task).labels, key="eval_filter")
        st.caption(f"{len(shown):,} of {len(preds):,} items")
        st.dataframe(shown.head(2000), hide_index=True, width="stretch")
        if len(results) > 1:
            differ = disagreements(dataset, results)
            with st.expander(f"Items where the models disagree ({len(differ):,})"):
                st.dataframe(pd.DataFrame(differ).head(2000), hide_index=True, width="stretch")
        with st.expander("Downloads"):
            for i, r in enumerate(results):
                st.markdown(f"**{r.model}**")
                result_downloads(r, key=f"eval-dl-{i}")

with st.expander("Saved results"):
    saved = store.load_all()
    if saved:
        st.dataframe(
            pd.DataFrame([{"model": r.model, "task": r.task, "data": r.data.get("name"), "n": len(r.predictions),
                           "main metric": r.main_metric, "when": r.created} for r in saved]),
            hide_index=True, width="stretch",
        )
    else:
        st.caption("None yet.")
