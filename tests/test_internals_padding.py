"""Padding, attention masks and the classification head's read position, per family.

Tiny random models (hidden 32, 2 layers) share the conftest WordPiece tokenizer, so
every family sees the same Korean inputs of different lengths.
"""

from __future__ import annotations

import pytest
import torch
from transformers import (
    AlbertConfig,
    AlbertForSequenceClassification,
    BertConfig,
    BertForSequenceClassification,
    ElectraConfig,
    ElectraForSequenceClassification,
    FunnelConfig,
    FunnelForSequenceClassification,
    GPT2Config,
    GPT2ForSequenceClassification,
    RobertaConfig,
    RobertaForSequenceClassification,
)

from explorer.internals.padding import mask_invariance, padding_cost, token_grid, with_pad_token

FAMILIES = ("bert", "electra", "albert", "roberta", "funnel", "gpt2")


def build_tiny(family: str, vocab: int, pad_id: int, seed: int = 0) -> torch.nn.Module:
    """A random two-layer classifier of the family, in eval mode."""
    torch.manual_seed(seed)
    # A wider init than the 0.02 default makes effects of a few pad tokens visible in
    # the logits of a random two-layer model (they would sit near 1e-5 otherwise).
    common = dict(vocab_size=vocab, num_labels=2, pad_token_id=pad_id, initializer_range=0.2)
    bert_like = dict(
        hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64, max_position_embeddings=64
    )
    if family == "bert":
        model = BertForSequenceClassification(BertConfig(**common, **bert_like))
    elif family == "electra":
        model = ElectraForSequenceClassification(ElectraConfig(embedding_size=16, **common, **bert_like))
    elif family == "albert":
        model = AlbertForSequenceClassification(AlbertConfig(embedding_size=16, **common, **bert_like))
    elif family == "roberta":
        # Positions start at padding_idx + 1, so the table needs pad + 1 extra rows.
        config = RobertaConfig(**common, **{**bert_like, "max_position_embeddings": 64 + pad_id + 1})
        model = RobertaForSequenceClassification(config)
    elif family == "funnel":
        config = FunnelConfig(block_sizes=[1, 1], d_model=32, n_head=2, d_head=16, d_inner=64, **common)
        model = FunnelForSequenceClassification(config)
    elif family == "gpt2":
        model = GPT2ForSequenceClassification(GPT2Config(n_embd=32, n_layer=2, n_head=2, n_positions=64, bos_token_id=None, eos_token_id=None, **common))
    else:
        raise ValueError(family)
    return model.eval()


@pytest.fixture(scope="module")
def texts(korean_texts):
    """Four sentences of clearly different lengths, shortest first."""
    by_length = sorted(set(korean_texts), key=len)
    picks = [by_length[0], by_length[len(by_length) // 3], by_length[2 * len(by_length) // 3], by_length[-1]]
    return picks


@pytest.fixture(scope="module")
def models(tokenizer):
    return {f: build_tiny(f, len(tokenizer), tokenizer.pad_token_id) for f in FAMILIES}


# --------------------------------------------------------------------------- token grid


def test_token_grid_marks_specials_pads_and_segments(tokenizer, texts):
    rows = token_grid(tokenizer, texts[:2], pairs=texts[2:], padding="longest")
    assert len({len(r) for r in rows}) == 1  # padded to one length
    first = rows[0]
    assert first[0]["token"] == "[CLS]" and first[0]["special"] and not first[0]["pad"]
    assert {c["token_type_id"] for c in first if not c["pad"]} == {0, 1}
    pads = [c for r in rows for c in r if c["pad"]]
    assert pads and all(c["token"] == "[PAD]" and c["attention_mask"] == 0 and not c["special"] for c in pads)


def test_token_grid_without_padding_keeps_lengths(tokenizer, texts):
    rows = token_grid(tokenizer, texts, padding=False)
    assert len({len(r) for r in rows}) > 1
    assert not any(c["pad"] for r in rows for c in r)


def test_token_grid_max_length_pads_to_the_limit(tokenizer, texts):
    rows = token_grid(tokenizer, texts[:2], padding="max_length", max_length=40)
    assert [len(r) for r in rows] == [40, 40]


def test_tokenizer_without_pad_pads_with_eos_on_a_copy(tokenizer):
    bare = with_pad_token(tokenizer)
    assert bare is tokenizer  # already pads: untouched
    import copy

    gpt_like = copy.deepcopy(tokenizer)
    gpt_like.pad_token = None
    gpt_like.eos_token = "[SEP]"
    fixed = with_pad_token(gpt_like)
    assert fixed is not gpt_like and gpt_like.pad_token is None
    assert fixed.pad_token_id == fixed.eos_token_id


# --------------------------------------------------------------------------- padding cost


def test_padding_cost_is_consistent(tokenizer, korean_texts):
    texts = korean_texts[:50]
    strategies = ("longest", "max_length", "none", "dynamic", "sorted_dynamic")
    costs = {c["strategy"]: c for c in padding_cost(tokenizer, texts, batch_size=8, strategies=strategies, max_length=64)}
    lengths = [len(tokenizer(t, truncation=True, max_length=64)["input_ids"]) for t in texts]
    for c in costs.values():
        assert c["real_tokens"] == sum(lengths)
        assert c["total_tokens"] == c["real_tokens"] + c["pad_tokens"]
        assert 0.0 <= c["wasted_share"] < 1.0
    assert costs["none"]["pad_tokens"] == 0 and costs["none"]["relative_attention"] == 1.0
    assert costs["longest"]["total_tokens"] == len(texts) * max(lengths)
    assert costs["max_length"]["total_tokens"] == len(texts) * 64
    order = ["none", "sorted_dynamic", "longest", "max_length"]
    for key in ("wasted_share", "attention_cost"):
        values = [costs[s][key] for s in order]
        assert values == sorted(values), key
    assert costs["sorted_dynamic"]["pad_tokens"] <= costs["dynamic"]["pad_tokens"] <= costs["longest"]["pad_tokens"]


def test_padding_cost_rejects_unknown_strategy(tokenizer, texts):
    with pytest.raises(ValueError, match="Unknown padding strategy"):
        padding_cost(tokenizer, texts, 2, strategies=("bogus",))


# --------------------------------------------------------------------------- mask invariance


@pytest.mark.parametrize("family", FAMILIES)
def test_padded_with_mask_equals_alone(models, tokenizer, texts, family):
    rows = mask_invariance(models[family], tokenizer, texts)
    assert len({r["length"] for r in rows}) > 1
    assert max(r["diff_masked"] for r in rows) < 1e-5


@pytest.mark.parametrize("family", ["bert", "electra", "albert", "roberta", "funnel"])
def test_encoders_move_without_mask_and_read_cls(models, tokenizer, texts, family):
    rows = mask_invariance(models[family], tokenizer, texts)
    assert max(r["diff_no_mask"] for r in rows) > 1e-4
    # The longest text has no pads, so dropping the mask cannot change it.
    assert rows[-1]["diff_no_mask"] < 1e-5
    assert all(r["head_position"] == 0 and r["head_token"] == "[CLS]" for r in rows)


def test_roberta_survives_left_padding_bert_does_not(models, tokenizer, texts):
    # RoBERTa counts positions over non-pad tokens; BERT numbers 0..n-1 and reads a pad at 0.
    roberta = mask_invariance(models["roberta"], tokenizer, texts)
    bert = mask_invariance(models["bert"], tokenizer, texts)
    assert max(r["diff_other_side"] for r in bert) > 1e-4
    assert max(r["diff_other_side"] for r in roberta[:-1]) > 1e-4  # head still reads index 0: a pad
    assert roberta[-1]["diff_other_side"] < 1e-5


def test_gpt2_pad_side_and_head_position(models, tokenizer, texts):
    rows = mask_invariance(models["gpt2"], tokenizer, texts, pairs=None)
    assert all(r["pad_side"] == "right" for r in rows)
    # Causal attention: right pads come after every real token, so even no mask is harmless.
    assert max(r["diff_no_mask"] for r in rows) < 1e-5
    # Left padding shifts absolute positions (and, unmasked, lets tokens see pads).
    assert max(r["diff_other_side"] for r in rows) > 1e-4
    assert max(r["diff_other_side_no_mask"] for r in rows) > 1e-4
    # Position ids counted from the mask repair left padding.
    assert max(r["diff_other_side_position_ids"] for r in rows) < 1e-5
    for r in rows:
        assert r["head_position"] == r["length"] - 1  # last real token, right-padded
        assert r["head_token"] == "[SEP]"


def test_gpt2_without_pad_id_on_config_is_never_changed(tokenizer, texts):
    model = build_tiny("gpt2", len(tokenizer), tokenizer.pad_token_id)
    model.config.pad_token_id = None
    seen = []
    # Other sessions share the cached model: its config must stay untouched *during* the call.
    model.register_forward_pre_hook(lambda module, args: seen.append(model.config.pad_token_id))
    rows = mask_invariance(model, tokenizer, texts)
    assert seen and set(seen) == {None}
    assert model.config.pad_token_id is None
    assert max(r["diff_masked"] for r in rows) < 1e-5


def test_pairs_are_supported(models, tokenizer, texts):
    rows = mask_invariance(models["bert"], tokenizer, texts[:2], pairs=texts[2:])
    assert max(r["diff_masked"] for r in rows) < 1e-5


def test_accepts_a_loaded_model(models, tokenizer, texts):
    class Loaded:  # the fields of explorer.loading.LoadedModel this module reads
        model = models["electra"]
        device = torch.device("cpu")

    rows = mask_invariance(Loaded(), tokenizer, texts)
    assert max(r["diff_masked"] for r in rows) < 1e-5


@pytest.mark.parametrize("family", ["bert", "electra"])
def test_multiple_choice_rows_padded_with_mask_equal_alone(tokenizer, texts, family):
    """COPA models: each (premise, alternative) row scores the same alone and padded."""
    from transformers import BertForMultipleChoice, ElectraForMultipleChoice

    torch.manual_seed(0)
    common = dict(vocab_size=len(tokenizer), pad_token_id=tokenizer.pad_token_id, initializer_range=0.2, hidden_size=32,
                  num_hidden_layers=2, num_attention_heads=2, intermediate_size=64, max_position_embeddings=64)
    model = (BertForMultipleChoice(BertConfig(**common)) if family == "bert"
             else ElectraForMultipleChoice(ElectraConfig(embedding_size=16, **common))).eval()
    premise = texts[0]
    rows = mask_invariance(model, tokenizer, [premise, premise], pairs=[texts[1], texts[2] + " " + texts[3]])
    assert max(r["diff_masked"] for r in rows) < 1e-5
    assert max(r["diff_no_mask"] for r in rows) > 1e-4  # the shorter alternative sees its pads


def test_config_view_shares_weights_not_config(tokenizer):
    from explorer.internals.views import config_view

    model = build_tiny("gpt2", len(tokenizer), tokenizer.pad_token_id)
    view = config_view(model, pad_token_id=7, attn_implementation="eager")
    assert view.config.pad_token_id == 7 and model.config.pad_token_id == tokenizer.pad_token_id
    assert model.config._attn_implementation != "eager"
    assert all(a is b for a, b in zip(view.parameters(), model.parameters()))
    ids = torch.tensor([[5, 6, 7, 8]])
    assert torch.allclose(view(input_ids=ids).logits, model(input_ids=ids).logits, atol=1e-6)
