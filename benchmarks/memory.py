"""Peak memory with 1, 3 and 6 models loaded, and whether the model cache's bound holds.

Each measurement is a fresh process (peak RSS only grows within one): it loads
K models through `Explorer` (the cache every session shares), scores 64 CoLA
sentences with each, and reports its peak RSS and the bytes the cache holds.
Two sizes: the tiny offline demos (copied to K folders, so each loads anew) and
BERT-base-sized classifiers (12 layers, 768 wide, 110 M parameters, random
weights). Then the bound: 6 BERT-base models through a cache allowed 3 must end
with 3 held and a peak close to the 3-model peak, not the 6-model one.

    PYTHONPATH=. .venv/bin/python benchmarks/memory.py
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))
from common import BENCH_DIR, bert_base_classifier, cola_sentences, rss_mb, target, write  # noqa: E402

COUNTS = (1, 3, 6)


def demo_copies(k: int) -> list[Path]:
    """K separate folders holding the CoLA demo (the cache keys models by folder)."""
    from explorer.defaults.prepare import default_entries
    from explorer.settings import load_settings

    source = next(Path(e.source) for e in default_entries(load_settings([])) if e.name == "demo-bert-cola")
    out = []
    for i in range(k):
        folder = BENCH_DIR / f"demo-copy-{i}"
        if not folder.is_dir():
            shutil.copytree(source, folder)
        out.append(folder)
    return out


def child(folders: list[str], max_models: int) -> None:
    """In a fresh process: load and use each model, print the peak RSS and what the cache holds."""
    import dataclasses

    from explorer.registry import folder_entry
    from explorer.service import Explorer
    from explorer.settings import load_settings
    from explorer.tasks.cola import ColaItem

    base = rss_mb()
    import explorer.loading  # noqa: F401 - counted apart: torch and transformers, which every process pays for once

    explorer = Explorer(dataclasses.replace(load_settings([]), max_models=max_models))
    texts, _ = cola_sentences(64)
    items = [ColaItem(str(k), t, None) for k, t in enumerate(texts)]
    libraries = rss_mb()
    for folder in folders:
        runs = explorer.predict([folder_entry(Path(folder), "bench")], "cola", items)
        assert runs[0].error is None, runs[0].error
    held = explorer.cache.keys()
    print(json.dumps({"peak_rss_mb": rss_mb(), "libraries_mb": libraries, "start_mb": base, "held": len(held),
                      "held_mb": sum(explorer.cache._sizes[k] or 0 for k in held) / 2**20}))


def measure(folders: list[Path], max_models: int) -> dict:
    out = subprocess.run([sys.executable, __file__, "--child", str(max_models), *map(str, folders)],
                         check=True, capture_output=True, text=True, cwd=HERE.parent)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> dict:
    kinds = {"demo": demo_copies(max(COUNTS)), "BERT-base": [bert_base_classifier(seed) for seed in range(max(COUNTS))]}
    rows = []
    for kind, folders in kinds.items():
        for k in COUNTS:
            r = measure(folders[:k], max_models=6)
            rows.append({"kind": kind, "models": k, "bound": 6, **r})
    bounded = measure(kinds["BERT-base"], max_models=3)
    rows.append({"kind": "BERT-base", "models": 6, "bound": 3, **bounded})
    print(f"{'models':<16}{'loaded':>7}{'bound':>6}{'held':>6}{'held MB':>9}{'peak RSS MB':>13}{'over libs MB':>13}")
    for r in rows:
        print(f"{r['kind']:<16}{r['models']:>7}{r['bound']:>6}{r['held']:>6}{r['held_mb']:>9.0f}"
              f"{r['peak_rss_mb']:>13.0f}{r['peak_rss_mb'] - r['libraries_mb']:>13.0f}")
    three = next(r for r in rows if r["kind"] == "BERT-base" and r["models"] == 3 and r["bound"] == 6)
    six = next(r for r in rows if r["kind"] == "BERT-base" and r["models"] == 6 and r["bound"] == 6)
    targets = [
        target("memory: models held with 6 loaded and a bound of 3", float(bounded["held"]), 3.0, better="lower",
               unit=""),
        target("memory: peak RSS, 6 loaded under a bound of 3 / 3 loaded", bounded["peak_rss_mb"] / three["peak_rss_mb"],
               1.25, better="lower"),
        target("memory: peak RSS, 6 BERT-base / 3 BERT-base (unbounded)", six["peak_rss_mb"] / three["peak_rss_mb"],
               2.0, better="lower"),
    ]
    return {"rows": rows, "targets": targets}


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        child(sys.argv[3:], int(sys.argv[2]))
    else:
        write("memory", main())
