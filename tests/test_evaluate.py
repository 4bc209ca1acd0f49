"""`evaluate`: metrics equal scikit-learn's on the same predictions; results are kept."""

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest
from sklearn.metrics import accuracy_score, confusion_matrix, f1_score, matthews_corrcoef

from conftest import SHARED_DATA
from explorer.tasks.boolq import BoolqItem
from explorer.tasks.cola import ColaItem
from explorer.tasks.copa import CopaItem
from explorer.tasks.registry import read_dataset
from explorer.tasks.wic import WicItem
from explorer.evaluate import ResultStore, disagreements, evaluate, slice_metrics
from explorer.loading import load_model
from explorer.registry import folder_entry
from explorer.tasks.registry import get as get_task

REPO = Path(__file__).resolve().parent.parent


def _write_cola(path: Path, n: int = 40) -> Path:
    from explorer.defaults.korean import generate_cola

    lines = ["source\tacceptability_label\tsource_annotation\tsentence"]
    for i, e in enumerate(generate_cola(n, seed=8)):
        lines.append(f"G{i}\t{e.label}\t{'' if e.label else '*'}\t{e.sentence}")
    path.write_text("\r\n".join(lines) + "\r\n", encoding="utf-8")
    return path


def _check_against_sklearn(metrics: dict, rows: list[dict]) -> None:
    gold = [r["gold"] for r in rows]
    pred = [r["pred"] for r in rows]
    assert metrics["n"] == len(rows)
    assert metrics["accuracy"] == pytest.approx(accuracy_score(gold, pred), abs=1e-12)
    assert metrics["mcc"] == pytest.approx(matthews_corrcoef(gold, pred), abs=1e-12)
    assert metrics["f1_macro"] == pytest.approx(f1_score(gold, pred, labels=[0, 1], average="macro"), abs=1e-12)
    assert metrics["confusion"] == confusion_matrix(gold, pred, labels=[0, 1]).tolist()


def test_cli_evaluate_writes_metrics_and_predictions(tmp_path, make_checkpoint):
    folder = make_checkpoint("bert", name="eval-cola", finetuning_task="cola", seed=3)
    data = _write_cola(tmp_path / "NIKL_CoLA_dev.tsv")
    out, preds = tmp_path / "metrics.json", tmp_path / "preds.tsv"
    proc = subprocess.run(
        [sys.executable, "-m", "explorer", "evaluate", "--model", str(folder), "--task", "cola", "--data", str(data),
         "--out", str(out), "--predictions", str(preds), "--batch-size", "7"],
        cwd=REPO, capture_output=True, text=True, timeout=300,
        env={**__import__("os").environ, "EXPLORER_DEFAULTS": "0", "EXPLORER_RESULTS": str(tmp_path / "results")},
    )
    assert proc.returncode == 0, proc.stderr
    metrics = json.loads(out.read_text(encoding="utf-8"))
    assert metrics["task"] == "cola" and metrics["data"]["name"] == "NIKL_CoLA_dev.tsv" and metrics["model"] == "eval-cola"
    with preds.open(encoding="utf-8") as fh:
        rows = [{**r, "gold": int(r["gold"]), "pred": int(r["pred"])} for r in csv.DictReader(fh, delimiter="\t")]
    assert len(rows) == 40 and all(0 <= float(r["prob"]) <= 1 for r in rows)
    _check_against_sklearn(metrics, rows)
    saved = ResultStore(tmp_path / "results").load_all()
    assert len(saved) == 1 and saved[0].metrics["mcc"] == metrics["mcc"]


def test_unlabelled_file_gives_predictions_only(tmp_path, make_checkpoint):
    folder = make_checkpoint("bert", name="eval-test-cola")
    path = tmp_path / "NIKL_CoLA_test.tsv"
    path.write_text("index\tsentence\tacceptability_label\n1\t책이 있다.\t\n2\t책가 있다.\t\n", encoding="utf-8")
    dataset = read_dataset(path)
    loaded = load_model(folder_entry(folder, "checkpoints"), "cpu")
    result = evaluate(loaded, loaded.entry, dataset)
    assert result.metrics is None and [r["gold"] for r in result.predictions] == [None, None]


def test_slices_and_disagreements(tmp_path, make_checkpoint):
    data = read_dataset(_write_cola(tmp_path / "cola.tsv", 30))
    results = []
    for seed, name in ((1, "a-cola"), (2, "b-cola")):
        loaded = load_model(folder_entry(make_checkpoint("electra", name=name, seed=seed), "checkpoints"), "cpu")
        results.append(evaluate(loaded, loaded.entry, data))
    slices = slice_metrics(data, results[0])
    assert sum(s["n"] for s in slices if s["slice"] == "length") == 30
    differ = disagreements(data, results)
    for row in differ:
        assert row["a-cola"] != row["b-cola"]


COLA = ColaItem("1", "책이 있다.", 1)
WIC = WicItem("2", "배", "배가 아프다.", "배를 타고 멀리 있는 섬으로 천천히 갔다.", (0, 1), (0, 1), 0)
COPA = CopaItem("3", "비가 왔다.", "effect", ("길이 젖었다.", "해가 떴다."), 0)
BOOLQ = BoolqItem("4", "가" * 200, "한강은 서울에 있나요?", 1)


def test_each_task_renders_its_items_on_one_line():
    # The wording tables, the TSV and the CLI show; the CLI passes items without their task.
    assert get_task("cola").text(COLA) == "책이 있다."
    assert get_task("wic").text(WIC) == "배 | 배가 아프다. | 배를 타고 멀리 있는 섬으로 천천히 갔다."
    assert get_task("copa").text(COPA) == "비가 왔다. (effect) 1) 길이 젖었다. 2) 해가 떴다."
    assert get_task("boolq").text(BOOLQ) == "한강은 서울에 있나요? | " + "가" * 120  # a long passage shows its start


def test_slices_come_from_the_task():
    assert get_task("cola").slices(COLA) == {"length": "≤20 chars"}
    # WiC's length is its longer sentence (23 characters); seen/unseen only with the training targets.
    assert get_task("wic").slices(WIC) == {"length": "21–40"}
    assert get_task("wic").slices(WIC, {"배", "눈"})["target in train"] == "seen"
    assert get_task("wic").slices(WIC, {"눈"})["target in train"] == "unseen"
    assert get_task("copa").slices(COPA) == {"length": "≤20 chars", "question": "effect"}
    assert get_task("boolq").slices(BOOLQ) == {"length": ">160"}  # by the passage, not the question


def test_saving_again_replaces_the_same_model_and_file(tmp_path, make_checkpoint):
    data = read_dataset(_write_cola(tmp_path / "cola.tsv", 10))
    loaded = load_model(folder_entry(make_checkpoint("bert", name="r-cola"), "checkpoints"), "cpu")
    store = ResultStore(tmp_path / "results")
    store.save(evaluate(loaded, loaded.entry, data))
    store.save(evaluate(loaded, loaded.entry, data))
    assert len(store.load_all()) == 1


@pytest.mark.skipif(not (SHARED_DATA / "nikl2021").is_dir(), reason="../shared/data is absent")
def test_demo_model_on_the_real_nikl_cola_dev_file_matches_sklearn(prepared):
    from explorer.service import Explorer

    explorer = Explorer(prepared)
    dataset = read_dataset(SHARED_DATA / "nikl2021" / "cola" / "NIKL_CoLA_dev.tsv")
    assert len(dataset.items) == 2032
    entry = explorer.entry("demo-electra-cola")
    result = evaluate(explorer.task_model(entry, "cola", "cpu"), entry, dataset, batch_size=64)
    _check_against_sklearn(result.metrics, result.predictions)


# --------------------------------------------------------------------------- a bad run never replaces a good result


def _result(model="m-cola", source="/ckpts/a/m-cola", n=3, predictions=None, created="2025-01-01T00:00:00+00:00"):
    from explorer.evaluate import EvalResult

    rows = predictions if predictions is not None else [
        {"id": str(i), "gold": 1, "pred": 1, "prob": 0.9, "text": "문장."} for i in range(n)
    ]
    data = {"name": "cola.tsv", "path": "cola.tsv", "format": "nikl2021_cola", "n": n, "sha256": "abc"}
    return EvalResult(model, source, "cola", data, None, rows, 0.1, created)


def test_a_result_short_of_its_file_is_refused_and_the_saved_one_kept(tmp_path):
    from explorer.evaluate import IncompleteResult

    store = ResultStore(tmp_path / "results")
    store.save(_result())
    with pytest.raises(IncompleteResult, match="0 predictions but cola.tsv has 3 items"):
        store.save(_result(predictions=[]))
    [kept] = store.load_all()
    assert len(kept.predictions) == 3


def test_evaluate_refuses_a_batch_size_below_one(tmp_path, make_checkpoint):
    data = read_dataset(_write_cola(tmp_path / "cola.tsv", 4))
    loaded = load_model(folder_entry(make_checkpoint("bert", name="bs-cola"), "checkpoints"), "cpu")
    for bad in (0, -1):
        with pytest.raises(ValueError, match="batch size"):
            evaluate(loaded, loaded.entry, data, batch_size=bad)


def test_checkpoints_named_alike_keep_separate_results(tmp_path):
    store = ResultStore(tmp_path / "results")
    store.save(_result(source=str(tmp_path / "alice" / "kobert-cola"), model="kobert-cola"))
    store.save(_result(source=str(tmp_path / "bob" / "kobert-cola"), model="kobert-cola"))
    assert sorted(r.model_source for r in store.load_all()) == [str(tmp_path / d / "kobert-cola") for d in ("alice", "bob")]


def test_a_result_saved_under_the_old_name_key_is_read_and_then_replaced(tmp_path):
    store = ResultStore(tmp_path / "results")
    old = _result(created="2024-01-01T00:00:00+00:00")
    legacy = store._legacy_path(old)
    legacy.parent.mkdir(parents=True)
    legacy.write_text(json.dumps(old.to_json()), encoding="utf-8")
    assert [r.created for r in store.load_all()] == [old.created]
    store.save(_result(created="2025-06-01T00:00:00+00:00"))
    assert [r.created for r in store.load_all()] == ["2025-06-01T00:00:00+00:00"]
    assert not legacy.exists()


def test_concurrent_saves_of_one_result_never_collide(tmp_path):
    """Before unique temp names, 600 saves from 8 threads raised FileNotFoundError about 10 times."""
    from concurrent.futures import ThreadPoolExecutor

    store = ResultStore(tmp_path / "results")
    result = _result()
    with ThreadPoolExecutor(8) as pool:
        failures = [f.exception() for f in [pool.submit(store.save, result) for _ in range(600)] if f.exception()]
    assert failures == []
    assert [p.suffix for p in (tmp_path / "results").iterdir()] == [".json"]
    assert len(store.load_all()) == 1


def test_stale_temp_files_are_removed_and_fresh_ones_kept(tmp_path):
    import os
    import time

    folder = tmp_path / "results"
    folder.mkdir()
    stale, fresh = folder / "cola__x.abc.tmp", folder / "cola__y.def.tmp"
    for tmp in (stale, fresh):
        tmp.write_text("{", encoding="utf-8")
    two_hours_ago = time.time() - 7200
    os.utime(stale, (two_hours_ago, two_hours_ago))
    ResultStore(folder).load_all()
    assert not stale.exists() and fresh.exists()


def test_load_all_skips_fifos_devices_oversized_and_incomplete_files(tmp_path, monkeypatch):
    import os

    import explorer.evaluate as ev

    store = ResultStore(tmp_path / "results")
    store.save(_result())
    folder = tmp_path / "results"
    os.mkfifo(folder / "fifo.json")
    (folder / "zero.json").symlink_to("/dev/zero")
    (folder / "empty-run.json").write_text(json.dumps(_result(n=5, predictions=[]).to_json()), encoding="utf-8")
    big = _result(source="/other/big-cola", n=300)
    (folder / "big.json").write_text(json.dumps(big.to_json()), encoding="utf-8")
    monkeypatch.setattr(ev, "RESULT_LIMIT", (folder / "big.json").stat().st_size - 1)
    assert [r.model_source for r in store.load_all()] == ["/ckpts/a/m-cola"]
