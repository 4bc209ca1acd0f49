"""Pieces of the Evaluate page: choosing the data, showing confusion matrices."""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import altair as alt
import pandas as pd
import streamlit as st
from streamlit.runtime.uploaded_file_manager import DeletedFile

from explorer.data.readers import Dataset, DatasetError
from explorer.evaluate import DATA_SUFFIXES, EvalResult, data_label, find_data_files, name_matches
from explorer.safeio import DATA_LIMIT, size_text
from explorer.settings import DATA_ENV, DATA_FLAG
from explorer.tasks.registry import get as get_task
from explorer.tasks.registry import read_dataset
from explorer.text import escape_markdown, join_words
from explorer.ui.feedback import Timing, run_status
from explorer.ui.state import current_precision
from explorer.ui.tables import MISSING, STALE

# Uploads parsed and kept for every session at once, bounded by their bytes (a
# parsed file takes about 1.5-3x its size more, and up to 6x while it is read).
UPLOAD_CACHE_BYTES = 3 * DATA_LIMIT
UPLOAD_CACHE_ENTRIES = 16
# Where a file to evaluate comes from: the choices' wording, said once (messages name them).
UPLOAD, FOLDER = "Upload a file", "From the data folder"


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
    source = st.segmented_control("Data", [UPLOAD, FOLDER], default=UPLOAD, key=f"{key}-src")
    try:
        if source == FOLDER:
            patterns = get_task(task).data_files
            files = find_data_files(data_dir, patterns)
            if not files:
                st.info(empty_folder_help(task, data_dir), icon=":material/folder_open:")
                return None, None
            if patterns and not any(name_matches(p, patterns) for p in files):
                st.caption(f"None of these files is named like a {escape_markdown(get_task(task).name)} file "
                           f"({data_file_names(task)}); a file is read by its columns, so another name works too.")
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
        st.error(f"This file cannot be read: {escape_markdown(str(exc))}")
        return None, None


def data_file_names(task: str) -> str:
    """The task's published file names (``Task.data_files``) as markdown: ``NIKL_CoLA_*.tsv`` or ``copa/*.tsv``."""
    return join_words([f"`{p}`" for p in get_task(task).data_files] or ["a TSV with `text` and `label` columns"])


def empty_folder_help(task: str, data_dir: Path) -> str:
    """What to do when the data folder holds no file: where it is, which names the task's files have, how to
    point the app elsewhere, and that an upload works as well."""
    spec = get_task(task)
    what = (f"the {escape_markdown(spec.name)} files, named as published: {data_file_names(task)}" if spec.data_files
            else data_file_names(task))
    lines = [f"No data files in **{escape_markdown(data_dir)}** (searched with its subfolders for "
             f"{join_words(list(DATA_SUFFIXES))}).",
             f"Put {what} there,",
             f"or search another folder: start with `make run ARGS=\"{DATA_FLAG} DIR\"` or set `{DATA_ENV}=DIR`,",
             f"or choose **{UPLOAD}** above."]
    return "  \n".join(lines)  # a markdown line break each


# Confusion matrices: a cell wide enough for the longest class name written level (Korean or English, at the
# axis's font size), never narrower than a 4-digit count; the page fits as many charts in a row as a laptop holds.
CELL_MIN_PX, CHAR_PX, CELL_HEIGHT_PX = 84, 8, 48
ROW_PX = 1100  # what a wide Streamlit page holds side by side on a 1366-px laptop screen


def confusion_cell_px(task: str) -> int:
    """The width of one cell of the task's confusion matrix, in pixels."""
    spec = get_task(task)
    return max(CELL_MIN_PX, CHAR_PX * max(len(spec.label_name(k)) for k in spec.labels) + 16)


def confusion_chart(result: EvalResult, task: str, stale: bool = False) -> alt.Chart:
    """An N×N confusion heatmap (N = the task's classes): rows are the gold label, columns the prediction,
    each axis titled and each class named once on it, the count in every cell.

    Class names stay level and get cells as wide as the longest (``confusion_cell_px``): stretched to a page
    column, slanted or clipped names ran together ("unacceptableacceptable").

    Args:
        stale: The result answers a file or models chosen before: its cells are faded, as stale tables are grey.
    """
    spec = get_task(task)
    names = [spec.label_name(k) for k in spec.labels]
    n = len(names)
    matrix = (result.metrics or {}).get("confusion") or [[0] * n for _ in range(n)]
    frame = pd.DataFrame([{"gold": names[g], "predicted": names[p], "count": matrix[g][p]}
                          for g in range(n) for p in range(n)])
    cell = confusion_cell_px(task)
    style = {"titleFontSize": 13, "titleFontWeight": "bold", "titleColor": "#31333f", "labelFontSize": 13,
             "labelColor": "#31333f", "labelAngle": 0, "labelLimit": cell * 2, "ticks": False, "domain": False}
    base = alt.Chart(frame).encode(
        # The prediction on top, read first as in a table's header row; the gold label down the side, its title
        # level in the corner above the gold names (a title turned on its side is hard to read).
        x=alt.X("predicted:N", sort=names, title="predicted", axis=alt.Axis(orient="top", **style)),
        y=alt.Y("gold:N", sort=names, title="gold", axis=alt.Axis(
            labelPadding=6, titleAngle=0, titleAlign="right", titleBaseline="bottom", titleX=-6, titleY=-6, **style)),
    )
    heat = base.mark_rect(stroke="white", strokeWidth=2, opacity=0.3 if stale else 1).encode(
        color=alt.Color("count:Q", scale=alt.Scale(scheme="blues"), legend=None),
        tooltip=["gold", "predicted", "count"],
    )
    # White text on the darker half of the colour scale.
    middle = (min(map(min, matrix)) + max(map(max, matrix))) / 2
    ink = alt.value("#6b6b6b") if stale else alt.condition(alt.datum.count > middle, alt.value("white"), alt.value("#111"))
    text = base.mark_text(fontSize=16, fontWeight="bold").encode(text="count:Q", color=ink)
    title = alt.Title(result.model, anchor="start", fontSize=14, limit=cell * n + 160)
    # A step per cell, not a fixed size: Streamlit squeezed a layered chart's fixed height to a sliver.
    return (heat + text).properties(title=title, width=alt.Step(cell), height=alt.Step(CELL_HEIGHT_PX))


def confusion_grid(results: Sequence[EvalResult], task: str, stale: bool = False) -> None:
    """Every result's confusion matrix, as many to a row as fit on a laptop screen, each at its own width."""
    cell = confusion_cell_px(task)
    width = cell * (len(get_task(task).labels) + 1) + 40  # the cells, the gold names beside them, the axis title
    per_row = max(1, min(len(results), ROW_PX // width))
    for start in range(0, len(results), per_row):
        for column, result in zip(st.columns(per_row), results[start:start + per_row]):
            column.altair_chart(confusion_chart(result, task, stale), width="content")


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


def run_evaluations(explorer, models, task: str, dataset: Dataset, content: bytes | None, store,
                    batch_size: int | None = None) -> tuple[list[EvalResult], list[str], Timing]:
    """Evaluates each model inside a status box (``explorer.ui.feedback.run_status``: model k of n, items done
    of the total, seconds so far), saves the results, and returns (results, error messages, timing)."""
    from explorer.evaluate import evaluate
    from explorer.loading import CheckpointError

    results, errors = [], []
    with run_status([m.name for m in models], f"{len(dataset.items):,} items", verb="evaluated") as status:
        for k, entry in enumerate(models):
            status.report(k, 0, len(dataset.items))  # loading a model can take longer than running it
            try:
                model = explorer.task_model(entry, task, st.session_state.get("device"))
                result = evaluate(model, entry, dataset, batch_size=batch_size, content=content,
                                  progress=lambda done, total, k=k: status.report(k, done, total),
                                  precision=current_precision())
            except CheckpointError as exc:
                errors.append(f"**{escape_markdown(entry.name)}**: {escape_markdown(str(exc))}")
                continue
            except (RuntimeError, ValueError) as exc:
                errors.append(f"**{escape_markdown(entry.name)}** failed: {escape_markdown(str(exc))}")
                continue
            try:
                store.save(result)
            except OSError as exc:  # a full disk or a read-only cache: the result is still shown, once
                errors.append(f"**{escape_markdown(entry.name)}**: evaluated, but the result could not be saved "
                              f"for later ({escape_markdown(str(exc))}).")
            results.append(result)
    return results, errors, status.timing


# --- the page's results, kept between reruns and marked stale when the file or the models change -------------

RUN_LABEL = "Evaluate"  # the page's run button, which the stale warning names


@dataclass
class EvalRun:
    """One press of Evaluate: what was evaluated with what, and what it gave.

    Attributes:
        targets: The task's slice context when it ran (WiC's training targets), or None.
        models: The names of the models chosen (failed ones too), to tell a changed choice.
    """

    task: str
    dataset: Dataset
    results: list[EvalResult]
    errors: list[str]
    targets: Any
    models: tuple[str, ...]
    timing: Timing

    @property
    def data_key(self) -> tuple[str, str] | None:
        return data_key(self.dataset)


def data_key(dataset: Dataset | None) -> tuple[str, str] | None:
    """Which file a dataset is, by path (or upload name) and content: a re-upload of the same file matches."""
    return None if dataset is None else (str(dataset.path), dataset.sha256)


def model_names(models: Sequence[Any]) -> tuple[str, ...]:
    return tuple(m.name for m in models)


def show_run(run: EvalRun, store: Any, stale: bool) -> None:
    """The results of a run: metrics, confusion matrices, slices, the error browser, downloads.

    Args:
        stale: The file or the model choice changed since: tables are grey (``tables.STALE``) and the summary
            says which file and models the numbers are for.
    """
    from explorer.evaluate import METRIC_COLUMNS, disagreements, metrics_frame, predictions_frame, slice_metrics, slice_table

    for error in run.errors:
        st.error(error)
    results, dataset = run.results, run.dataset
    if not results:
        return
    summary = (f"Evaluated on **{escape_markdown(data_label(results[0].data))}**: {run.timing.caption()} "
               f"Results saved to {escape_markdown(store.folder)}.")
    if stale:
        st.caption(summary)  # not a green success: it is no longer the answer to what is on screen
    else:
        st.success(summary)
    st.subheader("Metrics")
    frame = metrics_frame(results)
    styler = frame.style.map(lambda _: STALE) if stale else frame.style.highlight_max(
        subset=[METRIC_COLUMNS[get_task(run.task).main_metric]], color="#cdeccd")
    st.dataframe(styler.format({"accuracy": "{:.4f}", "MCC": "{:.4f}", "F1 macro": "{:.4f}", "seconds": "{:.1f}"},
                               na_rep=MISSING), hide_index=True, width="stretch", placeholder=MISSING)
    if results[0].metrics:
        st.subheader("Confusion matrices")
        confusion_grid(results, run.task, stale)
        st.subheader("Slices")
        slices = slice_table([row for r in results for row in slice_metrics(dataset, r, run.targets)])
        if not slices.empty:
            shown = slices.style.map(lambda _: STALE) if stale else slices.style
            st.dataframe(shown.format(precision=3), hide_index=True, width="stretch", placeholder=MISSING)
            st.caption("Accuracy per slice; n is the number of items in the slice.")
    st.subheader("Error browser")
    preds = predictions_frame(dataset, results)
    rows = filter_predictions(preds, [r.model for r in results], get_task(run.task).labels, key="eval_filter")
    st.caption(f"{len(rows):,} of {len(preds):,} items")
    st.dataframe(rows.head(2000), hide_index=True, width="stretch", placeholder=MISSING)
    if len(results) > 1:
        differ = disagreements(dataset, results)
        with st.expander(f"Items where the models disagree ({len(differ):,})"):
            st.dataframe(pd.DataFrame(differ).head(2000), hide_index=True, width="stretch", placeholder=MISSING)
    with st.expander("Downloads"):
        for i, r in enumerate(results):
            st.markdown(f"**{escape_markdown(r.model)}**")
            result_downloads(r, key=f"eval-dl-{i}")
