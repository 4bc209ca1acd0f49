"""Comparison: our models beside the published Korean benchmarks; anatomy; training curves."""

import pandas as pd
import streamlit as st

from explorer.anatomy import anatomy, part_of, parts_frame
from explorer.compare import comparison_table, filter_table, live_fields, metric_columns, scale_caption, task_columns
from explorer.curves import curves_frame, overfitting_signals, read_curves
from explorer.evaluate import SPLITS, ResultStore
from explorer.loading import CheckpointError
from explorer.tasks.registry import TASKS
from explorer.text import escape_markdown
from explorer.ui.compare import (SPLIT_HELP, anatomy_chart, ask_every_model, checkpoint_folders, curves_chart,
                                 metric_chart, show_comparison)
from explorer.ui.evaluate import choose_dataset, run_evaluations
from explorer.ui.state import get_explorer, leave_legacy_multipage_mode

leave_legacy_multipage_mode()
explorer = get_explorer()
store = ResultStore(explorer.settings.results)
entries, _ = explorer.registry()
st.title("Comparison")
st.caption(
    "Which model wins on which task: our evaluated checkpoints (tinted) beside published Korean results, with sources. "
    "Each row is one model on one **split** (dev, test, or the project's generated demo data), and **data** names the "
    f"file behind each number; green marks a column's best dev number and its best test number (each split against its own). Scores ×100; {scale_caption()} "
    "Empty cells are empty in the sources."
)
all_metrics = metric_columns()

frame = comparison_table(entries, store.load_all())
params = st.query_params
form = live_fields()  # from the registry: which task fields the live one-line form fills
linked = {key: params.get(key, "") for key in form}  # read before the filters below rewrite the link
cols = st.columns([3, 2, 2, 1.4])
tasks = cols[0].multiselect("Metrics", all_metrics, default=[m for m in params.get_all("metric") if m in all_metrics],
                            key="cmp_metrics", placeholder="all metrics")
families = cols[1].multiselect("Family", sorted(frame["family"].dropna().unique()),
                               default=[f for f in params.get_all("family") if f in set(frame["family"])], key="cmp_family",
                               placeholder="all families")
present = [split for split in SPLITS if split in set(frame["split"])]
splits = cols[2].multiselect("Split", present, default=[split for split in params.get_all("split") if split in present],
                             key="cmp_split", placeholder="every split", help=SPLIT_HELP)
published = cols[3].toggle("Published rows", value=params.get("published", "1") != "0", key="cmp_published")
st.query_params.from_dict({"metric": tasks, "family": families, "split": splits, "published": "1" if published else "0",
                           **{key: value for key, value in linked.items() if value}})
shown = filter_table(frame, tasks, families, published, splits=splits)
if not frame["ours"].any():
    st.info("None of your models has been evaluated yet: use “Run missing evaluations” below or the Evaluate page.")
show_comparison(shown, key="cmp")

chart_metric = st.selectbox("Chart", [c for c in (tasks or all_metrics) if shown.get(c) is not None and shown[c].notna().any()],
                            key="cmp_chart")
if chart_metric:
    st.altair_chart(metric_chart(shown, chart_metric), width="stretch")

with st.expander("Run missing evaluations"):
    first = next(iter(TASKS))
    task = st.segmented_control("Task", list(TASKS), default=first, format_func=lambda t: TASKS[t].title,
                                key="cmp_task") or first
    done = set(frame.loc[frame["ours"] & frame[task_columns()[task]].notna(), "model"])
    missing = [e for e in entries if e.task == task and not e.problems and e.name not in done]
    st.caption(f"{len(missing)} registered {task} model(s) without a saved {task} result.")
    dataset, content = choose_dataset(task, explorer.settings.data_dir, key="cmp-data")
    if st.button("Evaluate the missing ones", key="cmp_run", disabled=dataset is None or not missing):
        results, errors, _ = run_evaluations(explorer, missing, task, dataset, content, store)
        for error in errors:
            st.error(error)
        st.success(f"Evaluated {len(results)} model(s); the table above includes them now.")
        st.rerun()

st.header("Live side by side")
shared = [f"{task.name}'s {field.label.lower()}" for task, field in form.get("s", [])]
st.caption(f"One input to every model: the sentence is {', '.join(shared[:-1])} and {shared[-1]}. "
           "Fill a task's optional fields to bring in its models. The link keeps the inputs.")
# A link's inputs fill the form once per session; after that the form is the session's own, so a rerun that
# reads the link before the browser has rewritten it cannot empty a box (a widget's value= resets it).
for key in form:
    st.session_state.setdefault(f"live_{key}", linked.get(key, ""))
live = {"s": st.text_input("Sentence", key="live_s", placeholder="나는 어제 학교에 갔다.")}
own: dict[str, list] = {}  # each task's own keys, one column per task
for key, users in form.items():
    if key != "s":
        task, field = users[0]
        own.setdefault(task.id, []).append((key, task, field))
for column, fields in zip(st.columns(max(1, len(own))), own.values()):
    for key, task, field in fields:
        label = f"{task.name} {field.label.lower()}"
        if field.kind == "choice":
            options = ["", *(value for value, _ in field.options)]
            given = st.session_state[f"live_{key}"]
            if given not in options:  # a link's value, as typed in it: the option it names
                st.session_state[f"live_{key}"] = task.form_value(field, given) if given else ""
            live[key] = column.selectbox(f"{label} (optional)", options, key=f"live_{key}",
                                         format_func=lambda v, f=field: dict(f.options).get(v, "—"))
        else:
            live[key] = column.text_input(f"{label} (optional)", key=f"live_{key}")
asked = st.button("Ask every model", key="live_run")
if asked or (linked.get("s") and "live_result" not in st.session_state):  # a link answers itself on load
    ask_every_model(explorer, entries, live)
if (table := st.session_state.get("live_result")) is not None:
    st.dataframe(table, hide_index=True, width="stretch", placeholder="",
                 column_config={"probability": st.column_config.ProgressColumn("probability", min_value=0, max_value=1, format="%.2f"),
                                "agreement": st.column_config.NumberColumn("agreement", format="percent")})

st.header("Parameter anatomy")
st.caption("Where each model keeps its parameters, as shares of its own total, so a 1M-parameter demo reads beside "
           "the 118M e5. What to see: the blue embedding part is smaller in demo-electra-cola than in demo-bert-cola, "
           "with the same layers, because ELECTRA factorises its embeddings (64 wide, then projected to 128); "
           "e5 keeps most of itself in a 250k-token vocabulary.")
folders = checkpoint_folders(entries)
chosen = st.multiselect("Models", list(folders), default=list(folders)[:4], key="cmp_anatomy")
rows, facts = [], []
for name in chosen:
    entry = next(e for e in entries if e.name == name)
    try:
        model = explorer.load_encoder(entry)
    except CheckpointError as exc:
        st.error(f"**{escape_markdown(name)}**: {escape_markdown(str(exc))}")
        continue
    info = anatomy(model, model.config, folder=entry.source)
    rows.append({"model": name, **info})
    embeddings = sum(n for bucket, n in info["parameters"].items() if part_of(bucket) == "embeddings")
    facts.append({"model": name, "total": info["total"], "embeddings": embeddings / info["total"] if info["total"] else None,
                  **{k: info.get(k) for k in
                  ("vocab_size", "hidden_size", "embedding_size", "num_hidden_layers", "num_attention_heads", "dtype")},
                  "MB on disk": round(info.get("bytes_on_disk", 0) / 2**20, 1),
                  "MB in memory": round(info["bytes_in_memory"] / 2**20, 1)})
if rows:
    as_counts = st.toggle("Parameter counts instead of shares", key="cmp_anatomy_counts")
    st.altair_chart(anatomy_chart(parts_frame(rows), shares=not as_counts), width="stretch")
    st.dataframe(pd.DataFrame(facts), hide_index=True, width="stretch",
                 column_config={"total": st.column_config.NumberColumn("parameters", format="compact"),
                                "embeddings": st.column_config.NumberColumn("in embeddings", format="percent")})

st.header("Training curves")
runs = {name: c for name, folder in folders.items() if (c := read_curves(folder)) is not None}
if not runs:
    st.info("No trainer_state.json found in the registered checkpoints. `python -m explorer finetune` writes one.")
else:
    picked = st.multiselect("Runs", list(runs), default=list(runs), key="cmp_runs")
    curves = curves_frame({k: runs[k] for k in picked})
    names = sorted(curves["name"].unique()) if not curves.empty else []
    default = [n for n in ("loss", "eval_loss", "eval_mcc", "eval_f1_macro", "eval_accuracy") if n in names]
    show = st.multiselect("Curves", names, default=default, key="cmp_curves")
    if show:
        st.altair_chart(curves_chart(curves, show))
        st.caption("Circles mark each run's best checkpoint (the one `finetune` keeps).")
    for name in picked:
        for message in overfitting_signals(runs[name]):
            st.warning(f"**{name}**: {message}")
