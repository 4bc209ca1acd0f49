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
    bar = tqdm(total=100, desc="Preparing default models", unit="%", bar_format="{l_bar}{bar}| {n:.0f}% {postfix}")

    def progress(fraction: float, message: str) -> None:
        bar.n = round(100 * fraction, 1)
        bar.set_postfix_str(message[:70])
        bar.refresh()

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
    from explorer.text import split_sentences

    if args.task != "cola":
        print(f"error: predict supports --task cola for now (got {args.task}).", file=sys.stderr)
        return 2
    cleaned = split_sentences("\n".join(args.sentences))
    if not cleaned.sentences:
        print("error: no sentence given (all empty after removing spaces and control characters).", file=sys.stderr)
        return 2
    explorer = Explorer(load_settings(args.extra))
    try:
        entry = explorer.entry(args.model)
        run = explorer.score_acceptability([entry], cleaned.sentences, device=args.device)[0]
    except CheckpointError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if run.error:
        print(f"error: {run.error}", file=sys.stderr)
        return 1
    for note in cleaned.notes:
        print("note:", note, file=sys.stderr)
    if args.json:
        payload = [
            {"sentence": r.sentence, "p_acceptable": r.p_acceptable, "label": r.label, "n_tokens": r.n_tokens, "n_dropped": r.n_dropped}
            for r in run.results
        ]
        print(json.dumps({"model": entry.name, "task": "cola", "results": payload}, ensure_ascii=False, indent=2))
    else:
        for r in run.results:
            verdict = "acceptable" if r.label else "unacceptable"
            print(f"{r.p_acceptable:.3f}\t{verdict}\t{r.sentence}" + (f"\t({r.note})" if r.note else ""))
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

    p = sub.add_parser("predict", parents=[common], help="score sentences with one model")
    p.add_argument("--model", required=True, help="registry name, checkpoint folder, or hub id")
    p.add_argument("--task", default="cola", choices=["cola", "wic", "copa", "boolq"])
    p.add_argument("--device", default=None, help="auto, cpu, cuda, mps")
    p.add_argument("--json", action="store_true")
    p.add_argument("sentences", nargs="+")
    p.set_defaults(func=_cmd_predict)
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
