"""One table: our evaluated models beside the published Korean benchmarks.

Our rows come from saved evaluation results (the newest per model and task);
published rows come from ``explorer.reference`` with their sources. Scores use
the leaderboard's scale (×100), and cells a source leaves empty stay empty.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Mapping, Sequence

import pandas as pd

from explorer.evaluate import SPLITS, EvalResult, data_label, source_key
from explorer.reference import load_reference
from explorer.registry import ModelEntry, read_json
from explorer.scorers import capabilities
from explorer.tasks.base import Task
from explorer.tasks.registry import TASKS

OTHER_COLUMNS = {
    "nsmc_acc": "NSMC acc",
    "naver_ner_f1": "Naver NER F1",
    "paws_acc": "PAWS acc",
    "kornli_acc": "KorNLI acc",
    "korsts_spearman": "KorSTS ρ",
    "question_pair_acc": "Question Pair acc",
    "korean_hate_speech_dev_f1": "Hate Speech F1 · dev",  # dev in every source: no public test labels
}
# How the NIKL 2021 leaderboard file names a metric in its columns (round1_cola_mcc, round1_wic_acc).
_LEADERBOARD_METRICS = {"accuracy": "acc", "mcc": "mcc", "f1_macro": "f1"}
# How Comparison's caption names each task's main metric.
_METRIC_WORDS = {"accuracy": "accuracy", "mcc": "Matthews correlation", "f1_macro": "macro-F1"}


def task_columns() -> dict[str, str]:
    """Each registered task's column (``Task.compare_column``: name and main metric), by task id.

    Read from the registry on each call, so a task registered later gets its column too.
    """
    return {task_id: task.compare_column for task_id, task in TASKS.items()}


def metric_columns() -> list[str]:
    """Every metric column of the table: the tasks' columns, then the other published benchmarks."""
    return [*task_columns().values(), *OTHER_COLUMNS.values()]


def scale_caption() -> str:
    """How the tasks' columns are scored: "CoLA is Matthews correlation; SentiNeg and HellaSwag macro-F1; the others accuracy."."""
    by_metric: dict[str, list[str]] = {}
    for task in TASKS.values():
        if task.main_metric != "accuracy":
            by_metric.setdefault(task.main_metric, []).append(task.name)
    if not by_metric:
        return "every task is accuracy."
    parts = []
    for k, (metric, names) in enumerate(by_metric.items()):
        listed = names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"
        verb = ("is " if len(names) == 1 else "are ") if k == 0 else ""
        parts.append(f"{listed} {verb}{_METRIC_WORDS.get(metric, metric)}")
    return "; ".join(parts) + "; the others accuracy."


_FAMILIES = ("electra", "roberta", "albert", "funnel", "distilbert", "bert", "xlm", "e5", "gpt")


def family_of(name: str, model_type: str | None = None) -> str:
    """A coarse family label from the config's model_type or the model's name."""
    text = f"{model_type or ''} {name}".lower()
    for family in _FAMILIES:
        if family in text:
            return {"xlm": "roberta", "e5": "bert", "distilbert": "bert"}.get(family, family)
    return "other"


NOT_REGISTERED = "not registered now"


def _registered(entry: ModelEntry | None, result: EvalResult) -> bool:
    """Whether a result is of a model registered now: one of that name, from the same folder or hub id."""
    return entry is not None and source_key(entry.source) == source_key(result.model_source)


def _our_rows(entries: Sequence[ModelEntry], results: Sequence[EvalResult]) -> list[dict]:
    """One row per model and split: dev and test numbers never share a row, so never a cell unmarked.

    A result of a model not registered now (evaluated by path from the command line, or since removed) keeps its
    row, named as such, with ``ours`` False (the page does not tint it as one of ours) and ``evaluated here`` True.
    """
    from explorer.loading import count_parameters

    by_name = {e.name: e for e in entries}
    groups: dict[tuple[str, bool, str], dict[str, EvalResult]] = {}
    for r in results:  # newest first: keep the first seen per (model, split, task)
        if r.metrics is not None and r.task in TASKS:  # a classifier of its own labels has no column here
            key = (r.model, _registered(by_name.get(r.model), r), r.split)
            groups.setdefault(key, {}).setdefault(r.task, r)
    rows = []
    # Registered models first, each model's splits together (dev, test, train, generated, unknown).
    order = sorted(groups, key=lambda key: (not key[1], key[0], SPLITS.index(key[2])))
    for model, registered, split in order:
        by_task = groups[(model, registered, split)]
        entry = by_name.get(model) if registered else None
        config = read_json(Path(entry.source) / "config.json") if entry and Path(entry.source).is_dir() else None
        params = count_parameters(Path(entry.source)) if entry and capabilities(entry).parameters else None
        if registered:
            name, source = model, "evaluated here" + (" (demo)" if entry.demo else "")
        else:
            was = next(iter(by_task.values())).model_source
            name, source = f"{model} ({NOT_REGISTERED})", f"evaluated here; {NOT_REGISTERED} (was {was})"
        row = {
            "model": name,
            "split": split,
            "ours": registered,
            "evaluated here": True,
            "family": (entry and capabilities(entry).family) or family_of(model, (config or {}).get("model_type")),
            "params (M)": round(params / 1e6, 1) if params else None,
            "source": source,
        }
        data, when = [], []
        for task_id, task in TASKS.items():
            if r := by_task.get(task_id):
                value = r.metrics.get(task.main_metric)  # each task is ranked by its own main metric
                row[task.compare_column] = None if value is None else 100 * value
                data.append(f"{task.name}: {data_label(r.data)}")
                when.append(r.created[:10])
        row["data"] = "; ".join(data)
        row["when"] = max(when) if when else ""
        rows.append(row)
    return rows


def _norm(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def _params_lookup(counts: pd.DataFrame) -> dict[str, float]:
    return {_norm(str(m)): v for m, v in zip(counts["model"], counts["params_millions"])}


def _size_of(model: str, params: dict[str, float]) -> float | None:
    """Published size for a model name: 'KoBERT' matches 'KoBERT-base', 'KoELECTRA-Base-v3' matches itself."""
    key = _norm(model)
    for name, size in params.items():
        if name == key or name == key + "base" or name.replace("base", "") == key.replace("base", ""):
            return size
    return None


def _published_rows(reference: dict[str, pd.DataFrame]) -> list[dict]:
    params = _params_lookup(reference["parameter_counts"])
    rows = []
    for _, r in reference["nikl2021_leaderboard"].iterrows():
        for round_ in (1, 2):
            row = {"model": f"{r['team']} (rank {int(r['rank'])}, round {round_})", "split": r["split"], "ours": False,
                   "family": "ensemble/other", "source": r["source"], "data": f"NIKL 2021 leaderboard, round {round_}",
                   "when": "2021"}
            for task_id, task in TASKS.items():
                # The leaderboard has the NIKL tasks only; another task's cell stays empty.
                key = f"round{round_}_{task_id}_{_LEADERBOARD_METRICS.get(task.main_metric)}"
                if key in r.index:
                    row[task.compare_column] = r[key]
            rows.append(row)
    seen = set()
    for table, label in (("koelectra_readme", "KoELECTRA README subtasks"), ("seed_bert_family", "study group BERT-family table")):
        for _, r in reference[table].iterrows():
            key = (r["model"], table)
            if key in seen:
                continue
            seen.add(key)
            size = _size_of(str(r["model"]), params)
            row = {"model": r["model"], "split": r["split"], "ours": False, "family": family_of(str(r["model"])),
                   "source": r["source"], "data": label, "when": "", "params (M)": size}
            if "checkpoint_size" in r and isinstance(r["checkpoint_size"], str):
                row["checkpoint size"] = r["checkpoint_size"]
            for key_, column in OTHER_COLUMNS.items():
                if key_ in r and pd.notna(r[key_]):
                    row[column] = float(r[key_])
            rows.append(row)
    single = reference["single_model_results"]
    for model, group in single.groupby("model", sort=False):
        row = {"model": f"{model} (winning team's single model)", "split": group["split"].iloc[0], "ours": False,
               "family": family_of(str(model)), "source": group["source"].iloc[0], "data": "NIKL 2021, reported",
               "when": "2021"}
        notes = []
        for _, r in group.iterrows():
            task = TASKS.get(r["task"])
            if task is not None and _reports_main_metric(task, r["metric"]):
                value = r["value"] * (100 if r["scale"] == "fraction" else 1)
                row[task.compare_column] = value
            else:  # e.g. CoLA was reported as accuracy, not MCC: keep it out of the MCC column
                notes.append(f"{r['task']} {r['metric']} {r['value']}")
        row["note"] = "; ".join(notes)
        rows.append(row)
    return rows


def _reports_main_metric(task: Task, metric: str) -> bool:
    """Whether a published figure (``dev_accuracy``) is the task's main metric, so it may sit in its column."""
    return metric == task.main_metric or metric.endswith(f"_{task.main_metric}")


def comparison_table(entries: Sequence[ModelEntry], results: Sequence[EvalResult],
                     reference: dict[str, pd.DataFrame] | None = None) -> pd.DataFrame:
    """Our evaluated models first, then the published rows, one column per metric.

    Each row is one model on one split (``split``: dev, test, train, generated or unknown), and ``data`` names the
    file behind each of its numbers, so a dev number never sits beside a test number unmarked.
    """
    reference = reference or load_reference()
    rows = _our_rows(entries, results) + _published_rows(reference)
    frame = pd.DataFrame(rows)
    metrics = metric_columns()
    for column in [*metrics, "split", "params (M)", "checkpoint size", "note", "data", "when"]:
        if column not in frame:
            frame[column] = pd.NA
    frame["evaluated here"] = frame["evaluated here"].eq(True) if "evaluated here" in frame else False  # published: False
    # The split next to the name: every number in a row was measured on that split (see ``_our_rows``).
    ordered = ["model", "split", "ours", "family", "params (M)", *metrics, "data", "when", "checkpoint size", "note",
               "source", "evaluated here"]
    frame = frame[ordered]
    for column in [*metrics, "params (M)"]:
        frame[column] = pd.to_numeric(frame[column], errors="coerce")
    return frame


def filter_table(frame: pd.DataFrame, tasks: Sequence[str] = (), families: Sequence[str] = (),
                 published: bool = True, max_params: float | None = None, splits: Sequence[str] = ()) -> pd.DataFrame:
    """Rows and metric columns the user asked for.

    Args:
        tasks: Metric columns to keep (all when empty); rows with none of them are dropped.
        families: Families to keep (all when empty).
        published: Whether published rows are shown (rows evaluated here always are).
        max_params: Drop rows larger than this many million parameters (unknown sizes stay).
        splits: Splits to keep (all when empty): ``test`` alone sets our test numbers beside the leaderboard's.
    """
    out = frame
    if splits:
        out = out[out["split"].isin(splits)]
    if not published:
        out = out[out["evaluated here"]]
    if families:
        out = out[out["family"].isin(families)]
    if max_params is not None:
        out = out[out["params (M)"].isna() | (out["params (M)"] <= max_params)]
    if tasks:
        drop = [c for c in metric_columns() if c not in tasks]
        out = out.drop(columns=drop)
        out = out[out[list(tasks)].notna().any(axis=1)]
    return out.reset_index(drop=True)


def best_cells(frame: pd.DataFrame, metrics: Sequence[str]) -> pd.DataFrame:
    """True where a number is its column's best among rows of its own split, for dev and for test.

    A dev score and a test score are not rivals (a model tuned on dev looks better there), so each split has its
    own best; numbers on generated demo data, a train file or a file of unknown split are never marked.
    """
    best = pd.DataFrame(False, index=frame.index, columns=list(metrics))
    for split in ("dev", "test"):
        rows = frame[frame["split"] == split]
        for metric in metrics:
            values = pd.to_numeric(rows[metric], errors="coerce")
            if values.notna().any():
                best.loc[values.index[values == values.max()], metric] = True
    return best


def live_fields() -> dict[str, list[tuple[Any, Any]]]:
    """The Comparison page's one-line form: each key (``Field.live``) and the (task, field) pairs it fills.

    ``s`` is the sentence every task with a one-text field shares; the other keys are one task's own fields.
    """
    from explorer.tasks.registry import TASKS

    keys: dict[str, list[tuple[Any, Any]]] = {}
    for task in TASKS.values():
        for field in task.fields:
            if field.live:
                keys.setdefault(field.live, []).append((task, field))
    return keys


def live_items(live: Mapping[str, str], analyse=None) -> dict[str, object]:
    """One typed input as an item for every registered task whose fields are all filled.

    The sentence (``s``) is the CoLA input, WiC's first sentence, BoolQ's passage,
    COPA's premise and SentiNeg's review (each task's field with ``live="s"``), so a
    single line reaches models of every task. A task with a field the form has no key for is left out.

    Args:
        live: The form by key (``Field.live``).
        analyse: Kiwi's morphemes, for tasks that use them.

    Raises:
        InputError: when filled fields cannot form an item (a blank-looking sentence, a bad question).
    """
    from explorer.tasks.registry import TASKS

    items: dict[str, object] = {}
    for task in TASKS.values():
        typed = {field: live.get(field.live, "") if field.live else "" for field in task.fields}
        if typed and all(value.strip() for value in typed.values()):  # a choice left blank is not filled either
            values = {field.name: task.form_value(field, value) for field, value in typed.items()}
            items[task.id] = task.make_item(values, analyse if task.uses_morphemes else None)[0]
    return items


def live_table(runs_by_task: dict[str, list]) -> pd.DataFrame:
    """Rows = models across tasks: the answer, its probability, and agreement among that task's models."""
    from explorer.tasks.registry import get as get_task

    rows = []
    for task, runs in runs_by_task.items():
        answered = [r for r in runs if r.error is None and r.predictions and r.predictions[0].judged]
        labels = [r.predictions[0].label for r in answered]
        for run in runs:
            row = {"task": task, "model": run.entry.name}
            if run.error:
                row.update(answer="error", probability=None, agreement=None, note=run.error[:160])
            elif not run.predictions[0].judged:
                row.update(answer="cannot judge", probability=None, agreement=None, note=run.predictions[0].note)
            else:
                pred = run.predictions[0]
                answer = get_task(task).label_name(pred.label)
                agree = labels.count(pred.label) / len(labels)
                row.update(answer=answer, probability=max(pred.probs), agreement=agree, note=pred.note)
            rows.append(row)
    return pd.DataFrame(rows, columns=["task", "model", "answer", "probability", "agreement", "note"])
