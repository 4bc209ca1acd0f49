"""Integrated Gradients at equal accuracy: the app's ``steps="auto"`` against Captum's defaults.

On multilingual-e5-small with a fresh 2-class head (built as in benchmarks/internals.py)
and five Korean sentences of different lengths, times, per sentence and alternating:

* Captum default: ``IntegratedGradients(score).attribute(x, baselines=x0, n_steps=50,
  return_convergence_delta=True)`` (Gauss-Legendre, all 50 points in one batch), on the
  same score function and embeddings the app uses; only this call is timed.
* auto: the whole ``attribute(model, sentence)`` call (encoding, prediction and the two
  end-point scores included), which doubles a trapezoid grid until
  ``|delta| <= 1% of |f(x) - f(baseline)|``.

Prints seconds (median of repeats) of process CPU time and of wall time, the delta ratio of both, the steps auto took and
the speedup; the target is the CPU-time speedup over all sentences (sum of medians) with the
share of sentences where auto reached 1% (Captum's share is printed beside it).
CPU time on one torch thread is the measure because this machine is shared: at a load of
6-10 on two cores the wall time of one path swung 2-15 s between repeats, and with two
threads the CPU time swung as much (threads spin while waiting for each other); on one
thread it held within a few percent. Both paths run alike, so the ratio is the work saved.
``--reference`` adds, per sentence, the largest per-token gap of each against a
1000-step run as a share of |f(x) - f(baseline)| (the delta bounds only the sum).

    PYTHONPATH=. .venv/bin/python benchmarks/integrated_gradients.py [--repeats 3] [--reference]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).parent))
from common import machine_facts, spread, target, write  # noqa: E402

from explorer.internals import attributions as A  # noqa: E402

# The three CoLA examples of the page plus two longer ones: 9 to 34 tokens on e5.
SENTENCES = [
    "나는 어제 학교에 갔다.",
    "책가 책상 위에 있다.",
    "할머니께서 시장에서 떡을 파셨다.",
    "비가 와서 우리는 소풍을 다음 주로 미루기로 했다.",
    "그 회의에서 결정된 사항들은 다음 주 월요일까지 모든 부서에 공식적으로 전달될 예정이지만 아직 세부 일정은 정해지지 않았다.",
]
CAPTUM_STEPS = 50


def _e5():
    from internals import _e5_with_a_fresh_head

    from explorer.defaults.prepare import is_prepared
    from explorer.service import Explorer
    from explorer.settings import load_settings

    settings = load_settings([])
    if not is_prepared(settings):
        return None
    return _e5_with_a_fresh_head(Explorer(settings))


def _captum_default(loaded, sentence: str):
    """Captum's IG with its defaults on the app's score function; returns (run, difference)."""
    from captum.attr import IntegratedGradients

    enc, _ = A._encode(loaded, sentence, None, None)
    probs = A._predict(loaded, enc)
    chosen = max(range(len(probs)), key=probs.__getitem__)  # the predicted class, as attribute() picks
    base_ids, _ = A._baseline_ids(loaded, enc, "pad", [])
    score = A._score_fn(loaded, enc, "logit", chosen, None)
    with torch.no_grad():
        x, x0 = A._embed(loaded, enc.ids, False), A._embed(loaded, base_ids, False)
        difference = float(score(x)[0] - score(x0)[0])

    def run():
        with torch.inference_mode(False), torch.enable_grad():
            attr, delta = IntegratedGradients(score).attribute(
                x, baselines=x0, n_steps=CAPTUM_STEPS, return_convergence_delta=True)
        return attr.sum(-1)[0].tolist(), float(delta.sum())

    return run, difference


def _timed(fn):
    """(process CPU seconds, wall seconds, result) of one call."""
    cpu, wall = time.process_time(), time.perf_counter()
    out = fn()
    return time.process_time() - cpu, time.perf_counter() - wall, out


def _one_sentence(loaded, sentence: str, repeats: int, reference: bool) -> dict:
    captum, difference = _captum_default(loaded, sentence)
    auto = lambda: A.attribute(loaded, sentence)  # noqa: E731
    captum_s, auto_s, captum_wall, auto_wall = [], [], [], []
    for _ in range(repeats):  # alternate, so load changes hit both alike
        cpu, wall, (captum_scores, captum_delta) = _timed(captum)
        captum_s.append(cpu)
        captum_wall.append(wall)
        cpu, wall, result = _timed(auto)
        auto_s.append(cpu)
        auto_wall.append(wall)
    row = {
        "sentence": sentence, "tokens": len(result.tokens), "difference": difference,
        "captum_seconds": spread(captum_s), "auto_seconds": spread(auto_s),
        "captum_wall_seconds": spread(captum_wall), "auto_wall_seconds": spread(auto_wall),
        "captum_delta_ratio": abs(captum_delta) / abs(difference), "auto_delta_ratio": result.delta_ratio,
        "auto_steps": result.steps, "auto_warning": result.warning,
        "speedup": statistics.median(captum_s) / statistics.median(auto_s),
    }
    if reference:
        exact = A.attribute(loaded, sentence, steps=1000).scores
        gap = lambda scores: max(abs(a - b) for a, b in zip(scores, exact)) / abs(difference)  # noqa: E731
        row["captum_token_gap"], row["auto_token_gap"] = gap(captum_scores), gap(result.scores)
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="timed runs of each path per sentence")
    parser.add_argument("--reference", action="store_true", help="also compare with a 1000-step run (slow)")
    args = parser.parse_args()
    torch.set_num_threads(1)  # see the module docstring: a stable measure on a shared machine
    loaded = _e5()
    if loaded is None:
        print("e5-small is not prepared here (run `make prepare`); nothing measured")
        write("integrated_gradients", {"targets": [
            target("IG: speedup over Captum default at delta ≤ 1%", None, 3.0, why="e5-small not prepared"),
            target("IG: share of sentences auto brings to delta ≤ 1%", None, 1.0, unit="%", why="e5-small not prepared"),
        ]})
        return
    print(f"machine: {machine_facts()}")
    print(f"{loaded.entry.name}: Captum IG ({CAPTUM_STEPS} Gauss-Legendre steps, one batch) vs steps='auto'")
    A.attribute(loaded, SENTENCES[0], steps=2)  # warm-up: lazy imports, allocator growth
    rows = []
    print(f"{'tokens':>6} {'Captum s':>9} {'delta':>7} {'auto s':>8} {'delta':>7} {'steps':>5} {'speedup':>8}  sentence")
    for sentence in SENTENCES:
        row = _one_sentence(loaded, sentence, args.repeats, args.reference)
        rows.append(row)
        gaps = (f"  token gap vs 1000 steps: Captum {row['captum_token_gap']:.2%}, auto {row['auto_token_gap']:.2%}"
                if args.reference else "")
        print(f"{row['tokens']:>6} {row['captum_seconds']['median']:>9.2f} {row['captum_delta_ratio']:>7.2%} "
              f"{row['auto_seconds']['median']:>8.2f} {row['auto_delta_ratio']:>7.2%} {row['auto_steps']:>5} "
              f"{row['speedup']:>7.2f}×  {sentence[:24]}{gaps}")
    captum_total = sum(r["captum_seconds"]["median"] for r in rows)
    auto_total = sum(r["auto_seconds"]["median"] for r in rows)
    speedup = captum_total / auto_total
    auto_share = sum(r["auto_delta_ratio"] <= A.AUTO_TOLERANCE for r in rows) / len(rows)
    captum_share = sum(r["captum_delta_ratio"] <= A.AUTO_TOLERANCE for r in rows) / len(rows)
    steps = [r["auto_steps"] for r in rows]
    wall = sum(r["captum_wall_seconds"]["median"] for r in rows) / sum(r["auto_wall_seconds"]["median"] for r in rows)
    print(f"(seconds are process CPU time; the wall-time speedup was {wall:.2f}×)")
    print(f"overall: Captum {captum_total:.2f} s, auto {auto_total:.2f} s → {speedup:.2f}×; delta ≤ 1%: auto "
          f"{auto_share:.0%}, Captum default {captum_share:.0%}; auto steps {steps}")
    write("integrated_gradients", {
        "model": loaded.entry.name, "captum_steps": CAPTUM_STEPS, "tolerance": A.AUTO_TOLERANCE,
        "repeats": args.repeats, "sentences": rows, "wall_speedup": wall, "captum_share_within_tolerance": captum_share,
        "targets": [
            target("IG: speedup over Captum default at delta ≤ 1%", speedup, 3.0,
                   why=f"auto took {steps} steps; Captum's 50 reached 1% on {captum_share:.0%}"),
            target("IG: share of sentences auto brings to delta ≤ 1%", auto_share, 1.0, unit="%"),
        ],
    })


if __name__ == "__main__":
    main()
