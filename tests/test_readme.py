"""The README's "Bad input, and what you see" table names tests that exist (a renamed test would leave a dead row)."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def test_every_test_the_readme_names_exists():
    text = (REPO / "README.md").read_text(encoding="utf-8")
    table = text[text.index("## Bad input, and what you see"):]
    named = 0
    for line in table.splitlines():
        if not line.startswith("|"):
            continue
        current = None
        for file, name in re.findall(r"`(?:(test_\w+\.py))?(?:::(\w+))?`", line):
            if file:
                current = file
                assert (REPO / "tests" / file).is_file(), f"README names a missing file: {file}"
            if name:
                assert current, f"README row names ::{name} without a file: {line[:80]}"
                assert re.search(rf"^def {name}\(", (REPO / "tests" / current).read_text(encoding="utf-8"), re.M), \
                    f"README names a missing test: {current}::{name}"
                named += 1
    assert named > 40
