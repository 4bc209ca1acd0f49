"""How fast the generated demo data comes: items per second for each generator.

Moved here from the tests (a timed assertion fails on a busy machine). Prints one
line per generator; the tests only check what the generators produce.
"""

import time

from explorer.defaults.korean import generate_cola
from explorer.defaults.task_data import generate_boolq, generate_copa, generate_wic

GENERATORS = {"wic": generate_wic, "copa": generate_copa, "boolq": generate_boolq}


def rate(make, n: int, repeats: int = 3) -> tuple[float, float]:
    """Best and median seconds for ``make(n)`` over ``repeats`` runs."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        make(n)
        times.append(time.perf_counter() - start)
    times.sort()
    return times[0], times[len(times) // 2]


if __name__ == "__main__":
    rows = [("cola (korean.generate_cola)", lambda n: generate_cola(n, seed=0), 20_000)]
    rows += [(f"{task} (task_data)", lambda n, g=gen: g(n, seed=0), 10_000) for task, gen in sorted(GENERATORS.items())]
    for name, make, n in rows:
        best, median = rate(make, n)
        print(f"{name:32s} {n:>6,} items  best {best:.2f} s  median {median:.2f} s  ({n / best:,.0f} items/s)")
