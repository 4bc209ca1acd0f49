"""Batch scoring as whole processes: `python -m explorer evaluate` vs `transformers.pipeline` (batch 32).

The path `evaluate` and the pages share, measured the way a user meets it: each
side is one whole process (imports, loading, scoring) on the same model and the
same 2,000 NIKL CoLA dev sentences, run alternately ``REPEATS`` times so drift in
machine load hits both alike. Two models: multilingual-e5-small with a fresh head
(118 M parameters) and a BERT-base-sized classifier (110 M, 768 wide). Where the
CPU has AMX/AVX512-BF16, the explorer also runs with ``--precision bf16``, and its
answers are compared with fp32 (argmax agreement, max |ΔP|).

Also measured in this run: the CPU's fp32 (and bf16) matmul peak, to say how much
of it the explorer's scoring uses, counted as 2 × (parameters − embedding rows)
× real tokens / second of scoring (the seconds `evaluate` reports).

    PYTHONPATH=. .venv/bin/python benchmarks/batch_scoring.py [N_SENTENCES] [REPEATS]
"""

from __future__ import annotations

import csv
import json
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))
from common import (  # noqa: E402
    BENCH_DIR, bert_base_classifier, cola_tsv, e5_classifier, machine_facts, matmul_peak, spread, target, write,
)

REPEATS = 2


def _explorer(model: Path, tsv: Path, tag: str, precision: str) -> dict:
    out = BENCH_DIR / f"explorer-{tag}-{precision}"
    out.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, "-m", "explorer", "evaluate", "--model", str(model), "--task", "cola", "--data", str(tsv),
           "--out", str(out / "metrics.json"), "--predictions", str(out / "predictions.tsv"), "--precision", precision]
    t = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, cwd=HERE.parent)
    wall = time.perf_counter() - t
    metrics = json.loads((out / "metrics.json").read_text(encoding="utf-8"))
    with open(out / "predictions.tsv", encoding="utf-8", newline="") as f:
        p1 = [float(r["prob"]) for r in csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE)]
    return {"wall": wall, "scoring": metrics["seconds"], "p1": p1}


def _pipeline(model: Path, tsv: Path, tag: str) -> dict:
    out = BENCH_DIR / f"pipeline-{tag}.json"
    t = time.perf_counter()
    subprocess.run([sys.executable, str(HERE / "_pipeline_run.py"), str(model), str(tsv), str(out)], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - t
    answer = json.loads(out.read_text(encoding="utf-8"))
    return {"wall": wall, "scoring": answer["seconds"], "p1": answer["p1"]}


def _work(model: Path, tsv: Path) -> tuple[int, int]:
    """(parameters a token is multiplied through, real tokens in the file) for the FLOP count."""
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    from explorer.tasks.registry import read_dataset

    m = AutoModelForSequenceClassification.from_pretrained(model)
    params = sum(p.numel() for p in m.parameters()) - m.get_input_embeddings().weight.numel()
    tok = AutoTokenizer.from_pretrained(model)
    texts = [i.sentence for i in read_dataset(tsv).items]
    tokens = sum(len(ids) for ids in tok(texts, truncation=True, max_length=512)["input_ids"])
    return params, tokens


def _agreement(a: list[float], b: list[float]) -> tuple[float, float]:
    same = sum((x >= 0.5) == (y >= 0.5) for x, y in zip(a, b)) / len(a)
    return same, max(abs(x - y) for x, y in zip(a, b))


def _read_files(folder: Path) -> None:
    """Read the checkpoint once, so no timed run pays for a cold page cache that the next one finds warm."""
    for path in folder.iterdir():
        with open(path, "rb") as f:
            while f.read(1 << 24):
                pass


def measure(tag: str, model: Path, tsv: Path, repeats: int, bf16: bool, peaks: dict) -> dict:
    paths = ["explorer", "pipeline"] + (["explorer bf16"] if bf16 else [])
    _read_files(model)
    runs: dict[str, list[dict]] = {p: [] for p in paths}
    for _ in range(repeats):  # alternate: every path sees the same drift in machine load
        runs["explorer"].append(_explorer(model, tsv, tag, "fp32"))
        runs["pipeline"].append(_pipeline(model, tsv, tag))
        if bf16:
            runs["explorer bf16"].append(_explorer(model, tsv, tag, "bf16"))
    params, tokens = _work(model, tsv)
    flops = 2 * params * tokens
    row: dict = {"model": tag, "matmul_parameters": params, "real_tokens": tokens}
    for path, rs in runs.items():
        row[path] = {"wall_s": spread([r["wall"] for r in rs]), "scoring_s": spread([r["scoring"] for r in rs])}
        row[path]["gflops"] = flops / row[path]["scoring_s"]["median"] / 1e9
    wall = {p: row[p]["wall_s"]["median"] for p in paths}
    row["speedup_vs_pipeline"] = wall["pipeline"] / wall["explorer"]
    row["share_of_fp32_peak"] = row["explorer"]["gflops"] / peaks["fp32"]
    row["agreement_with_pipeline"], row["max_dp_vs_pipeline"] = _agreement(runs["explorer"][0]["p1"],
                                                                          runs["pipeline"][0]["p1"])
    if bf16:
        row["bf16_speedup_vs_pipeline"] = wall["pipeline"] / wall["explorer bf16"]
        row["bf16_speedup_vs_fp32"] = wall["explorer"] / wall["explorer bf16"]
        row["bf16_share_of_bf16_peak"] = row["explorer bf16"]["gflops"] / peaks["bf16"]
        row["bf16_agreement_with_fp32"], row["bf16_max_dp"] = _agreement(runs["explorer bf16"][0]["p1"],
                                                                        runs["explorer"][0]["p1"])
    return row


def show(rows: list[dict], peaks: dict) -> None:
    print(f"{'model':<12}{'path':<15}{'wall s (min/med/max)':>24}{'scoring s':>11}{'GFLOP/s':>9}")
    for row in rows:
        for path in ("explorer", "pipeline", "explorer bf16"):
            if path in row:
                w, s = row[path]["wall_s"], row[path]["scoring_s"]
                print(f"{row['model']:<12}{path:<15}{w['min']:>8.1f}{w['median']:>8.1f}{w['max']:>8.1f}"
                      f"{s['median']:>11.2f}{row[path]['gflops']:>9.0f}")
        print(f"{'':<12}explorer/pipeline {row['speedup_vs_pipeline']:.2f}× whole process; "
              f"{row['share_of_fp32_peak']:.0%} of the fp32 peak; same answer on {row['agreement_with_pipeline']:.2%} "
              f"(max |ΔP| {row['max_dp_vs_pipeline']:.1e})")
        if "bf16_speedup_vs_pipeline" in row:
            print(f"{'':<12}bf16: {row['bf16_speedup_vs_pipeline']:.2f}× the fp32 pipeline, "
                  f"{row['bf16_speedup_vs_fp32']:.2f}× its own fp32, {row['bf16_share_of_bf16_peak']:.0%} of the bf16 "
                  f"peak; same answer as fp32 on {row['bf16_agreement_with_fp32']:.2%} (max |ΔP| {row['bf16_max_dp']:.4f})")
    print("matmul peaks (GFLOP/s): " + ", ".join(f"{k} {v:.0f}" for k, v in peaks.items() if v))


def main(n: int, repeats: int) -> dict:
    import torch

    facts = machine_facts()
    tsv, source = cola_tsv(n)
    models = {"e5-small": e5_classifier(), "BERT-base": bert_base_classifier()}
    peaks = {"fp32": matmul_peak(torch.float32), "bf16": matmul_peak(torch.bfloat16) if facts["bf16_hardware"] else None}
    rows = [measure(tag, folder, tsv, repeats, facts["bf16_hardware"], peaks) for tag, folder in models.items()]
    show(rows, peaks)
    targets = []
    for row in rows:
        m = row["model"]
        targets.append(target(f"batch scoring {m}: explorer / pipeline (fp32, whole process)",
                              row["speedup_vs_pipeline"], 2.0))
        targets.append(target(f"batch scoring {m}: share of fp32 matmul peak", row["share_of_fp32_peak"], 0.70,
                              unit="%"))
        if "bf16_speedup_vs_pipeline" in row:
            targets.append(target(f"batch scoring {m}: bf16 / fp32 pipeline (whole process)",
                                  row["bf16_speedup_vs_pipeline"], 4.0))
            targets.append(target(f"batch scoring {m}: bf16 share of bf16 matmul peak",
                                  row["bf16_share_of_bf16_peak"], 0.40, unit="%"))
            targets.append(target(f"batch scoring {m}: bf16 argmax agreement with fp32",
                                  row["bf16_agreement_with_fp32"], 0.999, unit="%"))
    if not facts["bf16_hardware"]:
        targets.append(target("batch scoring: bf16", None, 4.0, why="no AMX/AVX512-BF16 on this CPU"))
    return {"sentences": n, "source": source, "repeats": repeats, "matmul_peaks_gflops": peaks, "models": rows,
            "targets": targets}


if __name__ == "__main__":
    args = [int(a) for a in sys.argv[1:3]]
    report = main(args[0] if args else 2000, args[1] if len(args) > 1 else REPEATS)
    write("batch_scoring", report)
