"""`evaluate`: metrics equal scikit-learn's on the same predictions; results are kept."""

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest
from sklearn.metrics import accuracy_score, confusion_matrix, f1_score, matthews_corrcoef

from conftest import SHARED_DATA
from explorer.data.readers import read_dataset
from explorer.evaluate import ResultStore, disagreements, evaluate, slice_metrics
from explorer.loading import load_model
from explorer.registry import folder_entry

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
