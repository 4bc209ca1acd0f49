"""A real browser: Debian's chromium, driven by Playwright, against `streamlit run`.

Uses the prepared offline defaults (``make test`` prepares them first) plus a
tiny checkpoint dropped into a checkpoints folder, so it exercises the same
path as a user's first session. Saves a screenshot under test-output/.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from explorer.defaults.prepare import is_prepared, prepare
from explorer.settings import load_settings
import servers
from test_evaluate import _write_cola

REPO = Path(__file__).resolve().parent.parent
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
OUTPUT = REPO / "test-output"

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed (.ci/run installs it)")


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
        )
        yield b
        b.close()


@dataclass
class FirstVisit:
    """What the first browser session of a fresh server saw, recorded as it happened."""

    legacy_seen: list[str]  # legacy page names the sidebar ever listed
    nav: list[str]  # the sidebar's page links once Home was drawn


@pytest.fixture(scope="module")
def started(tmp_path_factory, make_checkpoint, browser):
    """A fresh server and its first visit (done here, so it is the first whatever test runs first)."""
    settings = load_settings([])
    if not is_prepared(settings):
        prepare(settings)
    ckpts = tmp_path_factory.mktemp("browser") / "checkpoints"
    ckpts.mkdir()
    shutil.copytree(make_checkpoint("electra", name="u", finetuning_task="cola", seed=5), ckpts / "my-electra-cola")
    data = ckpts.parent / "data"
    data.mkdir()
    _write_cola(data / "NIKL_CoLA_dev.tsv", 60)
    env = {"EXPLORER_MODELS": str(ckpts.parent / "models.toml"), "HF_HUB_OFFLINE": "1",
           "EXPLORER_DATA": str(data), "EXPLORER_RESULTS": str(ckpts.parent / "results")}
    with servers.running(env, ckpts.parent / "server.log", ["--checkpoints", str(ckpts)]) as (_, url):
        page = servers.open_watching_legacy_list(browser, url, viewport={"width": 1280, "height": 900})
        page.get_by_role("heading", name="ko-model-explorer").wait_for(timeout=120_000)
        _wait_grid(page, rows=1, has_text="my-electra-cola")  # Home fully drawn: the list had every chance to show
        OUTPUT.mkdir(exist_ok=True)
        page.screenshot(path=str(OUTPUT / "first-visit.png"))
        visit = FirstVisit(servers.legacy_seen(page), _sidebar_links(page))
        page.close()
        yield url, visit


@pytest.fixture(scope="module")
def server(started):
    return started[0]


def _wait_grid(page, rows: int = 1, has_text: str = "", timeout: int = 120_000) -> None:
    """Waits until a data grid holds at least ``rows`` body rows (and ``has_text``): the condition, never a sleep."""
    page.wait_for_function(
        """([rows, text]) => Array.from(document.querySelectorAll('[data-testid=stDataFrame] table[role=grid]'))
               .some(t => t.querySelectorAll('tr').length > rows && t.textContent.includes(text))""",
        arg=[rows, has_text], timeout=timeout,
    )


def _sidebar_links(page) -> list[str]:
    """The labels of the sidebar's page links (without their icons' ligature names)."""
    return page.evaluate(
        """() => Array.from(document.querySelectorAll('[data-testid=stSidebar] [data-testid=stPageLink-NavLink]'))
                 .map(a => { const c = a.cloneNode(true);
                             c.querySelectorAll('[data-testid=stIconMaterial]').forEach(i => i.remove());
                             return c.textContent.trim(); })"""
    )


def _wait_charts(page, count: int = 1, timeout: int = 60_000) -> None:
    """Waits until the page holds at least ``count`` charts and every one has drawn (a canvas or svg inside each).

    At least ``count``: with none on the page yet (a header drawn before its charts), "every chart has drawn"
    would hold at once.
    """
    page.wait_for_function(
        """count => { const charts = Array.from(document.querySelectorAll('[data-testid=stVegaLiteChart]'));
                      return charts.length >= count && charts.every(c => c.querySelector('canvas, svg')); }""",
        arg=count, timeout=timeout,
    )


def _read_grid(page) -> list[dict[str, str]]:
    """Reads st.dataframe's cells from the accessible table the grid keeps in the DOM."""
    rows = page.evaluate(
        """() => Array.from(document.querySelectorAll('[data-testid=stDataFrame] table[role=grid] tr'))
                 .map(tr => Array.from(tr.querySelectorAll('th, td')).map(c => c.textContent))"""
    )
    header, *body = rows
    return [dict(zip(header, row)) for row in body]


def test_a_fresh_servers_first_visit_shows_home_and_never_the_legacy_page_list(started):
    _, visit = started
    assert visit.legacy_seen == []
    # the sidebar lists the app's pages by title, Home first (app.py draws the list)
    assert visit.nav[:2] == ["Home", "Acceptability · CoLA"]
    assert {"Evaluate", "Inside a model", "Comparison"} <= set(visit.nav)


def test_type_a_sentence_and_read_every_models_verdict(server, browser):
    page = browser.new_page(viewport={"width": 1440, "height": 1000}, locale="ko-KR")
    page.goto(f"{server}/acceptability", wait_until="networkidle")
    box = page.get_by_label("Sentences")
    box.wait_for(timeout=60_000)
    box.fill("나는 어제 학교에 갔다.\n책가 책상 위에 있다.\n지훈은 내일 친구를 만났다.\n할머니께서 시장에서 떡을 파셨다.")
    page.keyboard.press("Control+Enter")
    page.get_by_role("button", name="Score").click()
    _wait_grid(page, rows=4, has_text="할머니께서")
    OUTPUT.mkdir(exist_ok=True)
    page.screenshot(path=str(OUTPUT / "acceptability.png"), full_page=True)
    table = _read_grid(page)
    assert [row["sentence"] for row in table][:2] == ["나는 어제 학교에 갔다.", "책가 책상 위에 있다."]
    for model in ("Kiwi LM (zero-shot)", "demo-electra-cola", "demo-bert-cola", "my-electra-cola"):
        assert all(0.0 <= float(row[model]) <= 1.0 for row in table)
    # the trained defaults prefer the correct sentence to its particle error
    for model in ("Kiwi LM (zero-shot)", "demo-electra-cola", "demo-bert-cola"):
        assert float(table[0][model]) > float(table[1][model])
    page.close()


def test_home_page_lists_the_defaults_and_the_dropped_checkpoint(server, browser):
    page = browser.new_page(viewport={"width": 1440, "height": 900})
    page.goto(server, wait_until="networkidle")
    _wait_grid(page, rows=4, has_text="my-electra-cola", timeout=60_000)
    models = {row["model"]: row for row in _read_grid(page)}
    assert models["my-electra-cola"]["status"] in {"ready", "loaded"}  # loaded if the CoLA test ran first
    assert models["demo-electra-cola (demo)"]["task"].startswith("CoLA")
    page.screenshot(path=str(OUTPUT / "home.png"), full_page=True)
    page.close()


def test_evaluate_a_file_from_the_data_folder(server, browser):
    page = browser.new_page(viewport={"width": 1440, "height": 1400})
    page.goto(f"{server}/evaluate", wait_until="networkidle")
    page.get_by_text("From the data folder").click()
    page.get_by_text("NIKL_CoLA_dev.tsv").first.wait_for(timeout=30_000)
    page.get_by_role("button", name="Evaluate", exact=True).click()
    page.get_by_text("Confusion matrices").wait_for(timeout=120_000)
    _wait_grid(page, rows=4, has_text="my-electra-cola")
    _wait_charts(page)
    page.screenshot(path=str(OUTPUT / "evaluate.png"), full_page=True)
    metrics = {row["model"]: row for row in _read_grid(page)}
    for model in ("Kiwi LM (zero-shot)", "demo-electra-cola", "demo-bert-cola", "my-electra-cola"):
        assert int(metrics[model]["n"]) == 60
        assert -1.0 <= float(metrics[model]["MCC"]) <= 1.0
    page.close()


def test_comparison_page_shows_evaluated_models_beside_published_rows(server, browser):
    page = browser.new_page(viewport={"width": 1440, "height": 1600})
    page.goto(f"{server}/compare", wait_until="networkidle")
    page.get_by_text("Parameter anatomy").wait_for(timeout=60_000)
    _wait_grid(page, rows=3, has_text="Team_BC")
    _wait_charts(page)
    page.screenshot(path=str(OUTPUT / "compare.png"), full_page=True)
    rows = {row["model"]: row for row in _read_grid(page)}
    assert rows["Team_BC (rank 1, round 1)"]["CoLA MCC"] == "59.21"
    # the Evaluate test above saved results for the defaults; they appear as our rows
    assert "demo-electra-cola" in rows and rows["demo-electra-cola"]["CoLA MCC"]
    page.close()


def test_inside_a_model_shows_padding_and_the_live_mask_check(server, browser):
    page = browser.new_page(viewport={"width": 1440, "height": 1800})
    page.goto(f"{server}/internals", wait_until="networkidle")
    page.get_by_text("Does the mask matter?").wait_for(timeout=60_000)
    page.get_by_text("[PAD]").first.wait_for(timeout=60_000)  # the token grid has rendered its padding
    page.screenshot(path=str(OUTPUT / "internals.png"), full_page=True)
    page.close()


def test_inside_a_copa_model_attention_and_attributions_by_link(server, browser):
    """A shared link opens a COPA checkpoint: one row per alternative, morphemes under tokens, charts drawn."""
    page = browser.new_page(viewport={"width": 1440, "height": 2400})
    page.goto(f"{server}/internals?m=demo-electra-copa", wait_until="networkidle")
    page.get_by_text("Does the mask matter?").wait_for(timeout=90_000)
    # Wait for what is asserted: the grid labels each alternative's row, Kiwi morphemes under the tokens.
    page.get_by_text("1·alt 2").first.wait_for(timeout=60_000)
    page.get_by_text("/JKS").first.wait_for(timeout=60_000)
    page.get_by_role("tab", name="Attention maps").click()
    page.get_by_text("mean of heads, input 1").wait_for(timeout=60_000)
    _wait_charts(page)
    box = page.locator("[data-testid='stVegaLiteChart']").filter(has_text="key (attended to)").first.bounding_box()
    assert box and box["width"] > 200 and box["height"] > 200  # cells sized for reading, not squeezed
    page.screenshot(path=str(OUTPUT / "internals-attention.png"), full_page=True)
    page.get_by_role("tab", name="Token attributions").click()
    page.get_by_text("explaining alternative").first.wait_for(timeout=90_000)
    page.close()
