"""Precision as a choice: fp32 by default, bf16 only where the hardware runs it, and every number says which."""

from __future__ import annotations

import json

import pytest
import torch

from explorer import device as device_module
from explorer.cli import PRECISIONS as CLI_PRECISIONS
from explorer.cli import main
from explorer.data.readers import Dataset
from explorer.evaluate import ResultStore, evaluate, metrics_frame
from explorer.loading import load_model
from explorer.registry import folder_entry
from explorer.service import TaskRun
from explorer.tasks.cola import ColaItem
from explorer.tasks.predict import predict_items
from explorer.tasks.results import results_frame

SENTENCES = ["나는 어제 학교에 갔다.", "책가 책상 위에 있다.", "할머니께서 시장에서 떡을 파셨다.", "비가 와서 길이 미끄럽다."]
needs_bf16 = pytest.mark.skipif(not device_module.cpu_has_bf16(), reason="this CPU has no AMX/AVX512-BF16")


def _items():
    return [ColaItem(str(k), s, k % 2) for k, s in enumerate(SENTENCES)]


@pytest.fixture
def loaded(make_checkpoint):
    return load_model(folder_entry(make_checkpoint("bert", name="prec-cola", finetuning_task="cola", seed=3), "test"),
                      "cpu")


def test_the_cli_offers_the_precisions_the_device_module_knows():
    assert CLI_PRECISIONS == device_module.PRECISIONS


def test_bf16_is_refused_on_a_cpu_without_bf16_hardware(monkeypatch, loaded, capsys):
    monkeypatch.setattr(device_module, "cpu_has_bf16", lambda: False)
    cpu = torch.device("cpu")
    assert device_module.available_precisions(cpu) == ["fp32"]
    assert "AMX or AVX512-BF16" in device_module.precision_problem("bf16", cpu)
    with pytest.raises(ValueError, match="AMX or AVX512-BF16"):
        predict_items(loaded, "cola", _items(), precision="bf16")
    assert main(["predict", "--model", loaded.entry.source, "--precision", "bf16", "--device", "cpu", "가."]) == 2
    assert "--precision bf16: bf16 needs a CPU with AMX or AVX512-BF16" in capsys.readouterr().err


@needs_bf16
def test_bf16_answers_close_to_fp32_and_the_result_says_which(loaded, tmp_path):
    fp32 = predict_items(loaded, "cola", _items())
    bf16 = predict_items(loaded, "cola", _items(), precision="bf16")
    assert max(abs(a.probs[1] - b.probs[1]) for a, b in zip(fp32, bf16)) < 0.05
    entry = loaded.entry
    dataset = Dataset("cola", "test", _items(), True, "prec.tsv", len(SENTENCES), sha256="0" * 12)
    result = evaluate(loaded, entry, dataset, precision="bf16")
    assert result.precision == "bf16" and metrics_frame([result])["precision"].tolist() == ["bf16"]
    store = ResultStore(tmp_path)
    path = store.save(result)
    assert json.loads(path.read_text(encoding="utf-8"))["precision"] == "bf16"
    assert store.load_all()[0].precision == "bf16"
    frame = results_frame("cola", _items()[0], [TaskRun(entry, bf16[:1], precision="bf16")])
    assert frame["precision"].tolist() == ["bf16"]


def test_results_saved_before_precision_was_a_choice_read_as_fp32(loaded, tmp_path):
    dataset = Dataset("cola", "test", _items(), True, "prec.tsv", len(SENTENCES), sha256="0" * 12)
    store = ResultStore(tmp_path)
    path = store.save(evaluate(loaded, loaded.entry, dataset))
    raw = json.loads(path.read_text(encoding="utf-8"))
    raw.pop("precision")
    path.write_text(json.dumps(raw), encoding="utf-8")
    assert store.load_all()[0].precision == "fp32"
    # an fp32 table stays as it was: no precision column
    frame = results_frame("cola", _items()[0], [TaskRun(loaded.entry, predict_items(loaded, "cola", _items()[:1]))])
    assert "precision" not in frame.columns
