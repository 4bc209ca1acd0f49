"""Command line: ``python -m explorer {prepare,models,predict,evaluate,attribute,finetune}``.

``prepare --data DIR`` trains real models from the user's files (``explorer.defaults.from_data``).

Every bad input gets a one-line ``error:`` and a non-zero exit, never a
traceback: numeric options are checked by argparse (exit 2), output paths
before any work is done, and input texts before a model is loaded.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from pathlib import Path
from typing import Any, Callable, Sequence

from explorer.settings import load_settings

# --------------------------------------------------------------------------- option types


def _quoted(text: str) -> str:
    return repr(text if len(text) <= 40 else text[:40] + "…")


def whole_number(low: int, high: int) -> Callable[[str], int]:
    """An argparse type: a whole number from ``low`` to ``high``."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number from {low} to {high}, not {_quoted(text)}") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"must be from {low} to {high}, not {value}")
        return value

    return parse


def ig_steps(text: str) -> int | str:
    """An argparse type: ``auto`` or a whole number of IG steps."""
    from explorer.internals import MAX_STEPS  # no torch: explorer.internals is light

    if text.strip().lower() == "auto":
        return "auto"
    try:
        return whole_number(1, MAX_STEPS)(text)
    except argparse.ArgumentTypeError:
        raise argparse.ArgumentTypeError(f"expected auto or a whole number from 1 to {MAX_STEPS}, "
                                         f"not {_quoted(text)}") from None


def task_id(text: str) -> str:
    """An argparse type: a registered task id, or a checkpoint's own classifier (``labels:bad|good``, as Home lists it)."""
    from explorer.tasks.registry import get as get_task

    try:
        return get_task(text).id
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def positive_number(high: float) -> Callable[[str], float]:
    """An argparse type: a number above 0 and at most ``high``."""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number above 0, not {_quoted(text)}") from None
        if not math.isfinite(value) or not 0 < value <= high:
            raise argparse.ArgumentTypeError(f"must be above 0 and at most {high:g}, not {text}")
        return value

    return parse


# --------------------------------------------------------------------------- shared checks


def output_problem(path: str, flag: str, folder: bool = False) -> str | None:
    """Why ``path`` cannot be written, or None; checked before any work so nothing is lost.

    A file's missing parent folder is reported, not made. An output *folder* (finetune's
    ``--out checkpoints/e5-cola``) is created with its parents, as the README shows, so
    only its nearest existing ancestor must be a folder we may write in.
    """
    target = Path(path)
    parent = target.parent
    if folder:
        if target.exists() and not target.is_dir():
            return f"{flag} {path} exists and is not a folder."
        while not parent.exists() and parent != parent.parent:
            parent = parent.parent
        if not parent.is_dir():
            return f"{flag} {path}: {parent} is not a folder."
    elif target.is_dir():
        return f"{flag} {path} is a folder; give a file name."
    elif target.exists() and not target.is_file():
        return f"{flag} {path} is not a regular file (a FIFO or device?); give a file name."
    if not parent.is_dir():
        return f"{flag} {path}: the folder {parent} does not exist; create it first."
    if not os.access(parent, os.W_OK | os.X_OK) or (target.exists() and not os.access(target, os.W_OK)):
        return f"{flag} {path}: no permission to write there."
    return None


def _fail(message: str, code: int) -> int:
    print(f"error: {message}", file=sys.stderr)
    return code


def _parse_inputs(task: str, texts: Sequence[str], analyse) -> tuple[list[Any], list[int], list[list[str]]]:
    """Items from CLI arguments (``Task.parse_line``), the 1-based positions of non-empty ones, and notes per item.

    Raises:
        InputError: an argument cannot form an item; the message names its position.
    """
    from explorer.tasks.items import InputError
    from explorer.tasks.registry import get as get_task
    from explorer.text import clean_sentence

    items, positions, notes, empty = [], [], [], []
    for position, text in enumerate(texts, start=1):
        if not clean_sentence(text)[0]:
            empty.append(position)
            continue
        try:
            item, item_notes = get_task(task).parse_line(text, analyse)
        except InputError as exc:
            raise InputError(f"input {position}: {exc}") from None
        items.append(item)
        notes.append(item_notes)
        positions.append(position)
    if empty and items:  # when every input is empty, the caller's "no input" error says it all
        which = ", ".join(map(str, empty))
        print(f"warning: skipped empty input(s) at position(s) {which} of {len(texts)}.", file=sys.stderr)
    return items, positions, notes


def _warn_notes(positions: Sequence[int], notes: Sequence[list[str]]) -> None:
    for position, item_notes in zip(positions, notes):
        for note in item_notes:
            print(f"warning: input {position}: {note}", file=sys.stderr)


def _cmd_prepare_data(args: argparse.Namespace) -> int:
    """``prepare --data DIR``: real models from the user's files (``explorer.defaults.from_data``)."""
    from explorer.defaults.from_data import prepare_from_data

    settings = load_settings(args.extra)

    def say(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    try:
        records = prepare_from_data(settings, Path(args.data), tasks=args.tasks, force=args.force, base=args.base, say=say)
    except (OSError, ValueError) as exc:  # DatasetError is a ValueError
        return _fail(str(exc), 2)
    for task, record in records.items():
        metric = record["metric"]
        print(f"{record['name']}: dev {metric} {record['dev_metrics'].get(metric, float('nan')):.3f} "
              f"({Path(record['files']['dev']['path']).name}; {record['wall_seconds']} s wall, "
              f"{record.get('cpu_seconds', '?')} s CPU on {record['device']})")
    print("Registered: every page for these tasks lists them (`python -m explorer models`).")
    return 0


def task_list(text: str) -> list[str]:
    """An argparse type: comma-separated registered task ids (``cola,copa``)."""
    from explorer.tasks.registry import TASKS

    names = [name.strip().lower() for name in text.split(",") if name.strip()]
    unknown = [name for name in names if name not in TASKS]
    if unknown or not names:
        raise argparse.ArgumentTypeError(f"unknown task(s) {', '.join(unknown) or _quoted(text)}; "
                                         f"expected a comma-separated list of {', '.join(TASKS)}")
    return list(dict.fromkeys(names))


def _cmd_prepare(args: argparse.Namespace) -> int:
    if args.data is not None:
        return _cmd_prepare_data(args)
    if args.tasks or args.base:
        return _fail("--tasks and --base go with --data DIR.", 2)
    from tqdm import tqdm

    from explorer.defaults.prepare import prepare

    settings = load_settings(args.extra)
    interactive = sys.stderr.isatty()
    bar = tqdm(total=100, desc="Preparing default models", unit="%", disable=not interactive,
               bar_format="{l_bar}{bar}| {n:.0f}% {postfix}")
    last_stage = [-1]

    def progress(fraction: float, message: str) -> None:
        if interactive:
            bar.n = round(100 * fraction, 1)
            bar.set_postfix_str(message[:70])
            bar.refresh()
            return
        step = int(20 * fraction)  # in logs, a line every 5 % instead of a redrawn bar
        if step != last_stage[0]:
            last_stage[0] = step
            print(f"[{100 * fraction:3.0f}%] {message}", file=sys.stderr, flush=True)

    manifest = prepare(settings, force=args.force, progress=progress)
    bar.close()
    demos = manifest.get("demos", {})
    for name, info in demos.items():
        print(f"{name}: dev accuracy {info.get('dev_accuracy', 0):.3f}, MCC {info.get('dev_mcc', 0):.3f}")
    print(f"multilingual-e5-small: {manifest['e5']['how']}")
    print(f"Ready in {manifest['seconds_last_prepare']} s; cache: {settings.cache_dir}")
    return 0


def _cmd_models(args: argparse.Namespace) -> int:
    # The registry reads small JSON files only: no torch or transformers to import (Explorer.registry, without it).
    from explorer.defaults.prepare import default_entries
    from explorer.registry import discover

    settings = load_settings(args.extra)
    entries, problems = discover(settings, default_entries(settings))
    if args.json:
        print(json.dumps({"models": [e.to_dict() for e in entries], "problems": problems}, ensure_ascii=False, indent=2))
        return 0
    rows = [(e.name, e.task or "-", e.origin, e.task_how, "ok" if not e.problems else "problem: " + e.problems[0]) for e in entries]
    widths = [max(len(str(r[i])) for r in rows + [("name", "task", "source", "task inferred from", "status")]) for i in range(4)]
    header = ("name", "task", "source", "task inferred from", "status")
    for row in [header, *rows]:
        print("  ".join(str(c).ljust(w) for c, w in zip(row[:4], widths)) + "  " + row[4])
    for problem in problems:
        print("problem:", problem, file=sys.stderr)
    return 0


NO_INPUT = "no input given (all empty after removing spaces and control characters)."


def _items_and_entry(explorer, args: argparse.Namespace):
    """The items typed for ``args.task`` and the model's entry, or the exit code after saying why.

    Returns:
        ``(items, positions, notes, entry)`` (see ``_parse_inputs``), or an int exit code.
    """
    from explorer.loading import CheckpointError
    from explorer.tasks.items import InputError
    from explorer.tasks.registry import TASKS
    from explorer.tasks.registry import get as get_task

    if args.task is None:  # the model's own task, when the registry knows it
        try:
            args.task = explorer.entry(args.model).task
        except CheckpointError:
            args.task = None
        args.task = args.task or next(iter(TASKS))
    try:
        analyse = explorer.kiwi().morphemes if get_task(args.task).uses_morphemes else None
        items, positions, notes = _parse_inputs(args.task, args.inputs, analyse)
    except InputError as exc:
        return _fail(str(exc), 2)
    if not items:
        return _fail(NO_INPUT, 2)
    try:
        entry = explorer.entry(args.model)
    except CheckpointError as exc:
        return _fail(str(exc), 1)
    return items, positions, notes, entry


def _precision_problem(args: argparse.Namespace, settings) -> str | None:
    """Why ``--precision`` cannot run on the chosen device, said before anything loads (None when it can)."""
    from explorer.device import pick_device, precision_problem

    problem = precision_problem(args.precision, pick_device(args.device or settings.device))
    return f"--precision {args.precision}: {problem}" if problem else None


def _cmd_predict(args: argparse.Namespace) -> int:
    from explorer.service import Explorer
    from explorer.tasks.registry import get as get_task
    from explorer.text import script_note

    explorer = Explorer(load_settings(args.extra))
    if problem := _precision_problem(args, explorer.settings):
        return _fail(problem, 2)
    parsed = _items_and_entry(explorer, args)
    if isinstance(parsed, int):
        return parsed
    items, positions, notes, entry = parsed
    task = get_task(args.task)
    run = explorer.predict([entry], args.task, items, device=args.device, precision=args.precision)[0]
    if run.error:
        print(f"error: {run.error}", file=sys.stderr)
        return 1

    rows = []
    for item, pred, item_notes in zip(items, run.predictions, notes):
        # A prediction may carry its own note (e.g. input cut before the model read it).
        if pred.note and pred.note not in item_notes:
            item_notes.append(pred.note)
        if script := script_note(task.values(item)):  # English, code or emoji: the answer means little
            item_notes.append(script)
        rows.append({**task.cli_json_fields(item, pred), "input": task.text(item), "judged": pred.judged,
                     "label": pred.label if pred.judged else None, "probs": pred.probs if pred.judged else None,
                     "n_tokens": pred.n_tokens, "n_dropped": pred.n_dropped, "notes": item_notes})
    _warn_notes(positions, notes)
    if args.json:
        print(json.dumps({"model": entry.name, "task": args.task, "results": rows}, ensure_ascii=False, indent=2))
        return 0
    for row, pred in zip(rows, run.predictions):
        if not pred.judged:  # no verdict, and no placeholder probability that would read as one
            print(f"-\tcannot judge\t{row['input']}")
            continue
        answer = task.label_name(pred.label)
        # A choice or one of several classes shows how sure the model is of it; one of two, P(the positive class).
        prob = pred.probs[pred.label] if task.every_class else pred.probs[task.positive]
        note = f"\t({pred.n_dropped} tokens truncated)" if pred.n_dropped else ""
        print(f"{prob:.3f}\t{answer}\t{row['input']}{note}")
    return 0


def _cmd_evaluate(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from explorer.data.readers import DatasetError
    from explorer.tasks.registry import read_dataset
    from explorer.evaluate import ResultStore, evaluate, write_metrics, write_predictions
    from explorer.loading import CheckpointError
    from explorer.service import Explorer

    outputs = [(path, flag) for path, flag in ((args.out, "--out"), (args.predictions, "--predictions")) if path]
    for path, flag in outputs:
        if problem := output_problem(path, flag):
            return _fail(problem, 2)
    settings = load_settings(args.extra)
    if problem := _precision_problem(args, settings):
        return _fail(problem, 2)
    try:
        dataset = read_dataset(args.data, task=args.task)
    except (DatasetError, OSError) as exc:
        return _fail(str(exc), 2)
    for warning in dataset.warnings:
        print("warning:", warning, file=sys.stderr)
    explorer = Explorer(settings)
    try:
        entry = explorer.entry(args.model)
        model = explorer.task_model(entry, args.task, args.device)
    except CheckpointError as exc:
        return _fail(str(exc), 1)
    bar = tqdm(total=len(dataset.items), desc=f"Evaluating {entry.name}", unit="item", disable=None)

    def progress(done: int, total: int) -> None:
        bar.n = done
        bar.refresh()

    try:
        result = evaluate(model, entry, dataset, batch_size=args.batch_size, progress=progress, precision=args.precision)
    except (RuntimeError, ValueError) as exc:  # IncompleteResult is a ValueError
        return _fail(f"{entry.name} failed on {Path(args.data).name}: {exc}", 1)
    finally:
        bar.close()
    try:
        ResultStore(settings.results).save(result)
        if args.out:
            write_metrics(result, Path(args.out))
        if args.predictions:
            write_predictions(result, Path(args.predictions))
    except (OSError, ValueError) as exc:
        return _fail(f"the result could not be written: {exc}", 1)
    if result.metrics:
        m = result.metrics
        print(f"{entry.name} on {Path(args.data).name} ({dataset.task}, n={m['n']}): "
              f"accuracy {m['accuracy']:.4f}  MCC {m['mcc']:.4f}  F1-macro {m['f1_macro']:.4f}")
        if m.get("not_judged"):
            print(f"warning: {entry.name} could not judge {m['not_judged']} item(s); they count as its placeholder answer "
                  "(label 0) — see the note column of --predictions.", file=sys.stderr)
    else:
        print(f"{entry.name}: {len(result.predictions)} predictions (unlabelled file, no metrics)")
    return 0


def _cmd_finetune(args: argparse.Namespace) -> int:
    from explorer.data.readers import DatasetError
    from explorer.finetune import finetune

    if problem := output_problem(args.out, "--out", folder=True):
        return _fail(problem, 2)
    try:
        report = finetune(
            task=args.task, base=args.base, train=args.train, dev=args.dev, out=args.out, epochs=args.epochs,
            lr=args.lr, batch_size=args.batch_size, max_length=args.max_length, seed=args.seed,
            input_format=args.input_format, max_train_items=args.max_train, embeddings=args.embeddings,
            precision=args.precision,
        )
    except (DatasetError, OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(report, ensure_ascii=False, indent=2, default=str))
    for warning in report.get("warnings", []):  # after the JSON, so the last thing a reader sees
        print(f"warning: {warning}", file=sys.stderr)
    return 0


def _cmd_attribute(args: argparse.Namespace) -> int:
    from explorer.internals.attributions import attribute, to_rows
    from explorer.internals.inputs import item_rows
    from explorer.loading import CheckpointError
    from explorer.scorers import capabilities
    from explorer.service import Explorer

    explorer = Explorer(load_settings(args.extra))
    parsed = _items_and_entry(explorer, args)
    if isinstance(parsed, int):
        return parsed
    items, positions, notes, entry = parsed
    if not capabilities(entry).attributions:  # said before loading anything
        return _fail(f"{entry.name} is not a transformer; it has no token attributions.", 1)
    try:
        model = explorer.task_model(entry, args.task, args.device)
    except CheckpointError as exc:
        return _fail(str(exc), 1)
    _warn_notes(positions, notes)
    payload = []
    for index, (item, position, item_notes) in enumerate(zip(items, positions, notes)):
        rows = item_rows(args.task, item, index, entry.input_format)
        # A multiple-choice head reads all alternatives at once; a pair classifier one row at a time.
        groups = [rows] if model.head == "multiple_choice" else [[r] for r in rows]
        for group in groups:
            first = group[0].first
            try:
                if len(group) > 1:
                    result = attribute(model, first, method=args.method, steps=args.steps, endings=[r.second for r in group],
                                       truncation=group[0].truncation)
                    shown = f"{first} | " + " / ".join(r.second for r in group)
                else:
                    result = attribute(model, first, group[0].second, method=args.method, steps=args.steps,
                                       truncation=group[0].truncation)
                    shown = first if group[0].second is None else f"{first} | {group[0].second}"
            except (RuntimeError, ValueError) as exc:
                return _fail(f"input {position}: {entry.name} failed: {exc}", 1)
            payload.append({"input": shown, "target": result.target, "probs": result.probs, "delta": result.delta,
                            "delta_ratio": result.delta_ratio, "steps": result.steps, "warning": result.warning, "notes": item_notes,
                            "tokens": to_rows(result)})
    if args.json:
        print(json.dumps({"model": entry.name, "task": args.task, "method": args.method, "results": payload},
                         ensure_ascii=False, indent=2, default=float))
        return 0
    for row in payload:
        delta = "" if row["delta"] is None else f"  delta {row['delta']:+.2e} ({row['delta_ratio']:.1%}, {row['steps']} steps)"
        print(f"# {row['input']}  → class {row['target']}{delta}")
        for token in row["tokens"]:
            print(f"{token['token']}\t{token['score']:+.5f}")
        if row["warning"]:
            print("warning:", row["warning"], file=sys.stderr)
    return 0


# Upper bounds that catch typos (an extra zero), well above any useful value.
MAX_BATCH = 4096


# The precisions a model may run in (explorer.device.PRECISIONS, written here so parsing imports no torch).
PRECISIONS = ("fp32", "bf16")
PRECISION_HELP = ("fp32 (default, exact) or bf16: matmuls in bfloat16, about twice as fast on CPUs with AMX or "
                  "AVX512-BF16 and refused on CPUs without them")


def build_parser() -> argparse.ArgumentParser:
    from explorer.internals import MAX_STEPS, METHODS
    from explorer.tasks.registry import TASKS

    TASK_IDS = list(TASKS)  # the first registered task is the default where --task may be left out
    # Each task's one-line syntax, as Task.parse_line reads it.
    shapes = "Inputs: " + "; ".join(f"{task_id} {task.cli_shape}" for task_id, task in TASKS.items())

    parser = argparse.ArgumentParser(prog="python -m explorer", description="ko-model-explorer command line")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--checkpoints", help="checkpoints folder (default: ./checkpoints or $EXPLORER_CHECKPOINTS)")
    common.add_argument("--models", help="registry file (default: ./models.toml or $EXPLORER_MODELS)")
    common.add_argument("--max-models", type=whole_number(1, 64), help="models kept loaded at once")
    common.add_argument("--cache-mb", type=whole_number(1, 10**7), help="megabytes of weights kept loaded (default: 40%% of RAM)")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("prepare", parents=[common], help="build the offline default models (idempotent); with --data, "
                       "train real models from your NIKL 2021 / KoBEST files")
    p.add_argument("--force", action="store_true", help="rebuild even what exists")
    p.add_argument("--data", metavar="DIR", help="a folder with NIKL 2021 / KoBEST train and dev files: train one model "
                   "per task found (see README, Real models from your data); done tasks are skipped")
    p.add_argument("--tasks", type=task_list, metavar="cola,copa,...", help="with --data: only these tasks")
    p.add_argument("--base", metavar="FOLDER", help="with --data: fine-tune this model folder instead of "
                   "multilingual-e5-small")
    p.set_defaults(func=_cmd_prepare)

    p = sub.add_parser("models", parents=[common], help="list the registry")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=_cmd_models)

    p = sub.add_parser("predict", parents=[common], help="answer inputs with one model", description=shapes)
    p.add_argument("--model", required=True, help="registry name, checkpoint folder, or hub id")
    p.add_argument("--task", type=task_id, metavar="{" + ",".join(TASK_IDS) + "}",
                   help="the task (default: the model's own, else the first listed)")
    p.add_argument("--device", default=None, help="auto, cpu, cuda, mps")
    p.add_argument("--precision", default="fp32", choices=PRECISIONS, help=PRECISION_HELP)
    p.add_argument("--json", action="store_true")
    p.add_argument("inputs", nargs="+", metavar="INPUT")
    p.set_defaults(func=_cmd_predict)

    p = sub.add_parser("evaluate", parents=[common], help="evaluate a model on a NIKL/KoBEST file")
    p.add_argument("--model", required=True)
    p.add_argument("--task", required=True, type=task_id, metavar="{" + ",".join(TASK_IDS) + "}")
    p.add_argument("--data", required=True, help="a NIKL 2021 or KoBEST TSV file")
    p.add_argument("--out", help="write metrics.json here")
    p.add_argument("--predictions", help="write one row per item (TSV) here")
    p.add_argument("--batch-size", type=whole_number(1, MAX_BATCH), default=None,
                   help=f"at most this many inputs per forward pass (1–{MAX_BATCH}; default: as many as fit a token budget, 1,024 on CPU)")
    p.add_argument("--device", default=None)
    p.add_argument("--precision", default="fp32", choices=PRECISIONS, help=PRECISION_HELP)
    p.set_defaults(func=_cmd_evaluate)

    p = sub.add_parser("attribute", parents=[common], help="token attributions (Captum) for inputs, like predict",
                       description=shapes)
    p.add_argument("--model", required=True)
    p.add_argument("--task", type=task_id, metavar="{" + ",".join(TASK_IDS) + "}",
                   help="the task (default: the model's own, else the first listed)")
    p.add_argument("--method", default="ig", choices=METHODS)
    p.add_argument("--steps", type=ig_steps, default="auto",
                   help=f"IG integration steps: auto (until the delta is within 1%%) or 1–{MAX_STEPS}")
    p.add_argument("--device", default=None)
    p.add_argument("--json", action="store_true")
    p.add_argument("inputs", nargs="+", metavar="INPUT")
    p.set_defaults(func=_cmd_attribute)

    p = sub.add_parser("finetune", parents=[common], help="fine-tune a base model into a checkpoint the app reads")
    p.add_argument("--task", required=True, choices=TASK_IDS)
    p.add_argument("--base", required=True, help="hub id, folder, or multilingual-e5-small (offline)")
    p.add_argument("--train", required=True)
    p.add_argument("--dev", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--epochs", type=positive_number(100), default=3, help="training epochs (fractions allowed, up to 100)")
    p.add_argument("--lr", type=positive_number(1), default=3e-5, help="peak learning rate (above 0, at most 1)")
    p.add_argument("--batch-size", type=whole_number(1, MAX_BATCH), default=16)
    p.add_argument("--max-length", type=whole_number(8, 8192), default=128, help="longest input in tokens (8–8192)")
    p.add_argument("--seed", type=whole_number(0, 2**32 - 1), default=42)
    p.add_argument("--input-format", default=None, help="task input format (see the task pages)")
    p.add_argument("--max-train", type=whole_number(1, 10**9), default=None, help="use only the first N training items (quick runs)")
    # explorer.finetune.EMBEDDINGS, written here so parsing imports no torch.
    p.add_argument("--embeddings", choices=("trained", "frozen"), default=None,
                   help="the base's word-embedding table: frozen (default on CPU, where updating it dominates a step) or "
                        "trained (default on GPU)")
    p.add_argument("--precision", choices=PRECISIONS, default=None,
                   help="fp32 (default on CPU) or bf16 autocast (default on CUDA; on a CPU only with AMX or "
                        "AVX512-BF16, refused elsewhere)")
    p.set_defaults(func=_cmd_finetune)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Runs the CLI and returns its exit code."""
    args = build_parser().parse_args(list(sys.argv[1:] if argv is None else argv))
    args.extra = [
        f"--{flag.replace('_', '-')}={value}"
        for flag in ("checkpoints", "models", "max_models", "cache_mb")
        if (value := getattr(args, flag, None)) is not None
    ]
    try:
        load_settings(args.extra)  # a bad EXPLORER_* variable is said once, before any work
    except ValueError as exc:
        return _fail(str(exc), 2)
    return args.func(args)
