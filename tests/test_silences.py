"""Nothing is cut, skipped or guessed without a word (Reliability, item 5)."""

from __future__ import annotations

import pytest

from explorer.compare import live_table
from explorer.tasks.boolq import BoolqItem
from explorer.kiwi_lm import MAX_CHARS
from explorer.kiwi_overlap import CANNOT_JUDGE, KiwiOverlap
from explorer.registry import ModelEntry
from explorer.service import Explorer, TaskRun
from explorer.tasks.cola import ColaItem
from explorer.tasks.predict import Prediction
from explorer.tasks.registry import get as get_task
from explorer.tasks.results import agreement, judged_labels, matrix_frame, results_frame
from explorer.text import split_sentences

PASSAGE = "한강은 서울을 가로질러 흐르는 강이다."
QUESTION = "한강은 서울을 가로지르나요?"


@pytest.fixture(scope="module")
def explorer(prepared) -> Explorer:
    return Explorer(prepared)


def test_an_empty_line_between_sentences_is_named_not_dropped_silently():
    out = split_sentences("나는 학교에 갔다.\n\n   \n책이 있다.\n\n")
    assert out.sentences == ["나는 학교에 갔다.", "책이 있다."]
    assert out.notes == ["Skipped 2 empty line(s) (line 2, 3)."]  # trailing blank lines are just the end


def test_a_line_of_only_invisible_characters_is_named_too():
    out = split_sentences("\u200b\n책이 있다.")
    assert out.notes == ["Removed 1 invisible control character(s).", "Skipped 1 empty line(s) (line 1)."]


def test_kiwi_lm_says_how_much_of_a_long_sentence_it_read(explorer):
    long = "나는 어제 학교에 갔다. " * 200
    items = [ColaItem("1", long, None)]
    result = explorer.kiwi().predict(get_task("cola"), items)[0]
    assert result.note == f"truncated: Kiwi read the first {MAX_CHARS:,} of {len(long):,} characters"
    run = explorer.predict([explorer.entry("Kiwi LM (zero-shot)")], "cola", items)[0]
    assert "Kiwi read the first" in matrix_frame("cola", items, [run])["notes"][0]
    assert explorer.kiwi().predict(get_task("cola"), [ColaItem("2", "나는 어제 학교에 갔다.", None)])[0].note == ""


def test_the_overlap_baseline_reads_evidence_past_the_first_2000_characters(explorer):
    overlap: KiwiOverlap = explorer.kiwi_overlap()
    padding = "오늘은 날씨가 맑고 바람이 분다. " * 150  # over 2,000 characters without the evidence
    assert len(padding) > MAX_CHARS
    short = overlap.predict(get_task("boolq"), [BoolqItem("a", PASSAGE, QUESTION, None)])[0]
    late = overlap.predict(get_task("boolq"), [BoolqItem("b", padding + PASSAGE, QUESTION, None)])[0]
    assert late.details["found"] == short.details["found"] and late.probs == short.probs


@pytest.mark.parametrize("question", ["😀", "?!", "그래요?"[:0] + "...?"])
def test_a_question_without_content_words_cannot_be_judged(explorer, question):
    pred = explorer.kiwi_overlap().predict(get_task("boolq"), [BoolqItem("a", PASSAGE, question, None)])[0]
    assert not pred.judged and pred.note == CANNOT_JUDGE and pred.probs == [0.5, 0.5]


def test_a_model_that_cannot_judge_shows_no_verdict_and_does_not_vote():
    item = BoolqItem("a", PASSAGE, "😀", None)
    runs = [
        TaskRun(ModelEntry("baseline", "x", kind="kiwi-overlap"), [Prediction(0, [0.5, 0.5], note=CANNOT_JUDGE, judged=False)]),
        TaskRun(ModelEntry("bert", "y"), [Prediction(1, [0.2, 0.8])]),
    ]
    frame = results_frame("boolq", item, runs)
    assert frame["answer"].tolist() == ["cannot judge", "yes"]
    assert frame["P(yes)"].isna().tolist() == [True, False]
    assert CANNOT_JUDGE in frame["notes"][0]
    agreed = agreement("boolq", judged_labels(runs))
    assert (agreed.verdict, agreed.agreeing, agreed.total) == ("yes", 1, 1)
    assert agreement("boolq", judged_labels(runs[:1])).verdict == "no answers"
    live = live_table({"boolq": runs})
    assert live["answer"].tolist() == ["cannot judge", "yes"] and live["agreement"].tolist()[1] == 1.0


def test_evaluate_counts_and_names_items_the_baseline_could_not_judge(explorer, tmp_path):
    from explorer.data.readers import Dataset
    from explorer.evaluate import evaluate, metrics_frame, predictions_tsv

    items = [BoolqItem("1", PASSAGE, QUESTION, 1), BoolqItem("2", PASSAGE, "😀", 0)]
    entry = explorer.entry("Kiwi overlap (baseline)")
    dataset = Dataset("boolq", "test", items, True, str(tmp_path / "b.tsv"), len(items), sha256="0")
    result = evaluate(explorer.task_model(entry, "boolq"), entry, dataset)
    assert result.metrics["not_judged"] == 1 and result.metrics["n"] == 2
    assert metrics_frame([result])["not judged"].tolist() == [1]
    lines = predictions_tsv(result).splitlines()
    assert lines[0].endswith("\tnote") and lines[2].endswith(CANNOT_JUDGE) and lines[1].endswith("\t")
