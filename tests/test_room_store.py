"""The peer room's database, on SQLite and on a real PostgreSQL: what peers rely on when they share a board."""

from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa

from explorer.room.store import ITEMS_PER_MINUTE, SCHEMA_VERSION, RoomError, RoomStore
from tests.room_backends import BACKENDS, database_url


@pytest.fixture(params=BACKENDS)
def url(request, tmp_path) -> str:
    return database_url(request.param, tmp_path, request)


@pytest.fixture
def store(url):
    s = RoomStore(url)
    yield s
    s.close()


def test_a_restarted_server_keeps_the_board(url) -> None:
    first = RoomStore(url)
    room, token = first.create_room("스터디 3조")
    item = first.add_item(room, "cola", {"sentence": "책가 책상 위에 있다."}, "민수", "a1")
    first.vote(room, item, "지영", 0)
    first.save_judgement(item, "demo-bert-cola", 1, [0.3, 0.7])
    first.pin(room, token, item)
    first.close()

    again = RoomStore(url)  # a new process would build exactly this
    room = again.room("스터디 3조")
    (kept,) = again.items(room)
    assert kept.fields == {"sentence": "책가 책상 위에 있다."} and kept.author == "민수"
    assert kept.votes == {"지영": 0}
    assert kept.judgements["demo-bert-cola"]["probs"] == [0.3, 0.7]
    assert room.pinned_item == kept.id and again.is_presenter(room, token)
    assert again.version() == SCHEMA_VERSION  # migrations ran once, not again
    again.close()


def test_a_second_room_sees_nothing_of_the_first(store) -> None:
    a, _ = store.create_room("A")
    b, token_b = store.create_room("B")
    item = store.add_item(a, "cola", {"sentence": "나는 학교에 갔다."}, "민수", "t")
    store.vote(a, item, "민수", 1)
    assert store.items(b) == []
    with pytest.raises(RoomError, match="not in this room"):
        store.vote(b, item, "지영", 0)  # an item id from another room is refused, not recorded
    with pytest.raises(RoomError, match="not in this room"):
        store.pin(b, token_b, item)  # B's presenter cannot pin A's item on B's screens
    assert store.items(a)[0].votes == {"민수": 1}


def test_eight_peers_voting_at_once_lose_no_vote(store) -> None:
    room, _ = store.create_room("vote")
    items = [store.add_item(room, "cola", {"sentence": f"문장 {k}."}, "민수", "t", flood_check=False)
             for k in range(3)]
    barrier = threading.Barrier(8)
    errors = []

    def peer(k: int) -> None:
        barrier.wait()
        try:
            for round_ in range(3):
                for item in items:  # the last vote of each peer is (k + item) % 2
                    store.vote(room, item, f"peer {k}", (k + item + round_) % 2 if round_ < 2 else (k + item) % 2)
        except Exception as exc:  # noqa: BLE001 - any failure is a lost vote
            errors.append(exc)

    threads = [threading.Thread(target=peer, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    for item in store.items(room):
        assert item.votes == {f"peer {k}": (k + item.id) % 2 for k in range(8)}


def test_only_the_presenter_pins_and_only_author_or_presenter_hide(store) -> None:
    room, presenter = store.create_room("pins")
    item = store.add_item(room, "cola", {"sentence": "나는 학교에 갔다."}, "민수", "author-token")
    with pytest.raises(RoomError, match="presenter"):
        store.pin(room, "author-token", item)
    with pytest.raises(RoomError, match="author or the room's presenter"):
        store.set_hidden(room, item, True, "someone-else")
    store.set_hidden(room, item, True, "author-token")
    assert store.items(room) == [] and store.items(room, include_hidden=True)[0].hidden
    store.set_hidden(room, item, False, presenter)
    store.pin(room, presenter, item)
    assert store.pinned(room) == item
    store.pin(room, presenter, None)
    assert store.pinned(room) is None


def test_join_codes_and_secrets_are_not_stored_in_clear(store, url) -> None:
    room, presenter = store.create_room("coded", join_code="4321")
    assert room.has_code and store.may_join(room, "4321") and not store.may_join(room, "1234")
    with store.engine.connect() as conn:
        row = conn.execute(sa.text("SELECT code_hash, presenter_hash FROM room_rooms WHERE name = 'coded'")).one()
    assert "4321" not in row.code_hash and presenter not in row.presenter_hash
    with pytest.raises(RoomError, match="exists already"):
        store.create_room("coded")


def test_oversized_items_floods_and_bad_names_are_refused(store) -> None:
    room, _ = store.create_room("limits")
    with pytest.raises(RoomError, match="at most"):
        store.add_item(room, "cola", {"sentence": "가" * 601}, "민수", "t")
    with pytest.raises(RoomError, match="display name is needed"):
        store.add_item(room, "cola", {"sentence": "나는 학교에 갔다."}, "   ", "t")
    with pytest.raises(RoomError, match="at most 40"):
        store.vote(room, 1, "x" * 41, 1)
    for k in range(ITEMS_PER_MINUTE):
        store.add_item(room, "cola", {"sentence": f"문장 {k}."}, "민수", "flooder")
    with pytest.raises(RoomError, match="in the last minute"):
        store.add_item(room, "cola", {"sentence": "하나 더."}, "민수", "flooder")
    with pytest.raises(RoomError, match="in the last minute"):  # a reload (a new session) under the same name
        store.add_item(room, "cola", {"sentence": "하나 더."}, "민수", "new-session")
    store.add_item(room, "cola", {"sentence": "다른 사람."}, "지영", "other")  # others are not slowed down
    assert len(store.items(room)) == ITEMS_PER_MINUTE + 1


def test_a_flood_limit_lifts_after_a_minute(url) -> None:
    now = [1000.0]
    store = RoomStore(url, clock=lambda: now[0])
    room, _ = store.create_room("clock")
    for k in range(ITEMS_PER_MINUTE):
        store.add_item(room, "cola", {"sentence": f"문장 {k}."}, "민수", "t")
    now[0] += 61
    store.add_item(room, "cola", {"sentence": "다시."}, "민수", "t")
    store.close()


def test_a_model_answer_is_kept_once(store) -> None:
    room, _ = store.create_room("once")
    item = store.add_item(room, "cola", {"sentence": "나는 학교에 갔다."}, "민수", "t")
    store.save_judgement(item, "m", 1, [0.2, 0.8])
    store.save_judgement(item, "m", 0, [0.9, 0.1])  # a second session computing the same answer changes nothing
    store.save_judgement(item, "broken", None, None, error="weights missing")
    answers = store.items(room)[0].judgements
    assert answers["m"]["label"] == 1 and answers["broken"]["error"] == "weights missing"


def test_a_database_from_a_newer_app_is_refused(url) -> None:
    store = RoomStore(url)
    with store.engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO room_schema_version (version) VALUES (99)"))
    store.close()
    with pytest.raises(RoomError, match="newer than this app"):
        RoomStore(url)


def test_an_unknown_database_url_is_refused_with_the_reason() -> None:
    with pytest.raises(RoomError, match="sqlite:/// file or a postgresql:// server"):
        RoomStore("mysql://x/y")
