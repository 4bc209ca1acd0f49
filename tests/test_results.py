"""The per-model results table of the WiC, COPA and BoolQ pages (no Streamlit needed)."""

from explorer.tasks.copa import CopaItem
from explorer.tasks.wic import WicItem
from explorer.registry import ModelEntry
from explorer.service import TaskRun
from explorer.tasks.predict import Prediction
from explorer.tasks.results import agreement, csv_frame, results_frame


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
