"""Comparison in a real browser: where each number comes from, and a live run's link.

A server of its own (no offline defaults, so it starts fast) with one registered checkpoint and saved results:
that checkpoint on a dev file and on a test file, and a model evaluated by path that is not registered.
"""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest

import servers
from explorer.evaluate import ResultStore, evaluate
from explorer.loading import load_model
from explorer.registry import folder_entry
from explorer.tasks.registry import read_dataset
from test_browser import CHROMIUM, OUTPUT, _wait_grid
from test_evaluate import _write_cola

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed (.ci/run installs it)")

SENTENCE = "나는 어제 학교에 갔다."
LAPTOP = {"width": 1366, "height": 768}


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        yield b
        b.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory, make_checkpoint):
    root = tmp_path_factory.mktemp("browser-compare")
    ckpts = root / "checkpoints"
    ckpts.mkdir()
    shutil.copytree(make_checkpoint("electra", name="b", finetuning_task="cola", seed=3), ckpts / "web-electra-cola")
    elsewhere = shutil.copytree(make_checkpoint("bert", name="c", finetuning_task="cola", seed=4), root / "elsewhere" / "cli-bert-cola")
    store = ResultStore(root / "results")
    dev = read_dataset(_write_cola(root / "NIKL_CoLA_dev.tsv", 30))
    ours = load_model(folder_entry(ckpts / "web-electra-cola", "checkpoints"), "cpu")
    on_dev = evaluate(ours, ours.entry, dev)
    store.save(on_dev)
    # the same model on a test file: its own row, never a cell beside the dev number
    store.save(replace(on_dev, data=on_dev.data | {"name": "NIKL_CoLA_test.tsv", "sha256": "t"}, split="test"))
    by_path = load_model(folder_entry(elsewhere, "path"), "cpu")
    store.save(evaluate(by_path, by_path.entry, dev))
    env = {"EXPLORER_CHECKPOINTS": str(ckpts), "EXPLORER_MODELS": str(root / "models.toml"), "EXPLORER_DEFAULTS": "0",
           "EXPLORER_RESULTS": str(root / "results"), "HF_HUB_OFFLINE": "1"}
    with servers.running(env, root / "server.log") as (_, url):
        yield url


def _open(browser, url: str):
    page = browser.new_page(viewport=LAPTOP)
    page.goto(url)
    page.get_by_role("heading", name="Live side by side").wait_for(timeout=120_000)
    return page


def _grid(page, column: str) -> list[dict[str, str]]:
    """The rows of the first table on the page whose header has ``column`` (empty when there is none)."""
    tables = page.evaluate(
        """() => Array.from(document.querySelectorAll('[data-testid=stDataFrame] table[role=grid]'))
                 .map(t => Array.from(t.querySelectorAll('tr'))
                   .map(tr => Array.from(tr.querySelectorAll('th, td')).map(c => c.textContent)))"""
    )
    for header, *body in (t for t in tables if t):
        if column in header:
            return [dict(zip(header, row)) for row in body]
    return []


def _live_answers(page, timeout: int = 120_000) -> list[dict[str, str]]:
    """The live table's rows, once it is drawn (the grid whose header has "agreement")."""
    page.wait_for_function(
        """() => Array.from(document.querySelectorAll('[data-testid=stDataFrame] table[role=grid]'))
               .some(t => t.textContent.includes('agreement') && t.querySelectorAll('tr').length > 1)""",
        timeout=timeout,
    )
    return _grid(page, "agreement")


def test_every_row_names_its_split_and_file_and_an_unregistered_model_is_marked(server, browser):
    page = _open(browser, f"{server}/compare?metric=CoLA+MCC&published=0")
    _wait_grid(page, rows=3, has_text="cli-bert-cola")
    OUTPUT.mkdir(exist_ok=True)
    page.screenshot(path=str(OUTPUT / "compare-provenance.png"))
    rows = _grid(page, "split")
    provenance = {(row["model"], row["split"]): row["data"] for row in rows}
    assert provenance == {
        ("web-electra-cola", "dev"): "CoLA: NIKL_CoLA_dev.tsv",
        ("web-electra-cola", "test"): "CoLA: NIKL_CoLA_test.tsv",
        ("cli-bert-cola (not registered now)", "dev"): "CoLA: NIKL_CoLA_dev.tsv",
    }
    page.close()


def test_an_empty_live_sentence_is_refused(server, browser):
    page = _open(browser, f"{server}/compare")
    page.get_by_role("button", name="Ask every model").click()
    page.get_by_text("Fill in the sentence.").wait_for(timeout=60_000)
    assert _grid(page, "agreement") == []
    page.close()


def test_a_live_runs_link_restores_its_inputs_and_answers(server, browser):
    page = _open(browser, f"{server}/compare")
    box = page.get_by_label("Sentence", exact=True)
    box.fill(SENTENCE)
    box.press("Enter")
    page.get_by_role("button", name="Ask every model").click()
    page.wait_for_function("() => new URLSearchParams(location.search).has('s')", timeout=120_000)
    answers = _live_answers(page)
    link = page.url
    assert parse_qs(urlparse(link).query)["s"] == [SENTENCE]
    page.close()

    opened = _open(browser, link)  # a new tab from the copied link
    again = _live_answers(opened)
    # the box is filled from the link (waited for: a rerun may be redrawing the form when the answers arrive)
    opened.wait_for_function("s => Array.from(document.querySelectorAll('input')).some(i => i.value === s)",
                             arg=SENTENCE, timeout=30_000)
    assert opened.get_by_label("Sentence", exact=True).input_value() == SENTENCE
    assert [(r["model"], r["answer"]) for r in again] == [(r["model"], r["answer"]) for r in answers]
    assert {r["model"] for r in again} == {"web-electra-cola"}
    opened.close()
