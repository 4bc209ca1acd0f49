"""How long a first `make run` takes to its first page, step by step, on this machine.

In a fresh temporary cache (as on a new machine, after the pip install), in one run:
1. `python -m explorer prepare` as `make run` calls it: the command's own start-up
   plus every offline default built (timed per stage: Kiwi, e5, the demo models);
2. the server started as `make run` starts it, its health check, and Home's title
   in chromium (tests/servers.py, as the browser tests do);
3. a second, warm `prepare` (every later `make run`).
The sum of 1 and 2 is the target row (goal 90 s). Asserts nothing.

    PYTHONPATH=. .venv/bin/python benchmarks/first_start.py
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
import servers  # noqa: E402  (tests/servers.py)
from common import target, write  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
GOAL_S = 90.0


def prepare_command(env: dict[str, str]) -> tuple[float, dict[str, float]]:
    """Runs `python -m explorer prepare`; returns its seconds and the seconds of each stage it reported."""
    started = time.monotonic()
    proc = subprocess.Popen([sys.executable, "-m", "explorer", "prepare"], cwd=REPO, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    marks: list[tuple[float, str]] = [(0.0, "start-up (imports, settings)")]
    lines = []
    for line in proc.stdout:  # each progress line as it comes (every 5 %): "[ 12%] demo-bert-cola: step 10/1000"
        lines.append(line)
        if line.startswith("["):
            marks.append((time.monotonic() - started, _stage(line, marks[-1][1])))
    if proc.wait() != 0:
        raise SystemExit("prepare failed:\n" + "".join(lines[-20:]))
    marks.append((time.monotonic() - started, "end"))
    stages: dict[str, float] = {}
    for (t0, stage), (t1, _) in zip(marks, marks[1:]):
        stages[stage] = stages.get(stage, 0.0) + (t1 - t0)
    return time.monotonic() - started, stages


def _stage(line: str, current: str) -> str:
    """The stage a progress line starts (the demos train two at a time, so they count as one); else ``current``."""
    message = line.split("]", 1)[-1]
    if "demo" in message or "Training" in message:
        return "demo models (two at a time)"
    if "e5" in message:
        return "multilingual-e5-small"
    if "Kiwi" in message:
        return "Kiwi calibration and overlap baseline"
    return current


def first_page(env: dict[str, str], log: Path) -> tuple[float, float | None]:
    """Seconds from starting the server to its health check, and from there to Home's title (None without chromium)."""
    started = time.monotonic()
    with servers.running(env, log) as (_, url):
        health = time.monotonic() - started
        if not Path(CHROMIUM).exists():
            return health, None
        from playwright.sync_api import sync_playwright

        t = time.monotonic()
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
            page = browser.new_page()
            page.goto(url)
            page.get_by_role("heading", name="ko-model-explorer").wait_for(timeout=120_000)
            home = time.monotonic() - t
            browser.close()
    return health, home


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "EXPLORER_CACHE": tmp, "HF_HUB_OFFLINE": "1"}
        cold, stages = prepare_command(env)
        print(f"cold `python -m explorer prepare`: {cold:6.1f} s")
        for stage, seconds in sorted(stages.items(), key=lambda kv: -kv[1])[:8]:
            print(f"  {seconds:6.1f} s  {stage}")
        health, home = first_page({"EXPLORER_CACHE": tmp, "HF_HUB_OFFLINE": "1"}, Path(tmp) / "server.log")
        print(f"server start to health check: {health:5.1f} s; health to Home's title: "
              f"{'—' if home is None else f'{home:.1f} s'}")
        warm, _ = prepare_command(env)
        print(f"warm `prepare` (every later `make run`): {warm:5.1f} s   cold/warm = {cold / warm:.0f}x")
    total = None if home is None else cold + health + home
    if total is not None:
        print(f"cold `make run` to the first page (after the install): {total:.1f} s")
    write("first_start", {
        "cold_prepare_s": cold, "stages_s": stages, "start_to_health_s": health, "health_to_home_s": home,
        "warm_prepare_s": warm,
        "targets": [target("cold make run to first page (s)", total, GOAL_S, "lower", " s",
                           why="" if total is not None else "chromium is not installed")],
    })


if __name__ == "__main__":
    main()
