"""Fine-tuning a base encoder on a registered task with the Hugging Face ``Trainer``.

The output folder is an ordinary Hugging Face checkpoint that the app loads
like any other: ``config.json`` names the task (``finetuning_task``, and
``id2label`` from the task's ``config_labels``), the weights are ``model.safetensors``, the
tokenizer is saved beside them, and ``trainer_state.json`` holds the loss and
dev metrics per epoch. The ``checkpoint-*`` folders that ``save_total_limit``
keeps (the best and the latest) stay inside it.

Inputs are encoded by the same ``encode`` functions that prediction uses
(``explorer.tasks``), so a model is trained on exactly what it will later see.

Everything device-related is left to ``Trainer``: it picks CUDA when present,
and ``accelerate launch`` / ``torchrun`` run this same function on several GPUs.
"""

from __future__ import annotations

import functools
import json
import math
import random
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np
import torch
from transformers import (
    AutoConfig,
    AutoModelForMultipleChoice,
    AutoModelForSequenceClassification,
    AutoTokenizer,
    DataCollatorWithPadding,
    EvalPrediction,
    Trainer,
    TrainerCallback,
    TrainingArguments,
    set_seed,
)

from explorer.data.readers import Dataset, DatasetError
from explorer.loading import max_input_length, pad_with_eos
from explorer.metrics import classification_metrics
from explorer.tasks.registry import get as get_task
from explorer.tasks.registry import read_dataset

__all__ = ["MultipleChoiceCollator", "encode_items", "finetune", "reinit_zero_pooler"]

Progress = Callable[[float, str], None]

E5_NAME = "multilingual-e5-small"
SUMMARY_FILE = "explorer_finetune.json"
# About 50 train-loss points over the whole run, whatever its length.
_LOGGING_RATIO = 0.02
_WARMUP_RATIO = 0.1


@dataclass
class MultipleChoiceCollator:
    """Pads multiple-choice features to ``[batch, n_choices, longest]`` (transformers has no such collator).

    Each feature holds one list per choice under every tokenizer key and an
    integer ``labels``; choices are flattened, padded by the tokenizer, then
    folded back. Every feature of a batch must have the same number of choices.
    """

    tokenizer: Any
    pad_to_multiple_of: int | None = None

    def __call__(self, features: list[dict[str, Any]]) -> dict[str, torch.Tensor]:
        n_choices = len(features[0]["input_ids"])
        if any(len(feature["input_ids"]) != n_choices for feature in features):
            counts = sorted({len(feature["input_ids"]) for feature in features})
            raise ValueError(f"a multiple-choice batch needs the same number of choices per item, got {counts}")
        flat = [
            {key: value[i] for key, value in feature.items() if key != "labels"}
            for feature in features
            for i in range(n_choices)
        ]
        batch = self.tokenizer.pad(flat, padding=True, pad_to_multiple_of=self.pad_to_multiple_of, return_tensors="pt")
        batch = {key: value.view(len(features), n_choices, -1) for key, value in batch.items()}
        batch["labels"] = torch.tensor([feature["labels"] for feature in features], dtype=torch.long)
        return batch


def _tokenize(tokenizer: Any, firsts: list[str], seconds: list[str] | None, truncation: str, max_length: int) -> dict:
    """Tokenizes a batch, falling back per item where one-sided truncation cannot fit.

    BoolQ cuts only the passage; when the question alone is longer than
    ``max_length`` the tokenizer refuses, and that one item is cut on both sides.
    """
    try:
        return tokenizer(firsts, seconds, truncation=truncation, max_length=max_length)
    except Exception:
        if truncation in (True, "longest_first"):
            raise
    out: dict[str, list] = {}
    for i, first in enumerate(firsts):
        second = seconds[i] if seconds is not None else None
        try:
            enc = tokenizer(first, second, truncation=truncation, max_length=max_length)
        except Exception:
            enc = tokenizer(first, second, truncation="longest_first", max_length=max_length)
        for key, value in enc.items():
            out.setdefault(key, []).append(value)
    return out


def encode_items(
    task: str, items: Sequence[Any], tokenizer: Any, max_length: int, input_format: str | None = None
) -> list[dict[str, Any]]:
    """Turns labelled reader items into tokenized features with ``labels``.

    Args:
        task: A registered task id.
        items: Labelled items of that task.
        tokenizer: The base model's tokenizer.
        max_length: Longest input in tokens (per choice for a multiple-choice task).
        input_format: The task's input convention (see each task module).

    Returns:
        One dict per item; a multiple-choice item's feature holds one list per alternative.
    """
    spec = get_task(task)
    encoded = [spec.encode(i, input_format) for i in items]
    # One row per item, or one (first, ending) row per alternative, regrouped per item below.
    rows = [pair for e in encoded for pair in e.pairs]
    seconds = None if not rows or rows[0][1] is None else [second for _, second in rows]
    truncation = encoded[0].truncation if encoded else "longest_first"
    enc = _tokenize(tokenizer, [first for first, _ in rows], seconds, truncation, max_length)
    if encoded and encoded[0].endings:
        features, start = [], 0
        for e in encoded:  # each item's own number of endings
            features.append({key: values[start : start + len(e.endings)] for key, values in enc.items()})
            start += len(e.endings)
    else:
        features = [{key: values[k] for key, values in enc.items()} for k in range(len(items))]
    for feature, item in zip(features, items):
        feature["labels"] = int(item.label)
    return features


def _read(path: str | Path, task: str, role: str) -> Dataset:
    """Reads a labelled task file; DatasetError (the reader's or ours) reaches the caller."""
    data = read_dataset(Path(path), task=task)
    if not data.labelled:
        name = Path(path).name
        raise DatasetError(f"{name}: the {role} file has no labels (a test file?); fine-tuning needs labels.", name)
    return data


def _subsample(items: list[Any], limit: int | None, seed: int) -> list[Any]:
    """A seeded random subset in file order: NIKL files are grouped by source, so a head slice is biased."""
    if limit is None or limit >= len(items):
        return items
    keep = sorted(random.Random(seed).sample(range(len(items)), max(1, limit)))
    return [items[i] for i in keep]


def resolve_base(base: str) -> tuple[str, str]:
    """Maps the short name of the offline e5 default to its folder; anything else is used as given.

    Returns:
        ``(path_or_hub_id, how)``.
    """
    if base.strip() == E5_NAME:
        from explorer.defaults.e5 import resolve_e5
        from explorer.settings import load_settings

        where, how = resolve_e5(load_settings([]).cache_dir)
        return str(where), how
    return base, "local folder" if Path(base).exists() else "hub id"


def _load_model(task: str, base: str, config: Any) -> torch.nn.Module:
    """Builds the task's head on the base; a head of another shape (or none) is freshly initialised."""
    spec = get_task(task)
    config.num_labels = spec.num_labels
    config.id2label = spec.config_id2label  # label names the registry reads to infer the task and the positive class
    config.label2id = {name: idx for idx, name in config.id2label.items()}
    config.finetuning_task = task  # what the registry reads first to infer the task
    cls = AutoModelForMultipleChoice if spec.head == "multiple_choice" else AutoModelForSequenceClassification
    return cls.from_pretrained(
        base,
        config=config,
        # float32 master weights: fp16-stored bases (our e5 folder) cannot be trained under AMP as they are.
        dtype=torch.float32,
        # A base that already has a head for another task (3 classes, or a sequence head under COPA).
        ignore_mismatched_sizes=True,
        trust_remote_code=False,
    )


def reinit_zero_pooler(model: torch.nn.Module) -> list[str]:
    """Re-initialises pooler layers stored as all zeros; returns their names.

    Our offline e5 folder stores its missing BERT pooler as zeros. Sequence and
    multiple-choice heads read the pooled output, so with a zero pooler the
    logits are constant, no gradient reaches the encoder, and the loss sits at
    ln 2 for hundreds of steps (measured on NIKL CoLA). A fresh pooler, as for
    any new head, trains normally.
    """
    std = float(getattr(model.config, "initializer_range", 0.02))
    names = []
    for name, module in model.named_modules():
        if isinstance(module, torch.nn.Linear) and "pooler" in name and not module.weight.detach().any():
            with torch.no_grad():
                module.weight.normal_(0.0, std)
                if module.bias is not None:
                    module.bias.zero_()
            names.append(name)
    return names


def _metrics(prediction: EvalPrediction, *, labels: Sequence[int]) -> dict[str, float]:
    """Dev metrics over the task's ``labels`` (bind them with ``functools.partial``)."""
    logits = prediction.predictions[0] if isinstance(prediction.predictions, tuple) else prediction.predictions
    pred = np.asarray(logits).argmax(axis=-1).tolist()
    gold = np.asarray(prediction.label_ids).tolist()
    scores = classification_metrics(gold, pred, labels=labels)
    return {"accuracy": scores["accuracy"], "mcc": scores["mcc"], "f1_macro": scores["f1_macro"]}


class _ReportProgress(TrainerCallback):
    """Forwards Trainer logs to a ``progress(fraction, message)`` callback (main process only)."""

    def __init__(self, report: Progress, metric: str) -> None:
        self.report = report
        self.metric = metric

    def on_log(self, args, state, control, logs=None, **kwargs):  # noqa: D102 - TrainerCallback hook
        if not state.is_world_process_zero or not state.max_steps:
            return
        logs = logs or {}
        message = f"Step {state.global_step}/{state.max_steps}, epoch {state.epoch or 0:.2f}"
        if "loss" in logs:
            message += f": train loss {logs['loss']:.4f}"
        if f"eval_{self.metric}" in logs:
            message += f": dev {self.metric} {logs[f'eval_{self.metric}']:.4f}, dev loss {logs.get('eval_loss', 0):.4f}"
        # Training is 0.05–0.95 of the bar; reading and saving take the ends.
        self.report(0.05 + 0.9 * state.global_step / state.max_steps, message)


def _precision() -> dict[str, bool]:
    """bf16 where the GPU has it, else fp16 on CUDA; full precision on CPU/MPS."""
    if not torch.cuda.is_available():
        return {"bf16": False, "fp16": False}
    bf16 = torch.cuda.is_bf16_supported()
    return {"bf16": bf16, "fp16": not bf16}


def _best_eval(log_history: list[dict[str, Any]], step: int | None) -> dict[str, Any]:
    """The dev metrics logged at the best step (the last evaluation when unknown)."""
    evals = [entry for entry in log_history if "eval_loss" in entry]
    chosen = [entry for entry in evals if entry.get("step") == step] or evals[-1:]
    if not chosen:
        return {}
    timings = ("runtime", "samples_per_second", "steps_per_second")
    return {key[5:]: value for key, value in chosen[-1].items() if key.startswith("eval_") and key[5:] not in timings}


def finetune(
    task: str,
    base: str,
    train: str | Path,
    dev: str | Path,
    out: str | Path,
    epochs: float = 3,
    lr: float = 3e-5,
    batch_size: int = 16,
    max_length: int = 128,
    seed: int = 42,
    input_format: str | None = None,
    max_train_items: int | None = None,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Fine-tunes ``base`` on a task's train file, picking the best epoch on the dev file.

    The head is the task's: a multiple-choice task (COPA) trains a
    multiple-choice head (all alternatives scored jointly), the others a
    sequence-classification head with one output per class. Evaluation and a
    checkpoint happen every epoch; the best by the task's ``main_metric`` (CoLA:
    MCC; SentiNeg, HellaSwag: macro-F1; the others: accuracy) is reloaded at the end and saved at the top of ``out``.

    Args:
        task: A registered task id (``cola``, ``wic``, ``copa``, ``boolq``...).
        base: A hub id, a local model folder, or ``multilingual-e5-small`` for
            the offline e5 default.
        train: Labelled train file in a published layout (``read_dataset``).
        dev: Labelled dev file, same task.
        out: Output folder; must not exist or be empty.
        epochs: Training epochs (fractions allowed).
        lr: Peak learning rate (linear warmup over 10 % of steps, then decay).
        batch_size: Train batch per device (dev batches are twice as large).
        max_length: Longest input in tokens (for a multiple-choice task, per alternative).
        seed: Seed for the head's initialisation, shuffling and subsampling.
        input_format: The task's input convention (see ``explorer.tasks``);
            stored in the config as ``explorer_input_format`` when given.
        max_train_items: Train on a seeded random subset of this size.
        progress: ``progress(fraction, message)`` for a progress bar.

    Returns:
        ``dev_metrics`` (accuracy, mcc, f1_macro, loss of the best epoch),
        ``metric``, ``best_checkpoint``, ``seconds``, ``train_seconds``,
        ``n_train``, ``n_dev``, ``device``, ``n_devices``, ``precision``,
        ``out`` and ``notes`` (remarks worth printing, e.g. a re-initialised pooler).

    Raises:
        DatasetError: Unreadable, unlabelled or wrong-task train/dev files.
        FileExistsError: ``out`` already holds files.
        ValueError: Unknown task or input format.
    """
    spec = get_task(task)  # an unknown task fails here, naming the known ones
    report = progress or (lambda fraction, message: None)
    started = time.perf_counter()
    out = Path(out)
    if out.is_dir() and any(out.iterdir()):
        # Old checkpoint-* folders would mix into save_total_limit's rotation and the registry's scan.
        raise FileExistsError(f"{out} is not empty; choose a new output folder.")

    report(0.0, "Reading the train and dev files")
    train_data, dev_data = _read(train, task, "train"), _read(dev, task, "dev")
    train_items = _subsample(train_data.items, max_train_items, seed)

    report(0.02, f"Loading {base}")
    base_path, base_how = resolve_base(base)
    config = AutoConfig.from_pretrained(base_path, trust_remote_code=False)
    tokenizer = AutoTokenizer.from_pretrained(base_path, trust_remote_code=False)
    pad_with_eos(config, tokenizer)  # decoder-style bases (GPT-2 and kin) ship without a pad token
    # Longer inputs than the position table holds would crash mid-epoch.
    length = min(max_length, max_input_length(config, tokenizer))

    # Before the model: an unknown input format fails here, not after a slow load.
    report(0.03, f"Tokenizing {len(train_items)} train and {len(dev_data.items)} dev items")
    train_set = encode_items(task, train_items, tokenizer, length, input_format)
    dev_set = encode_items(task, dev_data.items, tokenizer, length, input_format)

    set_seed(seed)  # before the head is initialised: Trainer seeds only afterwards
    model = _load_model(task, base_path, config)
    notes = [f"{name} was all zeros in the base; re-initialised" for name in reinit_zero_pooler(model)]
    if input_format:
        model.config.explorer_input_format = input_format

    precision = _precision()
    # Multiples of 8 let fp16/bf16 tensor cores work; on CPU they would only add padding.
    multiple = 8 if torch.cuda.is_available() else None
    collator = (
        MultipleChoiceCollator(tokenizer, multiple)
        if spec.head == "multiple_choice"
        else DataCollatorWithPadding(tokenizer, pad_to_multiple_of=multiple)
    )
    metric = spec.main_metric
    args = TrainingArguments(
        output_dir=str(out),
        num_train_epochs=epochs,
        learning_rate=lr,
        per_device_train_batch_size=batch_size,
        per_device_eval_batch_size=batch_size * 2,
        warmup_steps=_WARMUP_RATIO,
        weight_decay=0.01,
        eval_strategy="epoch",
        save_strategy="epoch",
        save_total_limit=2,
        # Optimizer state would triple each checkpoint (over 1 GB for e5-small); we never resume.
        save_only_model=True,
        load_best_model_at_end=True,
        metric_for_best_model=metric,
        greater_is_better=True,
        logging_strategy="steps",
        logging_steps=_LOGGING_RATIO,
        logging_first_step=True,
        seed=seed,
        report_to="none",
        dataloader_pin_memory=torch.cuda.is_available(),  # pinning is a CUDA feature; elsewhere it only warns
        **precision,
    )
    trainer = Trainer(
        model=model,
        args=args,
        data_collator=collator,
        train_dataset=train_set,
        eval_dataset=dev_set,
        processing_class=tokenizer,
        compute_metrics=functools.partial(_metrics, labels=spec.labels),
        callbacks=[_ReportProgress(report, metric)],
    )
    result = trainer.train()
    state = trainer.state

    report(0.96, f"Saving the best model to {out}")
    trainer.save_model(str(out))  # the best epoch's weights, config and tokenizer
    trainer.save_state()  # trainer_state.json at the top, not only inside checkpoint-*
    dev_metrics = _best_eval(state.log_history, state.best_global_step)
    summary = {
        "task": task,
        "metric": metric,
        "dev_metrics": dev_metrics,
        "best_checkpoint": state.best_model_checkpoint,
        "seconds": round(time.perf_counter() - started, 1),
        "train_seconds": round(float(result.metrics.get("train_runtime", 0.0)), 1),
        "n_train": len(train_set),
        "n_dev": len(dev_set),
        "device": str(args.device),
        "n_devices": args.world_size * max(1, args.n_gpu),  # DDP processes x DataParallel GPUs
        "precision": "bf16" if precision["bf16"] else "fp16" if precision["fp16"] else "fp32",
        "out": str(out),
        "notes": notes,
    }
    if trainer.is_world_process_zero():
        record = {
            **summary,
            "arguments": {
                "task": task, "base": base, "epochs": epochs, "lr": lr, "batch_size": batch_size,
                "max_length": max_length, "seed": seed, "input_format": input_format,
                "max_train_items": max_train_items,
            },
            "max_length_used": length,
            "base": {"source": base_path, "how": base_how},
            "data": {role: _describe(data) for role, data in (("train", train_data), ("dev", dev_data))},
            "steps": state.global_step,
            "versions": {"torch": torch.__version__, "transformers": _version("transformers")},
        }
        (out / SUMMARY_FILE).write_text(json.dumps(record, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    report(1.0, f"Done: dev {metric} {dev_metrics.get(metric, math.nan):.4f}")
    return summary


def _describe(data: Dataset) -> dict[str, Any]:
    return {
        "path": str(Path(data.path).resolve()),
        "format": data.format,
        "rows": data.n_rows,
        "encoding": data.encoding,
        "warnings": len(data.warnings),
    }


def _version(package: str) -> str:
    from importlib.metadata import version

    return version(package)
