"""Checkpoints that would answer with random weights, or hang, or fill memory, are refused with a message.

Each test builds the broken checkpoint from a good tiny one, the way a user's
copy goes wrong: a file edited, a tensor dropped, a file that is not a file.
"""

from __future__ import annotations

import json
import os
import shutil
import struct
import threading
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest
import torch
from safetensors.torch import load_file, save_file
from transformers import (
    AlbertConfig,
    AutoModelForSequenceClassification,
    BertConfig,
    DistilBertConfig,
    ElectraConfig,
    GPT2Config,
    RobertaConfig,
    XLMRobertaConfig,
)

import explorer.loading as loading
from explorer.loading import CheckpointError, estimate_bytes, estimate_parameters, load_model, read_safetensors_header
from explorer.registry import ModelEntry, folder_entry, read_models_toml, scan_checkpoints
from explorer.loading import count_parameters
from explorer.tasks.cola import ColaItem
from explorer.tasks.predict import predict_items
from explorer.ui.home import registry_frame

SENTENCES = ["나는 어제 학교에 갔다.", "책가 책상 위에 있다."]


def _copy(folder: Path, tmp_path: Path, name: str) -> Path:
    out = tmp_path / name
    shutil.copytree(folder, out)
    return out


def _edit_weights(folder: Path, keep) -> None:
    """Rewrites model.safetensors keeping only the tensors ``keep(name)`` accepts."""
    state = load_file(folder / "model.safetensors")
    save_file({k: v for k, v in state.items() if keep(k)}, folder / "model.safetensors", metadata={"format": "pt"})


def _edit_config(folder: Path, **changes) -> None:
    config = json.loads((folder / "config.json").read_text())
    config.update(changes)
    (folder / "config.json").write_text(json.dumps(config))


def _refusal(folder: Path) -> str:
    with pytest.raises(CheckpointError) as info:
        load_model(folder_entry(folder, "checkpoints"), "cpu")
    return str(info.value)


def _probs(folder: Path) -> list[float]:
    loaded = load_model(folder_entry(folder, "checkpoints"), "cpu")
    return [p.p1 for p in predict_items(loaded, "cola", [ColaItem(str(n), s, None) for n, s in enumerate(SENTENCES)])]


def _finishes(fn, *args, seconds: float = 60):
    """Runs ``fn`` in a thread; fails (instead of hanging the suite) if it never returns."""
    outcome: dict = {}

    def run():
        try:
            outcome["value"] = fn(*args)
        except BaseException as exc:  # handed to the test below
            outcome["error"] = exc

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), f"{fn.__name__} never returned: it blocked on a FIFO or read without end"
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


# -- Missing, unexpected and mis-shaped weights ------------------------------------------------------------------


@pytest.mark.parametrize("family", ["bert", "electra"])
def test_safetensors_without_its_head_is_refused_naming_the_keys(make_checkpoint, tmp_path, family):
    folder = _copy(make_checkpoint(family, name=f"{family}-cola"), tmp_path, "headless-cola")
    _edit_weights(folder, lambda k: not k.startswith("classifier"))
    message = _refusal(folder)
    assert "classification-head" in message
    assert ("classifier.weight" if family == "bert" else "classifier.dense.weight") in message


def test_safetensors_missing_one_encoder_tensor_is_refused_naming_it(make_checkpoint, tmp_path):
    folder = _copy(make_checkpoint("bert", name="holey-cola"), tmp_path, "holey-cola")
    _edit_weights(folder, lambda k: k != "bert.encoder.layer.1.output.dense.weight")
    message = _refusal(folder)
    assert "1 weights missing" in message and "bert.encoder.layer.1.output.dense.weight" in message


def test_config_with_more_layers_than_the_weights_is_refused(make_checkpoint, tmp_path):
    folder = _copy(make_checkpoint("bert", name="deep-cola"), tmp_path, "deep-cola")
    _edit_config(folder, num_hidden_layers=3)
    message = _refusal(folder)
    assert "weights missing" in message and "bert.encoder.layer.2." in message


def test_config_with_fewer_layers_than_the_weights_is_refused(make_checkpoint, tmp_path):
    folder = _copy(make_checkpoint("bert", name="shallow-cola"), tmp_path, "shallow-cola")
    _edit_config(folder, num_hidden_layers=1)
    message = _refusal(folder)
    assert "unexpected" in message and "bert.encoder.layer.1." in message


def test_wrongly_shaped_weights_are_refused_naming_both_shapes(make_checkpoint, tmp_path):
    folder = _copy(make_checkpoint("bert", name="wide-cola"), tmp_path, "wide-cola")
    _edit_config(folder, intermediate_size=128)
    message = _refusal(folder)
    assert "intermediate.dense" in message and "(64,)" in message and "(128,)" in message


def test_pickled_weights_with_unexpected_layers_are_refused(make_checkpoint, tmp_path):
    folder = _copy(make_checkpoint("bert", name="bin-cola"), tmp_path, "bin-shallow-cola")
    torch.save(load_file(folder / "model.safetensors"), folder / "pytorch_model.bin")
    (folder / "model.safetensors").unlink()
    _edit_config(folder, num_hidden_layers=1)
    message = _refusal(folder)
    assert "unexpected" in message and "bert.encoder.layer.1." in message


def test_sharded_checkpoint_loads_and_a_missing_shard_tensor_is_refused(make_checkpoint, tmp_path):
    source = make_checkpoint("bert", name="whole-cola", seed=5)
    sharded = tmp_path / "sharded-cola"
    AutoModelForSequenceClassification.from_pretrained(source).save_pretrained(sharded, max_shard_size="50KB")
    for name in ("tokenizer.json", "tokenizer_config.json"):
        shutil.copy(source / name, sharded / name)
    assert (sharded / "model.safetensors.index.json").exists()
    assert _probs(sharded) == _probs(source)

    index = json.loads((sharded / "model.safetensors.index.json").read_text())
    head_shard = sharded / index["weight_map"]["classifier.weight"]
    state = {k: v for k, v in load_file(head_shard).items() if not k.startswith("classifier")}
    save_file(state, head_shard, metadata={"format": "pt"})
    index["weight_map"] = {k: v for k, v in index["weight_map"].items() if not k.startswith("classifier")}
    (sharded / "model.safetensors.index.json").write_text(json.dumps(index))
    assert "classifier.weight" in _refusal(sharded)


def test_a_good_checkpoint_gives_the_same_probabilities_on_every_load(make_checkpoint):
    folder = make_checkpoint("electra", name="steady-cola", seed=7)
    assert _probs(folder) == _probs(folder)  # exactly: nothing was initialised at random


# -- Configs that ask for far more than the weights hold, or than memory holds -------------------------------------


@pytest.mark.parametrize("change", [{"num_hidden_layers": 10_000}, {"vocab_size": 20_000_000}])
def test_config_far_larger_than_its_weights_is_refused_before_allocating(make_checkpoint, tmp_path, monkeypatch, change):
    folder = _copy(make_checkpoint("bert", name="big-cola"), tmp_path, "inflated-cola")
    held = count_parameters(folder)
    _edit_config(folder, **change)

    def never(*args, **kwargs):
        raise AssertionError("allocated the model")

    monkeypatch.setattr(AutoModelForSequenceClassification, "from_pretrained", never)
    message = _refusal(folder)
    assert "does not match the weights" in message
    assert f"{held:,}" in message and str(next(iter(change.values()))) in message


def test_model_larger_than_free_memory_is_refused_naming_both_sizes(make_checkpoint, monkeypatch):
    folder = make_checkpoint("bert", name="roomy-cola")
    monkeypatch.setattr(loading, "available_memory", lambda: 1000)
    message = _refusal(folder)
    assert "1000 bytes is available" in message
    assert "needs about" in message and "KB" in message


@pytest.mark.parametrize(
    "config",
    [
        BertConfig(),
        ElectraConfig(),
        ElectraConfig(embedding_size=768, hidden_size=768, intermediate_size=3072, num_attention_heads=12),
        RobertaConfig(vocab_size=50265, max_position_embeddings=514),
        XLMRobertaConfig(vocab_size=250002, max_position_embeddings=514, hidden_size=384, intermediate_size=1536),
        AlbertConfig(),
        DistilBertConfig(),
        GPT2Config(),
    ],
    ids=["bert-base", "electra-small", "electra-base", "roberta-base", "e5-small", "albert", "distilbert", "gpt2"],
)
def test_estimate_is_close_to_the_real_size_of_each_family(config):
    # Built on the meta device: real parameter counts without allocating memory.
    config.num_labels = 2
    with torch.device("meta"):
        model = AutoModelForSequenceClassification.from_config(config)
    real = sum(p.numel() for p in model.parameters())
    assert 0.9 * real <= estimate_parameters(config) <= real
    assert estimate_bytes(config, torch.float16) == 2 * estimate_parameters(config)


def test_estimate_of_a_malformed_config_is_a_number_not_an_exception():
    # transformers validates its own config classes; the estimate must not rely on it.
    config = SimpleNamespace(
        model_type="bert", hidden_size=768, num_hidden_layers="twelve", vocab_size=-5,
        max_position_embeddings=512, type_vocab_size=2,
    )
    assert estimate_parameters(config) == (512 + 2) * 768


# -- Broken files: counted as unknown, never a crash ------------------------------------------------------------


def test_truncated_safetensors_counts_as_unknown_and_home_still_renders(make_checkpoint, tmp_path):
    folder = _copy(make_checkpoint("bert", name="cut-cola"), tmp_path, "cut-cola")
    data = (folder / "model.safetensors").read_bytes()
    (folder / "model.safetensors").write_bytes(data[: len(data) // 2])
    assert count_parameters(folder) is None
    good = make_checkpoint("bert", name="fine-cola")
    entries = [folder_entry(folder, "checkpoints"), folder_entry(good, "checkpoints")]
    frame = registry_frame(SimpleNamespace(is_loaded=lambda entry: False), entries)
    assert pd.isna(frame.loc[0, "parameters"]) and frame.loc[1, "parameters"] == count_parameters(good) > 0
    assert "truncated" in _refusal(folder)


@pytest.mark.parametrize(
    "header_size, reason",
    [(200_000_000, "at most 100,000,000"), (5_000, "truncated")],
    ids=["absurd-header", "header-larger-than-file"],
)
def test_safetensors_header_sizes_are_checked_before_reading(tmp_path, header_size, reason):
    weights = tmp_path / "model.safetensors"
    weights.write_bytes(struct.pack("<Q", header_size) + b"{}" + b" " * 100)
    with pytest.raises(CheckpointError, match=reason):
        read_safetensors_header(weights)
    assert count_parameters(tmp_path) is None


def test_safetensors_header_claiming_bytes_it_lacks_is_refused(tmp_path):
    header = json.dumps({"w": {"dtype": "F32", "shape": [1000, 1000], "data_offsets": [0, 16]}}).encode()
    (tmp_path / "model.safetensors").write_bytes(struct.pack("<Q", len(header)) + header + b"\0" * 16)
    with pytest.raises(CheckpointError, match="shape"):
        read_safetensors_header(tmp_path / "model.safetensors")
    assert count_parameters(tmp_path) is None


# -- Config and tokenizer files that are not files: a registry problem, promptly ---------------------------------


def _fifo(path: Path) -> None:
    path.unlink(missing_ok=True)
    os.mkfifo(path)


def _dev_zero(path: Path) -> None:
    path.unlink(missing_ok=True)
    path.symlink_to("/dev/zero")


@pytest.mark.parametrize("make_bad", [_fifo, _dev_zero], ids=["fifo", "dev-zero"])
@pytest.mark.parametrize("file", ["config.json", "tokenizer.json"])
def test_config_or_tokenizer_that_is_not_a_file_is_a_registry_problem(make_checkpoint, tmp_path, make_bad, file):
    checkpoints = tmp_path / "checkpoints"
    folder = _copy(make_checkpoint("bert", name="odd-cola"), checkpoints, "odd-cola")
    make_bad(folder / file)
    entries = _finishes(scan_checkpoints, checkpoints)
    assert len(entries) == 1 and entries[0].problems
    assert f"odd-cola/{file} is not a regular file" in entries[0].problems[0]
    # A hand-made entry (as the CLI builds for a path) is refused by the loader itself.
    with pytest.raises(CheckpointError, match="not a regular file"):
        _finishes(load_model, ModelEntry(name="odd", source=str(folder), task="cola"), "cpu")


def test_oversized_config_is_a_registry_problem(make_checkpoint, tmp_path):
    folder = _copy(make_checkpoint("bert", name="fat-cola"), tmp_path, "fat-cola")
    with open(folder / "config.json", "ab") as fh:
        fh.truncate(5 * 1024 * 1024)
    problems = folder_entry(folder, "checkpoints").problems
    assert problems and "5.0 MB" in problems[0] and "4.0 MB" in problems[0]


def test_models_toml_that_is_a_fifo_or_oversized_is_a_problem_not_a_hang(tmp_path):
    toml = tmp_path / "models.toml"
    os.mkfifo(toml)
    entries, problems = _finishes(read_models_toml, toml)
    assert entries == [] and "not a regular file" in problems[0]
    toml.unlink()
    toml.write_text("# " + "x" * 2 * 1024 * 1024)
    entries, problems = read_models_toml(toml)
    assert entries == [] and "2.0 MB" in problems[0]


def test_models_toml_entry_whose_base_has_a_fifo_config_has_a_problem(make_checkpoint, tmp_path):
    base = _copy(make_checkpoint("bert", name="base-cola"), tmp_path, "base")
    _fifo(base / "config.json")
    (tmp_path / "w.pt").write_bytes(b"")
    (tmp_path / "models.toml").write_text('[[model]]\nname = "raw"\npath = "w.pt"\nbase = "base"\ntask = "cola"\n')
    entries, _ = _finishes(read_models_toml, tmp_path / "models.toml")
    assert "base/config.json is not a regular file" in entries[0].problems[0]


def _base_encoder(make_checkpoint, tmp_path, name: str) -> Path:
    """A base BERT folder (no head), as a pre-trained encoder is saved."""
    from transformers import BertModel

    source = make_checkpoint("bert", name=f"{name}-src")
    folder = tmp_path / name
    BertModel.from_pretrained(source).save_pretrained(folder)
    return folder


def test_a_base_encoder_loads_whole_for_anatomy(make_checkpoint, tmp_path):
    folder = _base_encoder(make_checkpoint, tmp_path, "base-enc")
    model = loading.load_encoder(ModelEntry("base-enc", str(folder)))
    saved = load_file(str(folder / "model.safetensors"))
    assert torch.equal(model.state_dict()["encoder.layer.1.output.dense.weight"], saved["encoder.layer.1.output.dense.weight"])


def test_a_base_encoder_missing_a_tensor_or_far_larger_than_its_weights_is_refused(make_checkpoint, tmp_path):
    folder = _base_encoder(make_checkpoint, tmp_path, "holey-enc")
    _edit_weights(folder, lambda k: k != "encoder.layer.1.output.dense.weight")
    with pytest.raises(CheckpointError, match=r"encoder\.layer\.1\.output\.dense\.weight"):
        loading.load_encoder(ModelEntry("holey-enc", str(folder)))
    big = _base_encoder(make_checkpoint, tmp_path, "huge-enc")
    _edit_config(big, num_hidden_layers=10_000)
    with pytest.raises(CheckpointError, match="does not match the weights"):
        loading.load_encoder(ModelEntry("huge-enc", str(big)))
