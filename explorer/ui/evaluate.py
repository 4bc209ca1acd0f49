"""Pieces of the Evaluate page: choosing the data, showing confusion matrices."""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import altair as alt
import pandas as pd
import streamlit as st
from streamlit.runtime.uploaded_file_manager import DeletedFile

from explorer.data.readers import Dataset, DatasetError
from explorer.evaluate import EvalResult, find_data_files
from explorer.safeio import DATA_LIMIT, size_text
from explorer.tasks.registry import get as get_task
from explorer.tasks.registry import read_dataset
from explorer.ui.state import current_precision

# Uploads parsed and kept for every session at once, bounded by their bytes (a
# parsed file takes about 1.5-3x its size more, and up to 6x while it is read).
UPLOAD_CACHE_BYTES = 3 * DATA_LIMIT
UPLOAD_CACHE_ENTRIES = 16


@dataclass(frozen=True)
class ParsedUpload:
    """An uploaded file and what parsing it gave: a value, or the message of why it could not be read."""

    name: str
    content: bytes
    value: Any = None
    error: str | None = None


class UploadCache:
    """Least-recently-used uploads keyed by (content hash, how parsed, file name), shared by all sessions.

    Two peers uploading the same file share one parse; a session keeps only the
    key, so a file that has left the cache is asked for again, never kept twice.
    The name is part of the key because messages and saved results name the file.
    """

    def __init__(self, max_bytes: int = UPLOAD_CACHE_BYTES, max_entries: int = UPLOAD_CACHE_ENTRIES) -> None:
        self.max_bytes, self.max_entries = max_bytes, max_entries
        self._items: OrderedDict[tuple[str, ...], ParsedUpload] = OrderedDict()
        self._lock = threading.Lock()  # sessions run in threads

    def get(self, key: tuple[str, ...]) -> ParsedUpload | None:
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
            return self._items.get(key)

    def put(self, key: tuple[str, ...], parsed: ParsedUpload) -> None:
        with self._lock:
            self._items[key] = parsed
            self._items.move_to_end(key)
            while len(self._items) > 1 and (
                len(self._items) > self.max_entries or sum(len(p.content) for p in self._items.values()) > self.max_bytes
            ):
                self._items.popitem(last=False)


@st.cache_resource(show_spinner=False)
def upload_cache() -> UploadCache:
    return UploadCache()


def parsed_upload(label: str, types: list[str], key: str, kind: str, parse: Callable[[bytes, str], Any]) -> ParsedUpload | None:
    """A file uploader whose file is parsed once per server and not kept in the session.

    Args:
        kind: What ``parse`` makes of the bytes (part of the cache key: one file read for two tasks differs).
        parse: (content, name) → value; a ``DatasetError`` or ``ValueError`` becomes the upload's error.

    Returns:
        The parsed upload (its ``error`` set when it cannot be read), or None when there is none to use.
    """
    upload = st.file_uploader(label, type=types, key=key)
    held_key = f"{key}-held"
    if upload is None:
        # The widget answers None both with no file and with a file whose bytes
        # were released (below); its state tells them apart.
        upload = st.session_state.get(key)
    if upload is None:
        st.session_state.pop(held_key, None)
        return None
    if isinstance(upload, DeletedFile):  # its bytes were released on the run that read them
        held = st.session_state.get(held_key)
        parsed = upload_cache().get(held[1:]) if held and held[0] == upload.file_id else None
        if parsed is None:
            st.warning("This upload was dropped from the server's memory to make room for others. "
                       "Remove it (×) and upload the file again.")
        return parsed
    if upload.size > DATA_LIMIT:
        st.error(f"{upload.name} is {size_text(upload.size)}; an upload may be at most {size_text(DATA_LIMIT)}.")
        return None
    content = upload.getvalue()
    cache_key = (hashlib.sha256(content).hexdigest(), kind, upload.name)
    parsed = upload_cache().get(cache_key)
    if parsed is None:
        try:
            parsed = ParsedUpload(upload.name, content, value=parse(content, upload.name))
        except ValueError as exc:  # DatasetError is one
            parsed = ParsedUpload(upload.name, content, error=str(exc))
        upload_cache().put(cache_key, parsed)
    st.session_state[held_key] = (upload.file_id, *cache_key)
    _release(upload.file_id)
    return parsed


def _release(file_id: str) -> None:
    """Drops the session's copy of an upload from Streamlit's file store (st.chat_input does the same).

    The widget then hands back a ``DeletedFile`` on later runs, which
    ``parsed_upload`` resolves through the shared cache.
    """
    from streamlit.runtime.memory_uploaded_file_manager import MemoryUploadedFileManager
    from streamlit.runtime.scriptrunner_utils.script_run_context import get_script_run_ctx

    ctx = get_script_run_ctx()
    if ctx is not None and isinstance(ctx.uploaded_file_mgr, MemoryUploadedFileManager):
        ctx.uploaded_file_mgr.remove_file(session_id=ctx.session_id, file_id=file_id)


def choose_dataset(task: str, data_dir: Path, key: str) -> tuple[Dataset | None, bytes | None]:
    """Upload a file or pick one under the data folder; errors are shown, not raised.

    Returns:
        The dataset (or None) and the uploaded bytes (for the result's hash;
        shared through ``upload_cache``, so the caller must not keep them).
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
        upload = parsed_upload("NIKL 2021 or KoBEST file (TSV, UTF-8 or CP949)", ["tsv", "csv", "txt"], f"{key}-up",
                               kind=task, parse=lambda content, name: read_dataset(content, name=name, task=task))
        if upload is None:
            return None, None
        if upload.error:
            st.error(f"This file cannot be read: {upload.error}")
            return None, None
        return upload.value, upload.content
    except DatasetError as exc:
        st.error(f"This file cannot be read: {exc}")
        return None, None


def confusion_chart(result: EvalResult, task: str) -> alt.Chart:
    """An N×N confusion heatmap with counts (N = the task's classes); rows gold, columns predicted."""
    spec = get_task(task)
    names = [spec.label_name(k) for k in spec.labels]
    n = len(names)
    matrix = (result.metrics or {}).get("confusion") or [[0] * n for _ in range(n)]
    frame = pd.DataFrame([{"gold": names[g], "predicted": names[p], "count": matrix[g][p]} for g in range(n) for p in range(n)])
    # The chart is stretched to a page column, often narrower than the labels: level long names ran
    # together ("unacceptableacceptable"), so they are slanted, which keeps them apart at any width.
    column = 110
    x_axis = alt.Axis(labelAngle=0 if max(map(len, names)) <= 8 else -35, labelLimit=160)
    base = alt.Chart(frame).encode(
        x=alt.X("predicted:N", sort=names, axis=x_axis, title="predicted"), y=alt.Y("gold:N", sort=names)
    )
    heat = base.mark_rect().encode(color=alt.Color("count:Q", scale=alt.Scale(scheme="blues"), legend=None))
    text = base.mark_text(fontSize=15).encode(
        # White text on the darker half of the colour scale.
        text="count:Q",
        color=alt.condition(alt.datum.count > (min(map(min, matrix)) + max(map(max, matrix))) / 2, alt.value("white"), alt.value("black")),
    )
    return (heat + text).properties(title=result.model, width=column * n, height=45 * n + 90)


def filter_predictions(frame: pd.DataFrame, models: list[str], labels: list[int], key: str) -> pd.DataFrame:
    """Error-browser filters: wrong answers of a model, gold label (one of the task's ``labels``), text search."""
    cols = st.columns([2, 1, 2])
    who = cols[0].selectbox("Show items", ["all", *[f"wrong · {m}" for m in models], "any model wrong"], key=f"{key}-who")
    gold = cols[1].selectbox("Gold", ["any", *labels], key=f"{key}-gold")
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


def run_evaluations(explorer, models, task: str, dataset: Dataset, content: bytes | None, store, batch_size: int | None = None):
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
            result = evaluate(model, entry, dataset, batch_size=batch_size, progress=progress, content=content,
                              precision=current_precision())
        except CheckpointError as exc:
            errors.append(f"**{entry.name}**: {exc}")
            continue
        except (RuntimeError, ValueError) as exc:
            errors.append(f"**{entry.name}** failed: {exc}")
            continue
        try:
            store.save(result)
        except OSError as exc:  # a full disk or a read-only cache: the result is still shown, once
            errors.append(f"**{entry.name}**: evaluated, but the result could not be saved for later ({exc}).")
        results.append(result)
    bar.empty()
    return results, errors
