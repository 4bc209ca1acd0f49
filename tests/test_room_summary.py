"""The peer room's numbers (majority, agreement, Cohen's kappa) and its board files."""

from __future__ import annotations

import csv
import io
import json
from types import SimpleNamespace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import cohen_kappa_score

from explorer.room import board as boards
from explorer.room.store import Item, RoomError, RoomStore
from explorer.room.summary import cohen_kappa, human_vs_models, majority, model_vs_majority, most_disputed
from explorer.tasks.predict import Prediction
from explorer.tasks.runs import TaskRun


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 2), st.integers(0, 2)), min_size=1, max_size=40))
def test_kappa_matches_scikit_learn(pairs) -> None:
    a, b = [p[0] for p in pairs], [p[1] for p in pairs]
    ours = cohen_kappa(a, b)
    if len(set(a) | set(b)) == 1:  # one label throughout: kappa undefined (sklearn says nan)
        assert ours is None
    else:
        assert ours == pytest.approx(cohen_kappa_score(a, b))


def _item(id_: int, votes: dict, answers: dict, task: str = "cola") -> Item:
    return Item(id_, task, {"sentence": f"문장 {id_}."}, "민수", False, 0.0, dict(votes),
                {m: {"label": label, "probs": None, "note": "", "error": ""} for m, label in answers.items()})


def test_majority_share_and_ties() -> None:
    assert majority(_item(1, {"a": 1, "b": 1, "c": 0}, {})).label == 1
    assert majority(_item(1, {"a": 1, "b": 1, "c": 0}, {})).share == pytest.approx(2 / 3)
    tie = majority(_item(1, {"a": 1, "b": 0}, {}))
    assert tie.label is None and tie.n_votes == 2  # a tie is no majority, never a coin flip
    assert majority(_item(1, {}, {})).n_votes == 0


def test_models_against_the_human_majority_and_each_human() -> None:
    board = [
        _item(1, {"a": 1, "b": 1}, {"m": 1, "n": 0}),
        _item(2, {"a": 0, "b": 0}, {"m": 0, "n": 0}),
        _item(3, {"a": 1, "b": 0}, {"m": 1, "n": 1}),  # a tie: not counted against the majority
        _item(4, {"a": 0}, {"m": None, "n": 1}),  # m could not judge: not counted for m
    ]
    by_model = {a.judge: a for a in model_vs_majority(board, ["m", "n"])}
    assert by_model["m"].n_items == 2 and by_model["m"].agreement == 1.0 and by_model["m"].kappa == 1.0
    assert by_model["n"].n_items == 3 and by_model["n"].agreement == pytest.approx(1 / 3)
    assert by_model["n"].kappa == pytest.approx(cohen_kappa_score([0, 0, 1], [1, 0, 0]))
    pairs = {(a.judge, a.other): a for a in human_vs_models(board, ["m", "n"])}
    assert pairs[("b", "m")].n_items == 3 and pairs[("b", "m")].agreement == pytest.approx(2 / 3)
    disputed = most_disputed(board, ["m", "n"])
    assert [item.id for item, _ in disputed] == [4, 1]  # 4: the one model that answered is against a sure human


def test_a_board_file_round_trips_votes_and_is_refused_whole_when_bad(tmp_path) -> None:
    store = RoomStore(f"sqlite:///{tmp_path / 'room.db'}")
    room, presenter = store.create_room("from")
    item = store.add_item(room, "copa", {"premise": "비가 왔다.", "question": "effect", "alternative1": "땅이 젖었다.",
                                         "alternative2": "해가 떴다."}, "민수 <b>", "t")
    store.vote(room, item, "지영", 0)
    store.save_judgement(item, "demo-electra-copa", 0, [0.8, 0.2])
    text = boards.to_json(room, store.items(room))

    other, token = store.create_room("to")
    with pytest.raises(RoomError, match="presenter"):
        boards.import_json(store, other, text, "not-the-presenter")
    assert boards.import_json(store, other, text, token) == 1
    (copied,) = store.items(other)
    assert copied.fields["alternative1"] == "땅이 젖었다." and copied.votes == {"지영": 0}
    assert copied.author == "민수 <b>" and copied.judgements == {}  # the models answer afresh here

    bad = json.loads(text)
    bad["items"].append({"task": "cola", "fields": {"sentence": ""}})
    with pytest.raises(RoomError, match="Item 2 .* Nothing was imported"):
        boards.import_json(store, other, json.dumps(bad), token)
    with pytest.raises(RoomError, match="Not a board file"):
        boards.import_json(store, other, b"\xff\xfe", token)
    assert len(store.items(other)) == 1

    rows = list(csv.DictReader(io.StringIO(boards.to_csv(store.items(room), ["demo-electra-copa"]))))
    assert rows[0]["votes"] == "지영=alternative 1" and rows[0]["human majority"] == "alternative 1"
    assert rows[0]["demo-electra-copa"] == "alternative 1"


class CountingExplorer:
    """Answers every item 'acceptable' and counts what it was asked."""

    def __init__(self) -> None:
        self.asked = []

    def predict(self, entries, task, items, device=None, precision="fp32"):
        self.asked += [(e.name, task) for e in entries]
        return [TaskRun(e, [Prediction(1, [0.1, 0.9])]) if e.name != "broken" else TaskRun(e, error="broken failed")
                for e in entries]


def test_models_answer_each_item_once_and_failures_are_kept(tmp_path) -> None:
    store = RoomStore(f"sqlite:///{tmp_path / 'room.db'}")
    room, _ = store.create_room("judge")
    store.add_item(room, "cola", {"sentence": "나는 학교에 갔다."}, "민수", "t")
    store.add_item(room, "wic", {"target": "배", "sentence1": "배가 아프다.", "sentence2": "배를 탔다."}, "민수", "t")
    entries = [SimpleNamespace(name=n, task="cola") for n in ("good", "broken")]
    fake = CountingExplorer()
    assert boards.judge_missing(store, fake, store.items(room), entries) == 2
    assert boards.judge_missing(store, fake, store.items(room), entries) == 0  # the next refresh asks nobody
    assert fake.asked == [("good", "cola"), ("broken", "cola")]  # a CoLA model is never asked a WiC item
    cola = store.items(room)[0].judgements
    assert cola["good"]["label"] == 1 and cola["broken"]["error"] == "broken failed"
