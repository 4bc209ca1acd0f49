"""AppTest: two peers in one room, as they use the Peer room page (on the offline demo models)."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.room_backends import BACKENDS, database_url

APP = Path(__file__).resolve().parent.parent / "app.py"


@pytest.fixture(params=BACKENDS)
def db(request, tmp_path, monkeypatch, prepared) -> str:
    from explorer.ui.room import room_store

    url = database_url(request.param, tmp_path, request)  # a new database each time: the cached store too
    room_store.clear()
    monkeypatch.setenv("EXPLORER_DB_URL", url)
    yield url
    room_store.clear()


def peer(room: str, name: str | None = None) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=180)
    at.query_params["room"] = room
    at.switch_page("pages/room.py")
    at.run()
    if name is not None:
        at.text_input(key="room-me").set_value(name).run()
    return at


def button(at: AppTest, label: str):
    return next(b for b in at.button if b.label == label)


def texts(at: AppTest) -> list[str]:
    return [m.value for m in at.markdown]


def add_cola(at: AppTest, sentence: str) -> None:
    at.text_area(key="room-cola-sentence").set_value(sentence)
    button(at, "Add to the board").click().run()


def test_two_peers_see_each_others_items_votes_and_the_presenters_pin(db) -> None:
    presenter = peer("스터디 3조")
    assert "There is no room named **스터디 3조**" in presenter.info[0].value
    button(presenter, "Create room “스터디 3조”").click().run()
    presenter.text_input(key="room-me").set_value("민수").run()
    add_cola(presenter, "책가 책상 위에 있다.")
    add_cola(presenter, "나는 어제 학교에 갔다.")
    assert not presenter.exception

    guest = peer("스터디 3조", "지영 <img src=x>")
    assert "책가 책상 위에 있다." in texts(guest) and "나는 어제 학교에 갔다." in texts(guest)
    assert [b.label for b in guest.button if b.label.startswith("Pin")] == []  # only the presenter pins
    guest.button(key="room-vote-1-0").click().run()  # 책가 …: unacceptable
    presenter.button(key="room-vote-1-0").click().run()
    presenter.run()
    assert any("Humans: **unacceptable** (100% of 2" in t for t in texts(presenter))

    # every demo CoLA model answered, once, beside the humans
    answers = guest.dataframe[0].value
    assert {"demo-electra-cola", "demo-bert-cola"} <= set(answers["model"])

    presenter.button(key="room-pin-2").click().run()
    guest.run()
    assert texts(guest)[texts(guest).index(":material/push_pin: Pinned · **CoLA** · #2 · added by 민수") + 1] == "나는 어제 학교에 갔다."
    assert dict(guest.query_params) == {"room": "스터디 3조"}  # the link carries no presenter secret

    # the summary counts the guest against each model, the name shown escaped
    (humans,) = [d.value for d in guest.dataframe if "person" in d.value.columns]
    assert set(humans["person"]) == {"지영 <img src=x>", "민수"}
    assert set(humans.columns) == {"person", "demo-electra-cola", "demo-bert-cola", "Kiwi LM (zero-shot)"}


def test_a_second_room_sees_nothing_and_a_join_code_is_asked(db) -> None:
    first = peer("A")
    button(first, "Create room “A”").click().run()
    first.text_input(key="room-me").set_value("민수").run()
    add_cola(first, "나는 어제 학교에 갔다.")

    other = peer("B")
    button(other, "Create room “B”").click().run()
    assert "나는 어제 학교에 갔다." not in texts(other)
    assert any("The board is empty" in i.value for i in other.info)

    coded = peer("C")
    coded.text_input[0].set_value("4321")
    button(coded, "Create room “C”").click().run()
    outsider = peer("C")
    assert outsider.text_input[0].label.endswith("has a join code")
    outsider.text_input[0].set_value("0000")
    button(outsider, "Join").click().run()
    assert "not this room's join code" in outsider.error[0].value
    outsider.text_input[0].set_value("4321")
    button(outsider, "Join").click().run()
    assert "### Room: C" in texts(outsider)


def test_a_bad_item_is_refused_with_the_reason_and_the_board_goes_on(db) -> None:
    at = peer("limits")
    button(at, "Create room “limits”").click().run()
    assert button(at, "Add to the board").disabled  # no display name yet: nothing to add under
    at.text_input(key="room-me").set_value("민수").run()
    add_cola(at, "   ")
    assert "Fill in Sentences" in at.error[0].value
    add_cola(at, "I love this movie 😀")
    assert "no Korean" in at.warning[0].value  # added, with the note that the models are guessing
    assert not at.exception
