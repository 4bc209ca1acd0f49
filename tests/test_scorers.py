"""What a model can do is read from its kind's declared capabilities, never from the kind string."""

import pytest

from explorer.compare import _our_rows
from explorer.defaults.prepare import KIWI_NAME, OVERLAP_NAME, default_entries
from explorer.evaluate import EvalResult
from explorer.kiwi_overlap import KiwiOverlap
from explorer.loading import CheckpointError
from explorer.registry import ModelEntry, folder_entry
from explorer.scorers import SCORER_KINDS, capabilities
from explorer.service import Explorer
from explorer.settings import Settings
from explorer.tasks.registry import get as get_task
from explorer.ui.model_picker import label_for


def _settings(tmp_path) -> Settings:
    return Settings(checkpoints_dir=tmp_path, models_toml=tmp_path / "models.toml", cache_dir=tmp_path / "cache")


def _defaults(tmp_path) -> dict[str, ModelEntry]:
    return {e.name: e for e in default_entries(_settings(tmp_path))}


def test_every_kind_the_app_registers_declares_what_it_can_do(tmp_path, make_checkpoint):
    from explorer.defaults.from_data import RECIPES

    # `prepare --data` registers a Kiwi-features CoLA model beside the defaults.
    record = {"task": "cola", "metric": "mcc", "dev_metrics": {"mcc": 0.2}, "files": {"dev": {"path": "dev.tsv"}}}
    features = RECIPES["cola"].entry("features", tmp_path, record)
    entries = [*_defaults(tmp_path).values(), features, folder_entry(make_checkpoint("bert", name="caps-cola"), "test")]
    assert {e.kind for e in entries} == set(SCORER_KINDS)
    checkpoint = capabilities(entries[-1])
    assert checkpoint.tasks is None and checkpoint.internals and checkpoint.attributions and checkpoint.parameters


def test_an_unknown_kind_names_the_model_instead_of_guessing(tmp_path):
    with pytest.raises(ValueError, match="odd-one has an unknown scorer kind 'gpt'"):
        capabilities(ModelEntry("odd-one", "x", kind="gpt"))


@pytest.mark.parametrize(
    "name, task, words",
    [(KIWI_NAME, "wic", "only scores acceptability (CoLA)."), (OVERLAP_NAME, "cola", "only answers BoolQ.")],
)
def test_built_in_scorers_refuse_other_tasks_before_loading_anything(tmp_path, name, task, words):
    explorer = Explorer(_settings(tmp_path))
    entry = _defaults(tmp_path)[name]
    with pytest.raises(CheckpointError) as refused:
        explorer.task_model(entry, task)
    assert str(refused.value) == f"{entry.name} {words}"
    assert not explorer.is_loaded(entry)  # refused from the declaration, not after building the scorer


def test_the_overlap_baseline_itself_refuses_other_tasks():
    with pytest.raises(ValueError, match="only answers BoolQ"):
        KiwiOverlap(morphemes=None).predict(get_task("wic"), [])


def test_picker_tags_say_which_models_are_zero_shot_or_baselines(tmp_path, make_checkpoint):
    from dataclasses import replace

    defaults = _defaults(tmp_path)
    # The built-in names say it in words; a tag would only repeat them ("Kiwi LM (zero-shot) [zero-shot]").
    assert label_for(defaults[KIWI_NAME]) == KIWI_NAME and "(zero-shot)" in KIWI_NAME
    assert label_for(defaults[OVERLAP_NAME]) == OVERLAP_NAME and "(baseline)" in OVERLAP_NAME
    assert label_for(replace(defaults[KIWI_NAME], name="kiwi-lm-2")).endswith("[zero-shot]")
    assert label_for(replace(defaults[OVERLAP_NAME], name="overlap-2")).endswith("[baseline]")
    mine = folder_entry(make_checkpoint("bert", name="tag-cola"), "checkpoints")
    assert label_for(mine).endswith("[yours]")


def test_comparison_files_built_in_scorers_under_the_kiwi_family(tmp_path):
    kiwi = _defaults(tmp_path)[KIWI_NAME]
    result = EvalResult(kiwi.name, kiwi.source, "cola", {"name": "dev.tsv"}, {"mcc": 0.2, "accuracy": 0.6}, [], 1.0)
    (row,) = _our_rows([kiwi], [result])
    assert row["family"] == "kiwi" and row["params (M)"] is None


def test_attribute_refuses_a_built_in_scorer_in_words(tmp_path, capsys, monkeypatch):
    from explorer.cli import main

    monkeypatch.setenv("EXPLORER_CACHE", str(tmp_path / "cache"))  # the defaults are listed, unprepared
    monkeypatch.setenv("EXPLORER_CHECKPOINTS", str(tmp_path))
    monkeypatch.setenv("EXPLORER_MODELS", str(tmp_path / "models.toml"))
    assert main(["attribute", "--model", KIWI_NAME, "--task", "cola", "책이 있다."]) == 1
    assert f"{KIWI_NAME} is not a transformer; it has no token attributions." in capsys.readouterr().err


def test_every_kind_has_one_scorer_class_that_declares_its_own_capabilities():
    from explorer.kiwi_features import KiwiFeatures
    from explorer.kiwi_lm import KiwiLM
    from explorer.tasks.predict import TransformerScorer

    classes = (TransformerScorer, KiwiLM, KiwiOverlap, KiwiFeatures)
    assert sorted(c.kind for c in classes) == sorted(SCORER_KINDS)
    assert all(c.capabilities is SCORER_KINDS[c.kind] for c in classes)


def test_the_service_hands_out_scorers_that_answer_on_the_one_path(tmp_path, make_checkpoint):
    from explorer.tasks.cola import ColaItem
    from explorer.tasks.predict import TransformerScorer

    explorer = Explorer(Settings(checkpoints_dir=tmp_path, models_toml=tmp_path / "models.toml",
                                 cache_dir=tmp_path / "cache", include_defaults=False))
    entry = folder_entry(make_checkpoint("bert", name="path-cola", finetuning_task="cola"), "test")
    scorer = explorer.scorer(entry, "cola", "cpu")
    assert isinstance(scorer, TransformerScorer) and scorer.loaded is explorer.load(entry, "cpu")
    items = [ColaItem("1", "책이 있다.", None), ColaItem("2", "책가 있다.", None)]
    (run,) = explorer.predict([entry], "cola", items, device="cpu")
    assert run.predictions == scorer.predict(get_task("cola"), items)
    with pytest.raises(CheckpointError, match="is a cola model"):
        explorer.scorer(entry, "wic", "cpu")
