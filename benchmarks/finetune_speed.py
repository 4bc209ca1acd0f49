"""Fine-tuning speed, side by side: today's settings vs the fast ones, at equal dev metric.

The e5 base (multilingual-e5-small, 118 M parameters, 96 M of them its 250k-row
word-embedding table) is fine-tuned by ``explorer.finetune.finetune`` on fixed,
seeded subsets of NIKL CoLA and COPA (../shared/data/nikl2021; generated data
in the same layouts when absent, whose dev metrics mean nothing):

- **baseline**: what ``finetune`` did before (every parameter trained, fp32);
- **fast** on CPU: word-embedding table frozen (the new CPU default), plus bf16
  autocast where the CPU has AMX/AVX512-BF16; on CUDA: bf16 autocast;
- with ``--with-default``, also **frozen fp32** (the CPU default without bf16),
  to tell freezing's share of the speed-up from bf16's.

The two alternate within each repeat (order swapped every repeat) and share the
repeat's seed (so the same batches), and machine load drifts over both alike.
Speed is counted over the training steps alone (forward, backward, optimizer;
not evaluation or checkpoint writing): a full batch over the median step time
(``median_step_seconds`` of the summary), because on a shared machine a few
steps stall for seconds while others run; the total over all steps is printed
beside it. The ratio is the median of the per-repeat ratios.

Dev metric (CoLA: MCC, COPA: accuracy): "equal within noise" means the median
difference fast − baseline is no larger than the noise, taken as the larger of
1/√n_dev (about two standard errors of an accuracy near 0.5 on these dev items)
and the spread of the baseline over the repeats' seeds. One epoch on a few
hundred items barely trains the head, so use ``--train``/``--epochs`` for a
sharper comparison. Prints a table and writes ``benchmarks/results/finetune_speed.json``.

    PYTHONPATH=. .venv/bin/python benchmarks/finetune_speed.py [--train 256] [--dev 256] [--epochs 1] [--repeats 2] [--threads N] [--with-default]
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import io
import math
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from common import SHARED, machine_facts, spread, target, write  # noqa: E402

NIKL = SHARED / "data" / "nikl2021"
FILES = {  # task: (train, dev) as published
    "cola": ("cola/NIKL_CoLA_train.tsv", "cola/NIKL_CoLA_dev.tsv"),
    "copa": ("copa/SKT_COPA_Train.tsv", "copa/SKT_COPA_Dev.tsv"),
}
MAX_LENGTH = 64  # the measure: e5 at 64 tokens
BATCH = 16


def _subset(source: Path, n: int, seed: int, out: Path) -> Path:
    """A seeded random subset of a published TSV, written in the same layout."""
    import pandas as pd

    frame = pd.read_csv(source, sep="\t", keep_default_na=False, dtype=str, quoting=csv.QUOTE_MINIMAL)
    frame.sample(n=min(n, len(frame)), random_state=seed).sort_index().to_csv(out, sep="\t", index=False)
    return out


def _generated(task: str, role: str, n: int, seed: int, out: Path) -> Path:
    """Generated items in the NIKL layout (labels are not learnable in a few steps: metrics mean nothing)."""
    if task == "cola":
        from explorer.defaults.korean import generate_cola

        rows = [[f"G{k}", e.label, "" if e.label else "*", e.sentence] for k, e in enumerate(generate_cola(n, seed))]
        header = ["source", "acceptability_label", "source_annotation", "sentence"]
    else:
        from explorer.defaults.task_data import generate_copa

        rows = [[k + 1, i.premise, "원인" if i.question == "cause" else "결과", *i.alternatives, i.label + 1]
                for k, i in enumerate(generate_copa(n, seed))]
        header = ["ID", "sentence", "question", "1", "2", "Answer"]
    out.write_text("\n".join("\t".join(map(str, r)) for r in [header, *rows]) + "\n", encoding="utf-8")
    return out


def task_files(task: str, n_train: int, n_dev: int, folder: Path) -> tuple[Path, Path, str]:
    """Train and dev subsets for ``task`` and where they came from."""
    train, dev = (NIKL / name for name in FILES[task])
    if train.is_file() and dev.is_file():
        return (_subset(train, n_train, 0, folder / f"{task}_train.tsv"),
                _subset(dev, n_dev, 0, folder / f"{task}_dev.tsv"),
                f"NIKL 2021 {train.name} / {dev.name}, seeded subsets")
    return (_generated(task, "train", n_train, 1, folder / f"{task}_train.tsv"),
            _generated(task, "dev", n_dev, 2, folder / f"{task}_dev.tsv"),
            "generated (shared data absent): dev metrics are not meaningful")


def settings_compared(on_cuda: bool, bf16_cpu: bool, with_default: bool) -> dict[str, dict[str, str]]:
    """Baseline = the settings before this change; fast = the fast ones this machine can run.

    ``with_default`` adds the new CPU default (frozen table, fp32), to tell freezing's share from bf16's.
    """
    baseline = {"embeddings": "trained", "precision": "fp32"}
    if on_cuda:
        return {"baseline": baseline, "fast": {"embeddings": "trained", "precision": "bf16"}}
    chosen = {"baseline": baseline, "fast": {"embeddings": "frozen", "precision": "bf16" if bf16_cpu else "fp32"}}
    if with_default and bf16_cpu:
        chosen["frozen fp32"] = {"embeddings": "frozen", "precision": "fp32"}
    return chosen


def _run(task: str, train: Path, dev: Path, out: Path, seed: int, args: argparse.Namespace, setting: dict) -> dict:
    from explorer.finetune import finetune

    with contextlib.redirect_stdout(io.StringIO()):  # Trainer prints every log line
        summary = finetune(task, "multilingual-e5-small", train, dev, out, epochs=args.epochs, lr=args.lr,
                           batch_size=BATCH, max_length=MAX_LENGTH, seed=seed, **setting)
    shutil.rmtree(out, ignore_errors=True)  # two 470 MB weight files per run
    return {"seed": seed, "examples_per_second": summary["examples_per_second"],
            # A full batch over the median step: what a step costs when the shared machine does not stall it.
            "median_step_examples_per_second": BATCH / summary["median_step_seconds"],
            "step_seconds": summary["step_seconds"], "seconds": summary["seconds"],
            "dev": summary["dev_metrics"][summary["metric"]], "trainable_parameters": summary["trainable_parameters"]}


def run_task(task: str, args: argparse.Namespace, settings: dict[str, dict[str, str]], work: Path) -> dict:
    train, dev, source = task_files(task, args.train, args.dev, work)
    runs: dict[str, list[dict]] = {name: [] for name in settings}
    for repeat in range(args.repeats):
        order = list(settings) if repeat % 2 == 0 else list(reversed(settings))
        for name in order:
            run = _run(task, train, dev, work / f"{task}-{name}-{repeat}", 42 + repeat, args, settings[name])
            runs[name].append(run)
            print(f"  {task} {name:<12} seed {run['seed']}: {run['median_step_examples_per_second']:6.1f} examples/s "
                  f"at the median step, {run['examples_per_second']:6.1f} over all steps; dev {run['dev']:.4f}",
                  flush=True)
    metric = "mcc" if task == "cola" else "accuracy"
    base_dev = [r["dev"] for r in runs["baseline"]]
    noise = max(1 / math.sqrt(args.dev), max(base_dev) - min(base_dev))
    compared = {}
    for name in settings:
        if name == "baseline":
            continue
        pairs = list(zip(runs["baseline"], runs[name]))
        difference = statistics.median(r["dev"] for r in runs[name]) - statistics.median(base_dev)
        compared[name] = {
            "speedup": spread([f["median_step_examples_per_second"] / b["median_step_examples_per_second"]
                               for b, f in pairs]),
            "speedup_all_steps": spread([f["examples_per_second"] / b["examples_per_second"] for b, f in pairs]),
            "dev_difference": difference, "dev_equal_within_noise": abs(difference) <= noise,
        }
    return {
        "task": task, "source": source, "n_train": args.train, "n_dev": args.dev, "metric": metric, "runs": runs,
        "examples_per_second": {name: spread([r["median_step_examples_per_second"] for r in rs])
                                for name, rs in runs.items()},
        "dev_median": {name: statistics.median(r["dev"] for r in rs) for name, rs in runs.items()},
        "dev_noise": noise, "compared": compared,
    }


def main() -> dict:
    import torch

    from explorer.defaults.prepare import is_prepared
    from explorer.device import cpu_has_bf16
    from explorer.settings import load_settings
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()  # no progress bars or load reports between the result lines
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train", type=int, default=256, help="train items per task (default 256)")
    parser.add_argument("--dev", type=int, default=256, help="dev items per task (default 256)")
    parser.add_argument("--epochs", type=float, default=1)
    parser.add_argument("--lr", type=float, default=3e-5)
    parser.add_argument("--repeats", type=int, default=2, help="runs of each setting, alternating (default 2)")
    parser.add_argument("--tasks", nargs="+", default=list(FILES), choices=list(FILES))
    parser.add_argument("--threads", type=int, default=None,
                        help="torch threads (default: torch's). 1 on a busy shared machine: with 2 threads a step "
                             "stalls for seconds whenever another process holds a core")
    parser.add_argument("--with-default", action="store_true",
                        help="also run the new CPU default (frozen, fp32) to tell freezing's share from bf16's")
    args = parser.parse_args()
    if not is_prepared(load_settings([])):
        sys.exit("the offline e5 base is not prepared: run `python -m explorer prepare` first")

    if args.threads:
        torch.set_num_threads(args.threads)
    on_cuda = torch.cuda.is_available()
    settings = settings_compared(on_cuda, cpu_has_bf16(), args.with_default)
    device = "cuda" if on_cuda else "cpu"
    load_before = machine_facts().get("load_average_1min")
    with tempfile.TemporaryDirectory(prefix="ko-explorer-ft-bench-") as tmp:
        results = [run_task(task, args, settings, Path(tmp)) for task in args.tasks]

    targets = []
    for r in results:
        name = "CoLA" if r["task"] == "cola" else r["task"].upper()
        fast = r["compared"]["fast"]
        targets.append(target(f"fine-tuning {device.upper()} speedup per example ({name})",
                              fast["speedup"]["median"], 2.0))
        # Fast may not be worse than the baseline by more than the noise.
        targets.append(target(f"fine-tuning dev {r['metric']} fast − baseline ({name})", fast["dev_difference"],
                              -r["dev_noise"], unit=""))
    if not on_cuda:
        targets.append(target("fine-tuning GPU bf16 speedup per example", None, 2.0,
                              why="no CUDA device in this run"))
    return {"settings": settings, "device": device, "max_length": MAX_LENGTH, "batch_size": BATCH,
            "epochs": args.epochs, "lr": args.lr, "repeats": args.repeats, "threads": torch.get_num_threads(),
            "load_average_1min_before": load_before,
            "tasks": results, "targets": targets}


def show(report: dict) -> None:
    print(f"\ne5 base on {report['device']}, max_length {report['max_length']}, batch {report['batch_size']}, "
          f"{report['epochs']} epoch(s), {report['repeats']} repeats, {report['threads']} torch thread(s), "
          f"settings {report['settings']}")
    print("examples/s at the median step (all steps in brackets: stalls included); dev metric medians over seeds")
    print(f"{'task':<6}{'setting':<13}{'examples/s':>11}{'':>9}{'× baseline':>12}{'dev':>9}{'Δ dev':>9}"
          f"{'noise':>7}  equal")
    for r in report["tasks"]:
        for name, eps in r["examples_per_second"].items():
            all_steps = statistics.median(run["examples_per_second"] for run in r["runs"][name])
            c = r["compared"].get(name)
            ratio = f"{c['speedup']['median']:.2f}× ({c['speedup_all_steps']['median']:.2f}×)" if c else ""
            dev = f"{c['dev_difference']:>+9.4f}{r['dev_noise']:>7.3f}  {'yes' if c['dev_equal_within_noise'] else 'NO'}" if c else ""
            print(f"{r['task']:<6}{name:<13}{eps['median']:>11.1f}{f'({all_steps:.1f})':>9}{ratio:>16}"
                  f"{r['dev_median'][name]:>9.4f}{dev}")
        print(f"      ({r['metric']}; {r['source']})")
    print(f"load average (1 min) before: {report['load_average_1min_before']}")


if __name__ == "__main__":
    result = main()
    write("finetune_speed", result)  # adds the machine facts (and the load average after)
    show(result)
