"""Pieces of the Evaluate page: choosing the data, showing confusion matrices."""

from __future__ import annotations

from pathlib import Path
import altair as alt
import pandas as pd
import streamlit as st

from explorer.data.readers import Dataset, DatasetError, read_dataset
from explorer.evaluate import EvalResult, find_data_files


def choose_dataset(task: str, data_dir: Path, key: str) -> tuple[Dataset | None, bytes | None]:
    """Upload a file or pick one under the data folder; errors are shown, not raised.

    Returns:
        The dataset (or None) and the uploaded bytes (for the result's hash).
    """
    source = st.segmented_control("Data", ["Upload a file", "From the data folder"], default="Upload a file", key=f"{key}-src")
    try:
        if source == "From the data folder":
            files = find_data_files(data_dir)
            if not files:
                st.info(f"No .tsv files under {data_dir}. Put NIKL/KoBEST files there, or start with `--data DIR`.")
                return None, None
            path = st.selectbox("File", files, format_func=lambda p: str(p.relative_to(data_dir)), key=f"{key}-path")
            return read_dataset(path, task=task), None
        upload = st.file_uploader("NIKL 2021 or KoBEST file (TSV, UTF-8 or CP949)", type=["tsv", "csv", "txt"], key=f"{key}-up")
        if upload is None:
            return None, None
        content = upload.getvalue()
        return read_dataset(content, name=upload.name, task=task), content
    except DatasetError as exc:
        st.error(f"This file cannot be read: {exc}")
        return None, None


def confusion_chart(result: EvalResult, task: str) -> alt.Chart:
    """A 2×2 confusion heatmap with counts; rows gold, columns predicted."""
    names = {"copa": ["alt 1", "alt 2"], "cola": ["unacceptable", "acceptable"], "wic": ["different", "same"], "boolq": ["no", "yes"]}[task]
    matrix = (result.metrics or {}).get("confusion") or [[0, 0], [0, 0]]
    frame = pd.DataFrame([{"gold": names[g], "predicted": names[p], "count": matrix[g][p]} for g in range(2) for p in range(2)])
    base = alt.Chart(frame).encode(
        x=alt.X("predicted:N", sort=names, axis=alt.Axis(labelAngle=0)), y=alt.Y("gold:N", sort=names)
    )
    heat = base.mark_rect().encode(color=alt.Color("count:Q", scale=alt.Scale(scheme="blues"), legend=None))
    text = base.mark_text(fontSize=15).encode(
        # White text on the darker half of the colour scale.
        text="count:Q",
        color=alt.condition(alt.datum.count > (min(map(min, matrix)) + max(map(max, matrix))) / 2, alt.value("white"), alt.value("black")),
    )
    return (heat + text).properties(title=result.model, width=220, height=180)


def filter_predictions(frame: pd.DataFrame, models: list[str], key: str) -> pd.DataFrame:
    """Error-browser filters: wrong answers of a model, gold label, text search."""
    cols = st.columns([2, 1, 2])
    who = cols[0].selectbox("Show items", ["all", *[f"wrong · {m}" for m in models], "any model wrong"], key=f"{key}-who")
    gold = cols[1].selectbox("Gold", ["any", 0, 1], key=f"{key}-gold")
    query = cols[2].text_input("Text contains", key=f"{key}-q")
    out = frame
    if who.startswith("wrong · "):
        m = who.removeprefix("wrong · ")
        out = out[out[f"pred · {m}"] != out["gold"]]
    elif who == "any model wrong":
        mask = False
        for m in models:
            mask = mask | (out[f"pred · {m}"] != out["gold"])
        out = out[mask]
    if gold != "any":
        out = out[out["gold"] == gold]
    if query:
        out = out[out["text"].str.contains(query, regex=False)]
    return out


def result_downloads(result: EvalResult, key: str) -> None:
    """metrics.json and predictions.tsv, as the CLI writes them."""
    import json

    from explorer.evaluate import metrics_payload, predictions_tsv

    c1, c2 = st.columns(2)
    c1.download_button("metrics.json", json.dumps(metrics_payload(result), ensure_ascii=False, indent=2).encode(),
                       file_name=f"{result.model}-metrics.json", key=f"{key}-m")
    c2.download_button("predictions.tsv", predictions_tsv(result).encode(), file_name=f"{result.model}-predictions.tsv",
                       key=f"{key}-p")


def run_evaluations(explorer, models, task: str, dataset: Dataset, content: bytes | None, store, batch_size: int = 32):
    """Evaluates each model with a progress bar, saves the results, and returns (results, error messages)."""
    from explorer.evaluate import evaluate
    from explorer.loading import CheckpointError

    results, errors = [], []
    bar = st.progress(0.0, text="Starting…")
    for k, entry in enumerate(models):
        def progress(done: int, total: int, k: int = k, name: str = entry.name) -> None:
            bar.progress((k + done / max(1, total)) / len(models), text=f"{name}: {done:,}/{total:,}")

        try:
            model = explorer.task_model(entry, task, st.session_state.get("device"))
            result = evaluate(model, entry, dataset, batch_size=batch_size, progress=progress, content=content)
        except CheckpointError as exc:
            errors.append(f"**{entry.name}**: {exc}")
            continue
        except (RuntimeError, ValueError) as exc:
            errors.append(f"**{entry.name}** failed: {exc}")
            continue
        store.save(result)
        results.append(result)
    bar.empty()
    return results, errors
