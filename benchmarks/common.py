"""What every benchmark shares: the machine's facts, spreads over repeats, peaks, and one result format.

Each benchmark writes ``benchmarks/results/<name>.json`` holding its own detail
plus a ``targets`` list; `run_all.py` prints every target as one table. A target
row is a ratio measured in the same run (never an absolute time):

    {"target": "batch scoring vs pipeline (fp32)", "measured": 1.8, "goal": 2.0,
     "better": "higher", "holds": false, "unit": "×"}
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).parent / "results"
SHARED = Path(__file__).resolve().parents[2] / "shared"


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine_facts() -> dict[str, Any]:
    """What a reader needs to compare two runs: CPU, cores, threads, bf16 hardware, versions, load."""
    import torch

    from explorer.device import cpu_has_bf16

    facts: dict[str, Any] = {
        "cpu": cpu_model(), "cores": os.cpu_count(), "torch_threads": torch.get_num_threads(),
        "bf16_hardware": cpu_has_bf16(),
        "python": sys.version.split()[0], "torch": torch.__version__,
        "cuda": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
    }
    try:
        facts["load_average_1min"] = round(os.getloadavg()[0], 2)
    except OSError:
        pass
    return facts


def spread(values: list[float]) -> dict[str, float]:
    return {"min": min(values), "median": statistics.median(values), "max": max(values), "n": len(values)}


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    t = time.perf_counter()
    out = fn()
    return time.perf_counter() - t, out


def matmul_peak(dtype: Any, size: int = 2048, seconds: float = 2.0) -> float:
    """GFLOP/s of a square matmul in ``dtype`` on the CPU (best of repeated calls for ``seconds``)."""
    import torch

    a, b = torch.randn(size, size, dtype=dtype), torch.randn(size, size, dtype=dtype)
    torch.matmul(a, b)
    best, end = 0.0, time.perf_counter() + seconds
    while time.perf_counter() < end:
        t = time.perf_counter()
        torch.matmul(a, b)
        best = max(best, 2 * size**3 / (time.perf_counter() - t) / 1e9)
    return best


def target(name: str, measured: float | None, goal: float, better: str = "higher", unit: str = "×",
           why: str = "") -> dict[str, Any]:
    """One row of the results table; ``measured`` None means not measurable here (``why`` says why)."""
    holds = None if measured is None else (measured >= goal if better == "higher" else measured <= goal)
    return {"target": name, "measured": measured, "goal": goal, "better": better, "unit": unit,
            "holds": holds, "why": why}


def write(name: str, report: dict[str, Any]) -> Path:
    """Write ``report`` (with the time and machine facts added) to ``results/<name>.json``."""
    report = {"benchmark": name, "when": datetime.now(timezone.utc).isoformat(timespec="seconds"),
              "machine": machine_facts(), **report}
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"{name}.json"
    out.write_text(json.dumps(report, indent=2, ensure_ascii=False), encoding="utf-8")
    print(f"written: {out}")
    return out


def format_target(row: dict[str, Any]) -> str:
    unit = row.get("unit", "")
    fmt = (lambda v: f"{v:.0%}") if unit == "%" else (lambda v: f"{v:.2f}{unit}")
    measured = "—" if row["measured"] is None else fmt(row["measured"])
    sign = "≥" if row["better"] == "higher" else "≤"
    verdict = {True: "holds", False: "misses", None: "not measured"}[row["holds"]]
    why = f"  ({row['why']})" if row.get("why") else ""
    return f"{row['target']:<58}{measured:>10}  {sign} {fmt(row['goal']):<8}{verdict}{why}"


# --------------------------------------------------------------------------- the models and data benchmarks share

NIKL_COLA = SHARED / "data" / "nikl2021" / "cola"
BENCH_DIR = Path(os.environ.get("TMPDIR", "/tmp")) / "ko-explorer-bench"


def cola_sentences(n: int, role: str = "dev") -> tuple[list[str], str]:
    """``n`` NIKL CoLA sentences (the real file when ../shared is there, else generated ones) and their source."""
    for path in sorted(NIKL_COLA.glob(f"*[{role[0].upper()}{role[0]}]{role[1:]}*.tsv")):
        from explorer.tasks.registry import read_dataset

        items = read_dataset(path).items
        return [i.sentence for i in items][:n], f"{path.name} (first {min(n, len(items))})"
    from explorer.defaults.korean import generate_cola

    return [e.sentence for e in generate_cola(n, seed=0 if role == "dev" else 1)], "generated (generate_cola)"


def cola_tsv(n: int) -> tuple[Path, str]:
    """A NIKL CoLA-layout TSV of ``n`` labelled sentences (written under BENCH_DIR, never into the repo)."""
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    for path in sorted(NIKL_COLA.glob("*[Dd]ev*.tsv")):
        lines = path.read_text(encoding="utf-8").splitlines()[: n + 1]
        out = BENCH_DIR / f"cola-dev-{n}.tsv"
        out.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return out, f"{path.name} (first {len(lines) - 1})"
    from explorer.defaults.korean import generate_cola

    out = BENCH_DIR / f"cola-generated-{n}.tsv"
    rows = ["source\tacceptability_label\tsource_annotation\tsentence"]
    rows += [f"G{k}\t{e.label}\t\t{e.sentence}" for k, e in enumerate(generate_cola(n, seed=0))]
    out.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return out, "generated (generate_cola)"


def e5_classifier() -> Path:
    """multilingual-e5-small (118 M parameters, the offline base) with a fresh, seeded 2-class CoLA head."""
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    from explorer.defaults.prepare import E5_NAME, is_prepared, prepare
    from explorer.settings import load_settings

    out = BENCH_DIR / "e5-small-cola"
    if not (out / "config.json").is_file():
        settings = load_settings([])
        if not is_prepared(settings):
            prepare(settings)
        torch.manual_seed(0)
        base = settings.cache_dir / E5_NAME
        model = AutoModelForSequenceClassification.from_pretrained(base, num_labels=2)
        model.config.finetuning_task = "cola"
        model.save_pretrained(out)
        AutoTokenizer.from_pretrained(base).save_pretrained(out)
    return out


def bert_base_classifier(seed: int = 0) -> Path:
    """A BERT-base-sized CoLA classifier (12 layers, 768 wide, 32,000-row vocabulary: 110 M parameters).

    Random weights, seeded; its WordPiece tokenizer is trained on the NIKL CoLA
    train sentences when present (so real sentences split as a Korean BERT's
    would), else on generated ones.
    """
    import torch
    from transformers import AutoTokenizer, BertConfig, BertForSequenceClassification

    from explorer.defaults.demo import train_tokenizer

    out = BENCH_DIR / f"bert-base-cola-{seed}"
    if not (out / "config.json").is_file():
        tok_dir = BENCH_DIR / "bert-base-tokenizer"
        if not (tok_dir / "tokenizer.json").is_file():
            texts, _ = cola_sentences(20000, role="train")
            train_tokenizer(texts, tok_dir, vocab_size=16000, max_length=512)
        tok = AutoTokenizer.from_pretrained(tok_dir)
        torch.manual_seed(seed)
        config = BertConfig(vocab_size=32000, hidden_size=768, num_hidden_layers=12, num_attention_heads=12,
                            intermediate_size=3072, max_position_embeddings=512, pad_token_id=tok.pad_token_id,
                            num_labels=2, finetuning_task="cola")
        BertForSequenceClassification(config).save_pretrained(out)
        tok.save_pretrained(out)
    return out


def rss_mb() -> float:
    """This process's peak resident memory in MB.

    VmHWM, not ru_maxrss: Linux carries ru_maxrss over a fork and exec, so a child
    started from a big parent (run_all after other benchmarks) would report the parent's peak.
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
