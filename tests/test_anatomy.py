"""Parameter anatomy: the buckets add up to the model, for tiny models of every family."""

from __future__ import annotations

import pytest
import torch
import transformers as tf

from explorer.anatomy import BUCKETS, anatomy, anatomy_frame, bucket_of, bytes_on_disk

VOCAB = 100
COMMON = dict(
    vocab_size=VOCAB, hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64,
    max_position_embeddings=64,
)


def _bert() -> torch.nn.Module:
    return tf.BertForSequenceClassification(tf.BertConfig(**COMMON))


FAMILIES = {
    "bert": _bert,
    "electra": lambda: tf.ElectraForSequenceClassification(tf.ElectraConfig(embedding_size=16, **COMMON)),
    "roberta": lambda: tf.RobertaForSequenceClassification(tf.RobertaConfig(**COMMON)),
    "xlm-roberta": lambda: tf.XLMRobertaForSequenceClassification(tf.XLMRobertaConfig(**COMMON)),
    "albert": lambda: tf.AlbertForSequenceClassification(tf.AlbertConfig(embedding_size=16, **COMMON)),
    "distilbert": lambda: tf.DistilBertForSequenceClassification(
        tf.DistilBertConfig(vocab_size=VOCAB, dim=32, n_layers=2, n_heads=2, hidden_dim=64, max_position_embeddings=64)
    ),
    "funnel": lambda: tf.FunnelForSequenceClassification(
        tf.FunnelConfig(vocab_size=VOCAB, d_model=32, n_head=2, d_head=16, d_inner=64, block_sizes=[1, 1])
    ),
    "gpt2": lambda: tf.GPT2ForSequenceClassification(
        tf.GPT2Config(vocab_size=VOCAB, n_embd=32, n_layer=2, n_head=2, n_positions=64, pad_token_id=0,
                      bos_token_id=0, eos_token_id=0)
    ),
    "bert-multiple-choice": lambda: tf.BertForMultipleChoice(tf.BertConfig(**COMMON)),
    "bert-masked-lm-tied": lambda: tf.BertForMaskedLM(tf.BertConfig(**COMMON)),
}


@pytest.mark.parametrize("family", FAMILIES)
def test_buckets_sum_to_the_parameter_count(family):
    torch.manual_seed(0)
    model = FAMILIES[family]()
    result = anatomy(model, model.config)
    assert set(result["parameters"]) == set(BUCKETS)
    assert sum(result["parameters"].values()) == result["total"] == sum(p.numel() for p in model.parameters())
    parts = result["parameters"]
    assert parts["token embeddings"] == VOCAB * (16 if family in ("electra", "albert") else 32)
    assert parts["encoder layers"] > 0 and parts["head"] > 0
    assert parts["other"] == 0, [n for n, _ in model.named_parameters() if bucket_of(n) == "other"]
    assert result["vocab_size"] == VOCAB and result["hidden_size"] == 32
    assert result["num_attention_heads"] == 2 and result["dtype"] == "float32"
    params = sum(p.numel() * p.element_size() for p in model.parameters())
    assert result["bytes_in_memory"] >= params


def test_electra_factorised_embeddings_are_lighter_than_bert():
    bert, electra = anatomy(FAMILIES["bert"]()), anatomy(FAMILIES["electra"]())
    assert electra["embedding_size"] == 16 and bert["embedding_size"] == 32
    assert electra["parameters"]["token embeddings"] < bert["parameters"]["token embeddings"]
    assert electra["parameters"]["embedding projection"] == 16 * 32 + 32
    assert bert["parameters"]["embedding projection"] == 0
    # Same layers: the difference is only in the embeddings and the head.
    assert electra["parameters"]["encoder layers"] == bert["parameters"]["encoder layers"]


def test_albert_counts_its_shared_layer_once():
    albert = anatomy(FAMILIES["albert"]())
    bert = anatomy(FAMILIES["bert"]())
    assert albert["shared_layers"] and not bert["shared_layers"]
    # One layer's weights, reused twice; BERT stores two.
    assert albert["parameters"]["encoder layers"] * 2 == bert["parameters"]["encoder layers"]
    assert albert["parameters"]["embedding projection"] == 16 * 32 + 32


def test_specific_names():
    assert bucket_of("transformer.wte.weight") == "token embeddings"
    assert bucket_of("transformer.wpe.weight") == "position/type embeddings"
    assert bucket_of("transformer.ln_f.weight") == "encoder layers"
    assert bucket_of("score.weight") == "head"
    assert bucket_of("roberta.embeddings.LayerNorm.weight") == "position/type embeddings"
    assert bucket_of("albert.encoder.embedding_hidden_mapping_in.weight") == "embedding projection"
    assert bucket_of("bert.pooler.dense.weight") == "pooler"
    assert bucket_of("lm_head.decoder.bias") == "head"
    assert bucket_of("something.unknown") == "other"


def test_bytes_on_disk_of_a_saved_folder(tmp_path):
    model = FAMILIES["electra"]()
    model.save_pretrained(tmp_path / "m")
    (tmp_path / "m" / "checkpoint-5").mkdir()
    (tmp_path / "m" / "checkpoint-5" / "model.safetensors").write_bytes(b"x" * 10_000_000)
    (tmp_path / "m" / "training_args.bin").write_bytes(b"x" * 1000)
    size = bytes_on_disk(tmp_path / "m")
    assert size == (tmp_path / "m" / "model.safetensors").stat().st_size > 0
    result = anatomy(model, folder=tmp_path / "m")
    assert result["bytes_on_disk"] == size
    # float32 weights: the file is about the size of the parameters in memory.
    assert abs(size - result["total"] * 4) < 0.2 * result["total"] * 4
    assert bytes_on_disk(tmp_path / "missing") == 0


def test_half_precision_dtype_and_memory():
    model = FAMILIES["bert"]().to(torch.float16)
    result = anatomy(model)
    assert result["dtype"] == "float16"
    assert result["bytes_in_memory"] == sum(p.numel() * 2 for p in model.parameters()) + sum(
        b.numel() * b.element_size() for b in model.buffers()
    )


def test_anatomy_frame_is_long_and_ordered():
    rows = [dict(anatomy(FAMILIES[f]()), model=f) for f in ("bert", "electra")]
    frame = anatomy_frame(rows)
    assert list(frame.columns) == ["model", "part", "order", "parameters", "share"]
    assert len(frame) == 2 * len(BUCKETS)
    for row in rows:
        sub = frame[frame["model"] == row["model"]]
        assert sub["parameters"].sum() == row["total"]
        assert sub["share"].sum() == pytest.approx(1.0)
        assert sub["part"].tolist() == list(BUCKETS)
    assert anatomy_frame([]).empty


def test_parts_show_electras_factorised_embeddings_as_a_smaller_share_than_berts():
    """The Comparison page's point: with the same layers, ELECTRA keeps less of itself in its embeddings."""
    from explorer.anatomy import PARTS, parts_frame

    rows = [dict(anatomy(FAMILIES[f]()), model=f) for f in ("electra", "bert")]
    parts = parts_frame(rows)
    assert list(dict.fromkeys(parts["model"])) == ["electra", "bert"]  # the caller's order
    share = parts.set_index(["model", "part"])["share"]
    assert share["electra", "embeddings"] < share["bert", "embeddings"]
    for row in rows:
        mine = parts[parts["model"] == row["model"]]
        assert mine["part"].tolist() == list(PARTS)  # no "other": every parameter has a part
        assert mine["parameters"].sum() == row["total"] and mine["share"].sum() == pytest.approx(1.0)


def test_electras_multiple_choice_head_is_a_head():
    model = tf.ElectraForMultipleChoice(tf.ElectraConfig(embedding_size=16, **COMMON))
    parts = anatomy(model)["parameters"]
    assert parts["other"] == 0 and parts["head"] > 0
