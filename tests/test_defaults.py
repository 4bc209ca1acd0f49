"""The offline defaults a new user meets: Kiwi LM, e5, and the two demo models."""

from pathlib import Path

import pytest

from explorer.defaults.korean import generate_cola
from explorer.defaults.prepare import E5_NAME, KIWI_NAME, OVERLAP_NAME, is_prepared
from explorer.loading import count_parameters
from explorer.service import Explorer
from explorer.tasks.cola import ColaItem
from explorer.tasks.registry import get as get_task


def _items(sentences) -> list[ColaItem]:
    return [ColaItem(str(n), s, None) for n, s in enumerate(sentences)]


@pytest.fixture(scope="module")
def explorer(prepared):
    return Explorer(prepared)


@pytest.fixture(scope="module")
def unseen_pairs():
    """Minimal pairs from a seed the demo models never trained on."""
    examples = generate_cola(400, seed=999)
    good = {e.sentence for e in examples if e.label == 1}
    return [(e.source, e.sentence, e.error) for e in examples if e.label == 0 and e.source in good]


def test_defaults_are_registered_and_ready(explorer, prepared):
    assert is_prepared(prepared)
    entries, _ = explorer.registry()
    by_name = {e.name: e for e in entries}
    from explorer.defaults.demo import DEMOS

    for name in (KIWI_NAME, OVERLAP_NAME, E5_NAME, *(d.name for d in DEMOS)):
        assert name in by_name and not by_name[name].problems
    assert by_name["demo-electra-cola"].demo and by_name[E5_NAME].task is None


def test_electra_demo_is_lighter_than_bert_demo(explorer):
    entries, _ = explorer.registry()
    sizes = {e.name: count_parameters(Path(e.source)) for e in entries if e.demo}
    assert sizes["demo-electra-cola"] < sizes["demo-bert-cola"]


@pytest.mark.parametrize("name", ["demo-electra-cola", "demo-bert-cola"])
def test_demo_models_learned_the_generated_errors(explorer, unseen_pairs, name):
    entry = explorer.entry(name)
    run = explorer.predict([entry], "cola", _items([s for pair in unseen_pairs for s in pair[:2]]), device="cpu")[0]
    assert run.error is None
    probs = [p.p1 for p in run.predictions]
    good, bad = probs[0::2], probs[1::2]
    prefers_good = sum(g > b for g, b in zip(good, bad)) / len(good)
    accuracy = (sum(g >= 0.5 for g in good) + sum(b < 0.5 for b in bad)) / (2 * len(good))
    assert prefers_good > 0.75 and accuracy > 0.7, (prefers_good, accuracy)


def test_kiwi_lm_catches_particle_errors_and_shows_morphemes(explorer, unseen_pairs):
    kiwi = explorer.kiwi()
    particle = [(g, b) for g, b, err in unseen_pairs if err == "particle_allomorph"]
    good = kiwi.predict(get_task("cola"), _items([g for g, _ in particle]))
    bad = kiwi.predict(get_task("cola"), _items([b for _, b in particle]))
    assert sum(g.p1 > b.p1 for g, b in zip(good, bad)) / len(particle) > 0.9
    morphemes = bad[0].details["morphemes"]
    assert morphemes and all({"form", "tag", "logprob"} <= set(m) for m in morphemes)
    assert kiwi.calibration.fitted_on != "uncalibrated default"


def test_e5_default_is_a_base_encoder_not_a_cola_model(explorer):
    entry = explorer.entry(E5_NAME)
    run = explorer.predict([entry], "cola", _items(["책이 있다."]), device="cpu")[0]
    assert run.error and "no task" in run.error and "base encoder" in run.error


@pytest.mark.parametrize("task,floor", [("wic", 0.6), ("copa", 0.7)])
def test_task_demos_beat_chance_on_unseen_generated_items(explorer, task, floor):
    from explorer.defaults import task_data
    from explorer.defaults.demo import DEMOS

    spec = next(d for d in DEMOS if d.task == task)
    items = {"wic": task_data.generate_wic, "copa": task_data.generate_copa}[task](300, seed=4242)
    run = explorer.predict([explorer.entry(spec.name)], task, items, device="cpu")[0]
    assert run.error is None
    accuracy = sum(p.label == i.label for p, i in zip(run.predictions, items)) / len(items)
    assert accuracy > floor, accuracy


def test_boolq_overlap_baseline_answers_and_explains(explorer):
    from explorer.tasks.boolq import BoolqItem
    from explorer.defaults.task_data import generate_boolq

    items = generate_boolq(200, seed=4243)
    run = explorer.predict([explorer.entry(OVERLAP_NAME)], "boolq", items)[0]
    assert run.error is None
    accuracy = sum(p.label == i.label for p, i in zip(run.predictions, items)) / len(items)
    assert accuracy > 0.65, accuracy
    item = BoolqItem("x", "김민수는 부산에서 태어났다.", "김민수는 광주에서 태어났나요?", None)
    pred = explorer.predict([explorer.entry(OVERLAP_NAME)], "boolq", [item])[0].predictions[0]
    assert "광주" in pred.details["missing"] and "부산" not in pred.details["found"] + pred.details["missing"]
    wrong = explorer.predict([explorer.entry(OVERLAP_NAME)], "wic", items[:1])[0]
    assert wrong.error and "only answers BoolQ" in wrong.error
