"""Evaluate and Home in a real browser, as a mentor demo shows them: a run that says what it is doing, confusion
matrices whose class names read apart, slices in order, results marked stale after a change, and a dash where a
model has no parameter count.

One server with the prepared offline defaults (Kiwi LM and the two CoLA demos, as after ``make run``) and a data
folder holding one generated CoLA file. Saves screenshots under test-output/.
"""

from __future__ import annotations

import pytest

import servers
from explorer.defaults.prepare import is_prepared, prepare
from explorer.settings import load_settings
from explorer.tasks.base import LENGTH_SLICES
from explorer.ui.tables import MISSING
from test_browser import OUTPUT, _read_grid, _wait_charts, _wait_grid, browser, pytestmark  # noqa: F401
from test_evaluate import _write_cola

LAPTOP = {"width": 1366, "height": 768}
CLASSES = ("unacceptable", "acceptable")

# Installed before the page's first byte: keeps every line the run's status box writes while it runs (the box
# closes to a summary, so the progress lines are gone once the run ends).
_WATCH_STATUS = """
window.__statusLines = [];
new MutationObserver(() => {
  for (const box of document.querySelectorAll('[data-testid=stExpander] [data-testid=stMarkdownContainer]')) {
    const text = box.textContent.trim();
    if (text.includes('items done') && window.__statusLines.at(-1) !== text) window.__statusLines.push(text);
  }
}).observe(document, {subtree: true, childList: true, characterData: true});
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    settings = load_settings([])
    if not is_prepared(settings):
        prepare(settings)
    home = tmp_path_factory.mktemp("browser-evaluate")
    data = home / "data"
    data.mkdir()
    _write_cola(data / "NIKL_CoLA_dev.tsv", 240)
    _write_cola(data / "NIKL_CoLA_dev_small.tsv", 24)
    env = {"EXPLORER_MODELS": str(home / "models.toml"), "HF_HUB_OFFLINE": "1", "EXPLORER_DATA": str(data),
           "EXPLORER_RESULTS": str(home / "results")}
    with servers.running(env, home / "server.log", ["--checkpoints", str(home / "checkpoints")]) as (_, url):
        yield url


def _chart_texts(page) -> list[list[str]]:
    """The words each chart draws (its svg text), chart by chart."""
    return page.evaluate(
        """() => Array.from(document.querySelectorAll('[data-testid=stVegaLiteChart]'))
                 .map(c => Array.from(c.querySelectorAll('svg text')).map(t => t.textContent))"""
    )


def test_an_evaluation_shows_its_progress_then_readable_confusion_matrices(server, browser):
    page = browser.new_page(viewport={**LAPTOP, "height": 1800}, locale="ko-KR")
    page.add_init_script(_WATCH_STATUS)
    page.goto(f"{server}/evaluate", wait_until="networkidle")
    page.get_by_text("From the data folder").click()
    page.get_by_text("NIKL_CoLA_dev.tsv").first.wait_for(timeout=30_000)
    page.get_by_role("button", name="Evaluate", exact=True).click()
    page.get_by_text("Confusion matrices").wait_for(timeout=300_000)
    _wait_charts(page, count=3)  # one confusion matrix per model
    _wait_grid(page, rows=3, has_text="demo-bert-cola")
    OUTPUT.mkdir(exist_ok=True)
    page.screenshot(path=str(OUTPUT / "evaluate-demo.png"), full_page=True)

    lines = page.evaluate("window.__statusLines")
    assert any(" (model 1 of 3) · " in line and "s so far" in line for line in lines), lines
    assert any(" (model 3 of 3) · " in line for line in lines), lines
    assert page.get_by_text("3 models evaluated in").count() >= 1  # the box closed to its summary

    charts = _chart_texts(page)
    assert len(charts) == 3
    for words in charts:
        assert words.count("predicted") == 1 and words.count("gold") == 1
        for name in CLASSES:  # each class once on each axis, never run together with the other
            assert words.count(name) == 2, words
        assert all(word in CLASSES for word in words if any(name in word for name in CLASSES)), words
        assert sum(int(w) for w in words if w.isdigit()) >= 240  # the counts are in the cells (the title may hold digits)

    slices = next(t for t in _read_grids(page) if t and "slice" in t[0])
    lengths = [row["value"] for row in slices if row["slice"] == "length"]
    order = [name for _, name in LENGTH_SLICES]
    assert len(lengths) >= 2 and lengths == sorted(lengths, key=order.index)

    # another file: the results stay on screen, marked as the previous file's
    page.locator("[data-testid=stSelectbox]").filter(has_text="File").click()
    page.get_by_role("option", name="NIKL_CoLA_dev_small.tsv").click()
    page.get_by_text("These results are for the previous file").wait_for(timeout=30_000)
    # ... and every confusion matrix redrawn faded (its cells' opacity; a condition, not a sleep)
    page.wait_for_function(
        """() => Array.from(document.querySelectorAll('[data-testid=stVegaLiteChart]'))
                 .every(c => Array.from(c.querySelectorAll('svg path')).some(p => p.getAttribute('opacity') === '0.3'
                                                                           || p.getAttribute('fill-opacity') === '0.3'))""",
        timeout=30_000,
    )
    page.screenshot(path=str(OUTPUT / "evaluate-stale.png"), full_page=True)
    page.close()


def _read_grids(page) -> list[list[dict[str, str]]]:
    """Every data grid's rows, grid by grid (``_read_grid`` reads them all as one)."""
    grids = page.evaluate(
        """() => Array.from(document.querySelectorAll('[data-testid=stDataFrame] table[role=grid]'))
                 .map(t => Array.from(t.querySelectorAll('tr'))
                              .map(tr => Array.from(tr.querySelectorAll('th, td')).map(c => c.textContent)))"""
    )
    return [[dict(zip(header, row)) for row in body] for header, *body in grids if header]


def test_home_shows_a_dash_for_a_model_without_a_parameter_count(server, browser):
    page = browser.new_page(viewport=LAPTOP)
    page.goto(server, wait_until="networkidle")
    _wait_grid(page, rows=3, has_text="Kiwi LM")
    page.screenshot(path=str(OUTPUT / "home-missing.png"), full_page=True)
    models = {row["model"]: row for row in _read_grid(page)}
    # The grid draws the placeholder (—, seen in the screenshot) on its canvas; the table it keeps for screen
    # readers leaves a missing cell empty. Either way, never Python's word for nothing.
    assert models["Kiwi LM (zero-shot)"]["parameters"] in {"", MISSING}
    assert not any(value == "None" for row in models.values() for value in row.values())
    page.close()


@pytest.fixture(scope="module")
def shared_server(tmp_path_factory):
    """The app on the real NIKL/KoBEST files (``../shared/data``), with the offline defaults."""
    from conftest import SHARED_DATA

    if not SHARED_DATA.is_dir():
        pytest.skip("the shared NIKL/KoBEST data is not here")
    home = tmp_path_factory.mktemp("browser-evaluate-shared")
    env = {"EXPLORER_MODELS": str(home / "models.toml"), "HF_HUB_OFFLINE": "1", "EXPLORER_DATA": str(SHARED_DATA),
           "EXPLORER_RESULTS": str(home / "results")}
    with servers.running(env, home / "server.log", ["--checkpoints", str(home / "checkpoints")]) as (_, url):
        yield url


def test_copa_on_the_kobest_file_reads_cause_before_effect(shared_server, browser):
    """The data folder offers the chosen task's own files first: COPA's, from KoBEST and NIKL alike."""
    page = browser.new_page(viewport={**LAPTOP, "height": 1600}, locale="ko-KR")
    page.goto(f"{shared_server}/evaluate", wait_until="networkidle")
    page.get_by_text("COPA · cause/effect").click()
    page.get_by_text("From the data folder").click()
    page.get_by_text("kobest_v1/copa/dev.tsv").first.wait_for(timeout=30_000)  # first in the list
    page.get_by_role("button", name="Evaluate", exact=True).click()
    page.get_by_text("Confusion matrices").wait_for(timeout=300_000)
    _wait_charts(page)
    _wait_grid(page, rows=2, has_text="effect")
    page.screenshot(path=str(OUTPUT / "evaluate-copa-kobest.png"), full_page=True)
    slices = next(t for t in _read_grids(page) if t and "slice" in t[0])
    assert [row["value"] for row in slices if row["slice"] == "question"] == ["cause", "effect"]
    for words in _chart_texts(page):
        for name in ("alternative 1", "alternative 2"):
            assert words.count(name) == 2, words
    page.close()
