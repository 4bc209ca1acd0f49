"""Evaluating checkpoints on task files, and keeping the results.

A result holds the metrics (equal to scikit-learn's), one prediction per item,
and the identity of the model and the data file, so the comparison page can
put results from different days side by side. Results are saved as JSON under
the results folder and survive restarts.
"""

from __future__ import annotations

import csv
import fnmatch
import hashlib
import io
import json
import os
import re
import tempfile
import time
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

from explorer.data.readers import Dataset
from explorer.metrics import classification_metrics
from explorer.registry import ModelEntry
from explorer.safeio import DATA_LIMIT, read_limited
from explorer.tasks.predict import Prediction, predict_items
from explorer.tasks.base import METRIC_NAMES, Task
from explorer.tasks.registry import find as find_task
from explorer.tasks.registry import get as get_task

Progress = Callable[[int, int], None]
# A result holds a short row per item, so it is never far larger than its data file
# (the largest published file, NIKL WiC train, makes a result of 2.7 MB).
RESULT_LIMIT = DATA_LIMIT
# A temp file this old belongs to a save that was killed, not to one in progress.
STALE_TMP_SECONDS = 3600
# Metric key → its column in ``metrics_frame`` (the Evaluate page highlights a task's main metric there).
METRIC_COLUMNS = METRIC_NAMES


# What a data file can be: a split of a published dataset, data the project generated, or not known.
SPLITS = ("dev", "test", "train", "generated", "unknown")
# Words in a file name that say its split. NIKL names it in the stem (NIKL_CoLA_dev.tsv, SKT_COPA_Test.tsv),
# KoBEST in the name itself (dev.tsv); "validation" is the Hugging Face name for dev.
_SPLIT_WORDS = {"dev": "dev", "valid": "dev", "validation": "dev", "val": "dev", "test": "test", "train": "train"}


def split_of(name: str) -> str:
    """The split a data file holds, from its name: ``dev``, ``test``, ``train``, ``generated`` or ``unknown``.

    The project's own generated data says so in its name (``generated``, ``demo``) and counts as generated
    whatever split word follows, since its numbers say nothing about the published data. A name with no
    split word, or with two different ones, is ``unknown``: a page shows that rather than guess.

    Args:
        name: A file name or path (only the last part is read).

    Returns:
        One of :data:`SPLITS`.
    """
    words = set(re.split(r"[^a-z0-9]+", Path(name).stem.lower()))  # "NIKL_CoLA_dev" → {"nikl", "cola", "dev"}
    if words & {"generated", "demo"}:
        return "generated"
    found = {_SPLIT_WORDS[w] for w in words if w in _SPLIT_WORDS}
    return found.pop() if len(found) == 1 else "unknown"


class IncompleteResult(ValueError):
    """A result that does not cover every item of its file; it is never saved."""


@dataclass
class EvalResult:
    """One model evaluated on one file.

    Attributes:
        model: Registry name; ``model_source`` is its folder or hub id.
        task: Task id.
        data: File name, format, row count and a content hash.
        metrics: ``n``, ``accuracy``, ``mcc``, ``f1_macro``, ``confusion``...
            (None for unlabelled files).
        predictions: One row per item: id, gold, pred, text, and ``prob`` = P(label 1) for a
            two-class task or ``probs`` (one per class) for more.
        precision: How the model ran (``fp32``, ``bf16``): every page that shows the numbers says it.
        split: Which part of a dataset the file is (``split_of``: dev, test, train, generated or unknown),
            decided when it was evaluated; results saved before it was recorded get it from their file name.
    """

    model: str
    model_source: str
    task: str
    data: dict[str, Any]
    metrics: dict[str, Any] | None
    predictions: list[dict[str, Any]]
    seconds: float
    created: str = field(default_factory=lambda: datetime.now(timezone.utc).isoformat(timespec="seconds"))
    precision: str = "fp32"  # results saved before precision was a choice ran in fp32
    split: str | None = None

    def __post_init__(self) -> None:
        if self.split not in SPLITS:  # an old result (no split saved) or a hand-edited one
            self.split = split_of(str((self.data or {}).get("name", "")))

    @property
    def main_metric(self) -> float | None:
        return None if self.metrics is None else self.metrics[get_task(self.task).main_metric]

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def data_identity(dataset: Dataset, content: bytes | None = None) -> dict[str, Any]:
    """Name, format and size of a data file, with a hash so re-uploads match."""
    # The reader hashed the bytes it read; reading the path again could see another file.
    digest = hashlib.sha256(content).hexdigest()[:12] if content is not None else dataset.sha256
    return {"name": Path(dataset.path).name, "path": dataset.path, "format": dataset.format, "n": len(dataset.items), "sha256": digest}


def data_label(data: Mapping[str, Any]) -> str:
    """A data file as tables and messages name it: its file name, with its folders when the name alone is a bare split.

    KoBEST names its files ``dev.tsv`` and ``train.tsv`` in one folder per task, so ``dev.tsv`` alone would not say
    which dataset it was: ``kobest_v1/copa/dev.tsv`` does.
    """
    name = str(data.get("name") or "?")
    path = Path(str(data.get("path") or name))
    if Path(name).stem.lower() in {"dev", "test", "train"} and path.name == name and len(path.parts) >= 3:
        return "/".join(path.parts[-3:])
    return name


def evaluate(
    model: Any,
    entry: ModelEntry,
    dataset: Dataset,
    batch_size: int | None = None,
    progress: Progress | None = None,
    content: bytes | None = None,
    precision: str = "fp32",
) -> EvalResult:
    """Predicts every item and scores the predictions against the gold labels.

    Args:
        model: A ``LoadedModel`` or the Kiwi scorer (from ``Explorer.task_model``).
        entry: Its registry entry (name, input format).
        dataset: A file read by ``explorer.tasks.registry.read_dataset``.
        batch_size: At most this many inputs per forward pass; None: as many as a token budget holds.
        progress: Called with (done, total).
        content: The file's bytes when it was uploaded (for its hash).
        precision: ``fp32`` (the default: exact metrics) or ``bf16`` (faster on CPUs with AMX/AVX512-BF16).

    Raises:
        ValueError: a batch size below 1.
        IncompleteResult: the model answered fewer (or more) items than the file holds.
    """
    if batch_size is not None and (isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1):
        raise ValueError(f"The batch size must be a whole number of at least 1, not {batch_size!r}.")
    started = time.monotonic()
    preds = predict_items(model, dataset.task, dataset.items, entry.input_format, batch_size=batch_size, progress=progress,
                          precision=precision)
    if len(preds) != len(dataset.items):
        raise IncompleteResult(
            f"{entry.name} answered {len(preds)} of the {len(dataset.items)} items; the evaluation was not kept."
        )
    task = get_task(dataset.task)
    rows = [_prediction_row(task, item, pred) for item, pred in zip(dataset.items, preds)]
    metrics = None
    if dataset.labelled:
        metrics = classification_metrics([r["gold"] for r in rows], [r["pred"] for r in rows], labels=task.labels)
        # Items the model could not judge (the overlap baseline on a question without
        # content words) keep their placeholder label; the count says how many there were.
        metrics["not_judged"] = sum(1 for p in preds if not p.judged)
    return EvalResult(
        model=entry.name,
        model_source=entry.source,
        task=dataset.task,
        data=data_identity(dataset, content),
        metrics=metrics,
        predictions=rows,
        seconds=round(time.monotonic() - started, 2),
        precision=precision,
        split=split_of(dataset.path),
    )


def _prediction_row(task: Task, item: Any, pred: Prediction) -> dict[str, Any]:
    # Two classes keep one number, P(label 1), as results saved before N-class tasks existed.
    probs = {"prob": round(pred.p1, 6)} if task.num_labels == 2 else {"probs": [round(p, 6) for p in pred.probs]}
    row = {"id": item.id, "gold": item.label, "pred": pred.label, **probs, "text": task.text(item)}
    if not pred.judged:
        row["note"] = pred.note
    return row


def metrics_payload(result: EvalResult) -> dict[str, Any]:
    """What metrics.json holds: task, n, accuracy, mcc, f1_macro, confusion, model and data identity."""
    payload = {"task": result.task, "model": result.model, "model_source": result.model_source, "data": result.data,
               "created": result.created, "seconds": result.seconds, "precision": result.precision,
               "split": result.split}
    payload.update(result.metrics or {"n": len(result.predictions), "note": "unlabelled file: predictions only"})
    return payload


def predictions_tsv(result: EvalResult) -> str:
    """One row per item: gold label, prediction, probabilities, text, and a note where the model could not judge.

    A two-class result has one ``prob`` column (P(label 1)); an N-class one a
    ``P(k)`` column per class k.
    """
    out = io.StringIO()
    writer = csv.writer(out, delimiter="\t", lineterminator="\n")
    n = _n_probs(result)
    writer.writerow(["id", "gold", "pred", *(["prob"] if n is None else [f"P({k})" for k in range(n)]), "text", "note"])
    for r in result.predictions:
        probs = [r["prob"]] if n is None else r["probs"]
        writer.writerow([r["id"], "" if r["gold"] is None else r["gold"], r["pred"], *(f"{p:.6f}" for p in probs),
                         r["text"], r.get("note", "")])
    return out.getvalue()


def _n_probs(result: EvalResult) -> int | None:
    """Classes per prediction row of an N-class result; None for a two-class one (a single ``prob``)."""
    first = result.predictions[0] if result.predictions else {}
    return len(first["probs"]) if "probs" in first else None


def write_metrics(result: EvalResult, path: Path) -> None:
    path.write_text(json.dumps(metrics_payload(result), ensure_ascii=False, indent=2), encoding="utf-8")


def write_predictions(result: EvalResult, path: Path) -> None:
    path.write_text(predictions_tsv(result), encoding="utf-8")


class ResultStore:
    """Evaluation results saved as JSON files, one per (model source, task, data file).

    Results are keyed by the model's source (its folder or hub id), so two
    checkpoints that share a name keep separate results. Files saved when the key
    was the name are still read, and replaced when the same model is saved again.

    Args:
        folder: Where results live (``<cache>/results`` by default).
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def _path(self, result: EvalResult) -> Path:
        return self._named(result, source_key(result.model_source))

    def _legacy_path(self, result: EvalResult) -> Path:
        """Where results were saved when they were keyed by model name."""
        return self._named(result, result.model)

    def _named(self, result: EvalResult, model_key: str) -> Path:
        key = f"{model_key}|{result.task}|{result.data.get('name')}|{result.data.get('sha256')}"
        def slug(text: str) -> str:  # a generic task id (labels:a|b/c) or a model name may hold / : |
            return "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in text)[:60]

        return self.folder / f"{slug(result.task)}__{slug(result.model)}__{hashlib.sha1(key.encode()).hexdigest()[:10]}.json"

    def save(self, result: EvalResult) -> Path:
        """Writes (or replaces) the result for this model source, task and file.

        Raises:
            IncompleteResult: the result covers fewer or more items than its file;
                the saved result, if any, is kept.
            OSError: the folder cannot be written.
        """
        expected = result.data.get("n")
        if len(result.predictions) != expected:
            raise IncompleteResult(
                f"Not saved: the result for {result.model} has {len(result.predictions)} predictions but "
                f"{result.data.get('name')} has {expected} items; the earlier result is kept."
            )
        self.folder.mkdir(parents=True, exist_ok=True)
        self._remove_stale_tmp()
        path = self._path(result)
        self._write_atomically(path, json.dumps(result.to_json(), ensure_ascii=False).encode("utf-8"))
        self._drop_legacy(result, path)
        return path

    def _write_atomically(self, path: Path, payload: bytes) -> None:
        # A unique temp name per save: two saves of one result must not share (and
        # rename away) each other's temp file. fsync first so a crash right after
        # the rename cannot leave an empty result in place of the old one.
        fd, tmp = tempfile.mkstemp(dir=self.folder, prefix=f"{path.stem}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(payload)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def _drop_legacy(self, result: EvalResult, path: Path) -> None:
        """Removes the name-keyed file of this same model, which the new file replaces."""
        legacy = self._legacy_path(result)
        if legacy == path:
            return
        old = _read_result(legacy)
        if old is not None and source_key(old.model_source) == source_key(result.model_source):
            legacy.unlink(missing_ok=True)

    def _remove_stale_tmp(self) -> None:
        """Deletes temp files left by saves that were killed before their rename."""
        now = time.time()
        for tmp in self.folder.glob("*.tmp"):
            try:
                info = tmp.lstat()
                if tmp.is_file() and not tmp.is_symlink() and now - info.st_mtime > STALE_TMP_SECONDS:
                    tmp.unlink()
            except OSError:
                continue  # another process removed or renamed it first

    def load_all(self) -> list[EvalResult]:
        """Every saved result, newest first.

        Unreadable files are skipped: oversized ones, FIFOs and other non-regular
        files, malformed JSON, and results that do not cover their whole file.
        """
        if not self.folder.is_dir():
            return []
        self._remove_stale_tmp()
        results = [r for path in sorted(self.folder.glob("*.json"))
                   if (r := _read_result(path)) is not None and _known_task(r.task)]
        return sorted(results, key=lambda r: r.created, reverse=True)


def _known_task(task_id: str) -> bool:
    """A result's task is registered (or a classifier's own): a task since removed has no metric to rank by."""
    return find_task(task_id) is not None


def source_key(source: str) -> str:
    """A model source as a key: a folder by its absolute path, a hub id as written."""
    try:
        path = Path(source)
        return str(path.resolve()) if path.exists() else source
    except (OSError, ValueError):
        return source


def _read_result(path: Path) -> EvalResult | None:
    """One saved result, or None when it is missing, unsafe to read, malformed or incomplete."""
    try:
        raw = json.loads(read_limited(path, RESULT_LIMIT, "saved result"))
        result = EvalResult(**raw)
        complete = isinstance(result.predictions, list) and len(result.predictions) == result.data.get("n")
    except (OSError, ValueError, TypeError, AttributeError):  # FileRefused is a ValueError
        return None
    return result if complete else None


def slice_metrics(dataset: Dataset, result: EvalResult, context: Any = None) -> list[dict[str, Any]]:
    """Accuracy (and MCC) per slice (``Task.slices``), for labelled data.

    Args:
        context: The task's slice context (``Task.slice_context`` of a related
            file: WiC's training targets), or None.
    """
    if result.metrics is None:
        return []
    task = get_task(dataset.task)
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for item, row in zip(dataset.items, result.predictions):
        for kind, value in task.slices(item, context).items():
            groups.setdefault((kind, value), []).append(row)
    out = []
    for (kind, value), rows in sorted(groups.items(), key=lambda group: slice_rank(task, *group[0])):
        m = classification_metrics([r["gold"] for r in rows], [r["pred"] for r in rows], labels=task.labels)
        out.append({"model": result.model, "slice": kind, "value": value, "n": m["n"], "accuracy": m["accuracy"], "mcc": m["mcc"]})
    return out


def slice_rank(task: Task, kind: str, value: str) -> tuple[int, int, str]:
    """Where a slice goes in a table: by its kind, then its value, in ``Task.slice_order`` (≤20 chars before
    21–40, cause before effect); a kind or value the task does not list goes after those it does, by name."""
    order = task.slice_order
    kinds = list(order)
    values = list(order.get(kind, ()))
    return (kinds.index(kind) if kind in kinds else len(kinds),
            values.index(value) if value in values else len(values), f"{kind}\0{value}")


def slice_table(rows: Sequence[dict[str, Any]]):
    """``slice_metrics`` rows of several models → one row per slice (kind, value, n), a column of accuracy per
    model; the slices in the order the rows give them (``slice_rank``), models in the order they were run."""
    import pandas as pd

    frame = pd.DataFrame(rows)
    if frame.empty:
        return frame
    # pivot_table sorts its index as text, which put "21–40" before "≤20 chars": keep the rows' own order.
    wide = frame.pivot_table(index=["slice", "value", "n"], columns="model", values="accuracy", sort=False)
    return wide[list(dict.fromkeys(frame["model"]))].reset_index().rename_axis(columns=None)


def disagreements(dataset: Dataset, results: Sequence[EvalResult]) -> list[dict[str, Any]]:
    """Items where the models' predictions differ, with each model's answer."""
    task = get_task(dataset.task)
    out = []
    for i, item in enumerate(dataset.items):
        preds = {r.model: r.predictions[i]["pred"] for r in results}
        if len(set(preds.values())) > 1:
            out.append({"id": item.id, "text": task.text(item), "gold": item.label, **preds})
    return out


DATA_SUFFIXES = (".tsv", ".csv", ".txt")  # what the data folder is searched for (and uploads may be)


def find_data_files(folder: Path, patterns: Sequence[str] = (), limit: int = 500) -> list[Path]:
    """Task files under the configured data folder (TSV/CSV/TXT, in subfolders too).

    Args:
        patterns: A task's ``data_files``: files whose names match come first (each part sorted by path), so a
            folder holding every task's files offers the chosen task's own at the top.
    """
    if not folder.is_dir():
        return []
    files = sorted(p for p in folder.rglob("*") if p.suffix.lower() in DATA_SUFFIXES and p.is_file())
    return sorted(files, key=lambda p: not name_matches(p, patterns))[:limit]  # a stable sort keeps path order


def name_matches(path: Path, patterns: Sequence[str]) -> bool:
    """Whether the end of ``path`` matches one of ``patterns`` (``copa/*.tsv`` looks at the last two parts),
    case ignored: NIKL spells a split ``dev`` in one file and ``Dev`` in the next."""
    parts = [part.lower() for part in Path(path).parts]
    for pattern in patterns:
        wanted = pattern.lower().split("/")
        if len(parts) >= len(wanted) and fnmatch.fnmatchcase("/".join(parts[-len(wanted):]), "/".join(wanted)):
            return True
    return False


def metrics_frame(results: Sequence[EvalResult]):
    """Metrics per model side by side (one row per model)."""
    import pandas as pd

    rows = []
    for r in results:
        m = r.metrics or {}
        rows.append({"model": r.model, "n": m.get("n", len(r.predictions)), "accuracy": m.get("accuracy"),
                     "MCC": m.get("mcc"), "F1 macro": m.get("f1_macro"), "seconds": r.seconds, "data": data_label(r.data),
                     "precision": r.precision, "not judged": m.get("not_judged", 0)})
    frame = pd.DataFrame(rows)
    # Shown only when some model could not judge some items (counted under its placeholder "no").
    return frame if frame.empty or frame["not judged"].any() else frame.drop(columns=["not judged"])


def predictions_frame(dataset: Dataset, results: Sequence[EvalResult]):
    """One row per item: its text, gold label and each model's prediction and probability.

    Two classes: P(label 1) (``P(1) · model``); more: the probability of the model's own
    answer (``P(pred) · model``).
    """
    import pandas as pd

    task = get_task(dataset.task)
    frame = pd.DataFrame({"id": [i.id for i in dataset.items], "text": [task.text(i) for i in dataset.items],
                          "gold": [i.label for i in dataset.items]})
    for r in results:
        frame[f"pred · {r.model}"] = [p["pred"] for p in r.predictions]
        if _n_probs(r) is None:
            frame[f"P(1) · {r.model}"] = [p["prob"] for p in r.predictions]
        else:
            frame[f"P(pred) · {r.model}"] = [p["probs"][p["pred"]] for p in r.predictions]
    return frame


def slice_context_of(task_id: str, path_or_bytes: Any, name: str | None = None) -> Any:
    """A task's slice context (``Task.slice_context``) from the related file its ``slice_upload`` asks for."""
    from explorer.tasks.registry import read_dataset

    dataset = read_dataset(path_or_bytes, name=name, task=task_id)
    return get_task(task_id).slice_context(dataset)
