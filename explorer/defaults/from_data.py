"""Real models from the user's NIKL 2021 / KoBEST files: ``python -m explorer prepare --data DIR``.

For every task whose train and dev files are found under ``DIR`` (or each task
named), one model is trained by that task's recipe (``RECIPES``, the one table)
and registered beside the demos as "<recipe> <task> (your data)".

Each model is written to ``<cache>/from_data/<task>.partial`` and renamed to
``<task>`` when complete, with a record (``from_data.json``) of the recipe, the
files (their SHA-256) and the dev metric. So a finished task is skipped while
its recipe and files are unchanged, and a run that was killed leaves only a
``.partial`` folder, which the next run deletes before training that task
again from the start (a fine-tuning checkpoint without its optimizer state
would not resume the same run, and keeping that state costs over 1 GB for e5).

The registry only reads the records (``entries``): no torch is imported to list models.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Sequence

from explorer.defaults.prepare import E5_NAME
from explorer.registry import ModelEntry, read_json
from explorer.scorers import KIWI_FEATURES, TRANSFORMER
from explorer.settings import Settings

Say = Callable[[str], None]
RECORD = "from_data.json"
PARTIAL = ".partial"
KIWI_MODEL_FILE = "kiwi_features.json"
ORIGIN = "your data"


# --------------------------------------------------------------------------- recipes


@dataclass(frozen=True)
class FinetuneRecipe:
    """Fine-tune a transformer base with ``explorer.finetune`` (the project's own ``finetune`` command).

    Precision is finetune's default: fp32 on a CPU, bf16 on CUDA (fp16 on cards without bf16).
    """

    max_length: int
    base: str = E5_NAME
    lr: float = 3e-5
    epochs: float = 2
    batch_size: int = 16
    embeddings: str = "frozen"  # the 250k-row table is 81 % of e5's parameters and moves little
    label: str = "e5"
    kind: str = TRANSFORMER

    def describe(self, base: str | None = None) -> dict[str, Any]:
        """The recipe as recorded (and compared to decide whether a model is current); ``base`` overrides it."""
        return {"recipe": "finetune", "base": base or self.base, "lr": self.lr, "epochs": self.epochs,
                "max_length": self.max_length, "batch_size": self.batch_size, "embeddings": self.embeddings,
                "precision": "fp32 on CPU, bf16 on CUDA"}

    def label_for(self, base: str | None) -> str:
        """The name's first word: the recipe's, or the folder of a base given instead."""
        return Path(base).name if base else self.label

    def train(self, task: str, train: Path, dev: Path, out: Path, base: str | None, say: Say) -> dict[str, Any]:
        """Fine-tunes into ``out``; returns the record's measured part (metric, dev metrics, warnings)."""
        from explorer.finetune import finetune

        last = [""]

        def progress(fraction: float, message: str) -> None:
            if message != last[0]:  # finetune repeats a message when only the bar moves
                last[0] = message
                say(message)

        report = finetune(task, base or self.base, train, dev, out, epochs=self.epochs, lr=self.lr,
                          batch_size=self.batch_size, max_length=self.max_length, embeddings=self.embeddings,
                          progress=progress)
        # The best checkpoint is saved at the top; the per-epoch copies would double the folder.
        for checkpoint in out.glob("checkpoint-*"):
            shutil.rmtree(checkpoint, ignore_errors=True)
        return {"metric": report["metric"], "dev_metrics": report["dev_metrics"], "warnings": report["warnings"],
                "device": report["device"], "precision": report["precision"], "seconds": report["seconds"]}

    def entry(self, name: str, folder: Path, record: dict[str, Any]) -> ModelEntry:
        task = record["task"]
        return ModelEntry(name=name, source=str(folder), task=task, task_how=f"config.finetuning_task = {task!r}",
                          origin=ORIGIN, description=_about(record, f"{Path(record['recipe']['base']).name} "
                                                                     f"fine-tuned on your {task} files"))


@dataclass(frozen=True)
class KiwiFeaturesRecipe:
    """A logistic regression over Kiwi language-model features (``explorer.kiwi_features``), for CoLA.

    multilingual-e5-small does not learn NIKL CoLA by any route tried (dev MCC near 0), so CoLA gets this.
    """

    label: str = "Kiwi features"
    kind: str = KIWI_FEATURES
    base: str = "kiwipiepy (cong)"

    def describe(self, base: str | None = None) -> dict[str, Any]:
        """The recipe as recorded (a new model version retrains); it fine-tunes no base, so ``base`` changes nothing."""
        from explorer.kiwi_features import VERSION

        return {"recipe": "kiwi-features", "base": self.base, "version": VERSION,
                "model": "logistic regression over Kiwi LM features and morpheme pieces, balanced classes, "
                         "C by 5-fold cross-validation on train", "precision": "fp64 (scikit-learn), CPU"}

    def label_for(self, base: str | None) -> str:
        return self.label  # no base is fine-tuned

    def train(self, task: str, train: Path, dev: Path, out: Path, base: str | None, say: Say) -> dict[str, Any]:
        from explorer import kiwi_features
        from explorer.kiwi_lm import KiwiLM
        from explorer.metrics import classification_metrics
        from explorer.tasks.registry import get as get_task
        from explorer.tasks.registry import read_dataset

        started = time.perf_counter()
        spec = get_task(task)
        train_items, dev_items = read_dataset(train, task=task).items, read_dataset(dev, task=task).items
        say(f"Loading Kiwi; reading {len(train_items)} train sentences")
        lm = KiwiLM()
        texts = [spec.encode(item).first for item in train_items]
        # NIKL's `source` groups a minimal pair: cross-validation keeps a group in one fold.
        groups = [getattr(item, "source", None) for item in train_items]
        groups = groups if all(groups) else None
        model = kiwi_features.fit(lm, texts, [item.label for item in train_items], f"{train.name} ({len(texts)} sentences)",
                                  groups=groups, progress=_every(1000, "train sentences analysed", say))
        say(f"Chose C = {model.metrics['C']} (cross-validated train MCC {model.metrics['cv_mcc']:.3f}, "
            f"{model.metrics['pieces']} pieces)")
        say(f"Scoring {len(dev_items)} dev sentences")
        scorer = kiwi_features.KiwiFeatures(lm, model)
        predictions = scorer.predict(spec, dev_items, progress=_every(1000, "dev sentences scored", say))
        scores = classification_metrics([i.label for i in dev_items], [p.label for p in predictions], labels=spec.labels)
        dev_metrics = {key: scores[key] for key in ("accuracy", "mcc", "f1_macro")}
        seconds = round(time.perf_counter() - started, 1)
        out.mkdir(parents=True, exist_ok=True)
        model = replace(model, metrics={**model.metrics, "dev": dev_metrics, "seconds": seconds})
        model.save(out / KIWI_MODEL_FILE)
        constant = _constant([p.label for p in predictions], spec)
        return {"metric": spec.main_metric, "dev_metrics": dev_metrics, "warnings": [constant] if constant else [],
                "device": "cpu", "precision": "fp64", "seconds": seconds}

    def entry(self, name: str, folder: Path, record: dict[str, Any]) -> ModelEntry:
        from explorer.kiwi_features import LIMITS

        return ModelEntry(name=name, source=str(folder / KIWI_MODEL_FILE), kind=self.kind, task=record["task"],
                          task_how="trained on your CoLA file (Kiwi-features regression)", origin=ORIGIN,
                          input_format="the sentence, analysed by Kiwi",
                          description=_about(record, LIMITS.rstrip(".")))


# Task → recipe: the one table (README "Real models from your data" shows it). Max lengths are in tokens of the
# e5 tokenizer, measured on the NIKL 2021 and KoBEST train files (per alternative for COPA and HellaSwag): each
# holds the longest item whole (COPA 43, WiC 245 in NIKL's file, SentiNeg 31, HellaSwag 220), except BoolQ, where 256
# holds 99.5 % (longest 298; only the passage is cut). Batches are padded to their longest item, so a roomy limit
# costs nothing.
RECIPES: dict[str, FinetuneRecipe | KiwiFeaturesRecipe] = {
    "cola": KiwiFeaturesRecipe(),
    "wic": FinetuneRecipe(max_length=256),
    "copa": FinetuneRecipe(max_length=64),
    "boolq": FinetuneRecipe(max_length=256),
    "sentineg": FinetuneRecipe(max_length=64),
    "hellaswag": FinetuneRecipe(max_length=256),
}


def _every(n: int, what: str, say: Say) -> Callable[[int, int], None]:
    """A (done, total) progress callback that says a line every ``n`` items and at the end."""
    def progress(done: int, total: int) -> None:
        if done % n == 0 or done == total:
            say(f"{done}/{total} {what}")
    return progress


def _constant(predicted: Sequence[int], spec) -> str | None:
    from explorer.metrics import constant_warning, top_class

    label, share = top_class(predicted)
    return constant_warning(spec.label_name(label), share) if predicted else None


def _measured(record: dict[str, Any]) -> str:
    """``dev accuracy 0.655 on NIKL_SKT_WiC_Dev.tsv (2026-12-02)``: what a record measured, where and when."""
    from explorer.tasks.base import METRIC_NAMES  # as Evaluate's columns name them

    metric = record.get("metric", "")
    value = (record.get("dev_metrics") or {}).get(metric)
    name = METRIC_NAMES.get(metric, metric)
    shown = f"dev {name} {value:.3f}" if isinstance(value, (int, float)) else "dev metric not measured"
    return f"{shown} on {Path(record['files']['dev']['path']).name} ({record.get('trained', '')})"


def _description(record: dict[str, Any], what: str) -> str:
    """A progress line: what happened, then what it measured (and a warning, if any)."""
    warning = " Warning: " + record["warnings"][0] if record.get("warnings") else ""
    return f"{what}. {_measured(record)}.{warning}"


def _about(record: dict[str, Any], what: str) -> str:
    """A registry entry's description: a warning and the dev score first, where a narrow table cell shows them."""
    warning = "Warning: " + record["warnings"][0] + " " if record.get("warnings") else ""
    measured = _measured(record)
    return f"{warning}{measured[0].upper()}{measured[1:]}. {what}."


def model_name(task: str, base: str | None = None) -> str:
    """The registry name of a task's model from the user's data, e.g. ``e5 COPA (your data)``.

    A base given instead of the recipe's names the model by its folder (``tiny-bert COPA (your data)``).
    """
    from explorer.tasks.registry import TASKS

    return f"{RECIPES[task].label_for(base)} {TASKS[task].name} ({ORIGIN})"


# --------------------------------------------------------------------------- finding the files


@dataclass(frozen=True)
class TaskFiles:
    """A task's train and dev files, found in one folder."""

    task: str
    train: Path
    dev: Path


def find_task_files(folder: Path) -> tuple[dict[str, TaskFiles], list[str]]:
    """Train and dev files per task under ``folder``, and notes on what was passed over.

    A file's task comes from its header (the registered readers), its split from its name
    (``explorer.evaluate.split_of``: ``NIKL_CoLA_dev.tsv``, KoBEST's ``dev.tsv``). A task needs a
    labelled train file and a labelled dev file in the same folder; where several folders hold a
    pair for one task (NIKL and KoBEST WiC), the one with the most train rows is used (more to learn
    from; ties: the first in path order) and the others are named.
    """
    from explorer.data.readers import DatasetError
    from explorer.evaluate import find_data_files, split_of
    from explorer.tasks.registry import read_dataset

    by_folder: dict[tuple[str, Path], dict[str, Path]] = {}
    train_rows: dict[Path, int] = {}
    notes: list[str] = []
    for path in find_data_files(folder):
        split = split_of(path.name)
        if split not in ("train", "dev"):
            continue  # test files have no labels; other names say nothing about their split
        try:
            data = read_dataset(path)
        except (DatasetError, OSError):
            continue  # not a task file: other files may share the folder
        if not data.labelled:
            notes.append(f"{path}: no labels; not used.")
            continue
        by_folder.setdefault((data.task, path.parent), {}).setdefault(split, path)
        train_rows[path] = data.n_rows
    found: dict[str, TaskFiles] = {}

    def preference(pair: tuple[tuple[str, Path], dict[str, Path]]) -> tuple:
        (task, parent), splits = pair
        return task, -train_rows.get(splits.get("train", parent), 0), str(parent)

    for (task, parent), splits in sorted(by_folder.items(), key=preference):
        if set(splits) != {"train", "dev"}:
            notes.append(f"{parent}: a {task} {next(iter(splits))} file without its "
                         f"{'dev' if 'train' in splits else 'train'} file beside it; not used.")
        elif task in found:
            notes.append(f"{parent}: {task} files also here; using {found[task].train.parent} "
                         f"(point --data at one folder to choose).")
        else:
            found[task] = TaskFiles(task, splits["train"], splits["dev"])
    return found, notes


# --------------------------------------------------------------------------- training


def root(settings: Settings) -> Path:
    return settings.from_data


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _plan(files: TaskFiles, base: str | None) -> dict[str, Any]:
    """What makes a model what it is: its recipe and its files. A finished model with another plan is retrained."""
    recipe = RECIPES[files.task]
    return {
        "task": files.task,
        "name": model_name(files.task, base),
        "recipe": recipe.describe(base),
        "files": {role: {"path": str(path.resolve()), "sha256": _sha256(path)}
                  for role, path in (("train", files.train), ("dev", files.dev))},
    }


def _is_current(folder: Path, plan: dict[str, Any]) -> dict[str, Any] | None:
    """The record of a finished model made by ``plan`` (same recipe, same file contents), else None."""
    record = read_json(folder / RECORD)
    if not record or record.get("recipe") != plan["recipe"]:
        return None
    same_files = all(record.get("files", {}).get(role, {}).get("sha256") == plan["files"][role]["sha256"]
                     for role in ("train", "dev"))
    return record if same_files else None


def _publish(partial: Path, final: Path) -> None:
    """Replaces ``final`` (absent or an older model) with the finished ``partial``."""
    old = final.with_name(final.name + ".old")
    if final.exists():
        shutil.rmtree(old, ignore_errors=True)
        os.replace(final, old)
    os.replace(partial, final)
    shutil.rmtree(old, ignore_errors=True)


def _train_one(settings: Settings, plan: dict[str, Any], base: str | None, say: Say) -> dict[str, Any]:
    task = plan["task"]
    recipe = RECIPES[task]
    final = root(settings) / task
    partial = final.with_name(task + PARTIAL)
    if partial.exists():  # a run that was killed: its half-trained folder is not worth resuming
        say(f"removing {partial.name} left by an interrupted run; training {task} from the start")
        shutil.rmtree(partial)
    started, cpu_started = time.perf_counter(), time.process_time()
    measured = recipe.train(task, Path(plan["files"]["train"]["path"]), Path(plan["files"]["dev"]["path"]), partial,
                            base, say)
    record = {**plan, "kind": recipe.kind, **measured,
              "wall_seconds": round(time.perf_counter() - started, 1),
              # CPU seconds of this process, all its threads: on a machine shared with other work, wall time
              # says more about the neighbours than about the recipe.
              "cpu_seconds": round(time.process_time() - cpu_started, 1),
              "trained": datetime.now(timezone.utc).strftime("%Y-%m-%d"), "cpu_count": os.cpu_count()}
    (partial / RECORD).write_text(json.dumps(record, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    _publish(partial, final)
    return record


def prepare_from_data(
    settings: Settings, data: Path, tasks: Sequence[str] | None = None, force: bool = False,
    base: str | None = None, say: Say | None = None,
) -> dict[str, dict[str, Any]]:
    """Trains and registers one model per task found in ``data`` (or each of ``tasks``).

    Args:
        settings: Where the cache lives (models go to ``<cache>/from_data``).
        data: A folder holding NIKL 2021 / KoBEST train and dev files, at any depth.
        tasks: Only these task ids; each must be found. None: every task found.
        force: Retrain even what is done.
        base: Fine-tune this folder instead of each recipe's base (tests pass a tiny one).
        say: Receives progress lines ("[copa 2/5] Step 40/386, epoch 0.21: ...").

    Returns:
        Task → its record (``from_data.json``), trained now or earlier.

    Raises:
        ValueError: ``data`` is not a folder, no task was found, or a named task was not found.
    """
    say = say or (lambda line: None)
    if not Path(data).is_dir():
        raise ValueError(f"--data {data}: not a folder.")
    found, notes = find_task_files(Path(data))
    for note in notes:
        say(f"note: {note}")
    wanted = list(tasks) if tasks else [t for t in RECIPES if t in found]
    missing = [t for t in wanted if t not in found]
    if missing or not wanted:
        seen = ", ".join(found) or "none"
        raise ValueError(f"no train and dev files for {', '.join(missing) or 'any task'} under {data} (found: {seen}).")
    root(settings).mkdir(parents=True, exist_ok=True)
    with _only_run(root(settings)):
        return _train_all(settings, found, wanted, force, base, say)


@contextmanager
def _only_run(folder: Path):
    """Holds ``folder/.lock`` while training: a second run at once would delete the first one's ``.partial`` folder.

    Raises:
        ValueError: another run holds it (the lock goes with its process, so a killed run never blocks the next).
    """
    import fcntl

    with (folder / ".lock").open("w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise ValueError(f"another `prepare --data` is training into {folder}; wait for it to finish.") from None
        yield


def _train_all(settings: Settings, found: dict[str, TaskFiles], wanted: Sequence[str], force: bool,
               base: str | None, say: Say) -> dict[str, dict[str, Any]]:
    bases = _Bases(settings, base, say)
    records = {}
    for number, task in enumerate(wanted, start=1):
        prefix = f"[{task} {number}/{len(wanted)}]"
        plan = _plan(found[task], base)
        done = None if force else _is_current(root(settings) / task, plan)
        if done:
            say(f"{prefix} done already: {_description(done, plan['name'])}")
            records[task] = done
            continue
        say(f"{prefix} training {plan['name']} on {found[task].train} (dev: {found[task].dev.name})")
        records[task] = _train_one(settings, plan, bases.path(task), lambda line, p=prefix: say(f"{p} {line}"))
        say(f"{prefix} {_description(records[task], 'finished')}")
        for warning in records[task]["warnings"]:
            say(f"{prefix} warning: {warning}")
    return records


class _Bases:
    """The folder each recipe fine-tunes: the override, else its base; e5's resolved once, when first needed."""

    def __init__(self, settings: Settings, override: str | None, say: Say) -> None:
        self.settings, self.override, self.say = settings, override, say
        self._e5: str | None = None

    def path(self, task: str) -> str | None:
        if self.override or RECIPES[task].base != E5_NAME:
            return self.override
        if self._e5 is None:
            from explorer.defaults.e5 import resolve_e5

            self.say("Resolving multilingual-e5-small (rebuilt once, offline, when missing)")
            where, how = resolve_e5(self.settings.cache_dir)
            self.say(f"multilingual-e5-small: {how}")
            self._e5 = str(where)
        return self._e5


# --------------------------------------------------------------------------- registry


def entries(settings: Settings) -> list[ModelEntry]:
    """Registry entries for the finished models (reads their records only; ``.partial`` folders are not listed)."""
    out = []
    folder = root(settings)
    for task in RECIPES:
        record = read_json(folder / task / RECORD)
        if record and record.get("task") == task:
            out.append(RECIPES[task].entry(str(record.get("name") or model_name(task)), folder / task, record))
    return out
