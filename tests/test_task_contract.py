"""The contract every registered task keeps: a new task is tested by being registered.

Each test below runs once per task in ``explorer.tasks.registry.TASKS``: the
task's examples make items and typed lines parse; a tiny model of the task's
head predicts them (and a pair classifier, for a multiple-choice task);
evaluation equals scikit-learn's metrics over the task's labels; one step of
fine-tuning writes a checkpoint the registry reads back as the task; its page
answers a shared link; the CLI predicts and attributes with its label names;
and its published files (under ../shared/data, when present) are read as it.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path

import pytest
import streamlit as st
from sklearn.metrics import accuracy_score, confusion_matrix, f1_score, matthews_corrcoef
from streamlit.testing.v1 import AppTest

from explorer.cli import main
from explorer.data.readers import Dataset
from explorer.evaluate import evaluate
from explorer.loading import load_model
from explorer.registry import ModelEntry, infer_task
from explorer.tasks.predict import predict_items
from explorer.tasks.registry import TASKS, read_dataset
from explorer.tasks.results import results_frame

APP = Path(__file__).resolve().parent.parent / "app.py"
SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
IDS = list(TASKS)


def _items(task) -> list:
    """The task's hand-picked examples as items (no Kiwi: targets are found literally)."""
    return [task.make_item({f.name: task.form_value(f, ex[f.name]) for f in task.fields})[0] for ex in task.examples]


def _labelled(task, n: int = 8) -> list:
    """``n`` items with every class as gold at least once (cycling through the examples)."""
    items = _items(task)
    return [dataclasses.replace(items[k % len(items)], label=k % task.num_labels) for k in range(n)]


def _checkpoint(make_checkpoint, task, head: str | None = None) -> Path:
    head = head or task.head
    extra = {} if head == "multiple_choice" else {"num_labels": task.num_labels if task.head == "sequence" else 2}
    return make_checkpoint("bert", name=f"tiny-{task.id}-{head}", head=head, finetuning_task=task.id, seed=11, **extra)


def _loaded(make_checkpoint, task, head: str | None = None):
    folder = _checkpoint(make_checkpoint, task, head)
    entry = ModelEntry(name=folder.name, source=str(folder), task=task.id, task_how="test")
    return entry, load_model(entry, "cpu")


@pytest.mark.parametrize("task_id", IDS)
def test_examples_make_items_that_render_and_encode(task_id):
    task = TASKS[task_id]
    assert task.id == task_id and task.name and task.title and len(task.examples) >= 2
    assert task.main_metric in {"accuracy", "mcc", "f1_macro"} and task.head in {"sequence", "multiple_choice"}
    assert task.labels == list(range(task.num_labels)) and all(task.label_names.values())
    for item in _items(task):
        assert isinstance(item, task.item_type) and task.text(item) and task.values(item)
        encoded = task.encode(item, None)
        assert encoded.first and len(encoded.endings) == (task.n_choices or 0)
        assert set(task.slices(item)) >= {"length"}
    for line in task.starting_lines:
        assert isinstance(task.parse_line(line)[0], task.item_type)


@pytest.mark.parametrize("task_id", IDS)
def test_every_example_names_its_right_answer_and_only_examples_have_one(task_id):
    task = TASKS[task_id]
    answers = []
    for example in task.examples:
        assert example.get("expected") in task.label_names.values(), example
        values = {f.name: example.get(f.name, "") for f in task.fields}
        answers.append(task.expected_label(values))
        assert task.label_names[answers[-1]] == example["expected"]
        typed = dict(values)
        first = next(f.name for f in task.fields if f.kind != "choice")
        typed[first] = typed[first] + " 그리고"  # anything the user edits has no known answer
        assert task.expected_label(typed) is None
    assert len(set(answers)) >= 2, "the examples should not all expect the same answer"


@pytest.mark.parametrize("task_id", IDS)
def test_predicts_with_a_tiny_model_of_its_head(task_id, make_checkpoint):
    task = TASKS[task_id]
    items = _items(task)
    heads = [task.head, "sequence"] if task.n_choices else [task.head]  # a multiple-choice task: pair classifiers too
    for head in heads:
        entry, loaded = _loaded(make_checkpoint, task, head)
        preds = predict_items(loaded, task.id, items, entry.input_format)
        assert len(preds) == len(items)
        for item, pred in zip(items, preds):
            assert pred.label in task.labels and len(pred.probs) == task.num_labels
            assert sum(pred.probs) == pytest.approx(1.0, abs=1e-4)
            row = task.result_row(item, pred, entry.input_format)
            assert row[task.verdict_column] == task.answer(item, pred.label)
            assert set(task.prob_columns) <= set(row)
        frame = results_frame(task.id, items[0], [_run(entry, preds[:1])])
        assert list(frame["model"]) == [entry.name]


def _run(entry, predictions):
    from explorer.service import TaskRun

    return TaskRun(entry, predictions)


@pytest.mark.parametrize("task_id", IDS)
def test_evaluates_with_the_metrics_of_scikit_learn(task_id, make_checkpoint):
    task = TASKS[task_id]
    entry, loaded = _loaded(make_checkpoint, task)
    items = _labelled(task)
    dataset = Dataset(task.id, "contract", items, True, f"{task.id}.tsv", len(items), sha256="0" * 12)
    result = evaluate(loaded, entry, dataset)
    gold, pred = [i.label for i in items], [p["pred"] for p in result.predictions]
    assert result.metrics["accuracy"] == pytest.approx(accuracy_score(gold, pred))
    assert result.metrics["mcc"] == pytest.approx(matthews_corrcoef(gold, pred))
    assert result.metrics["f1_macro"] == pytest.approx(f1_score(gold, pred, labels=task.labels, average="macro"))
    assert result.metrics["confusion"] == confusion_matrix(gold, pred, labels=task.labels).tolist()
    assert result.main_metric == pytest.approx(result.metrics[task.main_metric])


@pytest.mark.parametrize("task_id", IDS)
def test_finetunes_one_step_into_a_checkpoint_read_back_as_the_task(task_id, tmp_path, tokenizer_dir, monkeypatch):
    from transformers import AutoTokenizer, BertConfig, BertModel

    from explorer import finetune as ft

    task = TASKS[task_id]
    tokenizer = AutoTokenizer.from_pretrained(tokenizer_dir)
    base = tmp_path / "base"
    BertModel(BertConfig(vocab_size=len(tokenizer), hidden_size=32, num_hidden_layers=1, num_attention_heads=2,
                         intermediate_size=64, max_position_embeddings=128,
                         pad_token_id=tokenizer.pad_token_id)).save_pretrained(base)
    tokenizer.save_pretrained(base)
    items = _labelled(task)
    # Files in each task's layout are read by the published-files test below; here the items are handed over.
    monkeypatch.setattr(ft, "read_dataset", lambda path, task: Dataset(task, "contract", items, True, str(path), len(items)))
    result = ft.finetune(task.id, str(base), "train.tsv", "dev.tsv", tmp_path / "out", epochs=1, batch_size=8,
                         max_length=64)
    config = json.loads((tmp_path / "out" / "config.json").read_text(encoding="utf-8"))
    head = "ForMultipleChoice" if task.head == "multiple_choice" else "ForSequenceClassification"
    assert config["architectures"][0].endswith(head) and config["finetuning_task"] == task.id
    # transformers leaves out the default LABEL_k names; any other names are written for the registry to read.
    written = {int(k): v for k, v in config.get("id2label", {}).items()}
    assert written == task.config_id2label or (not written and task.config_labels is None)
    assert result["metric"] == task.main_metric
    assert infer_task(config, "out")[0] == task.id


@pytest.fixture
def one_model_per_task(tmp_path, monkeypatch, make_checkpoint) -> Path:
    folder = tmp_path / "checkpoints"
    folder.mkdir()
    for task in TASKS.values():
        shutil.copytree(_checkpoint(make_checkpoint, task), folder / f"tiny-{task.id}")
    monkeypatch.setenv("EXPLORER_CHECKPOINTS", str(folder))
    monkeypatch.setenv("EXPLORER_MODELS", str(tmp_path / "none.toml"))
    monkeypatch.setenv("EXPLORER_DEFAULTS", "0")
    monkeypatch.setenv("EXPLORER_DEVICE", "cpu")
    st.cache_resource.clear()
    yield folder
    st.cache_resource.clear()


@pytest.mark.parametrize("task_id", IDS)
def test_its_page_answers_a_shared_link(task_id, one_model_per_task):
    task = TASKS[task_id]
    example = task.examples[0]
    at = AppTest.from_file(str(APP), default_timeout=180)
    for field in task.fields:
        at.query_params[field.url] = example[field.name]
    at.query_params["m"] = f"tiny-{task.id}"
    at.switch_page(task.nav.file)
    at.run()
    assert not at.exception and not at.error
    assert at.title[0].value == task.nav.title
    shown = [d.value for d in at.dataframe]
    assert any(f"tiny-{task.id}" in set(map(str, frame.columns)) | set(map(str, frame.get("model", [])))
               for frame in shown)


@pytest.mark.parametrize("task_id", IDS)
def test_the_cli_predicts_and_attributes_with_its_label_names(task_id, make_checkpoint, capsys):
    task = TASKS[task_id]
    folder = _checkpoint(make_checkpoint, task)
    line = task.starting_lines[-1]
    assert main(["predict", "--model", str(folder), "--task", task.id, line]) == 0
    answer = capsys.readouterr().out.split("\t")[1]
    assert answer in task.label_names.values()
    assert main(["attribute", "--model", str(folder), "--task", task.id, "--steps", "8", "--json", line]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["task"] == task.id and payload["results"][0]["tokens"]


@pytest.fixture(scope="module")
def published_files() -> dict[str, list[Path]]:
    """The files under ../shared/data, by the task they are read as."""
    found: dict[str, list[Path]] = {}
    for path in sorted(SHARED_DATA.rglob("*.tsv")):
        try:
            found.setdefault(read_dataset(path).task, []).append(path)
        except ValueError:
            continue
    return found


@pytest.mark.skipif(not SHARED_DATA.is_dir(), reason="../shared/data is not present")
@pytest.mark.parametrize("task_id", IDS)
def test_reads_its_published_files(task_id, published_files):
    task = TASKS[task_id]
    paths = published_files.get(task.id)
    if not paths:
        pytest.skip(f"no published {task.name} file under {SHARED_DATA}")
    for path in paths:
        dataset = read_dataset(path, task=task.id)
        assert dataset.items and all(isinstance(i, task.item_type) for i in dataset.items)
        labels = {i.label for i in dataset.items}
        assert labels <= set(task.labels) if dataset.labelled else labels == {None}, path  # test files: unlabelled
