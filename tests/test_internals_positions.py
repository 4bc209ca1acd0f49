"""Position tables per family, and the live default-vs-explicit position ids check."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
import torch

from explorer.internals.positions import (
    cosine_matrix,
    explicit_position_check,
    norms,
    pca_2d,
    position_info,
    position_table,
    token_type_table,
    used_positions,
)


def _load_builder():
    """Reuses the tiny-model builder of the padding tests (tests/ is not a package)."""
    spec = importlib.util.spec_from_file_location("_padding_tests", Path(__file__).with_name("test_internals_padding.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.build_tiny


build_tiny = _load_builder()
ABSOLUTE = ("bert", "electra", "albert", "roberta", "gpt2")


@pytest.fixture(scope="module")
def models(tokenizer):
    families = ABSOLUTE + ("funnel",)
    return {f: build_tiny(f, len(tokenizer), tokenizer.pad_token_id) for f in families}


@pytest.fixture(scope="module")
def texts(korean_texts):
    by_length = sorted(set(korean_texts), key=len)
    return [by_length[len(by_length) // 4], by_length[-1]]


class Loaded:
    """The fields of ``LoadedModel`` the check reads."""

    def __init__(self, model, tokenizer):
        self.model, self.tokenizer, self.device = model, tokenizer, torch.device("cpu")


@pytest.mark.parametrize("family", ABSOLUTE)
def test_absolute_tables(models, tokenizer, family):
    info = position_info(models[family])
    table = position_table(models[family])
    assert info["kind"] == "absolute" and table is not None
    assert table.shape[0] == info["rows"] == 64  # the used rows only
    width = 16 if family in ("electra", "albert") else 32  # factorised embeddings
    assert table.shape[1] == width
    if family == "roberta":
        assert info["offset"] == tokenizer.pad_token_id + 1 and "never used" in info["note"]
        full = models[family].roberta.embeddings.position_embeddings.weight
        assert torch.equal(table, full[info["offset"] :].detach())
    else:
        assert info["offset"] == 0


def test_funnel_has_no_table_and_says_why(models, tokenizer, texts):
    info = position_info(models["funnel"])
    assert info["kind"] == "none" and "relative" in info["note"]
    assert position_table(models["funnel"]) is None
    check = explicit_position_check(Loaded(models["funnel"], tokenizer), texts)
    assert check["kind"] == "none" and check["explicit_max_diff"] is None and check["note"]


@pytest.mark.parametrize("family", ABSOLUTE)
def test_default_positions_equal_explicit_and_shuffle_changes(models, tokenizer, texts, family):
    check = explicit_position_check(Loaded(models[family], tokenizer), texts, seed=1)
    assert check["explicit_max_diff"] < 1e-6
    assert check["shuffled_max_diff"] > 1e-4
    assert [r["length"] for r in check["per_text"]] == sorted(r["length"] for r in check["per_text"])


def test_explicit_check_with_pairs(models, tokenizer, texts):
    check = explicit_position_check(Loaded(models["bert"], tokenizer), texts[:1], pairs=texts[1:])
    assert check["explicit_max_diff"] < 1e-6


def test_roberta_without_offset_would_differ(models, tokenizer, texts):
    # The offset matters: plain arange ids are not what RoBERTa uses by default.
    model = models["roberta"]
    ids = tokenizer(texts[0], return_tensors="pt")
    n = ids["input_ids"].shape[1]
    with torch.no_grad():
        default = model(**ids).logits
        plain = model(**ids, position_ids=torch.arange(n).unsqueeze(0)).logits
    assert (default - plain).abs().max() > 1e-4


def test_token_type_tables(models):
    assert token_type_table(models["bert"]).shape == (2, 32)
    assert token_type_table(models["electra"]).shape == (2, 16)
    assert token_type_table(models["gpt2"]) is None
    assert token_type_table(models["funnel"]) is None


def test_views_of_a_table(models):
    table = position_table(models["bert"])
    cos = cosine_matrix(table)
    assert cos.shape == (64, 64)
    assert torch.allclose(torch.diagonal(cos), torch.ones(64), atol=1e-5)
    assert torch.allclose(cos, cos.T, atol=1e-6)
    assert torch.allclose(norms(table), table.norm(dim=-1))
    coords = pca_2d(table)
    assert coords.shape == (64, 2)
    assert torch.allclose(coords.mean(dim=0), torch.zeros(2), atol=1e-4)
    assert coords[:, 0].var() >= coords[:, 1].var()  # first axis explains most


def test_pca_recovers_a_line():
    line = torch.arange(10.0).unsqueeze(1) * torch.tensor([[1.0, 2.0, 0.0]])
    coords = pca_2d(line)
    assert torch.allclose(coords[:, 1], torch.zeros(10), atol=1e-4)
    assert coords[0, 0] <= 0


def test_used_positions(tokenizer, texts):
    low, high = used_positions(tokenizer, texts)
    assert 0 < low < high


def test_explicit_check_on_a_multiple_choice_head(tokenizer, texts):
    from transformers import BertConfig, BertForMultipleChoice

    torch.manual_seed(0)
    model = BertForMultipleChoice(BertConfig(
        vocab_size=len(tokenizer), pad_token_id=tokenizer.pad_token_id, initializer_range=0.2, hidden_size=32,
        num_hidden_layers=2, num_attention_heads=2, intermediate_size=64, max_position_embeddings=64)).eval()
    check = explicit_position_check(Loaded(model, tokenizer), [texts[0], texts[0]], pairs=[texts[1], texts[0]])
    assert check["explicit_max_diff"] < 1e-6 and check["shuffled_max_diff"] > 1e-4
    assert all(r["length"] > 3 for r in check["per_text"])
