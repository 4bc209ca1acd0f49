"""A classmate's checkpoint for a task nobody registered is still usable, with its own labels.

A sequence-classification head whose ``id2label`` no task claims gets a
generic task built from those labels: Home names it and says how to name its
real task, it has a page ("Other classifiers"), Inside a model, Evaluate on a
text/label TSV, and the CLI.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import streamlit as st
from sklearn.metrics import accuracy_score, f1_score, matthews_corrcoef
from streamlit.testing.v1 import AppTest

from explorer.cli import main
from explorer.evaluate import evaluate
from explorer.loading import load_model
from explorer.registry import infer_task
from explorer.service import Explorer
from explorer.settings import load_settings
from explorer.tasks.generic import TextItem, generic_id, is_generic
from explorer.tasks.predict import predict_items
from explorer.tasks.registry import get as get_task
from explorer.tasks.registry import read_dataset

APP = Path(__file__).resolve().parent.parent / "app.py"
TWO = {0: "bad", 1: "good"}
THREE = {0: "sports", 1: "politics", 2: "culture"}


@pytest.fixture(scope="module")
def sources(make_checkpoint) -> dict[str, Path]:
    return {
        "classmate-review": make_checkpoint("bert", name="classmate-review", seed=3, id2label=TWO,
                                            label2id={v: k for k, v in TWO.items()}),
        "classmate-topics": make_checkpoint("electra", name="classmate-topics", seed=4, num_labels=3, id2label=THREE,
                                            label2id={v: k for k, v in THREE.items()}),
    }


@pytest.fixture
def checkpoints(tmp_path, monkeypatch, sources) -> Path:
    folder = tmp_path / "checkpoints"
    folder.mkdir()
    for name, source in sources.items():
        shutil.copytree(source, folder / name)
    monkeypatch.setenv("EXPLORER_CHECKPOINTS", str(folder))
    monkeypatch.setenv("EXPLORER_MODELS", str(tmp_path / "none.toml"))
    monkeypatch.setenv("EXPLORER_DEFAULTS", "0")
    monkeypatch.setenv("EXPLORER_DEVICE", "cpu")
    monkeypatch.setenv("EXPLORER_RESULTS", str(tmp_path / "results"))
    st.cache_resource.clear()
    yield folder
    st.cache_resource.clear()


def _entries() -> dict:
    return {e.name: e for e in Explorer(load_settings([])).registry()[0]}


def test_an_unclaimed_head_gets_a_task_of_its_own_labels_and_says_how_to_name_one(checkpoints):
    entry = _entries()["classmate-review"]
    assert entry.task == "labels:bad|good" and is_generic(entry.task) and not entry.problems
    assert "a classifier of its own, with labels bad, good" in entry.task_how
    assert "set config.finetuning_task or models.toml `task`" in entry.task_how
    task = get_task(entry.task)
    assert (task.title, task.label_names, task.prob_columns) == ("Classifier · bad / good", TWO, ["P(good)"])
    # A registered task's words still win: negative/positive is SentiNeg, not a classifier of its own.
    config = {"architectures": ["BertForSequenceClassification"], "id2label": {"0": "negative", "1": "positive"}}
    assert infer_task(config)[0] == "sentineg"
    # A base encoder (no head) stays without a task; ids that cannot carry their labels make none.
    assert infer_task({"architectures": ["BertModel"]})[0] is None
    assert generic_id({0: "a|b", 1: "c"}) is None and generic_id({0: "only"}) is None


def test_three_classes_predict_by_argmax_with_the_checkpoints_own_order(checkpoints):
    entry = _entries()["classmate-topics"]
    assert entry.task == "labels:sports|politics|culture"
    loaded = load_model(entry, "cpu")
    preds = predict_items(loaded, entry.task, [TextItem("1", "오늘 경기에서 우리 팀이 이겼다.", None, None)])
    logits = loaded.model(**loaded.tokenizer("오늘 경기에서 우리 팀이 이겼다.", return_tensors="pt")).logits[0]
    assert len(preds[0].probs) == 3 and preds[0].label == int(logits.argmax())
    assert sum(preds[0].probs) == pytest.approx(1.0, abs=1e-5)


def test_evaluate_reads_a_text_label_tsv_with_names_or_ids_and_scores_like_sklearn(checkpoints, tmp_path):
    entry = _entries()["classmate-topics"]
    lines = ["text\tlabel"] + [f"문장 {k} 입니다.\t{['sports', '1', 'Culture'][k % 3]}" for k in range(12)]
    path = tmp_path / "topics.tsv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    dataset = read_dataset(path, task=entry.task)
    assert [i.label for i in dataset.items[:3]] == [0, 1, 2] and dataset.items[0].id == "2"  # no id column: the line
    result = evaluate(load_model(entry, "cpu"), entry, dataset)
    gold = [i.label for i in dataset.items]
    pred = [p["pred"] for p in result.predictions]
    assert result.metrics["accuracy"] == pytest.approx(accuracy_score(gold, pred))
    assert result.metrics["mcc"] == pytest.approx(matthews_corrcoef(gold, pred))
    assert result.metrics["f1_macro"] == pytest.approx(f1_score(gold, pred, labels=[0, 1, 2], average="macro"))
    assert result.main_metric == pytest.approx(result.metrics["f1_macro"])  # macro-F1 ranks an unknown task
    # A label that is neither a name nor an id is named, with what is allowed.
    path.write_text("text\tlabel\n한 문장.\tweather\n", encoding="utf-8")
    with pytest.raises(ValueError, match="expected 0 or sports, 1 or politics, 2 or culture"):
        read_dataset(path, task=entry.task)


def test_the_other_classifiers_page_answers_with_the_models_own_labels(checkpoints):
    entry = _entries()["classmate-review"]
    at = AppTest.from_file(str(APP), default_timeout=180)
    at.query_params["s"] = "배송이 빠르고 좋아요."
    at.query_params["m"] = "classmate-review"
    at.switch_page("pages/classifiers.py")
    at.run()
    assert not at.exception and not at.error
    assert at.title[0].value == "Other classifiers · bad / good"
    frame = at.dataframe[0].value
    expected = predict_items(load_model(entry, "cpu"), entry.task, [TextItem("input", "배송이 빠르고 좋아요.", None, None)])[0]
    assert list(frame["model"]) == ["classmate-review"]
    assert frame.loc[0, "P(good)"] == pytest.approx(expected.probs[1], abs=1e-5)
    assert frame.loc[0, "label"] == TWO[expected.label]
    # Two label sets: a picker; the link's model chose this one.
    assert at.selectbox(key="classifiers_task").value == "labels:bad|good"


def test_home_lists_the_classifier_by_its_labels(checkpoints):
    at = AppTest.from_file(str(APP), default_timeout=180).run()
    assert not at.exception
    frame = at.dataframe[0].value.set_index("model")
    assert frame.loc["classmate-review", "task"] == "Classifier · bad / good"
    assert frame.loc["classmate-topics", "task"] == "Classifier · sports / politics / culture"


def test_the_cli_predicts_with_the_models_own_task_by_default(checkpoints, capsys):
    assert main(["predict", "--model", "classmate-review", "--json", "좋아요."]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["task"] == "labels:bad|good" and out["results"][0]["input"] == "좋아요."
    assert main(["predict", "--model", "classmate-review", "--task", "labels:bad|good", "좋아요."]) == 0
    assert capsys.readouterr().out.split("\t")[1] in {"bad", "good"}
    with pytest.raises(SystemExit) as raised:
        main(["predict", "--model", "classmate-review", "--task", "sentiment", "좋아요."])
    assert raised.value.code == 2
    assert "unknown task 'sentiment'; expected one of cola" in capsys.readouterr().err


def test_a_classifier_of_its_own_keeps_its_label_order_even_when_a_name_reads_as_positive(make_checkpoint):
    # "good" reads as the positive class of a registered task; a classifier of its own must not be reordered.
    names = {0: "good", 1: "bad"}
    folder = make_checkpoint("bert", name="good-bad", seed=5, id2label=names, label2id={v: k for k, v in names.items()})
    from explorer.registry import folder_entry

    entry = folder_entry(folder, "checkpoints")
    assert entry.task == "labels:good|bad"
    loaded = load_model(entry, "cpu")
    text = "정말 좋아요."
    pred = predict_items(loaded, entry.task, [TextItem("1", text, None, None)])[0]
    probs = loaded.model(**loaded.tokenizer(text, return_tensors="pt")).logits[0].softmax(-1).tolist()
    assert pred.probs == pytest.approx(probs, abs=1e-5) and pred.label == max(range(2), key=probs.__getitem__)


def test_inference_respects_the_heads_size_and_the_folder_name():
    three = {"architectures": ["BertForSequenceClassification"],
             "id2label": {"0": "negative", "1": "neutral", "2": "positive"}}
    assert infer_task(three)[0] == "labels:negative|neutral|positive"  # not SentiNeg's two classes
    mc = {"architectures": ["RobertaForMultipleChoice"]}
    assert infer_task(mc, "roberta-kobest-hellaswag")[0] == "hellaswag"  # the folder says which
    task, how = infer_task(mc, "my-model")
    assert task == "copa" and "guessed" in how  # a bare multiple-choice head is COPA, said to be a guess


def test_results_of_a_classifier_with_any_label_names_are_saved(checkpoints, tmp_path):
    from explorer.evaluate import ResultStore

    entry = _entries()["classmate-review"]
    path = tmp_path / "review.tsv"
    path.write_text("text\tlabel\n좋아요.\tgood\n별로예요.\tbad\n", encoding="utf-8")
    result = evaluate(load_model(entry, "cpu"), entry, read_dataset(path, task=entry.task))
    store = ResultStore(tmp_path / "saved")
    saved = store.save(result)
    assert "|" not in saved.name and ":" not in saved.name
    assert [r.task for r in store.load_all()] == ["labels:bad|good"]
