import json
from pathlib import Path

from explorer.registry import positive_label_from, discover, infer_task, read_models_toml, scan_checkpoints
from explorer.settings import Settings, load_settings


def test_task_inferred_from_finetuning_task_first():
    task, how = infer_task({"finetuning_task": "nikl_cola", "architectures": ["BertForMultipleChoice"]}, "x-wic")
    assert task == "cola" and "finetuning_task" in how


def test_task_inferred_from_label_names():
    assert infer_task({"id2label": {"0": "unacceptable", "1": "acceptable"}})[0] == "cola"
    assert infer_task({"id2label": {"0": "different", "1": "same"}})[0] == "wic"


def test_multiple_choice_head_means_copa():
    task, how = infer_task({"architectures": ["ElectraForMultipleChoice"]}, "model")
    assert task == "copa" and "multiple-choice" in how


def test_task_from_folder_name_and_unknown():
    assert infer_task({"id2label": {"0": "LABEL_0", "1": "LABEL_1"}}, "koelectra-boolq-v2") == ("boolq", "folder name 'koelectra-boolq-v2'")
    task, how = infer_task({}, "my-model")
    assert task is None and "not found" in how
    # "cola" inside another word is not a task name
    assert infer_task({}, "chocolate")[0] is None


def test_positive_label_from_names_then_entry_then_nikl_default():
    assert positive_label_from({"id2label": {"0": "acceptable", "1": "unacceptable"}}, None)[0] == 0
    assert positive_label_from({"id2label": {"0": "ungrammatical", "1": "x"}}, None)[0] == 1
    assert positive_label_from({"id2label": {"0": "LABEL_0", "1": "LABEL_1"}}, 0) == (0, "models.toml positive_label")
    label, how = positive_label_from({"id2label": {"0": "LABEL_0", "1": "LABEL_1"}}, None)
    assert label == 1 and "NIKL" in how


def test_scan_finds_folders_trainer_runs_and_raw_files(tmp_path: Path):
    (tmp_path / "kobert-cola").mkdir()
    (tmp_path / "kobert-cola" / "config.json").write_text(json.dumps({"architectures": ["BertForSequenceClassification"]}))
    run = tmp_path / "electra-run"
    for step in (100, 2000, 300):
        (run / f"checkpoint-{step}").mkdir(parents=True)
        (run / f"checkpoint-{step}" / "config.json").write_text(json.dumps({"finetuning_task": "wic"}))
    (tmp_path / "empty-folder").mkdir()
    (tmp_path / "weights_cola.pt").write_bytes(b"")
    entries = {e.name: e for e in scan_checkpoints(tmp_path)}
    assert entries["kobert-cola"].task == "cola" and not entries["kobert-cola"].problems
    assert entries["electra-run/checkpoint-2000"].task == "wic"
    assert "config.json" in entries["empty-folder"].problems[0]
    assert "base" in entries["weights_cola"].problems[0]


def test_models_toml_entries_and_problems(tmp_path: Path):
    folder = tmp_path / "ckpt"
    folder.mkdir()
    (tmp_path / "models.toml").write_text(
        """
[[model]]
name = "mine"
path = "ckpt"
task = "cola"
acceptable_label = 0

[[model]]
name = "hub-one"
hub = "org/model"
task = "boolq"

[[model]]
name = "bad-task"
path = "ckpt"
task = "nli"

[[model]]
name = "no-source"
""",
        encoding="utf-8",
    )
    entries, problems = read_models_toml(tmp_path / "models.toml")
    by_name = {e.name: e for e in entries}
    assert by_name["mine"].source == str(folder.resolve()) and by_name["mine"].positive_label == 0
    assert by_name["hub-one"].source == "org/model" and by_name["hub-one"].task == "boolq"
    assert any("nli" in p for p in problems) and any("#4 needs `path` or `hub`" in p for p in problems)


def test_broken_toml_is_reported_not_raised(tmp_path: Path):
    (tmp_path / "models.toml").write_text("[[model]\nname=", encoding="utf-8")
    entries, problems = read_models_toml(tmp_path / "models.toml")
    assert entries == [] and "could not be read" in problems[0]


def test_discover_dedupes_names_and_paths(tmp_path: Path):
    ckpts = tmp_path / "checkpoints"
    (ckpts / "a-cola").mkdir(parents=True)
    (ckpts / "a-cola" / "config.json").write_text("{}")
    (tmp_path / "models.toml").write_text('[[model]]\nname = "a-cola"\npath = "checkpoints/a-cola"\n')
    settings = Settings(checkpoints_dir=ckpts, models_toml=tmp_path / "models.toml", cache_dir=tmp_path / "c")
    entries, _ = discover(settings)
    assert [e.name for e in entries] == ["a-cola"]  # listed once although both sources see it


def test_settings_from_flags_and_env(tmp_path: Path):
    s = load_settings(["--checkpoints", str(tmp_path), "--server.port", "1"], {"EXPLORER_MAX_MODELS": "2"})
    assert s.checkpoints_dir == tmp_path and s.max_models == 2
    s = load_settings([], {"EXPLORER_CHECKPOINTS": "/x", "EXPLORER_DEFAULTS": "0"})
    assert s.checkpoints_dir == Path("/x") and not s.include_defaults
    # prepare --data's models: in the cache folder, or where EXPLORER_FROM_DATA says (a group's shared drive)
    assert load_settings([], {"EXPLORER_CACHE": "/c"}).from_data == Path("/c/from_data")
    assert load_settings([], {"EXPLORER_CACHE": "/c", "EXPLORER_FROM_DATA": "/shared/models"}).from_data == Path("/shared/models")


def test_an_unknown_input_format_is_a_problem_of_that_model(tmp_path: Path):
    (tmp_path / "ckpt").mkdir()
    (tmp_path / "models.toml").write_text(
        '[[model]]\nname = "typo"\npath = "ckpt"\ntask = "wic"\ninput_format = "bracketed"\n\n'
        '[[model]]\nname = "fine"\npath = "ckpt"\ntask = "copa"\ninput_format = "connective:때문에/그래서"\n\n'
        '[[model]]\nname = "bad-copa"\npath = "ckpt"\ntask = "copa"\ninput_format = "glued"\n',
        encoding="utf-8",
    )
    settings = Settings(checkpoints_dir=tmp_path / "none", models_toml=tmp_path / "models.toml", cache_dir=tmp_path / "c")
    by_name = {e.name: e for e in discover(settings)[0]}
    assert any("bracketed" in p and "marked" in p for p in by_name["typo"].problems)
    assert not any("input" in p for p in by_name["fine"].problems)
    assert any("glued" in p for p in by_name["bad-copa"].problems)
