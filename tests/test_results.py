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


# --- right or wrong on built-in examples -----------------------------------------------------------

def _wic_runs():
    return [
        TaskRun(ModelEntry(name="a", source="x", task="wic"), [Prediction(1, [0.3, 0.7], 9)]),
        TaskRun(ModelEntry(name="b", source="y", task="wic"), [Prediction(0, [0.6, 0.4], 9)]),
        TaskRun(ModelEntry(name="gone", source="z", task="wic"), error="no config.json"),
    ]


def test_a_known_answer_marks_each_row_and_the_csv_carries_it():
    from explorer.tasks.results import tally

    item = WicItem("input", "눈", "눈이 온다.", "눈이 내린다.", (0, 1), (0, 1), None)
    frame = results_frame("wic", item, _wic_runs(), expected=1)
    assert list(frame.columns[:4]) == ["model", "P(same sense)", "verdict", "right?"]  # the mark follows the answer
    assert list(frame["right?"]) == ["✓ right", "✗ wrong"]
    assert tally([1, 0], 1) == "1 of 2 models right" and tally([1, None, 1], 1) == "2 of 3 models right (1 could not judge)"
    out = csv_frame("wic", item, frame, agreement("wic", [1, 0]), expected=1)
    assert list(out.columns[:5]) == ["target", "sentence1", "sentence2", "expected", "model"]
    assert set(out["expected"]) == {"same sense"} and list(out["right?"]) == ["✓ right", "✗ wrong"]


def test_an_unknown_answer_marks_nothing():
    from explorer.tasks.results import tally

    item = WicItem("input", "눈", "눈이 온다.", "눈이 내린다.", (0, 1), (0, 1), None)
    frame = results_frame("wic", item, _wic_runs())
    assert "right?" not in frame.columns and "expected" not in csv_frame("wic", item, frame, agreement("wic", [1, 0])).columns
    assert tally([1, 0], None) == ""


def test_a_model_that_cannot_judge_is_neither_right_nor_wrong():
    item = BoolqItem("1", "한강은 서울을 흐른다.", "😀", None)
    runs = [TaskRun(ModelEntry(name="overlap", source="o", kind="kiwi-overlap", task="boolq"),
                    [Prediction(0, [0.5, 0.5], judged=False)])]
    assert list(results_frame("boolq", item, runs, expected=0)["right?"]) == ["–"]  # its placeholder 0 is no answer


def test_a_copa_expected_answer_names_the_alternative():
    item = CopaItem("input", "비가 왔다.", "effect", ("길이 젖었다.", "해가 떴다."), None)
    runs = [TaskRun(ModelEntry(name="mc", source="x", task="copa"), [Prediction(1, [0.2, 0.8], 12)])]
    frame = results_frame("copa", item, runs, expected=0)
    out = csv_frame("copa", item, frame, agreement("copa", [1]), expected=0)
    assert out.loc[0, "expected"] == "1: 길이 젖었다." and out.loc[0, "right?"] == "✗ wrong"


def test_the_cola_matrix_marks_known_sentences_and_names_the_models_that_missed():
    from explorer.tasks.results import model_tallies

    items = [ColaItem("1", "책가 있다.", None), ColaItem("2", "내 문장.", None), ColaItem("3", "책이 있다.", None)]
    runs = [
        TaskRun(ModelEntry(name="bert", source="x", task="cola"),
                [Prediction(0, [0.9, 0.1]), Prediction(1, [0.1, 0.9]), Prediction(0, [0.7, 0.3])]),
        TaskRun(ModelEntry(name="kiwi", source="k", kind="kiwi-lm", task="cola"),
                [Prediction(1, [0.4, 0.6]), Prediction(1, [0.3, 0.7]), Prediction(1, [0.2, 0.8])]),
    ]
    expected = [0, None, 1]
    frame = matrix_frame("cola", items, runs, expected)
    assert list(frame["expected"]) == ["unacceptable", "", "acceptable"]
    assert list(frame["right?"]) == ["✓ ✗ (1 of 2)", "", "✗ ✓ (1 of 2)"]  # one sign per model, in column order
    assert list(frame.columns).index("right?") == list(frame.columns).index("verdict") + 2
    assert model_tallies(runs, expected) == {"bert": (1, 2), "kiwi": (1, 2)}
    assert "expected" not in matrix_frame("cola", items, runs, [None, None, None]).columns  # no known answer: no columns


def test_right_cell_wording():
    from explorer.tasks.results import right_cell

    assert right_cell([1, 1], 1) == "✓ ✓ (2 of 2)"
    assert right_cell([0, 0], 1) == "✗ ✗ (0 of 2)"
    assert right_cell([1, 0, None], 1) == "✓ ✗ – (1 of 3)"
    assert right_cell([1], None) == ""


# --- the overlap baseline: no content words, no verdict ----------------------------------------------

class _Morph:
    def __init__(self, form, tag):
        self.form, self.tag = form, tag


def _fake_morphemes(text):
    """Kiwi's tags for the few words these tests use (an emoji is W_EMOJI, punctuation SF)."""
    tags = {"😀": "W_EMOJI", "?": "SF", "한강": "NNG", "서울": "NNP", "부산": "NNP"}
    return [_Morph(word, tags.get(word, "NNG")) for word in text.split()]


def test_an_overlap_of_nothing_has_no_share_and_no_verdict():
    from explorer.kiwi_overlap import KiwiOverlap

    baseline = KiwiOverlap(_fake_morphemes, threshold=0.71, scale=5.68)
    empty = baseline.overlap("한강 서울", "😀 ?")
    assert empty.share is None  # never 1.0: "all of nothing" once read as P(yes) 0.84
    pred = baseline._judge(BoolqItem("1", "한강 서울", "😀 ?", None))
    assert not pred.judged and pred.note.startswith("cannot judge")
    assert baseline.overlap("한강 서울", "한강 부산").share == 0.5
    assert baseline._judge(BoolqItem("2", "한강 서울", "한강 서울", None)).judged


def test_fitting_the_overlap_skips_questions_without_content_words():
    from explorer.kiwi_overlap import KiwiOverlap

    items = [BoolqItem(str(i), "한강 서울", q, label) for i, (q, label) in
             enumerate([("한강 서울", 1), ("한강 서울", 1), ("부산", 0), ("부산 한강", 0), ("한강", 1), ("부산 대구", 0)])]
    alone, with_emoji = KiwiOverlap(_fake_morphemes), KiwiOverlap(_fake_morphemes)
    alone.fit(items)
    with_emoji.fit(items + [BoolqItem("e", "한강 서울", "😀", 0), BoolqItem("f", "한강 서울", "😀 ?", 0)])
    assert (with_emoji.threshold, with_emoji.scale) == (alone.threshold, alone.scale)
