"""Loading every checkpoint shape users have, and refusing the dangerous ones."""

import os
import pickle
from pathlib import Path

import pytest
import torch
from transformers import AutoModelForSequenceClassification, AutoTokenizer

from explorer.loading import CheckpointError, load_model, max_input_length
from explorer.registry import ModelEntry, folder_entry
from explorer.tasks.cola import ColaItem
from explorer.tasks.predict import Prediction, predict_items
from explorer.tasks.results import note_of

SENTENCES = ["나는 어제 학교에 갔다.", "책가 책상 위에 있다.", "할머니께서 진지를 드셨다."]


def _cola(loaded, sentences) -> list[Prediction]:
    """CoLA predictions on the one prediction path, one per sentence."""
    return predict_items(loaded, "cola", [ColaItem(str(n), s, None) for n, s in enumerate(sentences)])


def _direct_probs(folder: Path, sentences, acceptable: int = 1):
    tok = AutoTokenizer.from_pretrained(folder)
    model = AutoModelForSequenceClassification.from_pretrained(folder).eval()
    with torch.no_grad():
        out = []
        for s in sentences:  # one at a time: no padding involved
            logits = model(**tok(s, return_tensors="pt")).logits
            out.append(torch.softmax(logits, -1)[0, acceptable].item())
    return out


@pytest.mark.parametrize("family", ["bert", "electra", "roberta"])
def test_folder_loads_and_batched_scores_match_unbatched(make_checkpoint, family):
    folder = make_checkpoint(family, name=f"tiny-{family}-cola", finetuning_task="cola")
    entry = folder_entry(folder, "checkpoints")
    assert entry.task == "cola"
    loaded = load_model(entry, "cpu")
    assert loaded.head == "sequence" and loaded.n_params > 0
    results = _cola(loaded, SENTENCES)
    expected = _direct_probs(folder, SENTENCES)
    assert len(results) == len(SENTENCES)
    for r, p in zip(results, expected):
        # Same probability padded in a batch as alone: the attention mask is passed.
        assert r.p1 == pytest.approx(p, abs=1e-5)
        assert r.label == int(p >= 0.5)


def test_named_labels_decide_the_acceptable_class(make_checkpoint):
    folder = make_checkpoint(
        "bert", name="rev-cola", id2label={0: "acceptable", 1: "unacceptable"}, label2id={"acceptable": 0, "unacceptable": 1}
    )
    loaded = load_model(folder_entry(folder, "checkpoints"), "cpu")
    assert loaded.positive_label == 0
    p = _cola(loaded, SENTENCES[:1])[0].p1
    assert p == pytest.approx(_direct_probs(folder, SENTENCES[:1], acceptable=0)[0], abs=1e-5)


def test_raw_state_dict_with_ddp_prefix_and_fp16(make_checkpoint, tmp_path):
    folder = make_checkpoint("electra", name="base-electra-cola", finetuning_task="cola", seed=4)
    model = AutoModelForSequenceClassification.from_pretrained(folder)
    # What a custom DDP training loop on a GPU saves: module.-prefixed fp16 tensors.
    state = {f"module.{k}": v.half() for k, v in model.state_dict().items()}
    weights = tmp_path / "electra_cola.pt"
    torch.save(state, weights)
    entry = ModelEntry(name="raw", source=str(weights), task="cola", base=str(folder), origin="models.toml")
    loaded = load_model(entry, "cpu")
    assert loaded.dtype == torch.float32 and any("module." in n for n in loaded.notes)
    got = [r.p1 for r in _cola(loaded, SENTENCES)]
    assert got == pytest.approx(_direct_probs(folder, SENTENCES), abs=2e-3)  # fp16 rounding only


def test_state_dict_of_a_base_model_is_reported_as_headless(make_checkpoint, tmp_path):
    folder = make_checkpoint("bert", name="headless-cola")
    model = AutoModelForSequenceClassification.from_pretrained(folder)
    state = {k: v for k, v in model.state_dict().items() if not k.startswith("classifier")}
    torch.save(state, tmp_path / "base.pt")
    entry = ModelEntry(name="headless", source=str(tmp_path / "base.pt"), task="cola", base=str(folder))
    with pytest.raises(CheckpointError, match="classification-head"):
        load_model(entry, "cpu")


def test_folder_without_config_is_a_clear_error(tmp_path):
    (tmp_path / "weights-only").mkdir()
    (tmp_path / "weights-only" / "model.safetensors").write_bytes(b"x")
    entry = folder_entry(tmp_path / "weights-only", "checkpoints")
    with pytest.raises(CheckpointError, match="config.json"):
        load_model(entry, "cpu")


def test_corrupt_safetensors_is_a_clear_error(make_checkpoint):
    folder = make_checkpoint("bert", name="corrupt-cola")
    weights = folder / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:200])
    with pytest.raises(CheckpointError, match="not a valid safetensors"):
        load_model(folder_entry(folder, "checkpoints"), "cpu")


class _Exploit:
    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_pickle_that_runs_code_is_refused_and_nothing_runs(make_checkpoint, tmp_path):
    folder = make_checkpoint("bert", name="evil-cola")
    (folder / "model.safetensors").unlink()
    marker = tmp_path / "pwned"
    with open(folder / "pytorch_model.bin", "wb") as fh:
        pickle.dump({"classifier.weight": _Exploit(str(marker))}, fh)
    with pytest.raises(CheckpointError, match="Refused"):
        load_model(folder_entry(folder, "checkpoints"), "cpu")
    assert not marker.exists()


def test_plain_pickled_state_dict_folder_loads_safely(make_checkpoint):
    folder = make_checkpoint("bert", name="bin-cola", seed=2)
    expected = _direct_probs(folder, SENTENCES[:2])
    state = AutoModelForSequenceClassification.from_pretrained(folder).state_dict()
    (folder / "model.safetensors").unlink()
    torch.save(state, folder / "pytorch_model.bin")
    loaded = load_model(folder_entry(folder, "checkpoints"), "cpu")
    assert [r.p1 for r in _cola(loaded, SENTENCES[:2])] == pytest.approx(expected, abs=1e-5)


def test_heads_for_other_tasks_are_rejected(make_checkpoint):
    three = make_checkpoint("bert", name="nli-3way", num_labels=3)
    entry = folder_entry(three, "checkpoints")
    entry.task = "cola"
    with pytest.raises(CheckpointError, match="3-class head"):
        load_model(entry, "cpu")
    mc = make_checkpoint("bert", name="mc-model", head="multiple_choice")
    entry = folder_entry(mc, "checkpoints")
    assert entry.task == "copa"
    entry.task = "cola"
    with pytest.raises(CheckpointError, match="multiple-choice"):
        load_model(entry, "cpu")


def test_huge_line_is_truncated_with_dropped_token_count(make_checkpoint):
    folder = make_checkpoint("roberta", name="long-cola")
    loaded = load_model(folder_entry(folder, "checkpoints"), "cpu")
    assert loaded.max_length == 64  # 64 + padding_idx + 1 positions hold 64 tokens
    long_line = ("나는 학교에 갔다 " * 8000)[:100_000]
    short, long = _cola(loaded, ["책이 있다.", long_line])
    assert short.n_dropped == 0
    assert long.n_tokens == 64 and long.n_dropped > 10_000 and "dropped" in note_of(long)


def test_max_input_length_respects_tokenizer_and_positions(make_checkpoint):
    folder = make_checkpoint("bert", name="len-cola")
    tok = AutoTokenizer.from_pretrained(folder)
    from transformers import AutoConfig

    assert max_input_length(AutoConfig.from_pretrained(folder), tok) == 64


def test_gpt2_without_a_pad_token_scores_batches(tmp_path):
    """A GPT-2 CoLA checkpoint as users save it (no pad token anywhere) scores a batch like each text alone."""
    from tokenizers import ByteLevelBPETokenizer
    from transformers import GPT2Config, GPT2ForSequenceClassification, PreTrainedTokenizerFast

    from explorer.tasks.common import classify

    bpe = ByteLevelBPETokenizer()
    bpe.train_from_iterator(["나는 학교에 갔다.", "책이 책상 위에 있다.", "비가 왔다."] * 5, vocab_size=300,
                            special_tokens=["<|endoftext|>"], show_progress=False)
    tok = PreTrainedTokenizerFast(tokenizer_object=bpe._tokenizer, eos_token="<|endoftext|>")
    assert tok.pad_token is None
    torch.manual_seed(0)
    config = GPT2Config(vocab_size=len(tok), n_embd=32, n_layer=2, n_head=2, n_positions=64, num_labels=2,
                        finetuning_task="cola", pad_token_id=None)
    folder = tmp_path / "my-gpt2-cola"
    GPT2ForSequenceClassification(config).save_pretrained(folder)
    tok.save_pretrained(folder)
    loaded = load_model(ModelEntry(name="g", source=str(folder), task="cola"), "cpu")
    assert any("EOS" in n for n in loaded.notes)
    texts = ["나는 학교에 갔다.", "비가 왔다."]
    batch = classify(loaded, texts)
    alone = [classify(loaded, [t])[0] for t in texts]
    for b, a in zip(batch, alone):
        assert b.probs == pytest.approx(a.probs, abs=1e-5)


def test_a_lightning_ckpt_folder_loads_and_trainer_state_is_not_taken_for_weights(make_checkpoint, tmp_path):
    import shutil

    folder = tmp_path / "lightning-cola"
    shutil.copytree(make_checkpoint("bert", name="ckpt-src", seed=4), folder)
    expected = _direct_probs(folder, SENTENCES[:2])
    state = AutoModelForSequenceClassification.from_pretrained(folder).state_dict()
    (folder / "model.safetensors").unlink()
    torch.save({"lr": 3e-5}, folder / "optimizer.pt")  # .pt is tried before .ckpt, yet this is no model
    torch.save({"state_dict": {f"model.{k}": v for k, v in state.items()}}, folder / "last.ckpt")
    loaded = load_model(folder_entry(folder, "checkpoints"), "cpu")
    assert [r.p1 for r in _cola(loaded, SENTENCES[:2])] == pytest.approx(expected, abs=1e-5)
    assert any("'model.'" in note for note in loaded.notes)


def test_a_folder_with_only_tensorflow_weights_says_so(make_checkpoint, tmp_path):
    import shutil

    folder = tmp_path / "tf-cola"
    shutil.copytree(make_checkpoint("bert", name="tf-src"), folder)
    (folder / "model.safetensors").unlink()
    (folder / "tf_model.h5").write_bytes(b"\x89HDF")
    with pytest.raises(CheckpointError, match="tf_model.h5 holds TensorFlow or Flax weights"):
        load_model(folder_entry(folder, "checkpoints"), "cpu")
