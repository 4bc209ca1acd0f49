"""Command line: ``python -m explorer {prepare,models,predict}``."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Sequence

from explorer.settings import load_settings


def _cmd_prepare(args: argparse.Namespace) -> int:
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
    from explorer.service import Explorer

    entries, problems = Explorer(load_settings(args.extra)).registry()
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


def _cmd_predict(args: argparse.Namespace) -> int:
    from explorer.loading import CheckpointError
    from explorer.service import Explorer
    from explorer.tasks.items import InputError, parse_cli_input
    from explorer.tasks.predict import NEGATIVE_NAMES, POSITIVE_NAMES

    explorer = Explorer(load_settings(args.extra))
    try:
        analyse = explorer.kiwi().morphemes if args.task == "wic" else None
        items = [parse_cli_input(args.task, text, analyse) for text in args.inputs if text.strip()]
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if not items:
        print("error: no input given (all empty after removing spaces and control characters).", file=sys.stderr)
        return 2
    try:
        entry = explorer.entry(args.model)
    except CheckpointError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    run = explorer.predict([entry], args.task, items, device=args.device)[0]
    if run.error:
        print(f"error: {run.error}", file=sys.stderr)
        return 1
    from explorer.evaluate import item_text

    rows = []
    for item, pred in zip(items, run.predictions):
        row = {"input": item_text(item), "label": pred.label, "probs": pred.probs, "n_tokens": pred.n_tokens, "n_dropped": pred.n_dropped}
        if args.task == "cola":
            row = {"sentence": item.sentence, "p_acceptable": pred.p1, **row}
        rows.append(row)
    if args.json:
        print(json.dumps({"model": entry.name, "task": args.task, "results": rows}, ensure_ascii=False, indent=2))
        return 0
    for row, pred in zip(rows, run.predictions):
        if args.task == "copa":
            answer = f"alternative {pred.label + 1}"
            prob = pred.probs[pred.label]
        else:
            answer = (POSITIVE_NAMES if pred.label else NEGATIVE_NAMES)[args.task]
            prob = pred.p1
        note = f"\t({pred.n_dropped} tokens truncated)" if pred.n_dropped else ""
        print(f"{prob:.3f}\t{answer}\t{row['input']}{note}")
    return 0


def _cmd_evaluate(args: argparse.Namespace) -> int:
    from pathlib import Path

    from tqdm import tqdm

    from explorer.data.readers import DatasetError, read_dataset
    from explorer.evaluate import ResultStore, evaluate, write_metrics, write_predictions
    from explorer.loading import CheckpointError
    from explorer.service import Explorer

    settings = load_settings(args.extra)
    try:
        dataset = read_dataset(args.data, task=args.task)
    except (DatasetError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for warning in dataset.warnings:
        print("warning:", warning, file=sys.stderr)
    explorer = Explorer(settings)
    try:
        entry = explorer.entry(args.model)
        model = explorer.task_model(entry, args.task, args.device)
    except CheckpointError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    bar = tqdm(total=len(dataset.items), desc=f"Evaluating {entry.name}", unit="item", disable=None)

    def progress(done: int, total: int) -> None:
        bar.n = done
        bar.refresh()

    result = evaluate(model, entry, dataset, batch_size=args.batch_size, progress=progress)
    bar.close()
    ResultStore(settings.results).save(result)
    if args.out:
        write_metrics(result, Path(args.out))
    if args.predictions:
        write_predictions(result, Path(args.predictions))
    if result.metrics:
        m = result.metrics
        print(f"{entry.name} on {Path(args.data).name} ({dataset.task}, n={m['n']}): "
              f"accuracy {m['accuracy']:.4f}  MCC {m['mcc']:.4f}  F1-macro {m['f1_macro']:.4f}")
    else:
        print(f"{entry.name}: {len(result.predictions)} predictions (unlabelled file, no metrics)")
    return 0


def _cmd_finetune(args: argparse.Namespace) -> int:
    from explorer.data.readers import DatasetError
    from explorer.finetune import finetune

    try:
        report = finetune(
            task=args.task, base=args.base, train=args.train, dev=args.dev, out=args.out, epochs=args.epochs,
            lr=args.lr, batch_size=args.batch_size, max_length=args.max_length, seed=args.seed,
            input_format=args.input_format, max_train_items=args.max_train,
        )
    except (DatasetError, OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(report, ensure_ascii=False, indent=2, default=str))
    return 0


def _cmd_attribute(args: argparse.Namespace) -> int:
    from explorer.internals.attributions import attribute, to_rows
    from explorer.loading import CheckpointError
    from explorer.service import Explorer
    from explorer.internals.inputs import item_rows
    from explorer.tasks.items import InputError, parse_cli_input

    explorer = Explorer(load_settings(args.extra))
    try:
        entry = explorer.entry(args.model)
        model = explorer.task_model(entry, args.task, args.device)
        analyse = explorer.kiwi().morphemes if args.task == "wic" else None
        items = [parse_cli_input(args.task, text, analyse) for text in args.inputs if text.strip()]
    except (CheckpointError, InputError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1 if isinstance(exc, CheckpointError) else 2
    if not hasattr(model, "model"):
        print(f"error: {entry.name} is not a transformer; it has no token attributions.", file=sys.stderr)
        return 1
    payload = []
    for index, item in enumerate(items):
        rows = item_rows(args.task, item, index, entry.input_format)
        # A multiple-choice head reads all alternatives at once; a pair classifier one row at a time.
        groups = [rows] if model.head == "multiple_choice" else [[r] for r in rows]
        for group in groups:
            first = group[0].first
            if len(group) > 1:
                result = attribute(model, first, method=args.method, steps=args.steps, endings=[r.second for r in group])
                shown = f"{first} | " + " / ".join(r.second for r in group)
            else:
                result = attribute(model, first, group[0].second, method=args.method, steps=args.steps)
                shown = first if group[0].second is None else f"{first} | {group[0].second}"
            payload.append({"input": shown, "target": result.target, "probs": result.probs, "delta": result.delta,
                            "delta_ratio": result.delta_ratio, "warning": result.warning, "tokens": to_rows(result)})
    if args.json:
        print(json.dumps({"model": entry.name, "task": args.task, "method": args.method, "results": payload},
                         ensure_ascii=False, indent=2, default=float))
        return 0
    for row in payload:
        delta = "" if row["delta"] is None else f"  delta {row['delta']:+.2e} ({row['delta_ratio']:.1%})"
        print(f"# {row['input']}  → class {row['target']}{delta}")
        for token in row["tokens"]:
            print(f"{token['token']}\t{token['score']:+.5f}")
        if row["warning"]:
            print("warning:", row["warning"], file=sys.stderr)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m explorer", description="ko-model-explorer command line")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--checkpoints", help="checkpoints folder (default: ./checkpoints or $EXPLORER_CHECKPOINTS)")
    common.add_argument("--models", help="registry file (default: ./models.toml or $EXPLORER_MODELS)")
    common.add_argument("--max-models", type=int, help="models kept loaded at once")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("prepare", parents=[common], help="build the offline default models (idempotent)")
    p.add_argument("--force", action="store_true", help="rebuild even what exists")
    p.set_defaults(func=_cmd_prepare)

    p = sub.add_parser("models", parents=[common], help="list the registry")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=_cmd_models)

    p = sub.add_parser(
        "predict", parents=[common], help="answer inputs with one model",
        description="Inputs: cola SENTENCE; wic TARGET|SENTENCE1|SENTENCE2; copa PREMISE|원인|ALT1|ALT2; boolq PASSAGE|QUESTION",
    )
    p.add_argument("--model", required=True, help="registry name, checkpoint folder, or hub id")
    p.add_argument("--task", default="cola", choices=["cola", "wic", "copa", "boolq"])
    p.add_argument("--device", default=None, help="auto, cpu, cuda, mps")
    p.add_argument("--json", action="store_true")
    p.add_argument("inputs", nargs="+", metavar="INPUT")
    p.set_defaults(func=_cmd_predict)

    p = sub.add_parser("evaluate", parents=[common], help="evaluate a model on a NIKL/KoBEST file")
    p.add_argument("--model", required=True)
    p.add_argument("--task", required=True, choices=["cola", "wic", "copa", "boolq"])
    p.add_argument("--data", required=True, help="a NIKL 2021 or KoBEST TSV file")
    p.add_argument("--out", help="write metrics.json here")
    p.add_argument("--predictions", help="write one row per item (TSV) here")
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--device", default=None)
    p.set_defaults(func=_cmd_evaluate)

    p = sub.add_parser("attribute", parents=[common], help="token attributions (Captum) for inputs, like predict")
    p.add_argument("--model", required=True)
    p.add_argument("--task", default="cola", choices=["cola", "wic", "copa", "boolq"])
    p.add_argument("--method", default="ig", choices=["ig", "saliency", "input_x_gradient", "occlusion"])
    p.add_argument("--steps", type=int, default=50)
    p.add_argument("--device", default=None)
    p.add_argument("--json", action="store_true")
    p.add_argument("inputs", nargs="+", metavar="INPUT")
    p.set_defaults(func=_cmd_attribute)

    p = sub.add_parser("finetune", parents=[common], help="fine-tune a base model into a checkpoint the app reads")
    p.add_argument("--task", required=True, choices=["cola", "wic", "copa", "boolq"])
    p.add_argument("--base", required=True, help="hub id, folder, or multilingual-e5-small (offline)")
    p.add_argument("--train", required=True)
    p.add_argument("--dev", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--epochs", type=float, default=3)
    p.add_argument("--lr", type=float, default=3e-5)
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--max-length", type=int, default=128)
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--input-format", default=None, help="task input format (see the task pages)")
    p.add_argument("--max-train", type=int, default=None, help="use only the first N training items (quick runs)")
    p.set_defaults(func=_cmd_finetune)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Runs the CLI and returns its exit code."""
    args = build_parser().parse_args(list(sys.argv[1:] if argv is None else argv))
    args.extra = [
        f"--{flag.replace('_', '-')}={value}"
        for flag in ("checkpoints", "models", "max_models")
        if (value := getattr(args, flag, None)) is not None
    ]
    return args.func(args)
