"""Fine-tuning tiny random models on generated files in the NIKL layouts.

Models are random and tiny, so these tests check the plumbing (folder layout,
config, logs, that the app loads and predicts with the result) and that
training learns a trivially learnable signal; never real accuracy.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file
from transformers import AutoTokenizer, BertModel

from explorer.data.readers import DatasetError
from explorer.tasks.copa import CopaItem
from explorer.tasks.registry import read_dataset
from explorer.defaults.korean import generate_cola
from explorer.device import cpu_has_bf16
from explorer.finetune import (
    MultipleChoiceCollator, encode_items, finetune, freeze_word_embeddings, padded_length, reinit_zero_pooler
)
from explorer.loading import load_model
from explorer.registry import folder_entry
from explorer.tasks.predict import predict_items

COLA_HEADER = "source\tacceptability_label\tsource_annotation\tsentence"
WIC_HEADER = "ID\tTarget\tSENTENCE1\tSENTENCE2\tANSWER\tstart_s1\tend_s1\tstart_s2\tend_s2"
COPA_HEADER = "ID\tsentence\tquestion\t1\t2\tAnswer"
BOOLQ_HEADER = "ID\tText\tQuestion\tAnswer(FALSE = 0, TRUE = 1)"
FAST = dict(epochs=1, batch_size=8, max_length=32, lr=1e-3)


def _sentences(n: int, seed: int) -> list[str]:
    return [e.sentence for e in generate_cola(n, seed=seed)]


def _write(path: Path, header: str, rows: list[list[object]]) -> Path:
    path.write_text("\n".join([header] + ["\t".join(map(str, r)) for r in rows]) + "\n", encoding="utf-8")
    return path


def _cola_rows(n: int, seed: int) -> list[list[object]]:
    examples = generate_cola(n, seed=seed)
    return [[f"T{k:05d}", e.label, "" if e.label else "*", e.sentence] for k, e in enumerate(examples)]


def _wic_rows(n: int, seed: int) -> list[list[object]]:
    rows = []
    for k, (a, b) in enumerate(zip(_sentences(n, seed), _sentences(n, seed + 100))):
        s1, s2 = f"배 {a}", f"{b} 배"
        rows.append([k + 1, "배", s1, s2, "True" if k % 2 else "False", 0, 1, len(s2) - 1, len(s2)])
    return rows


def _copa_rows(n: int, seed: int) -> list[list[object]]:
    s = _sentences(3 * n, seed)
    return [[k + 1, s[3 * k], "원인" if k % 2 else "결과", s[3 * k + 1], s[3 * k + 2], 1 + k % 2] for k in range(n)]


def _boolq_rows(n: int, seed: int) -> list[list[object]]:
    s = _sentences(4 * n, seed)
    return [[k + 1, " ".join(s[4 * k : 4 * k + 3]), s[4 * k + 3].rstrip(".") + "?", k % 2] for k in range(n)]


FILES = {
    "cola": (COLA_HEADER, _cola_rows),
    "wic": (WIC_HEADER, _wic_rows),
    "copa": (COPA_HEADER, _copa_rows),
    "boolq": (BOOLQ_HEADER, _boolq_rows),
}


def _task_files(folder: Path, task: str, n_train: int = 32, n_dev: int = 12) -> tuple[Path, Path]:
    header, rows = FILES[task]
    folder.mkdir(parents=True, exist_ok=True)
    return (
        _write(folder / f"{task}_train.tsv", header, rows(n_train, 1)),
        _write(folder / f"{task}_dev.tsv", header, rows(n_dev, 2)),
    )


@pytest.mark.parametrize(
    "task, base_kind, input_format",
    [
        ("cola", "headless", None),
        ("wic", "headless", "marked"),
        # A sequence-classification folder as base: COPA must build a fresh multiple-choice head on it.
        ("copa", "sequence", None),
        ("boolq", "electra", "question-passage"),
    ],
)
def test_finetune_writes_a_folder_the_app_loads(tmp_path, tiny_base, make_checkpoint, task, base_kind, input_format):
    base = {"headless": tiny_base, "sequence": None, "electra": None}[base_kind]
    if base is None:
        base = make_checkpoint("electra" if base_kind == "electra" else "bert", name=f"seq-{task}")
    train, dev = _task_files(tmp_path / "data", task)
    out = tmp_path / f"ft-{task}"
    calls: list[tuple[float, str]] = []

    result = finetune(
        task, str(base), train, dev, out, input_format=input_format, progress=lambda f, m: calls.append((f, m)), **FAST
    )

    for name in ("model.safetensors", "config.json", "tokenizer.json", "trainer_state.json", "explorer_finetune.json"):
        assert (out / name).is_file(), name
    config = json.loads((out / "config.json").read_text(encoding="utf-8"))
    assert config["finetuning_task"] == task
    assert config.get("explorer_input_format") == input_format
    if task == "copa":
        assert config["architectures"] == ["BertForMultipleChoice"]
    else:
        assert config["architectures"][0].endswith("ForSequenceClassification")
        assert set(config["id2label"].values()) == {
            "cola": {"unacceptable", "acceptable"}, "wic": {"different", "same"}, "boolq": {"no", "yes"}
        }[task]

    metric = "mcc" if task == "cola" else "accuracy"
    state = json.loads((out / "trainer_state.json").read_text(encoding="utf-8"))
    evals = [e for e in state["log_history"] if "eval_loss" in e]
    assert len(evals) == 1 and {"eval_accuracy", "eval_mcc", "eval_f1_macro"} <= set(evals[0])
    assert any("loss" in e for e in state["log_history"])
    assert result["metric"] == metric and set(result["dev_metrics"]) == {"accuracy", "mcc", "f1_macro", "loss"}
    assert result["dev_metrics"][metric] == evals[0][f"eval_{metric}"]
    assert (result["n_train"], result["n_dev"], result["device"]) == (32, 12, "cpu")

    # The saved top-level weights are the best checkpoint's.
    best = Path(result["best_checkpoint"])
    assert best.parent == out and best.name.startswith("checkpoint-")
    top, kept = load_file(out / "model.safetensors"), load_file(best / "model.safetensors")
    assert top.keys() == kept.keys() and all(torch.equal(top[k], kept[k]) for k in top)

    summary = json.loads((out / "explorer_finetune.json").read_text(encoding="utf-8"))
    assert summary["arguments"]["task"] == task and summary["data"]["train"]["rows"] == 32
    # What was not taken from the base is said in a line (transformers' MISSING table is not printed).
    expected = {"headless": ["a new classification head, trained from scratch: classifier.bias, classifier.weight"],
                "sequence": ["replaced (another shape in the base): classifier.bias, classifier.weight"],
                "electra": []}  # a base with a head of the same shape keeps it
    assert result["notes"] == expected[base_kind]
    assert all(any(m == note for _, m in calls) for note in result["notes"])
    assert calls[-1][0] == 1.0 and any(m.startswith("Step ") for _, m in calls)

    entry = folder_entry(out, "checkpoints")
    assert entry.task == task
    loaded = load_model(entry, "cpu")
    assert loaded.head == ("multiple_choice" if task == "copa" else "sequence")
    dev_items = read_dataset(dev, task=task).items
    predictions = predict_items(loaded, task, dev_items, input_format=input_format)
    assert len(predictions) == len(dev_items) and all(p.label in (0, 1) for p in predictions)


def test_training_learns_a_marker(tmp_path, tiny_base):
    """Labels given away by the first word: the loss must fall and dev MCC rise."""
    tokenizer = AutoTokenizer.from_pretrained(tiny_base)
    words = [t for t in sorted(tokenizer.get_vocab()) if len(t) >= 2 and not t.startswith(("##", "["))][:2]
    assert len(words) == 2

    def rows(n: int, seed: int) -> list[list[object]]:
        sentences = _sentences(n, seed)
        return [[f"S{k}", k % 2, "" if k % 2 else "*", f"{words[k % 2]} {s}"] for k, s in enumerate(sentences)]

    train = _write(tmp_path / "train.tsv", COLA_HEADER, rows(96, 5))
    dev = _write(tmp_path / "dev.tsv", COLA_HEADER, rows(24, 6))
    # A randomly initialised encoder needs a few dozen steps at a high rate to find the marker, and its random
    # embedding table is worth training (a pre-trained one is frozen by default on CPU). Four epochs found it with
    # 3 of 4 seeds (random or length-grouped batches alike), six with every seed tried (0-3, 42).
    result = finetune(
        "cola", str(tiny_base), train, dev, tmp_path / "out", epochs=6, batch_size=8, lr=3e-3, max_length=32,
        embeddings="trained",
    )

    history = json.loads((tmp_path / "out" / "trainer_state.json").read_text(encoding="utf-8"))["log_history"]
    losses = [e["loss"] for e in history if "loss" in e]
    evals = [e for e in history if "eval_loss" in e]
    assert len(evals) == 6 and [e["epoch"] for e in evals] == [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]
    assert losses[-1] < 0.5 * losses[0]
    assert evals[-1]["eval_loss"] < evals[0]["eval_loss"]
    assert result["dev_metrics"]["mcc"] > 0.8
    # save_total_limit=2 keeps the best and the latest checkpoint only.
    assert 1 <= len(list((tmp_path / "out").glob("checkpoint-*"))) <= 2


def test_zero_pooler_is_reinitialised(tmp_path, tiny_base):
    """The offline e5 folder stores its pooler as zeros, which would freeze the encoder's gradient."""
    model = BertModel.from_pretrained(tiny_base)
    torch.nn.init.zeros_(model.pooler.dense.weight)
    torch.nn.init.zeros_(model.pooler.dense.bias)
    base = tmp_path / "zero-pooler"
    model.save_pretrained(base)
    AutoTokenizer.from_pretrained(tiny_base).save_pretrained(base)
    train, dev = _task_files(tmp_path / "data", "cola", n_train=16, n_dev=8)

    result = finetune("cola", str(base), train, dev, tmp_path / "out", **FAST)

    assert result["notes"][-1] == "bert.pooler.dense was all zeros in the base; re-initialised"
    assert reinit_zero_pooler(BertModel.from_pretrained(tiny_base)) == []  # a trained pooler is left alone


def test_max_train_items_takes_a_seeded_subset(tmp_path, tiny_base):
    train, dev = _task_files(tmp_path / "data", "cola", n_train=40, n_dev=8)
    # max_length beyond the tiny model's 64 positions is clamped instead of crashing.
    args = {**FAST, "max_length": 512}
    result = finetune("cola", str(tiny_base), train, dev, tmp_path / "out", max_train_items=10, **args)
    assert result["n_train"] == 10
    summary = json.loads((tmp_path / "out" / "explorer_finetune.json").read_text(encoding="utf-8"))
    assert summary["arguments"]["max_train_items"] == 10 and summary["data"]["train"]["rows"] == 40
    assert (summary["arguments"]["max_length"], summary["max_length_used"]) == (512, 64)


def test_bad_inputs_fail_before_training(tmp_path, tiny_base):
    train, dev = _task_files(tmp_path / "data", "cola")
    unlabelled = _write(tmp_path / "test.tsv", "index\tsentence\tacceptability_label", [[1, "문장이다."]])
    with pytest.raises(DatasetError, match="no labels"):
        finetune("cola", str(tiny_base), train, unlabelled, tmp_path / "a", **FAST)
    with pytest.raises(DatasetError):  # a WiC file given for CoLA
        finetune("cola", str(tiny_base), _task_files(tmp_path / "w", "wic")[0], dev, tmp_path / "b", **FAST)
    (tmp_path / "used").mkdir()
    (tmp_path / "used" / "config.json").write_text("{}")
    with pytest.raises(FileExistsError):
        finetune("cola", str(tiny_base), train, dev, tmp_path / "used", **FAST)
    wic_train, wic_dev = _task_files(tmp_path / "w", "wic")
    with pytest.raises(ValueError, match="unknown WiC input format"):
        finetune("wic", str(tiny_base), wic_train, wic_dev, tmp_path / "d", input_format="nope", **FAST)
    with pytest.raises(ValueError, match="unknown task"):
        finetune("sts", str(tiny_base), train, dev, tmp_path / "c", **FAST)


def test_multiple_choice_collator_pads_every_choice(tiny_base):
    tokenizer = AutoTokenizer.from_pretrained(tiny_base)
    train = _copa_rows(3, 7)
    items = [
        CopaItem(str(r[0]), r[1], "cause" if r[2] == "원인" else "effect", (r[3], r[4]), r[5] - 1) for r in train
    ]
    features = encode_items("copa", items, tokenizer, max_length=32)
    batch = MultipleChoiceCollator(tokenizer)(features)
    longest = max(len(ids) for f in features for ids in f["input_ids"])
    assert batch["input_ids"].shape == (3, 2, longest)
    assert batch["attention_mask"].shape == (3, 2, longest)
    assert batch["labels"].tolist() == [0, 1, 0]
    # Padding never changes a choice's tokens.
    first = features[0]["input_ids"][1]
    assert batch["input_ids"][0, 1, : len(first)].tolist() == first


def test_cli_finetune_checkpoint_appears_in_the_registry_and_evaluates(tmp_path, tiny_base):
    """The round trip a user makes: finetune → drop into checkpoints/ → evaluate by name."""
    import json
    import os
    import subprocess
    import sys

    repo = Path(__file__).resolve().parent.parent
    train, dev = _task_files(tmp_path / "data", "cola")
    ckpts = tmp_path / "checkpoints"
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "EXPLORER_DEFAULTS": "0", "EXPLORER_CHECKPOINTS": str(ckpts),
           "EXPLORER_RESULTS": str(tmp_path / "results")}

    def cli(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "explorer", *args], cwd=repo, env=env, capture_output=True, text=True, timeout=300)

    out = cli("finetune", "--task", "cola", "--base", str(tiny_base), "--train", str(train), "--dev", str(dev),
              "--out", str(ckpts / "tiny-finetuned"), "--epochs", "1", "--batch-size", "8", "--max-length", "32")
    assert out.returncode == 0, out.stderr[-2000:]
    models = {m["name"]: m for m in json.loads(cli("models", "--json").stdout)["models"]}
    assert models["tiny-finetuned"]["task"] == "cola" and not models["tiny-finetuned"]["problems"]
    evaluated = cli("evaluate", "--model", "tiny-finetuned", "--task", "cola", "--data", str(dev))
    assert evaluated.returncode == 0, evaluated.stderr[-2000:]
    assert "MCC" in evaluated.stdout
    again = cli("finetune", "--task", "cola", "--base", str(tiny_base), "--train", str(train), "--dev", str(dev),
                "--out", str(ckpts / "tiny-finetuned"))
    assert again.returncode == 2 and "error:" in again.stderr and "Traceback" not in again.stderr


def _word_embeddings(folder: Path) -> torch.Tensor:
    weights = load_file(folder / "model.safetensors")
    [name] = [k for k in weights if k.endswith("word_embeddings.weight")]
    return weights[name]


@pytest.mark.parametrize("embeddings", [None, "frozen", "trained"])
def test_embeddings_choice_is_applied_and_recorded(tmp_path, tiny_base, embeddings):
    """Frozen (the CPU default) leaves the base's table as it was; the record says what was frozen and the precision."""
    train, dev = _task_files(tmp_path / "data", "cola")
    out = tmp_path / "out"
    result = finetune("cola", str(tiny_base), train, dev, out, embeddings=embeddings, **FAST)

    before = BertModel.from_pretrained(tiny_base).embeddings.word_embeddings.weight.detach()
    after = _word_embeddings(out)
    used = embeddings or "frozen"  # these tests run on CPU
    assert torch.equal(after, before) == (used == "frozen")
    other = load_file(out / "model.safetensors")["bert.encoder.layer.0.attention.self.query.weight"]
    assert not torch.equal(other, BertModel.from_pretrained(tiny_base).encoder.layer[0].attention.self.query.weight)

    record = json.loads((out / "explorer_finetune.json").read_text(encoding="utf-8"))
    for summary in (result, record):
        assert summary["embeddings"] == used and summary["precision"] == "fp32"
        assert summary["frozen"] == (["bert.embeddings.word_embeddings.weight"] if used == "frozen" else [])
        frozen_size = before.numel() if used == "frozen" else 0
        assert summary["trainable_parameters"] == summary["parameters"] - frozen_size
        assert summary["examples_per_second"] > 0
    assert record["arguments"]["embeddings"] == embeddings and record["arguments"]["precision"] is None

    entry = folder_entry(out, "checkpoints")  # the registry reads the checkpoint back
    assert entry.task == "cola"
    loaded = load_model(entry, "cpu")
    assert len(predict_items(loaded, "cola", read_dataset(dev, task="cola").items)) == 12


def test_unusable_choices_are_refused_before_any_work(tmp_path, monkeypatch):
    """bf16 on a CPU without AMX/AVX512-BF16, or an unknown choice: a clear ValueError before reading or loading."""
    import explorer.device

    missing = tmp_path / "missing.tsv"  # never read: the refusal comes first
    monkeypatch.setattr(explorer.device, "cpu_has_bf16", lambda: False)
    with pytest.raises(ValueError, match="precision bf16: bf16 needs a CPU with AMX or AVX512-BF16"):
        finetune("cola", "no-base", missing, missing, tmp_path / "a", precision="bf16")
    with pytest.raises(ValueError, match="unknown precision 'fp16'"):
        finetune("cola", "no-base", missing, missing, tmp_path / "b", precision="fp16")
    with pytest.raises(ValueError, match="unknown embeddings choice 'some'; expected one of trained, frozen"):
        finetune("cola", "no-base", missing, missing, tmp_path / "c", embeddings="some")
    assert not any(tmp_path.iterdir())


def test_a_model_without_an_embedding_table_cannot_be_frozen():
    with pytest.raises(ValueError, match="Linear has no input-embedding table to freeze"):
        freeze_word_embeddings(torch.nn.Linear(2, 2))


@pytest.mark.skipif(not cpu_has_bf16(), reason="this CPU has no AMX/AVX512-BF16: bf16 fine-tuning is refused here")
def test_bf16_on_cpu_keeps_fp32_weights_and_says_so(tmp_path, tiny_base):
    train, dev = _task_files(tmp_path / "data", "cola")
    result = finetune("cola", str(tiny_base), train, dev, tmp_path / "out", precision="bf16", **FAST)
    assert result["precision"] == "bf16"
    weights = load_file(tmp_path / "out" / "model.safetensors")
    assert {w.dtype for w in weights.values()} == {torch.float32}  # autocast: the saved master weights stay fp32
    assert folder_entry(tmp_path / "out", "checkpoints").task == "cola"


def test_cli_refuses_bf16_where_the_cpu_lacks_it(tmp_path, monkeypatch, capsys):
    import explorer.device
    from explorer.cli import main

    monkeypatch.setattr(explorer.device, "cpu_has_bf16", lambda: False)
    code = main(["finetune", "--task", "cola", "--base", "b", "--train", "t", "--dev", "d",
                 "--out", str(tmp_path / "run"), "--precision", "bf16"])
    err = capsys.readouterr().err
    assert code == 2 and "error: precision bf16: bf16 needs a CPU with AMX" in err and "Traceback" not in err
    with pytest.raises(SystemExit) as exit_:
        main(["finetune", "--task", "cola", "--base", "b", "--train", "t", "--dev", "d", "--out", "o",
              "--embeddings", "some"])
    assert exit_.value.code == 2 and "argument --embeddings: invalid choice" in capsys.readouterr().err


def test_training_batches_group_items_of_similar_length(tmp_path, tiny_base, monkeypatch):
    """Random batches of NIKL WiC pad to twice their tokens; grouped batches pay for little padding."""
    import explorer.finetune as finetune_module

    seen: list[tuple[int, int]] = []  # (real tokens, padded tokens) per training batch

    class Recording(finetune_module.DataCollatorWithPadding):
        def __call__(self, features):
            batch = super().__call__(features)
            seen.append((int(batch["attention_mask"].sum()), batch["attention_mask"].numel()))
            return batch

    monkeypatch.setattr(finetune_module, "DataCollatorWithPadding", Recording)
    # Lengths from one to four sentences, in no order: random batches of 4 pad to about 1.4 times. Trainer's sampler
    # sorts groups of 4 batches at a time when there are this few items (50 batches on a real train file).
    rows = [[f"T{k}", k % 2, "", " ".join(_sentences(1 + (k * 7) % 4, k))] for k in range(64)]
    train = _write(tmp_path / "train.tsv", COLA_HEADER, rows)
    dev = _write(tmp_path / "dev.tsv", COLA_HEADER, rows[:8])
    finetune("cola", str(tiny_base), train, dev, tmp_path / "out", **{**FAST, "max_length": 64, "batch_size": 4})

    training = seen[: 64 // 4]  # evaluation batches come after, in file order
    real, padded = sum(r for r, _ in training), sum(p for _, p in training)
    assert padded <= 1.25 * real  # 1.14 measured; in random order, 1.41
    summary = json.loads((tmp_path / "out" / "explorer_finetune.json").read_text(encoding="utf-8"))
    assert summary["batches"] == "grouped by length, shuffled"


def test_padded_length_counts_every_choice_at_the_longest():
    assert padded_length({"input_ids": [1, 2, 3]}) == 3
    assert padded_length({"input_ids": [[1, 2], [1, 2, 3, 4], [1]]}) == 12  # 3 choices padded to 4


def test_a_progress_callback_replaces_trainers_own_output(tmp_path, tiny_base, capfd, caplog):
    """prepare --data and the app print their own progress lines; Trainer's bar and log dicts would interleave."""
    train, dev = _task_files(tmp_path / "data", "cola", n_train=16, n_dev=8)
    lines: list[str] = []
    finetune("cola", str(tiny_base), train, dev, tmp_path / "out", progress=lambda f, m: lines.append(m), **FAST)
    out, err = capfd.readouterr()
    assert any(line.startswith("Step 2/2") for line in lines)
    assert "{'loss'" not in out + err and "{'train_runtime'" not in out + err
    assert "it/s]" not in err and "s/it]" not in err  # no tqdm bar
    # transformers' load report (a table of MISSING keys, expected for a new head) is one line of ours instead
    assert not any("LOAD REPORT" in record.getMessage() for record in caplog.records)
    assert "a new classification head, trained from scratch: classifier.bias, classifier.weight" in lines
