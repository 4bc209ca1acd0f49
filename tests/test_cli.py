"""`python -m explorer` as a user runs it."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from explorer.cli import main

REPO = Path(__file__).resolve().parent.parent


def _cli_process(*args: str, env_extra: dict | None = None) -> subprocess.CompletedProcess:
    """`python -m explorer ARGS` as its own process, exactly as a user runs it."""
    import os

    env = {**os.environ, "HF_HUB_OFFLINE": "1", **(env_extra or {})}
    return subprocess.run([sys.executable, "-m", "explorer", *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=300)


def _cli(*args: str, env_extra: dict | None = None) -> subprocess.CompletedProcess:
    """The same CLI run in this process: what it prints and its exit code, without paying for a fresh
    interpreter's torch import each time (seconds per call; `_cli_process` keeps one whole-process check)."""
    import contextlib
    import io
    import os

    out, err = io.StringIO(), io.StringIO()
    saved = {k: os.environ.get(k) for k in (env_extra or {})}
    os.environ.update(env_extra or {})
    try:
        with contextlib.chdir(REPO), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = main(list(args))
            except SystemExit as exc:  # argparse refusals exit 2, as in a process
                code = exc.code if isinstance(exc.code, int) else int(exc.code is not None)
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    return subprocess.CompletedProcess(list(args), code, out.getvalue(), err.getvalue())


def test_predict_json_on_a_checkpoint_folder(make_checkpoint):
    folder = make_checkpoint("bert", name="cli-cola", finetuning_task="cola")
    out = _cli_process("predict", "--model", str(folder), "--task", "cola", "--json", "나는 학교에 갔다.", "책가 있다.",
                       env_extra={"EXPLORER_DEFAULTS": "0"})
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


# --------------------------------------------------------------------------- bad inputs: a message, never a traceback

COLA_TEST = "index\tsentence\tacceptability_label\n1\t책이 있다.\t\n2\t책가 있다.\t\n"


@pytest.fixture
def offline(tmp_path, monkeypatch):
    """In-process CLI runs with no default models and results under tmp_path."""
    for key, value in {"EXPLORER_DEFAULTS": "0", "EXPLORER_RESULTS": str(tmp_path / "results"), "HF_HUB_OFFLINE": "1",
                       "EXPLORER_CHECKPOINTS": str(tmp_path / "no-checkpoints"),
                       "EXPLORER_MODELS": str(tmp_path / "models.toml")}.items():
        monkeypatch.setenv(key, value)
    return tmp_path


@pytest.mark.parametrize("argv, flag", [
    (["evaluate", "--model", "m", "--task", "cola", "--data", "d.tsv", "--batch-size", "-1"], "--batch-size"),
    (["evaluate", "--model", "m", "--task", "cola", "--data", "d.tsv", "--batch-size", "0"], "--batch-size"),
    (["evaluate", "--model", "m", "--task", "cola", "--data", "d.tsv", "--batch-size", "many"], "--batch-size"),
    (["attribute", "--model", "m", "--steps", "0", "문장."], "--steps"),
    (["attribute", "--model", "m", "--steps", "100000", "문장."], "--steps"),
    (["finetune", "--task", "cola", "--base", "b", "--train", "t", "--dev", "d", "--out", "o", "--epochs", "0"], "--epochs"),
    (["finetune", "--task", "cola", "--base", "b", "--train", "t", "--dev", "d", "--out", "o", "--lr", "nan"], "--lr"),
    (["finetune", "--task", "cola", "--base", "b", "--train", "t", "--dev", "d", "--out", "o", "--lr", "-1e-5"], "--lr"),
    (["finetune", "--task", "cola", "--base", "b", "--train", "t", "--dev", "d", "--out", "o", "--max-length", "4"], "--max-length"),
    (["finetune", "--task", "cola", "--base", "b", "--train", "t", "--dev", "d", "--out", "o", "--max-train", "0"], "--max-train"),
    (["finetune", "--task", "cola", "--base", "b", "--train", "t", "--dev", "d", "--out", "o", "--seed", "-1"], "--seed"),
    (["models", "--max-models", "0"], "--max-models"),
])
def test_numeric_options_out_of_range_exit_2_with_the_flag_named(argv, flag, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    err = capsys.readouterr().err
    assert exit_.value.code == 2 and f"argument {flag}:" in err and "Traceback" not in err


def test_a_negative_batch_size_leaves_the_saved_result_alone(tmp_path, make_checkpoint):
    """The issue's run: `--batch-size -1` on an unlabelled file used to save 0 predictions over the result."""
    folder = make_checkpoint("bert", name="cli-keep-cola")
    data = tmp_path / "NIKL_CoLA_test.tsv"
    data.write_text(COLA_TEST, encoding="utf-8")
    env = {"EXPLORER_DEFAULTS": "0", "EXPLORER_RESULTS": str(tmp_path / "results")}
    args = ["evaluate", "--model", str(folder), "--task", "cola", "--data", str(data)]
    assert _cli(*args, env_extra=env).returncode == 0
    [saved] = list((tmp_path / "results").glob("*.json"))
    before = saved.read_bytes()
    bad = _cli(*args, "--batch-size", "-1", env_extra=env)
    assert bad.returncode == 2 and "--batch-size" in bad.stderr and "Traceback" not in bad.stderr
    assert saved.read_bytes() == before and len(json.loads(before)["predictions"]) == 2


@pytest.mark.parametrize("flag", ["--out", "--predictions"])
def test_an_output_in_a_missing_folder_is_refused_before_any_work(flag, offline, capsys):
    data = offline / "test.tsv"
    data.write_text(COLA_TEST, encoding="utf-8")
    target = offline / "missing" / "file"
    code = main(["evaluate", "--model", "not-loaded", "--task", "cola", "--data", str(data), flag, str(target)])
    err = capsys.readouterr().err
    assert code == 2 and "does not exist; create it first" in err and flag in err
    assert not (offline / "missing").exists() and not (offline / "results").exists()


def test_an_output_that_is_a_folder_is_refused(offline, capsys):
    data = offline / "test.tsv"
    data.write_text(COLA_TEST, encoding="utf-8")
    code = main(["evaluate", "--model", "m", "--task", "cola", "--data", str(data), "--out", str(offline)])
    assert code == 2 and "is a folder; give a file name" in capsys.readouterr().err


def test_finetune_out_under_a_file_is_refused_before_any_work(offline, capsys):
    (offline / "a-file").write_text("x")
    code = main(["finetune", "--task", "cola", "--base", "b", "--train", "t", "--dev", "d",
                 "--out", str(offline / "a-file" / "run")])
    assert code == 2 and "is not a folder" in capsys.readouterr().err


def _odd_data(tmp_path):
    import os

    (tmp_path / "empty.tsv").write_bytes(b"")
    (tmp_path / "binary.tsv").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    (tmp_path / "one-line.tsv").write_bytes(b"y" * 2_000_000)
    os.mkfifo(tmp_path / "fifo.tsv")
    return {
        "/dev/zero": "not a regular file (a character device)",
        str(tmp_path / "fifo.tsv"): "not a regular file (a FIFO)",
        str(tmp_path): "not a regular file (a folder)",
        str(tmp_path / "nothing-here.tsv"): "No such file",
        str(tmp_path / "binary.tsv"): "NUL byte",
        str(tmp_path / "empty.tsv"): "the file is empty",
        str(tmp_path / "one-line.tsv"): "unrecognised header",
    }


def test_unreadable_data_files_get_one_short_message(offline, capsys):
    for path, expected in _odd_data(offline).items():
        code = main(["evaluate", "--model", "m", "--task", "cola", "--data", path])
        err = capsys.readouterr().err
        assert code == 2 and expected in err, (path, err[:300])
        assert "Traceback" not in err and len(err) < 1500, (path, len(err))


def test_attribute_with_no_input_says_so(offline, capsys):
    for inputs in ([""], ["   ", "\u200b"]):
        code = main(["attribute", "--model", "never-loaded", *inputs])
        assert code == 2 and "no input" in capsys.readouterr().err


def test_empty_arguments_among_inputs_are_named(make_checkpoint, offline, capsys):
    folder = make_checkpoint("bert", name="cli-gaps-cola")
    code = main(["predict", "--model", str(folder), "--json", "책이 있다.", "", "책가 있다.", "  "])
    out, err = capsys.readouterr()
    assert code == 0 and "skipped empty input(s) at position(s) 2, 4 of 4" in err
    assert [r["sentence"] for r in json.loads(out)["results"]] == ["책이 있다.", "책가 있다."]


def test_a_bad_input_is_named_by_its_position(make_checkpoint, offline, capsys):
    folder = make_checkpoint("bert", name="cli-pos-copa", finetuning_task="copa")
    code = main(["predict", "--model", str(folder), "--task", "copa", "비가 왔다.|결과|길이 젖었다.|해가 떴다.", "a|b"])
    assert code == 2 and "input 2: copa input needs 4 fields" in capsys.readouterr().err


def test_wic_target_not_found_is_reported(make_checkpoint, offline, capsys):
    folder = make_checkpoint("electra", name="cli-note-wic", finetuning_task="wic")
    code = main(["predict", "--model", str(folder), "--task", "wic", "--json", "묻|길을 물었다.|하늘이 파랗다."])
    out, err = capsys.readouterr()
    assert code == 0 and "warning: input 1: sentence 2: “묻” not found" in err
    [row] = json.loads(out)["results"]
    assert row["notes"] == ["sentence 2: “묻” not found: mark it in the sentence with [brackets]."]
    code = main(["attribute", "--model", str(folder), "--task", "wic", "--method", "saliency", "--json",
                 "묻|길을 물었다.|하늘이 파랗다."])
    out, err = capsys.readouterr()
    assert code == 0 and "“묻” not found" in err and "“묻” not found" in json.loads(out)["results"][0]["notes"][0]


def test_listing_models_and_parsing_arguments_import_no_torch(tmp_path):
    # `models` reads small JSON files; importing torch and transformers would cost seconds a user waits for.
    code = ("import runpy, sys; sys.argv = ['explorer', 'models', '--checkpoints', sys.argv[1]]\n"
            "try:\n    runpy.run_module('explorer', run_name='__main__')\nexcept SystemExit:\n    pass\n"
            "from explorer.cli import build_parser; build_parser()\n"
            "print('heavy:', sorted(m for m in ('torch', 'transformers', 'pandas') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code, str(tmp_path)], capture_output=True, text=True, timeout=300,
                         cwd=Path(__file__).resolve().parent.parent)
    assert out.returncode == 0, out.stderr
    assert "name" in out.stdout and "heavy: []" in out.stdout
