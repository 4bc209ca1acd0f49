"""N-choice multiple choice everywhere: a 3-ending task registered only here runs through every generic path.

The task below exists in no module of the app. Registering it (one dict entry)
must be enough for predict (a multiple-choice head and a pair classifier),
evaluate (metrics equal scikit-learn's over labels 0..2), a 3×3 confusion
chart, one fine-tuning step, attributions per ending, and counterfactual edits.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pytest
import torch
from sklearn.metrics import accuracy_score, confusion_matrix, f1_score, matthews_corrcoef
from transformers import AutoModelForMultipleChoice, AutoTokenizer

from explorer.data.readers import Dataset
from explorer.tasks.copa import CopaItem
from explorer.evaluate import evaluate, predictions_frame, predictions_tsv, slice_metrics
from explorer.loading import CheckpointError, load_model
from explorer.registry import ModelEntry
from explorer.tasks import registry
from explorer.tasks.base import ModelInput, Task
from explorer.tasks.common import choose
from explorer.tasks.predict import predict_items

CONTEXTS = ["나는 어제 학교에 갔다.", "비가 많이 왔다.", "친구가 책을 빌려 갔다.", "할머니께서 떡을 파셨다."]
ENDINGS = [("그래서 길이 젖었다.", "그래서 해가 떴다.", "그래서 눈이 왔다."),
           ("친구를 만났다.", "밥을 먹었다.", "잠을 잤다."),
           ("책이 없다.", "책이 많다.", "책을 읽었다."),
           ("시장에 사람이 많았다.", "떡이 맛있었다.", "가게가 닫혔다.")]


@dataclass(frozen=True)
class TriItem:
    id: str
    context: str
    endings: tuple[str, ...]
    label: int | None
    row: int = 0


class Tri(Task):
    """A context and three endings; only the context may be cut (as KoBEST HellaSwag)."""

    id = "tri3"
    item_type = TriItem
    name = "Tri"
    title = "Tri · three endings"
    label_names = {0: "ending 1", 1: "ending 2", 2: "ending 3"}
    main_metric = "f1_macro"
    head = "multiple_choice"
    n_choices = 3
    cli_shape = "CONTEXT|ENDING1|ENDING2|ENDING3"

    def encode(self, item: TriItem, input_format: str | None = None) -> ModelInput:
        return ModelInput(item.context, endings=item.endings, truncation="only_first")

    def values(self, item: TriItem) -> dict[str, str]:
        return {"context": item.context, **{f"ending{k}": e for k, e in enumerate(item.endings, start=1)}}

    def length_text(self, item: TriItem) -> str:
        return item.context


@pytest.fixture
def tri(monkeypatch) -> Tri:
    task = Tri()
    monkeypatch.setitem(registry.TASKS, task.id, task)
    return task


def _items(n: int = 12) -> list[TriItem]:
    return [TriItem(str(k), CONTEXTS[k % 4], ENDINGS[k % 4], k % 3) for k in range(n)]


def _dataset(items: list[TriItem]) -> Dataset:
    return Dataset("tri3", "tri", items, True, "tri.tsv", len(items), sha256="0" * 12)


def _loaded(make_checkpoint, head: str, name: str):
    folder = make_checkpoint("bert", name=name, head=head, seed=5)
    entry = ModelEntry(name=name, source=str(folder), task="tri3", task_how="test")
    return folder, entry, load_model(entry, "cpu")


def test_multiple_choice_head_scores_three_endings_and_never_cuts_one(tri, make_checkpoint):
    folder, _, loaded = _loaded(make_checkpoint, "multiple_choice", "tri-mc")
    # Context and endings both long (132 and about 40 tokens; the model reads 64). The endings differ only
    # at their ends: cutting both sides, as longest_first would, would leave three equal rows.
    long_context = "나는 어제 학교에 가서 친구를 만났다. " * 12
    long_endings = tuple("길이 많이 젖어서 사람들이 조심해서 걸었다. " * 5 + end for end in ENDINGS[1])
    items = [*_items(4), TriItem("long", long_context, long_endings, 0)]
    preds = predict_items(loaded, "tri3", items, batch_size=2)
    tok = AutoTokenizer.from_pretrained(folder)
    model = AutoModelForMultipleChoice.from_pretrained(folder).eval()
    for item, pred in zip(items, preds):
        enc = tok([item.context] * 3, list(item.endings), truncation="only_first", max_length=64, padding=True,
                  return_tensors="pt")
        with torch.no_grad():
            expected = torch.softmax(model(**{k: v.unsqueeze(0) for k, v in enc.items()}).logits, -1)[0].tolist()
        assert len(pred.probs) == 3 and pred.probs == pytest.approx(expected, abs=1e-5)
        # A best ending, up to float rounding: this random tiny model scores endings within 1e-8 of each other
        # on some items, where another batch shape may round the other way.
        assert expected[pred.label] >= max(expected) - 1e-6
        for ending, ids in zip(item.endings, enc["input_ids"].tolist()):
            ending_ids = tok(ending, add_special_tokens=False)["input_ids"]
            assert _contains(ids, ending_ids), ending  # the ending is whole: only the context was cut
    assert preds[-1].n_dropped > 0 and preds[0].n_dropped == 0
    assert len(set(preds[-1].probs)) == 3  # the three rows still differ: no ending lost its end


def _contains(ids: list[int], part: list[int]) -> bool:
    return any(ids[i : i + len(part)] == part for i in range(len(ids) - len(part) + 1))


def test_choose_takes_items_with_different_numbers_of_endings(tri, make_checkpoint):
    _, _, loaded = _loaded(make_checkpoint, "multiple_choice", "tri-mc")
    firsts = [CONTEXTS[0], CONTEXTS[1], CONTEXTS[2]]
    endings = [list(ENDINGS[0]), list(ENDINGS[1][:2]), list(ENDINGS[2])]
    together = choose(loaded, firsts, endings, batch_size=8)
    alone = [choose(loaded, [f], [e])[0] for f, e in zip(firsts, endings)]
    assert [len(s.probs) for s in together] == [3, 2, 3]
    for a, b in zip(together, alone):
        assert a.probs == pytest.approx(b.probs, abs=1e-5)
    with pytest.raises(ValueError, match="at least two"):
        choose(loaded, ["x"], [["only one"]])


def test_pair_classifier_scores_each_of_three_endings(tri, make_checkpoint):
    _, _, loaded = _loaded(make_checkpoint, "sequence", "tri-pair")
    assert loaded.head == "sequence"
    preds = predict_items(loaded, "tri3", _items(3))
    for pred in preds:
        scores = pred.details["pair_scores"]
        assert len(scores) == 3 and len(pred.probs) == 3 and sum(pred.probs) == pytest.approx(1.0)
        assert pred.label == max(range(3), key=scores.__getitem__)


def test_evaluate_scores_three_classes_as_scikit_learn_and_draws_a_3x3_confusion(tri, make_checkpoint):
    from explorer.ui.evaluate import confusion_chart

    _, entry, loaded = _loaded(make_checkpoint, "multiple_choice", "tri-mc")
    data = _dataset(_items())
    result = evaluate(loaded, entry, data)
    gold = [r["gold"] for r in result.predictions]
    pred = [r["pred"] for r in result.predictions]
    m = result.metrics
    assert m["labels"] == [0, 1, 2]
    assert m["accuracy"] == pytest.approx(accuracy_score(gold, pred), abs=1e-12)
    assert m["mcc"] == pytest.approx(matthews_corrcoef(gold, pred), abs=1e-12)
    assert m["f1_macro"] == pytest.approx(f1_score(gold, pred, labels=[0, 1, 2], average="macro"), abs=1e-12)
    assert m["confusion"] == confusion_matrix(gold, pred, labels=[0, 1, 2]).tolist()
    assert result.main_metric == m["f1_macro"]  # the task's main metric, not a table's

    # Three probabilities per row, in the saved result and in every export.
    assert all(len(r["probs"]) == 3 and "prob" not in r for r in result.predictions)
    json.dumps(result.to_json())
    header, first = predictions_tsv(result).splitlines()[:2]
    assert header.split("\t") == ["id", "gold", "pred", "P(0)", "P(1)", "P(2)", "text", "note"]
    assert [float(x) for x in first.split("\t")[3:6]] == pytest.approx(result.predictions[0]["probs"])
    frame = predictions_frame(data, [result])
    row = result.predictions[0]
    assert frame["P(pred) · tri-mc"][0] == row["probs"][row["pred"]]
    assert {s["slice"] for s in slice_metrics(data, result)} == {"length"}

    chart = confusion_chart(result, "tri3")
    cells = chart.data
    assert len(cells) == 9 and list(cells["gold"].unique()) == ["ending 1", "ending 2", "ending 3"]
    for _, cell in cells.iterrows():
        g, p = int(cell["gold"][-1]) - 1, int(cell["predicted"][-1]) - 1
        assert cell["count"] == m["confusion"][g][p]


def test_two_class_results_keep_their_single_probability(make_checkpoint, tmp_path):
    """Saved results of two-class tasks stay as they were: one ``prob`` = P(label 1)."""
    from explorer.tasks.cola import ColaItem

    folder = make_checkpoint("bert", name="two-cola", finetuning_task="cola")
    entry = ModelEntry(name="two", source=str(folder), task="cola", task_how="test")
    loaded = load_model(entry, "cpu")
    items = [ColaItem(str(k), s, k % 2) for k, s in enumerate(CONTEXTS)]
    result = evaluate(loaded, entry, Dataset("cola", "nikl", items, True, "c.tsv", 4, sha256="1" * 12))
    preds = predict_items(loaded, "cola", items)
    assert [r["prob"] for r in result.predictions] == [round(p.probs[1], 6) for p in preds]
    assert all("probs" not in r for r in result.predictions)
    assert predictions_tsv(result).splitlines()[0].split("\t") == ["id", "gold", "pred", "prob", "text", "note"]


def test_heads_are_checked_against_the_tasks_own_head(tri, make_checkpoint):
    folder = make_checkpoint("bert", name="tri-two-class", num_labels=2)
    # A multiple-choice task takes a sequence head as a pair classifier...
    assert load_model(ModelEntry(name="p", source=str(folder), task="tri3"), "cpu").head == "sequence"
    # ...and a sequence task refuses a multiple-choice head, whatever its task.
    mc = make_checkpoint("bert", name="tri-mc-for-cola", head="multiple_choice")
    with pytest.raises(CheckpointError, match="multiple-choice head"):
        load_model(ModelEntry(name="m", source=str(mc), task="cola"), "cpu")


def test_finetune_one_step_builds_the_tasks_head(tri, tmp_path, tokenizer_dir, monkeypatch):
    from transformers import BertConfig, BertModel

    from explorer import finetune as ft

    tokenizer = AutoTokenizer.from_pretrained(tokenizer_dir)
    base = tmp_path / "base"
    BertModel(BertConfig(vocab_size=len(tokenizer), hidden_size=32, num_hidden_layers=1, num_attention_heads=2,
                         intermediate_size=64, max_position_embeddings=64,
                         pad_token_id=tokenizer.pad_token_id)).save_pretrained(base)
    tokenizer.save_pretrained(base)
    # The task has no file layout of its own here, so its files are read as items directly.
    monkeypatch.setattr(ft, "read_dataset", lambda path, task: _dataset(_items(6 if "train" in str(path) else 3)))
    result = ft.finetune("tri3", str(base), "train.tsv", "dev.tsv", tmp_path / "out", epochs=1, batch_size=8,
                         max_length=32)
    config = json.loads((tmp_path / "out" / "config.json").read_text(encoding="utf-8"))
    assert config["architectures"] == ["BertForMultipleChoice"] and config["finetuning_task"] == "tri3"
    assert config["id2label"] == {"0": "LABEL_0", "1": "LABEL_1", "2": "LABEL_2"}
    assert result["metric"] == "f1_macro" and set(result["dev_metrics"]) == {"accuracy", "mcc", "f1_macro", "loss"}
    features = ft.encode_items("tri3", _items(2), tokenizer, max_length=32)
    batch = ft.MultipleChoiceCollator(tokenizer)(features)
    assert batch["input_ids"].shape[:2] == (2, 3) and batch["labels"].tolist() == [0, 1]


def test_attributions_per_ending_and_for_the_difference(tri, make_checkpoint):
    from explorer.internals.attributions import aggregate_parts, attribute, eojeol_spans

    _, _, loaded = _loaded(make_checkpoint, "multiple_choice", "tri-mc")
    endings = list(ENDINGS[0])
    chosen = attribute(loaded, CONTEXTS[0], endings=endings, method="ig", steps=64, truncation="only_first")
    diff = attribute(loaded, CONTEXTS[0], endings=endings, method="ig", steps=64, mc_target="difference")
    assert len(chosen.probs) == 3 and {o.choice for o in chosen.offsets} == {0, 1, 2}
    others = [k for k in range(3) if k != diff.target]
    assert diff.contrast == max(others, key=diff.probs.__getitem__)  # the strongest other ending
    for a in (chosen, diff):
        assert abs(sum(a.scores) - (a.f_x - a.f_baseline)) <= abs(a.delta) + 1e-4
        parts = {p["part"] for p in aggregate_parts(a, eojeol_spans)}
        assert {f"alt {k} · text 2" for k in (1, 2, 3)} <= parts
    with pytest.raises(ValueError, match="truncation"):
        attribute(loaded, CONTEXTS[0], endings=endings, truncation="sideways")


def test_counterfactual_edits_reach_every_alternative():
    from explorer.internals.counterfactuals import Variant, edited_item, pair_fields, pair_flip_table
    from explorer.tasks.predict import Prediction

    item = CopaItem("1", "비가 왔다.", "effect", ("길이 젖었다.", "해가 떴다.", "눈이 왔다."), 0)
    assert [f for f, _ in pair_fields("copa", item)] == ["premise", "alternative1", "alternative2", "alternative3"]
    edit = Variant("눈을 왔다.", "case particle swap", "눈이 → 눈을", (0, 2))
    assert edited_item("copa", item, "alternative3", edit).alternatives == ("길이 젖었다.", "해가 떴다.", "눈을 왔다.")
    with pytest.raises(ValueError, match="alternative4"):
        edited_item("copa", item, "alternative4", edit)
    rows = pair_flip_table("copa", [("alternative3", edit)], {"m": Prediction(0, [0.5, 0.3, 0.2])},
                           {"m": [Prediction(2, [0.2, 0.3, 0.5])]})
    assert rows[0]["score"] == "P(alternative 1)" and rows[0]["change"] == pytest.approx(-0.3) and rows[0]["flipped"]
