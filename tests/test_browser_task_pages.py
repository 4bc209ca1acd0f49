"""A real browser on the task pages (issue 12): built-in examples marked right or wrong, demos called
toys, a stale table marked after an edit, and a note for input that is not Korean.

One server with the prepared offline defaults (demo-bert-wic, the CoLA demos, the Kiwi LM and the
BoolQ overlap baseline), as a fresh clone after ``make run`` has them. Saves screenshots under test-output/.
"""

from __future__ import annotations

import pytest

import servers
from explorer.defaults.prepare import is_prepared, prepare
from explorer.settings import load_settings
from explorer.tasks.registry import get as get_task
from test_browser import OUTPUT, _read_grid, browser, pytestmark  # noqa: F401  (the same chromium, its skip and grid reader)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """The app with the defaults only (no checkpoints of one's own)."""
    settings = load_settings([])
    if not is_prepared(settings):
        prepare(settings)
    home = tmp_path_factory.mktemp("task-pages")
    env = {"EXPLORER_MODELS": str(home / "models.toml"), "HF_HUB_OFFLINE": "1", "EXPLORER_RESULTS": str(home / "results")}
    with servers.running(env, home / "server.log", ["--checkpoints", str(home / "checkpoints")]) as (_, url):
        yield url


def _wait_grid_column(page, column: str, rows: int = 1, timeout: int = 120_000) -> None:
    """Waits until a data grid has a ``column`` header and at least ``rows`` body rows: a condition, never a sleep."""
    page.wait_for_function(
        """([column, rows]) => Array.from(document.querySelectorAll('[data-testid=stDataFrame] table[role=grid]'))
               .some(t => t.querySelectorAll('tr').length > rows
                          && Array.from(t.querySelectorAll('th')).some(th => th.textContent === column))""",
        arg=[column, rows], timeout=timeout,
    )


def _open(browser, url: str, height: int = 1400):
    page = browser.new_page(viewport={"width": 1366, "height": height}, locale="ko-KR")  # a laptop screen
    page.goto(url, wait_until="networkidle")
    return page


def test_a_wic_example_is_marked_right_or_wrong_and_the_demo_is_called_a_toy(server, browser):
    wic = get_task("wic")
    example = wic.examples[1]
    page = _open(browser, f"{server}/wic")
    page.get_by_text(wic.example_label(example)).click()
    page.wait_for_function("s => Array.from(document.querySelectorAll('textarea')).some(t => t.value === s)",
                           arg=example["sentence1"], timeout=30_000)
    page.get_by_role("button", name=wic.run_label, exact=True).click()
    _wait_grid_column(page, "right?")
    page.get_by_text("Expected answer:").wait_for(timeout=30_000)
    OUTPUT.mkdir(exist_ok=True)
    page.screenshot(path=str(OUTPUT / "wic-marked.png"), full_page=True)
    table = _read_grid(page)
    assert table, "no rows"
    for row in table:
        assert row["right?"] == ("✓ right" if row["verdict"] == example["expected"] else "✗ wrong")
    n_right = sum(row["right?"] == "✓ right" for row in table)
    page.get_by_text(f"{n_right} of {len(table)} model").first.wait_for(timeout=10_000)
    toy = page.get_by_text("is a toy demo model")
    toy.wait_for(timeout=10_000)
    assert "python -m explorer prepare --data DIR" in toy.inner_text()
    # an edit leaves the table on screen, marked as the previous input's
    page.get_by_label("Target word").fill("사과")
    page.get_by_label("Target word").press("Enter")
    page.get_by_text("These results are for the previous input").wait_for(timeout=30_000)
    page.screenshot(path=str(OUTPUT / "wic-stale.png"), full_page=True)
    page.close()


def test_an_emoji_question_gets_the_note_and_no_verdict(server, browser):
    page = _open(browser, f"{server}/boolq")
    page.get_by_label("Passage", exact=True).fill("김민수는 부산에서 태어났다. 지금은 대전의 한 병원에서 간호사로 일한다.")
    page.get_by_label("Question", exact=True).fill("😀")
    page.get_by_label("Question", exact=True).press("Enter")
    page.get_by_role("button", name=get_task("boolq").run_label, exact=True).click()
    _wait_grid_column(page, "answer")
    page.get_by_text("The question has no Korean").wait_for(timeout=30_000)
    page.screenshot(path=str(OUTPUT / "boolq-emoji.png"), full_page=True)
    rows = {row["model"]: row for row in _read_grid(page)}
    assert rows["Kiwi overlap (baseline)"]["answer"] == "cannot judge"
    assert rows["Kiwi overlap (baseline)"]["P(yes)"] != "None"  # no probability, and no Python word for it
    assert "right?" not in rows["Kiwi overlap (baseline)"]  # own input: no marks
    page.close()


def test_cola_examples_are_marked_per_sentence_with_a_tally(server, browser):
    cola = get_task("cola")
    page = _open(browser, f"{server}/acceptability", height=1600)
    box = page.get_by_label("Sentences")
    box.wait_for(timeout=60_000)
    box.fill("\n".join([cola.examples[0]["sentence"], cola.examples[3]["sentence"], "우리는 주말에 산에 올랐다."]))
    page.keyboard.press("Control+Enter")
    page.get_by_role("button", name="Score").click()
    _wait_grid_column(page, "right?", rows=3)
    page.get_by_text("Right answers:").wait_for(timeout=30_000)
    page.screenshot(path=str(OUTPUT / "cola-marked.png"), full_page=True)
    table = _read_grid(page)
    assert [row["expected"] for row in table] == ["acceptable", "unacceptable", ""]
    assert table[2]["right?"] == ""  # a sentence of one's own has no known answer
    for row in table[:2]:
        models = [name for name in row if name in ("Kiwi LM (zero-shot)", "demo-electra-cola", "demo-bert-cola")]
        right = [(float(row[m]) >= 0.5) == (row["expected"] == "acceptable") for m in models]  # in column order
        signs = " ".join("✓" if r else "✗" for r in right)
        assert row["right?"] == f"{signs} ({sum(right)} of {len(models)})"
    page.get_by_text("are toy demo models").wait_for(timeout=10_000)
    page.close()
