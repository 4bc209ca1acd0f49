"""What each "Inside a model" view costs, relative to one plain prediction.

On the prepared default checkpoints (CoLA, WiC, COPA demos) and, when present,
an untrained CoLA head on the multilingual-e5-small encoder (12 layers,
118 M parameters, close to what the study group fine-tunes), times each view on the page's example
inputs and prints it as a multiple of one forward pass of the same batch,
measured in this one run. Also prints how the IG convergence delta shrinks
with steps. Asserts nothing.

    PYTHONPATH=. .venv/bin/python benchmarks/internals.py
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

import torch

from explorer.defaults.prepare import E5_NAME, is_prepared, prepare
from explorer.internals.alignment import align_rows
from explorer.internals.attention import attention_maps
from explorer.internals.attributions import attribute
from explorer.internals.inputs import EXAMPLES, parse
from explorer.internals.padding import mask_invariance, token_grid
from explorer.internals.positions import explicit_position_check
from explorer.service import Explorer
from explorer.settings import load_settings


def _seconds(fn: Callable[[], object], repeat: int = 3) -> float:
    fn()  # warm-up: first calls pay for lazy imports and allocator growth
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def _forward(loaded, rows) -> Callable[[], object]:
    tok = loaded.tokenizer
    firsts = [r.first for r in rows]
    seconds = None if rows[0].second is None else [r.second for r in rows]
    enc = tok(firsts, seconds, padding=True, truncation=True, return_tensors="pt").to(loaded.device)
    if loaded.head == "multiple_choice":
        enc = {k: v.unsqueeze(0) for k, v in enc.items()}

    @torch.inference_mode()
    def run():
        return loaded.model(**enc).logits

    return run


def _e5_with_a_fresh_head(explorer: Explorer):
    """multilingual-e5-small with an untrained CoLA head: the base size the study group fine-tunes."""
    from dataclasses import replace

    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    folder = explorer.settings.cache_dir / E5_NAME
    if not folder.exists():
        return None
    entry = next(e for e in explorer.registry()[0] if e.source == str(folder) or e.name == E5_NAME)
    demo = next(e for e in explorer.registry()[0] if e.task == "cola" and e.kind == "transformer")
    loaded = explorer.load(demo, "cpu")  # borrow the LoadedModel fields, swap model and tokenizer
    model = AutoModelForSequenceClassification.from_pretrained(folder, num_labels=2).eval()
    torch.manual_seed(0)  # the rebuilt config initialises a new head to zeros: give it random weights
    torch.nn.init.normal_(model.classifier.weight, std=0.5)
    return replace(loaded, entry=replace(entry, name=f"{E5_NAME} + fresh CoLA head", task="cola"), model=model,
                   tokenizer=AutoTokenizer.from_pretrained(folder), max_length=512)


def _views(explorer: Explorer, loaded) -> None:
    entry = loaded.entry
    inputs = parse(entry.task, EXAMPLES[entry.task], entry.input_format, explorer.kiwi().morphemes)
    rows = inputs.rows
    item = inputs.rows_of(0)
    base = _seconds(_forward(loaded, rows))
    if loaded.head == "multiple_choice":
        def ig(steps: int):
            return attribute(loaded, item[0].first, endings=[r.second for r in item], steps=steps)
    else:
        def ig(steps: int):
            return attribute(loaded, item[0].first, item[0].second, steps=steps)
    views = {
        "token grid + Kiwi alignment": lambda: align_rows(token_grid(loaded.tokenizer, inputs.firsts, inputs.seconds),
                                                          inputs.firsts, inputs.seconds, explorer.kiwi().morphemes),
        "mask check (alone, padded, no mask, other side)": lambda: mask_invariance(loaded, loaded.tokenizer, inputs.firsts,
                                                                                   inputs.seconds),
        "position check (default, arange, shuffled)": lambda: explicit_position_check(loaded, inputs.firsts, inputs.seconds),
        "attention maps (eager view)": lambda: attention_maps(loaded, inputs.firsts, inputs.seconds),
        "IG, 50 steps, first input": lambda: ig(50),
        "occlusion, first input": lambda: attribute(loaded, item[0].first, item[0].second, method="occlusion")
        if loaded.head != "multiple_choice" else
        attribute(loaded, item[0].first, endings=[r.second for r in item], method="occlusion"),
    }
    params = sum(p.numel() for p in loaded.model.parameters())
    print(f"\n{entry.name} ({entry.task}, {params / 1e6:.1f} M parameters, {len(rows)} rows): "
          f"one forward pass {base * 1000:.1f} ms")
    for name, fn in views.items():
        seconds = _seconds(fn)
        print(f"  {name:<48} {seconds * 1000:8.1f} ms  = {seconds / base:6.1f} × forward")
    for steps in (10, 25, 50, 100, 200):
        result = ig(steps)
        print(f"  IG {steps:>3} steps: delta {abs(result.delta):.2e} = {result.delta_ratio:.2%} of f(x) − f(baseline)")


def main() -> None:
    settings = load_settings([])
    if not is_prepared(settings):
        prepare(settings)
    explorer = Explorer(settings)
    entries, _ = explorer.registry()
    for entry in entries:
        if entry.kind == "transformer" and entry.task:
            _views(explorer, explorer.load(entry, "cpu"))
    e5 = _e5_with_a_fresh_head(explorer)
    if e5 is not None:
        _views(explorer, e5)


if __name__ == "__main__":
    main()
