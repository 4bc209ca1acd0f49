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

Two choices set the speed, and both are written into ``explorer_finetune.json``
so a reader knows how a checkpoint was trained:

- ``embeddings``: ``frozen`` keeps the word-embedding table as the base has it.
  On the e5 base that table is 96 M of the 118 M parameters (250k rows), and
  on a CPU updating it every step (its dense gradient, clipping, AdamW's two
  state tensors) costs more than the whole forward and backward pass over
  short inputs, while a fine-tuning run moves it very little: frozen is the
  CPU default. On a GPU the update is cheap and the table is trained.
- ``precision``: ``bf16`` runs the forward and backward pass under bfloat16
  autocast (fp32 master weights); on a CPU only where it has AMX or
  AVX512-BF16 (``explorer.device``), and refused elsewhere. The CPU default is
  fp32; CUDA defaults to bf16 (fp16 on cards without it).
"""

from __future__ import annotations

import functools
import json
import math
import random
import statistics
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
    PrinterCallback,
    ProgressCallback,
    Trainer,
    TrainerCallback,
    TrainingArguments,
    set_seed,
)
from transformers.trainer_pt_utils import LengthGroupedSampler

from explorer.data.readers import Dataset, DatasetError
from explorer.device import pick_device, precision_problem
from explorer.loading import max_input_length, pad_with_eos
from explorer.metrics import classification_metrics, constant_warning, top_class
from explorer.tasks.registry import get as get_task
from explorer.tasks.registry import read_dataset

__all__ = ["EMBEDDINGS", "MultipleChoiceCollator", "encode_items", "finetune", "freeze_word_embeddings", "reinit_zero_pooler"]

Progress = Callable[[float, str], None]

E5_NAME = "multilingual-e5-small"
SUMMARY_FILE = "explorer_finetune.json"
# About 50 train-loss points over the whole run, whatever its length.
_LOGGING_RATIO = 0.02
BATCHES = "grouped by length, shuffled"  # _LengthGroupedTrainer; recorded with each model
_WARMUP_RATIO = 0.1
# What happens to the base's word-embedding table: updated with the rest, or kept as the base has it.
EMBEDDINGS = ("trained", "frozen")


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


def padded_length(feature: dict[str, Any]) -> int:
    """Tokens a feature costs in a batch: its length, or for a multiple-choice item its longest choice times the choices.

    The multiple-choice collator pads every choice to the longest in the batch, so that is what a step pays for.
    """
    ids = feature["input_ids"]
    if ids and isinstance(ids[0], list):
        return max(len(choice) for choice in ids) * len(ids)
    return len(ids)


class _LengthGroupedTrainer(Trainer):
    """Trains on batches of similar length (still shuffled: random groups of 50 batches, sorted within).

    Random batches of NIKL WiC pad to twice the tokens they hold, KoBEST BoolQ to 1.6 times; grouped, to 1.03
    (measured on the shared files with e5's tokenizer). Trainer's own ``group_by_length`` reads a length from
    ``len(input_ids)``, which for a multiple-choice feature is its number of choices, so lengths are given here.
    Evaluation keeps file order.
    """

    def _get_train_sampler(self, train_dataset=None):
        dataset = self.train_dataset if train_dataset is None else train_dataset
        return LengthGroupedSampler(self.args.train_batch_size * self.args.gradient_accumulation_steps,
                                    lengths=[padded_length(feature) for feature in dataset])


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


def _load_model(task: str, base: str, config: Any) -> tuple[torch.nn.Module, list[str]]:
    """Builds the task's head on the base; a head of another shape (or none) is freshly initialised.

    Returns the model and notes on what was not taken from the base, in a line each. A new head is what
    fine-tuning expects, so transformers' load report (a table of MISSING keys printed as a warning) is
    replaced by these notes; anything else it would have reported is in them too.
    """
    import logging

    spec = get_task(task)
    config.num_labels = spec.num_labels
    config.id2label = spec.config_id2label  # label names the registry reads to infer the task and the positive class
    config.label2id = {name: idx for idx, name in config.id2label.items()}
    config.finetuning_task = task  # what the registry reads first to infer the task
    cls = AutoModelForMultipleChoice if spec.head == "multiple_choice" else AutoModelForSequenceClassification
    reporter = logging.getLogger("transformers.modeling_utils")
    level = reporter.level
    reporter.setLevel(logging.ERROR)
    try:
        model, info = cls.from_pretrained(
            base,
            config=config,
            # float32 master weights: fp16-stored bases (our e5 folder) cannot be trained under AMP as they are.
            dtype=torch.float32,
            # A base that already has a head for another task (3 classes, or a sequence head under COPA).
            ignore_mismatched_sizes=True,
            trust_remote_code=False,
            output_loading_info=True,
        )
    finally:
        reporter.setLevel(level)
    return model, _loading_notes(spec.head, info)


def _loading_notes(head: str, info: dict[str, Any]) -> list[str]:
    """What ``from_pretrained``'s loading info says was not taken from the base, in words."""
    notes = []
    if missing := sorted(info.get("missing_keys") or []):
        kind = "multiple-choice" if head == "multiple_choice" else "classification"
        notes.append(f"a new {kind} head, trained from scratch: {', '.join(missing)}")
    if mismatched := sorted(str(key[0] if isinstance(key, tuple) else key) for key in info.get("mismatched_keys") or []):
        notes.append(f"replaced (another shape in the base): {', '.join(mismatched)}")
    if unexpected := sorted(info.get("unexpected_keys") or []):
        shown = ", ".join(unexpected[:4]) + (f" and {len(unexpected) - 4} more" if len(unexpected) > 4 else "")
        notes.append(f"left out of the base (not used by this head): {shown}")
    return notes


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


# Logged with each evaluation beside the metrics, to tell a constant classifier (see ``explorer.metrics.constant_warning``).
_TOP_CLASS, _TOP_SHARE = "top_class", "top_class_share"


def _metrics(prediction: EvalPrediction, *, labels: Sequence[int]) -> dict[str, float]:
    """Dev metrics over the task's ``labels`` (bind them with ``functools.partial``).

    Also the most predicted class and its share of the dev items: a best epoch at share 1.0
    answers the same for everything, which accuracy alone hides on unbalanced data.
    """
    logits = prediction.predictions[0] if isinstance(prediction.predictions, tuple) else prediction.predictions
    pred = np.asarray(logits).argmax(axis=-1).tolist()
    gold = np.asarray(prediction.label_ids).tolist()
    scores = classification_metrics(gold, pred, labels=labels)
    top, share = top_class(pred)
    return {"accuracy": scores["accuracy"], "mcc": scores["mcc"], "f1_macro": scores["f1_macro"],
            _TOP_CLASS: float(top), _TOP_SHARE: share}


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


def _training_device() -> torch.device:
    """Where ``Trainer`` will train: CUDA, then Apple MPS, then CPU (its own order, which ``pick_device`` shares)."""
    return pick_device("auto")


def _resolve_precision(precision: str | None, device: torch.device) -> str:
    """The precision to train in: the user's choice when ``device`` can run it, else a ValueError saying why.

    Left out (None): bf16 on CUDA where the card has it, fp16 on older cards, fp32 on CPU and MPS.
    """
    if precision is None:
        if device.type == "cuda":
            return "bf16" if torch.cuda.is_bf16_supported() else "fp16"
        return "fp32"
    if problem := precision_problem(precision, device):
        raise ValueError(f"precision {precision}: {problem}")
    if precision == "bf16" and device.type not in ("cpu", "cuda"):
        raise ValueError(f"precision bf16: fine-tuning in bf16 runs on CUDA or on a CPU, not on {device.type}. "
                         "Use fp32.")
    return precision


def _resolve_embeddings(embeddings: str | None, device: torch.device) -> str:
    """``frozen`` on CPU unless asked otherwise (see the module docstring), ``trained`` on accelerators."""
    if embeddings is None:
        return "frozen" if device.type == "cpu" else "trained"
    if embeddings not in EMBEDDINGS:
        raise ValueError(f"unknown embeddings choice {embeddings!r}; expected one of {', '.join(EMBEDDINGS)}")
    return embeddings


def freeze_word_embeddings(model: torch.nn.Module) -> list[str]:
    """Stops training the input word-embedding table; returns the frozen parameters' names.

    Position and token-type embeddings (a few hundred rows) keep training.

    Raises:
        ValueError: the model has no separate input-embedding table to freeze.
    """
    try:
        table = model.get_input_embeddings()
    except (AttributeError, NotImplementedError):
        table = None
    if table is None or not isinstance(getattr(table, "weight", None), torch.nn.Parameter):
        raise ValueError(f"{type(model).__name__} has no input-embedding table to freeze; use embeddings=trained.")
    table.weight.requires_grad_(False)
    return [name for name, param in model.named_parameters() if param is table.weight]


class _StepTimer(TrainerCallback):
    """Times each training step alone (forward, backward, optimizer), not evaluation or saving.

    A short run spends much of its time evaluating and writing checkpoints; the
    speed of training itself is what the embeddings and precision choices change.
    The median step is kept beside the total: on a shared machine a few steps
    stall for seconds, and the median says what a step costs when they do not.
    """

    def __init__(self) -> None:
        self.steps: list[float] = []
        self._started: float | None = None

    def on_step_begin(self, args, state, control, **kwargs):  # noqa: D102 - TrainerCallback hook
        self._started = time.perf_counter()

    def on_step_end(self, args, state, control, **kwargs):  # noqa: D102 - TrainerCallback hook
        if self._started is not None:
            self.steps.append(time.perf_counter() - self._started)
            self._started = None


def _best_eval(log_history: list[dict[str, Any]], step: int | None) -> dict[str, Any]:
    """The dev metrics logged at the best step (the last evaluation when unknown)."""
    evals = [entry for entry in log_history if "eval_loss" in entry]
    chosen = [entry for entry in evals if entry.get("step") == step] or evals[-1:]
    if not chosen:
        return {}
    skipped = ("runtime", "samples_per_second", "steps_per_second", _TOP_CLASS, _TOP_SHARE)
    return {key[5:]: value for key, value in chosen[-1].items() if key.startswith("eval_") and key[5:] not in skipped}


def _best_top_class(log_history: list[dict[str, Any]], step: int | None) -> tuple[float | None, float | None]:
    """``(top_class, top_class_share)`` logged at the best step (the last evaluation when unknown)."""
    evals = [entry for entry in log_history if "eval_loss" in entry]
    chosen = ([entry for entry in evals if entry.get("step") == step] or evals[-1:])[-1:]
    if not chosen:
        return None, None
    return chosen[0].get(f"eval_{_TOP_CLASS}"), chosen[0].get(f"eval_{_TOP_SHARE}")


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
    embeddings: str | None = None,
    precision: str | None = None,
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
        embeddings: ``trained`` or ``frozen`` (the word-embedding table); left
            out: frozen on CPU, trained on a GPU (see the module docstring).
        precision: ``fp32`` or ``bf16`` (autocast, fp32 master weights); left
            out: fp32 on CPU, bf16 (or fp16) on CUDA. bf16 on a CPU without
            AMX/AVX512-BF16 is refused.

    Returns:
        ``dev_metrics`` (accuracy, mcc, f1_macro, loss of the best epoch),
        ``metric``, ``best_checkpoint``, ``seconds``, ``train_seconds``,
        ``step_seconds`` (training steps alone), ``median_step_seconds``,
        ``examples_per_second`` (over those steps), ``n_train``, ``n_dev``, ``device``, ``n_devices``,
        ``precision``, ``embeddings``, ``trainable_parameters``,
        ``parameters``, ``out``, ``notes`` (remarks worth printing, e.g. a
        re-initialised pooler) and ``warnings`` (e.g. a best epoch that predicts one
        class for every dev item: ``explorer.metrics.constant_warning``).

    Raises:
        DatasetError: Unreadable, unlabelled or wrong-task train/dev files.
        FileExistsError: ``out`` already holds files.
        ValueError: Unknown task or input format; a precision or embeddings
            choice this device or model cannot take.
    """
    spec = get_task(task)  # an unknown task fails here, naming the known ones
    report = progress or (lambda fraction, message: None)
    started = time.perf_counter()
    out = Path(out)
    if out.is_dir() and any(out.iterdir()):
        # Old checkpoint-* folders would mix into save_total_limit's rotation and the registry's scan.
        raise FileExistsError(f"{out} is not empty; choose a new output folder.")
    # Choices this machine cannot take are refused before any reading or loading.
    device = _training_device()
    precision_used = _resolve_precision(precision, device)
    embeddings_used = _resolve_embeddings(embeddings, device)

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
    model, notes = _load_model(task, base_path, config)
    for note in notes:
        report(0.04, note)
    notes += [f"{name} was all zeros in the base; re-initialised" for name in reinit_zero_pooler(model)]
    if input_format:
        model.config.explorer_input_format = input_format
    frozen = freeze_word_embeddings(model) if embeddings_used == "frozen" else []
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    timer = _StepTimer()
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
        use_cpu=device.type == "cpu",  # without it Trainer refuses bf16 when there is no GPU
        # On CPU, bf16=True makes Trainer run each step under torch.autocast(cpu, bfloat16).
        bf16=precision_used == "bf16",
        fp16=precision_used == "fp16",
        # A caller with a progress callback (prepare --data, the app) reports its own lines; Trainer's bar and
        # its printed log dicts would interleave with them. The finetune command keeps Trainer's bar.
        disable_tqdm=progress is not None,
    )
    trainer = _LengthGroupedTrainer(
        model=model,
        args=args,
        data_collator=collator,
        train_dataset=train_set,
        eval_dataset=dev_set,
        processing_class=tokenizer,
        compute_metrics=functools.partial(_metrics, labels=spec.labels),
        callbacks=[_ReportProgress(report, metric), timer],
    )
    if progress is not None:
        trainer.remove_callback(PrinterCallback)  # what disable_tqdm puts in the bar's place: print(logs)
        trainer.remove_callback(ProgressCallback)
    result = trainer.train()
    state = trainer.state

    report(0.96, f"Saving the best model to {out}")
    trainer.save_model(str(out))  # the best epoch's weights, config and tokenizer
    trainer.save_state()  # trainer_state.json at the top, not only inside checkpoint-*
    dev_metrics = _best_eval(state.log_history, state.best_global_step)
    top, share = _best_top_class(state.log_history, state.best_global_step)
    warnings = [w for w in [constant_warning(spec.label_name(int(top or 0)), share)] if w]
    examples = len(train_set) * epochs  # what the steps went through, as Trainer counts it
    summary = {
        "task": task,
        "metric": metric,
        "dev_metrics": dev_metrics,
        "best_checkpoint": state.best_model_checkpoint,
        "seconds": round(time.perf_counter() - started, 1),
        "train_seconds": round(float(result.metrics.get("train_runtime", 0.0)), 1),
        "step_seconds": round(sum(timer.steps), 2),
        "median_step_seconds": round(statistics.median(timer.steps), 4) if timer.steps else None,
        "examples_per_second": round(examples / sum(timer.steps), 2) if timer.steps else None,
        "n_train": len(train_set),
        "n_dev": len(dev_set),
        "device": str(args.device),
        "n_devices": args.world_size * max(1, args.n_gpu),  # DDP processes x DataParallel GPUs
        "precision": precision_used,
        "embeddings": embeddings_used,
        "frozen": frozen,
        "trainable_parameters": trainable,
        "parameters": sum(p.numel() for p in model.parameters()),
        "out": str(out),
        "notes": notes,
        "warnings": warnings,
    }
    if trainer.is_world_process_zero():
        record = {
            **summary,
            "arguments": {
                "task": task, "base": base, "epochs": epochs, "lr": lr, "batch_size": batch_size,
                "max_length": max_length, "seed": seed, "input_format": input_format,
                "max_train_items": max_train_items, "embeddings": embeddings, "precision": precision,
            },
            "batches": BATCHES,
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
