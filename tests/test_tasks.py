"""WiC, COPA and BoolQ encoding and prediction on tiny models of each head type."""

import pytest
import torch
from transformers import AutoModelForMultipleChoice, AutoModelForSequenceClassification, AutoTokenizer

from explorer.tasks.boolq import BoolqItem
from explorer.tasks.copa import CopaItem
from explorer.tasks.wic import WicItem
from explorer.kiwi_lm import KiwiLM
from explorer.loading import load_model
from explorer.registry import folder_entry
from explorer.tasks import boolq, copa, wic
from explorer.tasks.predict import predict_items


@pytest.fixture(scope="module")
def kiwi():
    return KiwiLM()


def test_target_found_exactly_then_through_kiwi_then_by_brackets(kiwi):
    assert wic.locate_target("배를 타고 섬에 갔다.", "배") == wic.TargetSpan((0, 1), "exact match")
    found = wic.locate_target("길을 물었다.", "묻", kiwi.morphemes)  # ㄷ-irregular: 묻 + 었 → 물었
    assert found.span == (3, 4) and "Kiwi" in found.how
    assert wic.locate_target("길을 물었다.", "묻다", kiwi.morphemes).span == (3, 4)
    clean, span = wic.strip_marks("나는 [눈]이 아프다.")
    assert clean == "나는 눈이 아프다." and clean[span[0]:span[1]] == "눈"
    assert wic.locate_target("나는 [눈]이 아프다.", "x").how == "marked by you"
    missing = wic.locate_target("하늘이 맑다.", "배", kiwi.morphemes)
    assert missing.span is None and "[brackets]" in missing.how


def test_wic_formats():
    item = WicItem("1", "배", "배가 아프다.", "배를 먹었다.", (0, 1), (0, 1), None)
    assert wic.encode(item) == ("배가 아프다.", "배를 먹었다.")
    assert wic.encode(item, "marked") == ("[배]가 아프다.", "[배]를 먹었다.")
    assert wic.encode(item, "prefixed") == ("배: 배가 아프다.", "배를 먹었다.")
    with pytest.raises(ValueError, match="unknown WiC"):
        wic.encode(item, "bogus")


def test_copa_formats_and_custom_connectives():
    item = CopaItem("1", "비가 왔다.", "effect", ("길이 젖었다.", "해가 떴다."), None)
    assert copa.encode(item) == ("비가 왔다.", ["그래서 길이 젖었다.", "그래서 해가 떴다."])
    assert copa.encode(item, "question") == ("비가 왔다. 결과", ["길이 젖었다.", "해가 떴다."])
    cause = CopaItem("2", "길이 젖었다.", "cause", ("비가 왔다.", "해가 떴다."), None)
    assert copa.encode(cause, "connective:때문에/그러므로")[1][0] == "때문에 비가 왔다."


def test_boolq_truncates_the_passage_never_the_question(make_checkpoint):
    folder = make_checkpoint("bert", name="tiny-boolq", finetuning_task="boolq")
    loaded = load_model(folder_entry(folder, "checkpoints"), "cpu")
    question = "서울은 한국의 수도인가?"
    item = BoolqItem("1", "서울은 큰 도시이다. " * 200, question, None)
    pred = predict_items(loaded, "boolq", [item])[0]
    assert pred.n_tokens == 64 and pred.n_dropped > 100
    first, second, truncation = boolq.encode(item)
    enc = loaded.tokenizer(first, second, truncation=truncation, max_length=64)
    question_ids = loaded.tokenizer(question, add_special_tokens=False)["input_ids"]
    assert enc["input_ids"][-len(question_ids) - 1 : -1] == question_ids  # whole question, then [SEP]


def _direct_pair_prob(folder, a, b):
    tok = AutoTokenizer.from_pretrained(folder)
    model = AutoModelForSequenceClassification.from_pretrained(folder).eval()
    with torch.no_grad():
        return torch.softmax(model(**tok(a, b, return_tensors="pt")).logits, -1)[0, 1].item()


def test_wic_prediction_matches_the_model_run_directly(make_checkpoint):
    folder = make_checkpoint("electra", name="tiny-wic", finetuning_task="wic")
    loaded = load_model(folder_entry(folder, "checkpoints"), "cpu")
    items = [
        WicItem("1", "배", "배가 아프다.", "배를 먹었다.", (0, 1), (0, 1), 0),
        WicItem("2", "눈", "눈이 온다.", "밤새 눈이 많이 내렸다.", (0, 1), (3, 4), 1),
    ]
    preds = predict_items(loaded, "wic", items)
    for item, pred in zip(items, preds):
        assert pred.p1 == pytest.approx(_direct_pair_prob(folder, item.sentence1, item.sentence2), abs=1e-5)
        assert pred.label == int(pred.p1 >= 0.5)


def test_copa_with_a_multiple_choice_head(make_checkpoint):
    folder = make_checkpoint("bert", name="tiny-copa-mc", head="multiple_choice")
    loaded = load_model(folder_entry(folder, "checkpoints"), "cpu")
    assert loaded.head == "multiple_choice"
    item = CopaItem("1", "비가 왔다.", "effect", ("길이 젖었다.", "해가 떴다."), 0)
    pred = predict_items(loaded, "copa", [item, item])[0]
    tok = AutoTokenizer.from_pretrained(folder)
    model = AutoModelForMultipleChoice.from_pretrained(folder).eval()
    first, endings = copa.encode(item)
    enc = tok([first, first], endings, padding=True, return_tensors="pt")
    with torch.no_grad():
        expected = torch.softmax(model(**{k: v.unsqueeze(0) for k, v in enc.items()}).logits, -1)[0].tolist()
    assert pred.probs == pytest.approx(expected, abs=1e-5)
    assert pred.label == int(expected[1] > expected[0])


def test_copa_with_a_pair_classifier_picks_the_higher_score(make_checkpoint):
    folder = make_checkpoint("roberta", name="tiny-copa-pair", finetuning_task="copa")
    entry = folder_entry(folder, "checkpoints")
    assert entry.task == "copa"
    loaded = load_model(entry, "cpu")
    item = CopaItem("1", "비가 왔다.", "effect", ("길이 젖었다.", "해가 떴다."), 0)
    pred = predict_items(loaded, "copa", [item])[0]
    first, endings = copa.encode(item)
    pa, pb = (_direct_pair_prob(folder, first, e) for e in endings)
    assert pred.details["pair_scores"] == pytest.approx([pa, pb], abs=1e-5)
    assert pred.label == int(pb > pa) and sum(pred.probs) == pytest.approx(1.0)


def test_kiwi_lm_refuses_other_tasks(kiwi):
    with pytest.raises(ValueError, match="only scores acceptability"):
        predict_items(kiwi, "wic", [WicItem("1", "배", "a", "b", None, None, None)])
