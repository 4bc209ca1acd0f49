"""The results tables of the task pages: per model (WiC, COPA, BoolQ) and items × models (CoLA); no Streamlit needed."""

import math

from explorer.tasks.boolq import BoolqItem
from explorer.tasks.copa import CopaItem
from explorer.tasks.wic import WicItem
from explorer.registry import ModelEntry
from explorer.service import TaskRun
from explorer.tasks.predict import Prediction
from explorer.tasks.cola import ColaItem
from explorer.tasks.results import agreement, csv_frame, matrix_frame, results_frame


def test_copa_rows_name_the_head_the_format_and_the_choice():
    item = CopaItem("input", "비가 왔다.", "effect", ("길이 젖었다.", "해가 떴다."), None)
    runs = [
        TaskRun(ModelEntry(name="mc", source="x", task="copa"), [Prediction(0, [0.8, 0.2], 12)]),
        TaskRun(ModelEntry(name="pairs", source="y", task="copa", input_format="plain"),
                [Prediction(1, [0.4, 0.6], 10, details={"pair_scores": [0.2, 0.3]})]),
        TaskRun(ModelEntry(name="broken", source="z", task="copa"), error="no config.json"),
    ]
    frame = results_frame("copa", item, runs).set_index("model")
    assert list(frame.index) == ["mc", "pairs"]  # a failed model has no row (its error is shown apart)
    assert frame.loc["mc", "choice"] == "1: 길이 젖었다." and frame.loc["mc", "head"] == "multiple choice"
    assert frame.loc["mc", "input format"] == "connective 그래서 (default)"
    assert frame.loc["pairs", "head"] == "pair classifier" and frame.loc["pairs", "input format"] == "plain"
    assert "one at a time" in frame.loc["pairs", "notes"]
    agreed = agreement("copa", [0, 1])
    assert agreed.verdict == "split"
    out = csv_frame("copa", item, results_frame("copa", item, runs), agreed)
    assert list(out.columns[:5]) == ["premise", "question", "alternative1", "alternative2", "model"]
    assert set(out["question"]) == {"결과"} and set(out["majority"]) == {"split"}


def test_wic_csv_carries_the_target_and_both_sentences():
    item = WicItem("input", "배", "배가 아프다.", "배를 탔다.", (0, 1), (0, 1), None)
    runs = [TaskRun(ModelEntry(name="m", source="x", task="wic", input_format="marked"), [Prediction(1, [0.3, 0.7], 9)])]
    frame = results_frame("wic", item, runs)
    out = csv_frame("wic", item, frame, agreement("wic", [1]))
    assert list(out.columns[:4]) == ["target", "sentence1", "sentence2", "model"]
    assert out.loc[0, "sentence2"] == "배를 탔다." and out.loc[0, "verdict"] == "same sense"
    assert out.loc[0, "P(same sense)"] == 0.7 and out.loc[0, "input format"] == "marked"


def test_the_cola_matrix_notes_each_models_cut_and_the_scorers_own_note_first():
    items = [ColaItem("1", "책이 있다.", None), ColaItem("2", "아주 긴 문장이다.", None)]
    runs = [
        TaskRun(ModelEntry(name="bert", source="x", task="cola"),
                [Prediction(1, [0.1, 0.9], 5), Prediction(0, [0.8, 0.2], 64, 36)]),
        TaskRun(ModelEntry(name="kiwi", source="k", kind="kiwi-lm", task="cola"),
                [Prediction(1, [0.4, 0.6], 3), Prediction(1, [0.3, 0.7], 9, note="truncated: Kiwi read the first 2,000 of 2,500 characters")]),
    ]
    frame = matrix_frame("cola", items, runs)
    assert list(frame["sentence"]) == ["책이 있다.", "아주 긴 문장이다."]
    assert list(frame["P(acceptable) · bert"]) == [0.9, 0.2] and list(frame["P(acceptable) · kiwi"]) == [0.6, 0.7]
    assert list(frame["verdict"]) == ["acceptable", "split"]
    assert frame.loc[0, "notes"] == ""
    assert frame.loc[1, "notes"] == ("bert: truncated: 36 of 100 tokens dropped; "
                                     "kiwi: truncated: Kiwi read the first 2,000 of 2,500 characters")


def test_a_model_that_cannot_judge_leaves_its_cell_empty_and_does_not_vote_in_the_matrix():
    items = [BoolqItem("1", "한강은 서울을 흐른다.", "😀", None)]
    runs = [
        TaskRun(ModelEntry(name="overlap", source="o", kind="kiwi-overlap", task="boolq"),
                [Prediction(0, [0.5, 0.5], note="cannot judge: no content words", judged=False)]),
        TaskRun(ModelEntry(name="bert", source="b", task="boolq"), [Prediction(1, [0.3, 0.7])]),
    ]
    frame = matrix_frame("boolq", items, runs)
    assert list(frame.columns) == ["passage", "question", "P(yes) · overlap", "P(yes) · bert", "verdict", "agreement", "notes"]
    assert math.isnan(frame.loc[0, "P(yes) · overlap"]) and frame.loc[0, "P(yes) · bert"] == 0.7
    assert (frame.loc[0, "verdict"], frame.loc[0, "agreement"]) == ("yes", 1.0)
    assert frame.loc[0, "notes"] == "overlap: cannot judge: no content words"
