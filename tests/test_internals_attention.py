"""Attention maps per layer and head, with and without the attention mask.

Tiny random models of every family (``build_tiny``) share the conftest WordPiece
tokenizer; texts of clearly different lengths make the shorter rows padded.
"""

from __future__ import annotations

import copy

import pytest
import torch
from transformers import BertConfig, BertForMultipleChoice

from explorer.internals.attention import (
    MAX_ROWS,
    attention_maps,
    head_map,
    pad_attention_share,
    special_attention_share,
)
from explorer.ui.attention import head_heatmap, pad_share_heatmap
from tests.test_internals_padding import FAMILIES, build_tiny


@pytest.fixture(scope="module")
def texts(korean_texts):
    """Shortest, longest and a middle sentence: rows 0 and 2 are padded."""
    by_length = sorted(set(korean_texts), key=len)
    return [by_length[0], by_length[-1], by_length[len(by_length) // 2]]


@pytest.fixture(scope="module")
def models(tokenizer):
    return {f: build_tiny(f, len(tokenizer), tokenizer.pad_token_id) for f in FAMILIES}


@pytest.fixture(scope="module")
def runs(models, tokenizer, texts):
    """(masked, unmasked) maps per family, computed once."""
    return {
        f: (attention_maps(m, texts, tokenizer=tokenizer), attention_maps(m, texts, with_mask=False, tokenizer=tokenizer))
        for f, m in models.items()
    }


def _real_query_sums(maps) -> list[torch.Tensor]:
    out = []
    for layer, w in enumerate(maps.weights):
        for row in range(maps.num_rows):
            real = ~torch.tensor(maps.group_pad(row, maps.query_groups[layer]))
            out.append(w[:, row][:, real].sum(-1))
    return out


# --------------------------------------------------------------------------- every family


@pytest.mark.parametrize("family", FAMILIES)
def test_real_query_rows_sum_to_one(runs, family):
    for maps in runs[family]:
        for sums in _real_query_sums(maps):
            assert torch.allclose(sums, torch.ones_like(sums), atol=1e-4)


@pytest.mark.parametrize("family", FAMILIES)
def test_mask_keeps_attention_off_padding(runs, family):
    masked, _ = runs[family]
    assert masked.has_padding and masked.with_mask
    share = pad_attention_share(masked)
    assert share.shape == (masked.num_layers, masked.num_heads)
    assert float(share.max()) < 1e-6


@pytest.mark.parametrize("family", [f for f in FAMILIES if f != "gpt2"])
def test_without_mask_real_tokens_attend_to_padding(runs, family):
    _, unmasked = runs[family]
    assert not unmasked.with_mask
    assert float(pad_attention_share(unmasked).min()) > 0.1


def test_gpt2_is_causal_and_right_padding_hides_pads_anyway(runs):
    masked, unmasked = runs["gpt2"]
    assert masked.causal and masked.padding_side == "right"
    for w in masked.weights + unmasked.weights:
        assert float(torch.triu(w, diagonal=1).abs().max()) == 0.0
    # Right padding: real tokens only see earlier (real) tokens, mask or not.
    assert float(pad_attention_share(unmasked).max()) < 1e-6
    assert any("causal mask alone" in n for n in masked.notes)


def test_gpt2_left_padding_needs_the_mask(models, tokenizer, texts):
    left = copy.deepcopy(tokenizer)
    left.padding_side = "left"
    masked = attention_maps(models["gpt2"], texts, tokenizer=left)
    unmasked = attention_maps(models["gpt2"], texts, with_mask=False, tokenizer=left)
    assert masked.pad[0][0] and masked.padding_side == "left"
    assert float(pad_attention_share(masked).max()) < 1e-6
    assert float(pad_attention_share(unmasked).min()) > 0.1


def test_uniform_families_stack_into_one_tensor(runs, texts):
    maps, _ = runs["bert"]
    stacked = maps.stacked()
    assert stacked is not None and stacked.dtype == torch.float32 and stacked.device.type == "cpu"
    assert stacked.shape == (2, 2, len(texts), maps.seq_len, maps.seq_len)
    assert maps.tokens[0][0] == "[CLS]" and maps.pad[0][-1] and not maps.pad[1][-1]
    assert maps.special[0][0] and not maps.special[0][-1]


def test_special_share_is_a_proper_share(runs):
    share = special_attention_share(runs["bert"][0])
    assert float(share.min()) > 0 and float(share.max()) < 1


# --------------------------------------------------------------------------- funnel


def test_funnel_layers_keep_their_pooled_shapes_with_labels(runs):
    maps, _ = runs["funnel"]
    assert maps.stacked() is None and not maps.uniform
    n = maps.seq_len
    assert tuple(maps.weights[0].shape[-2:]) == (n, n)
    queries, keys = maps.weights[1].shape[-2:]
    assert queries < n and keys == n  # pooled queries attend to the full-length keys
    labels = maps.group_labels(0, maps.query_groups[1])
    assert labels[0] == "0:[CLS]" and "-" in labels[1].split(":")[0]  # [CLS] apart, then pairs
    assert any("Funnel pools" in note for note in maps.notes)
    hm = head_map(maps, 1, 0, 0)
    assert hm.weights.shape == (len(hm.query_labels), len(hm.key_labels))


# --------------------------------------------------------------------------- shared model safety


def test_cached_model_is_untouched(models, tokenizer, texts):
    model = models["bert"]
    inputs = tokenizer(texts, padding=True, return_tensors="pt")
    with torch.no_grad():
        before = model(**inputs).logits.clone()
    attn = model.config._attn_implementation
    attention_maps(model, texts, tokenizer=tokenizer)
    assert model.config._attn_implementation == attn == "sdpa"
    assert not model.config.output_attentions
    assert not getattr(model, "_output_capturing_hooks_installed", False)
    assert all(not m._forward_hooks and not m._forward_pre_hooks for m in model.modules())
    with torch.no_grad():
        assert torch.equal(model(**inputs).logits, before)


def test_gpt2_without_pad_token_pads_with_eos_on_copies(tokenizer, texts):
    model = build_tiny("gpt2", len(tokenizer), tokenizer.pad_token_id)
    model.config.pad_token_id = None
    bare = copy.deepcopy(tokenizer)
    bare.pad_token = None
    bare.eos_token = "[SEP]"
    maps = attention_maps(model, texts, tokenizer=bare)
    assert maps.has_padding and any("pads with EOS" in n for n in maps.notes)
    assert model.config.pad_token_id is None and bare.pad_token is None


# --------------------------------------------------------------------------- inputs


def test_multiple_choice_rows_are_alternatives(tokenizer, texts):
    torch.manual_seed(0)
    config = BertConfig(vocab_size=len(tokenizer), hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                        intermediate_size=64, max_position_embeddings=64, pad_token_id=tokenizer.pad_token_id)
    model = BertForMultipleChoice(config).eval()
    maps = attention_maps(model, [texts[0]] * 3, pairs=texts, tokenizer=tokenizer)
    assert maps.num_rows == 3 and maps.weights[0].shape[:2] == (2, 3)
    assert float(pad_attention_share(maps).max()) < 1e-6


def test_caps_rows_and_tokens(models, tokenizer, korean_texts):
    maps = attention_maps(models["bert"], korean_texts[: MAX_ROWS + 3], max_length=8, tokenizer=tokenizer)
    assert maps.num_rows == MAX_ROWS and maps.seq_len == 8
    assert any("first 8" in n for n in maps.notes) and any("truncated to 8" in n for n in maps.notes)


def test_rejects_bad_input(models, tokenizer):
    with pytest.raises(ValueError, match="No texts"):
        attention_maps(models["bert"], [], tokenizer=tokenizer)
    with pytest.raises(ValueError, match="second sentences"):
        attention_maps(models["bert"], ["a", "b"], pairs=["c"], tokenizer=tokenizer)
    with pytest.raises(ValueError, match="tokenizer"):
        attention_maps(models["bert"], ["a"])


def test_no_padding_gives_nan_share(models, tokenizer, texts):
    maps = attention_maps(models["bert"], [texts[0]], tokenizer=tokenizer)
    assert not maps.has_padding and bool(pad_attention_share(maps).isnan().all())
    assert pad_share_heatmap(maps) is None


# --------------------------------------------------------------------------- charts


def test_head_heatmap_hides_padding_by_default(runs):
    maps, _ = runs["bert"]
    chart = head_heatmap(maps, layer=1, head=0, row=0)
    data = chart.data
    real = sum(not p for p in maps.pad[0])
    assert len(data) == real * real
    assert not data["key"].str.contains("PAD").any() and not data["query"].str.contains("PAD").any()
    assert data["key"].iloc[0] == "0:[CLS]"
    assert chart.to_dict()  # a valid Vega-Lite spec
    shown = head_heatmap(maps, layer=1, head=None, row=0, show_padding=True).data
    assert len(shown) == maps.seq_len**2 and shown["key_is_pad"].any()
    titled = head_heatmap(maps, layer=1, head=0, row=0, label="1·alt 2").to_dict()["title"]
    assert titled == "layer 1, head 0, input 1·alt 2"  # the page's own name for the row


def test_head_heatmap_size_is_capped(runs):
    maps, _ = runs["bert"]
    spec = head_heatmap(maps, 0, 0, 1, show_padding=True).to_dict()
    assert spec["height"] <= 600 and spec["width"] <= 600


def test_pad_share_heatmap_covers_layers_and_heads(runs):
    _, unmasked = runs["roberta"]
    chart = pad_share_heatmap(unmasked)
    assert chart is not None and len(chart.data) == unmasked.num_layers * unmasked.num_heads
    assert chart.data["share"].min() > 0.1


def test_byte_level_tokens_are_shown_as_hangul():
    """GPT-2/RoBERTa-style byte-level pieces read as Korean where they form whole characters."""
    from tokenizers import ByteLevelBPETokenizer, decoders
    from transformers import PreTrainedTokenizerFast

    from explorer.internals.padding import readable_tokens, token_grid

    bpe = ByteLevelBPETokenizer()
    # A tiny corpus, so whole eojeol become tokens (pieces of one syllable would stay raw bytes).
    bpe.train_from_iterator(["학교에 갔다", "나는 학교에 갔다"] * 10, vocab_size=300, min_frequency=1, show_progress=False)
    tok = PreTrainedTokenizerFast(tokenizer_object=bpe._tokenizer)
    pieces = tok.tokenize("학교에 갔다")
    assert not any("학" in p for p in pieces)  # raw byte-level pieces are unreadable
    shown = readable_tokens(tok, pieces)
    assert shown == ["학교에", "갔다"]
    tok.backend_tokenizer.decoder = decoders.Sequence([decoders.ByteLevel()])
    assert readable_tokens(tok, pieces) == shown
    # The token grid (and so the alignment and attention labels) shows them that way too.
    assert [c["token"] for c in token_grid(tok, ["학교에 갔다"], padding=False)[0]] == ["학교에", "갔다"]
