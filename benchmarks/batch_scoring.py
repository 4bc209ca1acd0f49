"""Batch scoring, side by side: the path `evaluate` and the pages share vs `transformers.pipeline`.

One process, one model, the same sentences: the explorer's `predict_items`
(length-sorted batches, attention mask, truncation counted) and
`transformers.pipeline("text-classification", batch_size=32)` run alternately,
``REPEATS`` times each, so both see the same machine state. Also measured in
this run: the fp32 matmul peak of this CPU (and bf16 where the CPU has
AMX/AVX512-BF16), to say how much of it each path uses, counted as
2 × parameters × real tokens per second. Prints a table and writes
``benchmarks/results/batch_scoring.json``. Asserts nothing.

The model is multilingual-e5-small (118 M parameters, the offline base) with a
fresh 2-class head; the sentences are the NIKL CoLA dev file from ../shared/data
when present, else generated ones.

    PYTHONPATH=. .venv/bin/python benchmarks/batch_scoring.py [N_SENTENCES]
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

import torch

from explorer.defaults.prepare import E5_NAME, is_prepared, prepare
from explorer.registry import folder_entry
from explorer.settings import load_settings
from explorer.loading import load_model
from explorer.tasks.predict import predict_items

REPEATS = 3
BATCH = 32
SHARED_COLA = Path(__file__).resolve().parents[2] / "shared" / "data" / "nikl2021" / "cola"


def sentences(n: int) -> tuple[list[str], str]:
    """``n`` NIKL-like sentences and where they came from."""
    from explorer.tasks.registry import read_dataset

    for path in sorted(SHARED_COLA.glob("*[Dd]ev*.tsv")):
        items = read_dataset(path).items
        return [i.sentence for i in items][:n], f"{path.name} (first {min(n, len(items))})"
    from explorer.defaults.korean import generate_cola

    return [e.sentence for e in generate_cola(n, seed=0)], "generated (generate_cola, seed 0)"


def cpu_flags() -> set[str]:
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return set()
    line = next((ln for ln in text.splitlines() if ln.startswith("flags")), "")
    return set(line.split(":", 1)[-1].split())


def matmul_peak(dtype: torch.dtype, size: int = 2048, seconds: float = 2.0) -> float:
    """GFLOP/s of a square matmul in ``dtype`` (best of repeated calls for ``seconds``)."""
    a, b = torch.randn(size, size, dtype=dtype), torch.randn(size, size, dtype=dtype)
    torch.matmul(a, b)
    best, end = 0.0, time.perf_counter() + seconds
    while time.perf_counter() < end:
        t = time.perf_counter()
        torch.matmul(a, b)
        best = max(best, 2 * size**3 / (time.perf_counter() - t) / 1e9)
    return best


def e5_classifier(settings) -> Path:
    """e5-small with a fresh, seeded 2-class head, saved once (what the study group fine-tunes)."""
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    out = Path(tempfile.gettempdir()) / "ko-explorer-bench-e5-cls"
    if not (out / "config.json").is_file():
        torch.manual_seed(0)
        base = settings.cache_dir / E5_NAME
        model = AutoModelForSequenceClassification.from_pretrained(base, num_labels=2)
        model.config.finetuning_task = "cola"
        model.save_pretrained(out)
        AutoTokenizer.from_pretrained(base).save_pretrained(out)
    return out


def main(n: int) -> dict:
    from transformers import pipeline

    settings = load_settings([])
    if not is_prepared(settings):
        prepare(settings)
    folder = e5_classifier(settings)
    entry = folder_entry(folder, "benchmark")
    loaded = load_model(entry, "cpu")
    texts, source = sentences(n)
    from explorer.tasks.cola import ColaItem

    items = [ColaItem(str(k), s, None) for k, s in enumerate(texts)]
    pipe = pipeline("text-classification", model=loaded.model, tokenizer=loaded.tokenizer, device=-1, top_k=None)
    tokens = sum(len(ids) for ids in loaded.tokenizer(texts, truncation=True)["input_ids"])
    params = sum(p.numel() for p in loaded.model.parameters())
    # Embedding lookups are not matmuls: count the parameters a token's forward pass multiplies through.
    embedding = loaded.model.get_input_embeddings().weight.numel()
    work = 2 * (params - embedding) * tokens

    flags = cpu_flags()
    bf16_hw = bool({"amx_bf16", "avx512_bf16"} & flags)
    paths = ["explorer", "pipeline"] + (["explorer bf16"] if bf16_hw else [])
    runs: dict[str, list[float]] = {path: [] for path in paths}
    ours = theirs = ours16 = None
    for _ in range(REPEATS):  # alternate, so drift in machine load hits every path alike
        t = time.perf_counter()
        ours = predict_items(loaded, "cola", items, batch_size=BATCH)
        runs["explorer"].append(time.perf_counter() - t)
        t = time.perf_counter()
        theirs = pipe(texts, batch_size=BATCH, truncation=True)
        runs["pipeline"].append(time.perf_counter() - t)
        if bf16_hw:
            t = time.perf_counter()
            ours16 = predict_items(loaded, "cola", items, batch_size=BATCH, precision="bf16")
            runs["explorer bf16"].append(time.perf_counter() - t)
    agree = sum(int(o.label) == int(max(p, key=lambda d: d["score"])["label"].split("_")[-1])
                for o, p in zip(ours, theirs)) / len(items)

    peak32 = matmul_peak(torch.float32)
    peak16 = matmul_peak(torch.bfloat16) if bf16_hw else None
    stats = {k: {"min": min(v), "median": statistics.median(v), "max": max(v)} for k, v in runs.items()}
    median = {k: s["median"] for k, s in stats.items()}
    report = {
        "when": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "machine": {"cpu": platform.processor() or platform.machine(), "cores": os.cpu_count(),
                    "torch_threads": torch.get_num_threads(), "bf16_hardware": bf16_hw,
                    "python": sys.version.split()[0], "torch": torch.__version__},
        "model": f"{E5_NAME} + fresh 2-class head", "parameters": params, "sentences": len(items), "source": source,
        "real_tokens": tokens, "batch_size": BATCH, "repeats": REPEATS, "seconds": stats,
        "speedup_vs_pipeline": median["pipeline"] / median["explorer"],
        "argmax_agreement_with_pipeline": agree,
        "fp32_matmul_peak_gflops": peak32, "bf16_matmul_peak_gflops": peak16,
        "explorer_gflops": work / median["explorer"] / 1e9, "pipeline_gflops": work / median["pipeline"] / 1e9,
    }
    report["explorer_share_of_fp32_peak"] = report["explorer_gflops"] / peak32
    if ours16 is not None:
        report["explorer bf16_gflops"] = work / median["explorer bf16"] / 1e9
        report["bf16_speedup_vs_fp32"] = median["explorer"] / median["explorer bf16"]
        report["bf16_speedup_vs_pipeline"] = median["pipeline"] / median["explorer bf16"]
        report["bf16_argmax_agreement_with_fp32"] = sum(a.label == b.label for a, b in zip(ours, ours16)) / len(items)
        report["bf16_max_abs_dp"] = max(abs(a.probs[1] - b.probs[1]) for a, b in zip(ours, ours16))
        report["explorer_bf16_share_of_bf16_peak"] = report["explorer bf16_gflops"] / peak16
    return report


def show(report: dict) -> None:
    s = report["seconds"]
    print(f"{report['model']} on {report['sentences']} sentences ({report['source']}), "
          f"{report['real_tokens']:,} real tokens, batch {report['batch_size']}, {report['repeats']} repeats each")
    print(f"machine: {report['machine']}")
    print(f"{'path':<15}{'min s':>8}{'median s':>10}{'max s':>8}{'GFLOP/s':>10}")
    for path in s:
        print(f"{path:<15}{s[path]['min']:>8.2f}{s[path]['median']:>10.2f}{s[path]['max']:>8.2f}"
              f"{report[path + '_gflops']:>10.1f}")
    print(f"explorer / pipeline speed: {report['speedup_vs_pipeline']:.2f}× · argmax agreement "
          f"{report['argmax_agreement_with_pipeline']:.2%}")
    peak16 = report["bf16_matmul_peak_gflops"]
    if "bf16_speedup_vs_fp32" in report:
        print(f"bf16: {report['bf16_speedup_vs_fp32']:.2f}× fp32, {report['bf16_speedup_vs_pipeline']:.2f}× the fp32 "
              f"pipeline; argmax agreement with fp32 {report['bf16_argmax_agreement_with_fp32']:.2%}, max |ΔP| "
              f"{report['bf16_max_abs_dp']:.4f}; {report['explorer_bf16_share_of_bf16_peak']:.0%} of the bf16 peak")
    print(f"fp32 matmul peak {report['fp32_matmul_peak_gflops']:.0f} GFLOP/s (explorer uses "
          f"{report['explorer_share_of_fp32_peak']:.0%})" + (f"; bf16 peak {peak16:.0f} GFLOP/s" if peak16 else
                                                             "; no bf16 matmul hardware detected"))


if __name__ == "__main__":
    result = main(int(sys.argv[1]) if len(sys.argv) > 1 else 2000)
    show(result)
    out = Path(__file__).parent / "results" / "batch_scoring.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(result, indent=2), encoding="utf-8")
    print(f"written: {out}")
