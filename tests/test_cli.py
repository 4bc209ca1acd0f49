"""`python -m explorer` as a user runs it."""

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def _cli(*args: str, env_extra: dict | None = None) -> subprocess.CompletedProcess:
    import os

    env = {**os.environ, "HF_HUB_OFFLINE": "1", **(env_extra or {})}
    return subprocess.run([sys.executable, "-m", "explorer", *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=300)


def test_predict_json_on_a_checkpoint_folder(make_checkpoint):
    folder = make_checkpoint("bert", name="cli-cola", finetuning_task="cola")
    out = _cli("predict", "--model", str(folder), "--task", "cola", "--json", "나는 학교에 갔다.", "책가 있다.", env_extra={"EXPLORER_DEFAULTS": "0"})
    assert out.returncode == 0, out.stderr
    payload = json.loads(out.stdout)
    assert [r["sentence"] for r in payload["results"]] == ["나는 학교에 갔다.", "책가 있다."]
    assert all(0 <= r["p_acceptable"] <= 1 and r["label"] in (0, 1) for r in payload["results"])


def test_predict_wic_with_fields(make_checkpoint):
    folder = make_checkpoint("electra", name="cli-wic", finetuning_task="wic")
    out = _cli("predict", "--model", str(folder), "--task", "wic", "--json", "묻|길을 물었다.|땅에 보물을 묻었다.", env_extra={"EXPLORER_DEFAULTS": "0"})
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)["results"][0]
    assert result["label"] in (0, 1) and abs(sum(result["probs"]) - 1) < 1e-5
    bad = _cli("predict", "--model", str(folder), "--task", "wic", "묻|한 문장뿐", env_extra={"EXPLORER_DEFAULTS": "0"})
    assert bad.returncode == 2 and "3 fields" in bad.stderr


def test_predict_with_a_default_model_by_name(prepared):
    out = _cli("predict", "--model", "demo-bert-cola", "--task", "cola", "할머니께서 진지를 드셨다.")
    assert out.returncode == 0, out.stderr
    prob, verdict, sentence = out.stdout.strip().split("\t")
    assert 0 <= float(prob) <= 1 and verdict in {"acceptable", "unacceptable"} and sentence == "할머니께서 진지를 드셨다."


def test_unloadable_model_exits_non_zero_with_a_message(tmp_path):
    (tmp_path / "broken-cola").mkdir()
    out = _cli("predict", "--model", str(tmp_path / "broken-cola"), "--task", "cola", "문장.", env_extra={"EXPLORER_DEFAULTS": "0"})
    assert out.returncode == 1 and "config.json" in out.stderr and "Traceback" not in out.stderr
    out = _cli("predict", "--model", "no-such-model", "문장.", env_extra={"EXPLORER_DEFAULTS": "0"})
    assert out.returncode == 1 and "No model named" in out.stderr


def test_empty_sentences_are_refused(make_checkpoint):
    folder = make_checkpoint("bert", name="cli-empty-cola")
    out = _cli("predict", "--model", str(folder), "   ", env_extra={"EXPLORER_DEFAULTS": "0"})
    assert out.returncode == 2 and "no input" in out.stderr


def test_models_json_lists_sources_and_inference(tmp_path, make_checkpoint):
    import shutil

    ckpts = tmp_path / "ckpts"
    ckpts.mkdir()
    shutil.copytree(make_checkpoint("electra", name="m", finetuning_task="cola"), ckpts / "kobert-run")
    out = _cli("models", "--json", "--checkpoints", str(ckpts), env_extra={"EXPLORER_DEFAULTS": "0"})
    assert out.returncode == 0, out.stderr
    models = {m["name"]: m for m in json.loads(out.stdout)["models"]}
    assert models["kobert-run"]["task"] == "cola" and "finetuning_task" in models["kobert-run"]["task_how"]


def test_attribute_prints_tokens_scores_and_delta(make_checkpoint):
    folder = make_checkpoint("bert", name="cli-attr-cola", finetuning_task="cola")
    out = _cli("attribute", "--model", str(folder), "--task", "cola", "--steps", "64", "--json", "책이 있다.",
               env_extra={"EXPLORER_DEFAULTS": "0"})
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)["results"][0]
    assert result["tokens"][0]["token"] == "[CLS]" and result["delta"] is not None
    scores = sum(t["score"] for t in result["tokens"])
    assert isinstance(scores, float)
    mc = make_checkpoint("bert", name="cli-attr-copa", head="multiple_choice")
    out = _cli("attribute", "--model", str(mc), "--task", "copa", "--method", "saliency",
               "비가 왔다.|결과|길이 젖었다.|해가 떴다.", env_extra={"EXPLORER_DEFAULTS": "0"})
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("# 비가 왔다.")
    # A COPA pair classifier (sequence head) reads each alternative as its own pair.
    pair = make_checkpoint("bert", name="cli-attr-copa-pairs", finetuning_task="copa")
    out = _cli("attribute", "--model", str(pair), "--task", "copa", "--method", "saliency", "--json",
               "비가 왔다.|결과|길이 젖었다.|해가 떴다.", env_extra={"EXPLORER_DEFAULTS": "0"})
    assert out.returncode == 0, out.stderr
    inputs = [r["input"] for r in json.loads(out.stdout)["results"]]
    assert len(inputs) == 2 and inputs[0].endswith("길이 젖었다.") and inputs[1].endswith("해가 떴다.")
