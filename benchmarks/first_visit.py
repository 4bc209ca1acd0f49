"""How long a fresh server takes to show Home on the first visit, in a real browser.

Starts the real app (`tests/servers.py`, as the browser tests do) on a free port,
waits for ``/_stcore/health``, then opens Debian's chromium and measures the
seconds until Home's title is visible, and whether Streamlit's legacy page list
(the ``pages/`` folder's file names) was ever drawn. Repeated over a few fresh
servers; the median is the target row.

    PYTHONPATH=. .venv/bin/python benchmarks/first_visit.py [--starts 3]
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
import servers  # noqa: E402  (tests/servers.py: the real app, started as the browser tests start it)
from common import spread, target, write  # noqa: E402

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
GOAL_S = 3.0

def one_start(browser) -> dict[str, float | list[str]]:
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.monotonic()
        with servers.running({"HF_HUB_OFFLINE": "1"}, Path(tmp) / "server.log") as (_, url):
            health = time.monotonic()
            page = servers.open_watching_legacy_list(browser, url, viewport={"width": 1280, "height": 900})
            page.get_by_role("heading", name="ko-model-explorer").wait_for(timeout=120_000)
            title = time.monotonic()
            page.get_by_text("Registered models").wait_for(timeout=120_000)
            table = time.monotonic()
            seen = servers.legacy_seen(page)
            page.close()
    return {"start_to_health_s": health - t0, "health_to_home_s": title - health,
            "health_to_registry_s": table - health, "legacy_seen": seen}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--starts", type=int, default=3, help="fresh servers to start (default 3)")
    args = parser.parse_args()
    if not Path(CHROMIUM).exists():
        print("chromium is not installed: nothing measured")
        write("first_visit", {"targets": [target("first visit: Home after health (s)", None, GOAL_S, "lower", " s",
                                                  why="chromium is not installed")]})
        return
    from playwright.sync_api import sync_playwright

    runs = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        for i in range(args.starts):
            run = one_start(browser)
            runs.append(run)
            print(f"start {i + 1}: health after {run['start_to_health_s']:.1f} s; Home's title "
                  f"{run['health_to_home_s']:.2f} s after health; the model table {run['health_to_registry_s']:.2f} s;"
                  f" legacy list seen: {run['legacy_seen'] or 'never'}")
        browser.close()
    home = spread([r["health_to_home_s"] for r in runs])
    legacy_runs = sum(bool(r["legacy_seen"]) for r in runs)
    print(f"Home's title after health: median {home['median']:.2f} s (min {home['min']:.2f}, max {home['max']:.2f});"
          f" legacy list in {legacy_runs} of {len(runs)} starts")
    write("first_visit", {
        "runs": runs,
        "start_to_health_s": spread([r["start_to_health_s"] for r in runs]),
        "health_to_home_s": home,
        "health_to_registry_s": spread([r["health_to_registry_s"] for r in runs]),
        "targets": [
            target("first visit: Home after health (s)", home["median"], GOAL_S, "lower", " s"),
            target("first visit: starts that showed the legacy list", legacy_runs, 0, "lower", ""),
        ],
    })


if __name__ == "__main__":
    main()
