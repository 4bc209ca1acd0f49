"""A real browser in the Peer room: three peers' tabs on one server, live without reloading.

Peer A creates the room and adds items; peer B and C, in browsers of their own, see them appear, vote, and
follow A's pin, all without a reload (the board refreshes itself every second here, EXPLORER_ROOM_REFRESH).
Saves screenshots under test-output/.
"""

from __future__ import annotations

import pytest

import servers
from explorer.defaults.prepare import is_prepared, prepare
from explorer.settings import load_settings
from test_browser import OUTPUT, browser, pytestmark  # noqa: F401  (the same chromium and its skip)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    settings = load_settings([])
    if not is_prepared(settings):
        prepare(settings)
    home = tmp_path_factory.mktemp("room")
    env = {"EXPLORER_MODELS": str(home / "models.toml"), "HF_HUB_OFFLINE": "1",
           "EXPLORER_RESULTS": str(home / "results"), "EXPLORER_DB_URL": f"sqlite:///{home / 'room.db'}",
           "EXPLORER_ROOM_REFRESH": "1"}
    with servers.running(env, home / "server.log", ["--checkpoints", str(home / "checkpoints")]) as (_, url):
        yield url


def _peer(browser, url: str, name: str):
    context = browser.new_context(viewport={"width": 1366, "height": 1000}, locale="ko-KR")  # a session of its own
    page = context.new_page()
    page.goto(url, wait_until="networkidle")
    if name:
        field = page.get_by_label("Your display name")
        field.wait_for(timeout=60_000)
        field.fill(name)
        field.press("Enter")
    return page


def _add(page, sentence: str) -> None:
    page.get_by_label("Sentences").fill(sentence)
    page.get_by_role("button", name="Add to the board").click()
    page.get_by_text(sentence, exact=True).first.wait_for(timeout=120_000)


def card(page, item_id: int):
    """An item's card on the board: a container keyed by the item's number."""
    return page.locator(f".st-key-room-item-{item_id}")


def test_three_peers_see_items_votes_and_a_pin_without_reloading(server, browser):
    room = f"{server}/room?room=스터디"
    a = _peer(browser, room, "")
    a.get_by_role("button", name="Create room “스터디”").click()
    field = a.get_by_label("Your display name")
    field.wait_for(timeout=60_000)
    field.fill("민수")
    field.press("Enter")
    _add(a, "책가 책상 위에 있다.")

    b = _peer(browser, room, "지영")
    c = _peer(browser, room, "😀 Alex")
    for peer in (b, c):
        peer.get_by_text("책가 책상 위에 있다.", exact=True).wait_for(timeout=60_000)

    _add(a, "나는 어제 학교에 갔다.")  # B and C never reload: the board's refresh brings it
    for peer in (b, c):
        peer.get_by_text("나는 어제 학교에 갔다.", exact=True).wait_for(timeout=60_000)

    for peer in (b, c):  # each votes on item #1, found by its card (the board may be redrawing around it)
        card(peer, 1).get_by_role("button", name="unacceptable", exact=True).click()
        card(peer, 1).get_by_role("button", name="✔ unacceptable").wait_for(timeout=60_000)  # their own vote, marked
    card(a, 1).get_by_text("Humans: unacceptable (100% of 2").wait_for(timeout=60_000)

    card(a, 1).get_by_role("button", name="Pin for everyone").click()
    for peer in (b, c):
        peer.get_by_text("Pinned · CoLA · #1").wait_for(timeout=60_000)
    assert "presenter" not in c.url and c.url.endswith("room=%EC%8A%A4%ED%84%B0%EB%94%94")
    OUTPUT.mkdir(exist_ok=True)
    c.screenshot(path=str(OUTPUT / "room-peer.png"), full_page=True)
    a.screenshot(path=str(OUTPUT / "room-presenter.png"), full_page=True)
    for page in (a, b, c):
        page.context.close()
