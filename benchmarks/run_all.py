"""Runs every benchmark in this folder, one after another (`make bench`), then prints every target as one table.

Each benchmark script writes ``results/<name>.json`` with a ``targets`` list (see
`common.py`); the table below reads them back, so it shows exactly what this run
measured. A script that fails is reported and the others still run.

    PYTHONPATH=. .venv/bin/python benchmarks/run_all.py [NAME ...]
"""

import json
import runpy
import sys
import time
import traceback
from pathlib import Path

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))
from common import RESULTS, format_target  # noqa: E402

NOT_BENCHMARKS = {"run_all.py", "common.py"}  # and helpers named _*.py


def main(names: list[str]) -> int:
    scripts = [s for s in sorted(HERE.glob("*.py")) if s.name not in NOT_BENCHMARKS and not s.name.startswith("_")
               and (not names or s.stem in names)]
    started, failed = time.monotonic(), []
    fresh: list[Path] = []
    for script in scripts:
        print(f"\n=== {script.name}", flush=True)
        t = time.monotonic()
        sys.argv = [str(script)]
        try:
            runpy.run_path(str(script), run_name="__main__")
        except SystemExit as exc:  # a script's own exit: only a non-zero one is a failure
            if exc.code not in (None, 0):
                print(f"{script.name} exited: {exc.code}")
                failed.append(script.name)
        except Exception:  # noqa: BLE001 - one broken benchmark must not hide the others' results
            traceback.print_exc()
            failed.append(script.name)
        print(f"--- {script.name}: {time.monotonic() - t:.0f} s", flush=True)
        fresh += [p for p in RESULTS.glob("*.json") if p.stat().st_mtime >= started]
    print(f"\n=== targets (this run, {time.monotonic() - started:.0f} s in all)")
    for path in sorted(set(fresh)):
        report = json.loads(path.read_text(encoding="utf-8"))
        for row in report.get("targets", []):
            print(format_target(row))
    if failed:
        print("failed: " + ", ".join(failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
