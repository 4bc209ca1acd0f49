"""Training curves: parsing trainer_state.json, the checkpoint fallback, and the overfitting flag."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from explorer.curves import Curves, curves_frame, overfitting_signals, read_curves, state_files


def _evals(losses: list[float], mccs: list[float], steps_per_epoch: int = 10) -> list[dict]:
    history = []
    for i, (loss, mcc) in enumerate(zip(losses, mccs), start=1):
        step = i * steps_per_epoch
        train = {"epoch": float(i), "grad_norm": 1.0, "learning_rate": 1e-5, "loss": 0.7 - 0.1 * i, "step": step}
        history.append(train)
        history.append({
            "epoch": float(i), "eval_accuracy": 0.5 + mcc / 2, "eval_f1_macro": 0.5, "eval_loss": loss, "eval_mcc": mcc,
            "eval_runtime": 0.1, "eval_samples_per_second": 100.0, "eval_steps_per_second": 10.0, "step": step,
        })
    last = len(losses) * steps_per_epoch
    history.append({"epoch": float(len(losses)), "step": last, "total_flos": 1.0, "train_loss": 0.5,
                    "train_runtime": 1.0, "train_samples_per_second": 1.0, "train_steps_per_second": 1.0})
    return history


def _state(history: list[dict], best_step: int | None, folder: Path) -> dict:
    return {
        "best_global_step": best_step,
        "best_metric": max(e["eval_mcc"] for e in history if "eval_mcc" in e),
        "best_model_checkpoint": str(folder / f"checkpoint-{best_step}") if best_step else None,
        "epoch": 4.0, "global_step": history[-1]["step"], "log_history": history,
    }


def _write(folder: Path, state: dict) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "trainer_state.json").write_text(json.dumps(state), encoding="utf-8")
    return folder


# The group's CoLA run: eval loss goes up from epoch 2 while MCC keeps jumping.
RISING = ([0.60, 0.58, 0.66, 0.75], [0.20, 0.30, 0.38, 0.45])
HEALTHY = ([0.60, 0.55, 0.52, 0.50], [0.20, 0.30, 0.38, 0.45])
# Loss and metric both get worse: plain overfitting, not the pattern in question.
BOTH_WORSE = ([0.60, 0.58, 0.66, 0.75], [0.30, 0.35, 0.30, 0.25])


def test_reads_the_history_in_long_form(tmp_path):
    folder = _write(tmp_path / "run", _state(_evals(*RISING), 40, tmp_path / "run"))
    curves = read_curves(folder)
    assert isinstance(curves, Curves)
    assert list(curves.frame.columns) == ["step", "epoch", "name", "value"]
    assert curves.names == [
        "eval_accuracy", "eval_f1_macro", "eval_loss", "eval_mcc", "grad_norm", "learning_rate", "loss"
    ]
    assert curves.series("eval_loss")["value"].tolist() == RISING[0]
    assert curves.series("eval_mcc")["step"].tolist() == [10, 20, 30, 40]
    assert curves.series("eval_mcc")["epoch"].tolist() == [1.0, 2.0, 3.0, 4.0]
    assert curves.series("train_runtime").empty and curves.series("train_loss").empty
    assert (curves.best_step, curves.best_metric, curves.metric) == (40, 0.45, "mcc")
    assert curves.best_checkpoint.endswith("checkpoint-40")


def test_rising_eval_loss_with_improving_mcc_is_flagged(tmp_path):
    curves = read_curves(_write(tmp_path / "run", _state(_evals(*RISING), 40, tmp_path / "run")))
    signals = overfitting_signals(curves)
    assert len(signals) == 1
    assert "step 20 to 40" in signals[0] and "mcc" in signals[0] and "confident" in signals[0]


@pytest.mark.parametrize("pattern", [HEALTHY, BOTH_WORSE])
def test_other_patterns_are_not_flagged(tmp_path, pattern):
    curves = read_curves(_write(tmp_path / "run", _state(_evals(*pattern), 40, tmp_path / "run")))
    assert overfitting_signals(curves) == []


def test_a_short_run_with_one_clear_rise_is_flagged(tmp_path):
    # Three epochs: loss up 5 % in the last while MCC still improves — the study group's own question.
    losses, mccs = [0.60, 0.55, 0.58], [0.2, 0.3, 0.35]
    curves = read_curves(_write(tmp_path / "run", _state(_evals(losses, mccs), 30, tmp_path / "run")))
    signals = overfitting_signals(curves)
    assert len(signals) == 1 and "Eval loss rose (step 20 to 30" in signals[0]


def test_a_single_tiny_rise_is_noise(tmp_path):
    losses, mccs = [0.60, 0.55, 0.555], [0.2, 0.3, 0.35]  # +0.9 %
    curves = read_curves(_write(tmp_path / "run", _state(_evals(losses, mccs), 30, tmp_path / "run")))
    assert overfitting_signals(curves) == []
    assert len(overfitting_signals(curves, min_rises=1)) == 1


def test_metric_follows_the_finetune_summary(tmp_path):
    # A WiC run is judged by accuracy even though MCC is logged too.
    losses, mccs = [0.60, 0.62, 0.70], [0.30, 0.20, 0.10]  # mcc falls; accuracy (0.5 + mcc/2) falls too
    folder = _write(tmp_path / "run", _state(_evals(losses, mccs), 10, tmp_path / "run"))
    (folder / "explorer_finetune.json").write_text(json.dumps({"metric": "accuracy"}), encoding="utf-8")
    curves = read_curves(folder)
    assert curves.metric == "accuracy" and overfitting_signals(curves) == []


@pytest.mark.parametrize("content", [None, "", "{not json", "[]", '{"log_history": 3}', b"\xff\xfe\x00"])
def test_missing_or_corrupt_files_give_none(tmp_path, content):
    folder = tmp_path / "run"
    folder.mkdir()
    if isinstance(content, bytes):
        (folder / "trainer_state.json").write_bytes(content)
    elif content is not None:
        (folder / "trainer_state.json").write_text(content, encoding="utf-8")
    assert read_curves(folder) is None
    assert read_curves(tmp_path / "does-not-exist") is None


def test_checkpoint_fallback_takes_the_highest_step(tmp_path):
    folder = tmp_path / "run"
    history = _evals(*RISING)
    # Each checkpoint holds the history up to its step, as Trainer writes it.
    _write(folder / "checkpoint-20", _state(history[:4], 20, folder))
    _write(folder / "checkpoint-40", _state(history, 40, folder))
    _write(folder / "checkpoint-9", _state(history[:2], 10, folder))  # numeric, not text, order
    (folder / "checkpoint-x").mkdir()
    assert [p.parent.name for p in state_files(folder)] == ["checkpoint-40", "checkpoint-20", "checkpoint-9"]
    curves = read_curves(folder)
    assert curves.source == folder / "checkpoint-40" / "trainer_state.json"
    assert curves.series("eval_loss")["value"].tolist() == RISING[0]
    # A corrupt top-level file falls back to the checkpoints; a good one wins over them.
    (folder / "trainer_state.json").write_text("{", encoding="utf-8")
    assert read_curves(folder).source.parent.name == "checkpoint-40"
    _write(folder, _state(history[:2], 10, folder))
    assert read_curves(folder).source == folder / "trainer_state.json"


def test_best_step_from_the_folder_name_when_not_recorded(tmp_path):
    state = _state(_evals(*HEALTHY), 30, tmp_path / "run")
    del state["best_global_step"]
    assert read_curves(_write(tmp_path / "run", state)).best_step == 30


def test_curves_frame_overlays_runs(tmp_path):
    a = read_curves(_write(tmp_path / "a", _state(_evals(*RISING), 40, tmp_path / "a")))
    b = read_curves(_write(tmp_path / "b", _state(_evals(*HEALTHY), 20, tmp_path / "b")))
    frame = curves_frame({"a": a, "b": b})
    assert set(frame["model"]) == {"a", "b"}
    assert frame.loc[frame["best"], ["model", "step"]].drop_duplicates().values.tolist() == [["a", 40], ["b", 20]]
    assert curves_frame({}).empty


def test_parses_a_state_written_by_finetune(tmp_path, tokenizer_dir):
    helpers = pytest.importorskip("test_finetune")
    import torch
    from transformers import AutoTokenizer, BertConfig, BertModel

    from explorer.finetune import finetune

    tokenizer = AutoTokenizer.from_pretrained(tokenizer_dir)
    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=len(tokenizer), hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64,
        max_position_embeddings=64, pad_token_id=tokenizer.pad_token_id,
    )
    base = tmp_path / "base"
    BertModel(config).save_pretrained(base)
    tokenizer.save_pretrained(base)
    train, dev = helpers._task_files(tmp_path / "data", "cola")
    out = tmp_path / "ft"
    result = finetune("cola", str(base), train, dev, out, **dict(helpers.FAST, epochs=2))

    curves = read_curves(out)
    assert curves is not None and curves.source == out / "trainer_state.json"
    assert {"loss", "learning_rate", "eval_loss", "eval_mcc", "eval_accuracy"} <= set(curves.names)
    assert len(curves.series("eval_loss")) == 2 and curves.series("eval_loss")["epoch"].tolist() == [1.0, 2.0]
    assert curves.metric == "mcc"
    assert Path(curves.best_checkpoint).name == Path(result["best_checkpoint"]).name
    assert curves.best_step in curves.series("eval_mcc")["step"].tolist()
    assert isinstance(overfitting_signals(curves), list)
    # The kept checkpoints parse on their own too.
    for sub in out.glob("checkpoint-*"):
        assert read_curves(sub) is not None
