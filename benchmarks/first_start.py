"""How long the first start takes, step by step, on this machine.

Builds every offline default into a fresh temporary cache (as `make run` does on
a new machine), then times a second, warm `prepare` and the first model loads.
Prints seconds and ratios measured in this one run; asserts nothing.

    .venv/bin/python benchmarks/first_start.py
"""

from __future__ import annotations

import dataclasses
import tempfile
import time
from pathlib import Path

from explorer.defaults.prepare import prepare
from explorer.service import Explorer
from explorer.settings import load_settings


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        settings = dataclasses.replace(load_settings([]), cache_dir=Path(tmp))
        marks: list[tuple[float, str]] = []
        started = time.monotonic()
        prepare(settings, progress=lambda f, m: marks.append((time.monotonic() - started, m.split(":")[0])))
        cold = time.monotonic() - started
        stages: dict[str, float] = {}
        for (t0, stage), (t1, _) in zip(marks, marks[1:]):
            stages[stage] = stages.get(stage, 0.0) + (t1 - t0)
        print(f"first start (cold prepare): {cold:6.1f} s   budget 180 s → {cold / 180:.0%} of it")
        for stage, seconds in sorted(stages.items(), key=lambda kv: -kv[1])[:8]:
            print(f"  {seconds:6.1f} s  {stage}")
        t = time.monotonic()
        prepare(settings)
        warm = time.monotonic() - t
        print(f"warm prepare (every later start): {warm:6.2f} s   cold/warm = {cold / max(warm, 1e-9):.0f}x")
        explorer = Explorer(settings)
        entries, _ = explorer.registry()
        for entry in entries:
            if entry.kind == "transformer" and entry.task:
                t = time.monotonic()
                explorer.load(entry, "cpu")
                print(f"  load {entry.name}: {time.monotonic() - t:5.2f} s")


if __name__ == "__main__":
    main()
