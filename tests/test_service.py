import psutil
import pytest
import torch

from explorer.cache import weight_bytes
from explorer.tasks.boolq import BoolqItem
from explorer.registry import ModelEntry, folder_entry
from explorer.service import Explorer, TaskRun, resolve_device
from explorer.settings import DEFAULT_CACHE_SHARE, Settings, load_settings
from explorer.tasks.cola import ColaItem
from explorer.tasks.predict import Prediction
from explorer.tasks.results import matrix_frame


def _run(name: str, probs: list[float], error: str | None = None) -> TaskRun:
    predictions = [Prediction(int(p >= 0.5), [1 - p, p]) for p in probs]
    return TaskRun(ModelEntry(name=name, source=name), [] if error else predictions, error)


def _items(sentences: list[str]) -> list[ColaItem]:
    return [ColaItem(str(n), s, None) for n, s in enumerate(sentences)]


def test_agreement_majority_split_and_failed_models_left_out():
    runs = [_run("a", [0.9, 0.2, 0.6]), _run("b", [0.8, 0.7, 0.1]), _run("c", [0.7, 0.1, 0.9]), _run("d", [0.5], error="broken")]
    table = matrix_frame("cola", _items(["s0", "s1", "s2"]), runs)
    assert list(table.columns) == ["sentence", "P(acceptable) · a", "P(acceptable) · b", "P(acceptable) · c", "verdict", "agreement", "notes"]
    assert list(table["verdict"]) == ["acceptable", "unacceptable", "acceptable"]
    assert list(table["agreement"]) == [1.0, 2 / 3, 2 / 3]


def test_a_tie_is_a_split_not_a_verdict():
    table = matrix_frame("cola", _items(["s0"]), [_run("a", [0.9]), _run("b", [0.1])])
    assert table.loc[0, "verdict"] == "split" and table.loc[0, "agreement"] == 0.5


# --------------------------------------------------------------------------- the shared model cache


def _explorer(tmp_path, **settings) -> Explorer:
    return Explorer(Settings(checkpoints_dir=tmp_path, models_toml=tmp_path / "models.toml", cache_dir=tmp_path / "cache",
                             include_defaults=False, **settings))


def test_auto_and_the_device_it_resolves_to_share_one_copy(tmp_path, make_checkpoint):
    explorer = _explorer(tmp_path, device="auto")
    entry = folder_entry(make_checkpoint("bert", name="dev-cola", finetuning_task="cola"), "test")
    loaded = explorer.load(entry)  # the settings' "auto"
    assert explorer.load(entry, resolve_device("auto")) is loaded
    if not torch.cuda.is_available():
        # "cuda" on a machine without one runs on the CPU, like "auto" and "cpu": still one copy.
        assert explorer.load(entry, "cpu") is loaded and explorer.load(entry, "cuda") is loaded
    assert len(explorer.cache.keys()) == 1 and explorer.cache.bytes_used() == weight_bytes(loaded)


def test_home_knows_which_models_are_loaded_without_reading_cache_keys(tmp_path, make_checkpoint):
    explorer = _explorer(tmp_path, device="auto")
    entry = folder_entry(make_checkpoint("bert", name="shown-cola", finetuning_task="cola"), "test")
    kiwi = ModelEntry("Kiwi LM", "kiwi", kind="kiwi-lm")
    assert not explorer.is_loaded(entry) and not explorer.is_loaded(kiwi)
    explorer.load(entry, "cpu")
    assert explorer.is_loaded(entry) and not explorer.is_loaded(kiwi)


def test_a_model_replaced_on_disk_is_loaded_anew(tmp_path, make_checkpoint):
    """prepare --data retrains into the same folder; a classmate copies a new epoch over the old one. The next
    rerun must answer with the new weights, and the old ones must leave memory."""
    import os
    import shutil

    explorer = _explorer(tmp_path, device="cpu")
    folder = tmp_path / "peer-cola"
    shutil.copytree(make_checkpoint("bert", name="v1-cola", finetuning_task="cola", seed=1), folder)
    entry = folder_entry(folder, "test")
    old = explorer.load(entry)
    assert explorer.load(entry) is old  # unchanged on disk: the same copy

    shutil.rmtree(folder)
    shutil.copytree(make_checkpoint("bert", name="v2-cola", finetuning_task="cola", seed=2), folder)
    newest = max(f.stat().st_mtime_ns for f in folder.iterdir())
    for f in folder.iterdir():  # copied within the same clock tick on a coarse file system: still a new stamp
        os.utime(f, ns=(newest + 10**9, newest + 10**9))
    new = explorer.load(entry)

    assert new is not old
    weights = {name: p for name, p in new.model.named_parameters()}
    assert any(not torch.equal(p, weights[name]) for name, p in old.model.named_parameters())
    assert len(explorer.cache.keys()) == 1 and explorer.cache.bytes_used() == weight_bytes(new)
    assert explorer.is_loaded(entry)


def test_loading_past_the_byte_budget_drops_the_least_recently_used(tmp_path, make_checkpoint):
    entries = [folder_entry(make_checkpoint("bert", name=f"lru-{i}-cola", finetuning_task="cola", seed=i), "test")
               for i in range(3)]
    explorer = _explorer(tmp_path, device="cpu", max_models=9)
    one = weight_bytes(explorer.load(entries[0]))
    explorer.cache.clear()
    explorer.cache.max_bytes = int(2.5 * one)  # room for two
    first = explorer.load(entries[0])
    explorer.load(entries[1])
    assert explorer.load(entries[0]) is first  # used again: entries[1] is now the oldest
    explorer.load(entries[2])
    assert [k.split("@")[0] for k in explorer.cache.keys()] == [entries[0].source, entries[2].source]
    assert explorer.cache.bytes_used() == 2 * one


def test_loaded_tokenizers_are_guarded_for_concurrent_sessions(tmp_path, make_checkpoint):
    explorer = _explorer(tmp_path, device="cpu")
    loaded = explorer.load(folder_entry(make_checkpoint("bert", name="tok-cola", finetuning_task="cola"), "test"))
    assert getattr(loaded.tokenizer, "_explorer_thread_safe", False)


def test_a_boolq_question_longer_than_the_model_is_refused_by_name(tmp_path, make_checkpoint):
    """Only the passage may be cut; a question that fills the model alone gets a message, not a tokenizer traceback."""
    explorer = _explorer(tmp_path, device="cpu")
    entry = folder_entry(make_checkpoint("bert", name="long-boolq", finetuning_task="boolq"), "test")
    question = " ".join(["비가 와서 길이 미끄럽다"] * 30) + "?"
    items = [BoolqItem("1", "짧은 글이다.", "짧은 질문인가?", None), BoolqItem("2", "짧은 글이다.", question, None)]
    (run,) = explorer.predict([entry], "boolq", items)
    assert run.error and "input 2" in run.error and "question" in run.error and "Shorten it" in run.error
    (ok,) = explorer.predict([entry], "boolq", items[:1])
    assert ok.error is None and len(ok.predictions) == 1


# --------------------------------------------------------------------------- settings


def test_cache_budget_from_flag_or_environment():
    assert load_settings(["--cache-mb", "300"], {"EXPLORER_CACHE_MB": "100"}).cache_bytes == 300 * 2**20
    assert load_settings([], {"EXPLORER_CACHE_MB": "100"}).cache_bytes == 100 * 2**20
    default = load_settings([], {})
    assert default.cache_mb is None
    assert default.cache_bytes == int(psutil.virtual_memory().total * DEFAULT_CACHE_SHARE)


@pytest.mark.parametrize("value", ["0", "-5", "lots", "1.5"])
def test_a_bad_cache_budget_is_refused_with_a_message(value):
    with pytest.raises(ValueError, match="EXPLORER_CACHE_MB must be a whole number of megabytes"):
        load_settings([], {"EXPLORER_CACHE_MB": value})
    with pytest.raises(ValueError, match="--cache-mb must be"):
        load_settings(["--cache-mb", value], {})


def test_a_rerun_with_the_same_inputs_does_no_model_work(tmp_path, make_checkpoint, monkeypatch):
    from explorer.tasks import predict as predict_module

    explorer = _explorer(tmp_path, device="cpu")
    entry = folder_entry(make_checkpoint("bert", name="memo-cola", finetuning_task="cola"), "test")
    scored = []
    real = predict_module._predict_checkpoint
    monkeypatch.setattr(predict_module, "_predict_checkpoint",
                        lambda loaded, task, items, *rest: scored.append(len(items)) or real(loaded, task, items, *rest))
    items = _items(["나는 학교에 갔다.", "책가 있다."])
    first = explorer.predict([entry], "cola", items)[0].predictions
    again = explorer.predict([entry], "cola", items)[0].predictions
    assert scored == [2] and again == first and again[0] is not first[0]  # no forward pass; callers' own objects
    more = explorer.predict([entry], "cola", _items(["나는 학교에 갔다.", "새 문장이다."]))[0].predictions
    assert scored == [2, 1] and more[0] == first[0]  # only the new sentence is scored
    # A model loaded anew (dropped from the cache, then asked again) starts with nothing remembered.
    explorer.cache.clear()
    explorer.predict([entry], "cola", items)
    assert scored == [2, 1, 2]


def test_the_prediction_memo_is_bounded_and_forgets_a_freed_model():
    import gc

    from explorer.cache import PredictionMemo

    class Model:
        pass

    memo, model = PredictionMemo(per_scorer=3), Model()
    for k in range(5):
        memo.put(model, ("cola", None, k), k)
    assert len(memo) == 3 and memo.get(model, ("cola", None, 0)) is None and memo.get(model, ("cola", None, 4)) == 4
    del model
    gc.collect()
    assert len(memo) == 0  # no answer outlives the model that gave it
