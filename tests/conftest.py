"""Shared fixtures: tiny random checkpoints of each family, built offline.

Weights are random, so tests assert behaviour (shapes, invariances, error
messages, agreement with the model run directly), never accuracy.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest
import torch
from transformers import (
    BertConfig,
    BertForMultipleChoice,
    BertForSequenceClassification,
    ElectraConfig,
    ElectraForSequenceClassification,
    RobertaConfig,
    RobertaForSequenceClassification,
)

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
# Tests share the prepared defaults in the user's cache, but not the models `make models` trained there: a page
# test expects the demos and its own tiny models only. Servers the tests start inherit this.
os.environ["EXPLORER_FROM_DATA"] = tempfile.mkdtemp(prefix="explorer-test-from-data-")
# The cores shared between pytest-xdist's workers (`make test` runs two): one worker's matmuls should not
# oversubscribe the cores the other is using.
torch.set_num_threads(max(1, (os.cpu_count() or 2) // int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))))

REPO = Path(__file__).resolve().parent.parent
SHARED_DATA = REPO.parent / "shared" / "data"
TEST_OUTPUT = REPO / "test-output"


@pytest.fixture(scope="session")
def korean_texts() -> list[str]:
    from explorer.defaults.korean import generate_cola

    return [e.sentence for e in generate_cola(600, seed=3)]


@pytest.fixture(scope="session")
def tokenizer_dir(tmp_path_factory, korean_texts) -> Path:
    from explorer.defaults.demo import train_tokenizer

    out = tmp_path_factory.mktemp("tokenizer")
    train_tokenizer(korean_texts, out, vocab_size=600, fixed_ids=True)  # the same tiny models in every run
    return out


@pytest.fixture(scope="session")
def tokenizer(tokenizer_dir):
    """The fast WordPiece tokenizer of ``tokenizer_dir`` (views copy it before changing anything)."""
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(tokenizer_dir)


def _config(family: str, vocab: int, pad_id: int, **extra):
    common = dict(
        vocab_size=vocab, hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64,
        max_position_embeddings=64, pad_token_id=pad_id, **extra,
    )
    if family == "electra":
        return ElectraConfig(embedding_size=16, **common)
    if family == "roberta":
        # RoBERTa numbers positions from padding_idx + 1, so it needs pad + 1 extra slots.
        common["max_position_embeddings"] = 64 + pad_id + 1
        return RobertaConfig(**common)
    return BertConfig(**common)


_CLASSES = {
    "bert": BertForSequenceClassification,
    "electra": ElectraForSequenceClassification,
    "roberta": RobertaForSequenceClassification,
}


@pytest.fixture(scope="session")
def make_checkpoint(tmp_path_factory, tokenizer_dir):
    """Builds a tiny classifier folder: ``make_checkpoint("bert", name="x-cola", **config)``."""
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tokenizer_dir)

    def build(family: str = "bert", name: str | None = None, head: str = "sequence", seed: int = 0, **extra) -> Path:
        torch.manual_seed(seed)
        config = _config(family, len(tokenizer), tokenizer.pad_token_id, **extra)
        model = BertForMultipleChoice(config) if head == "multiple_choice" else _CLASSES[family](config)
        out = tmp_path_factory.mktemp("ckpt") / (name or f"tiny-{family}")
        model.save_pretrained(out)
        tokenizer.save_pretrained(out)
        return out

    return build


@pytest.fixture(scope="session")
def tiny_base(tmp_path_factory, tokenizer_dir) -> Path:
    """A headless BERT (as a pre-trained encoder is published) with the test tokenizer: a base to fine-tune, in
    place of multilingual-e5-small. Its folder name, ``tiny-bert``, names the models made from it."""
    from transformers import AutoTokenizer, BertConfig, BertModel

    tokenizer = AutoTokenizer.from_pretrained(tokenizer_dir)
    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=len(tokenizer), hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64,
        max_position_embeddings=64, pad_token_id=tokenizer.pad_token_id,
    )
    out = tmp_path_factory.mktemp("base") / "tiny-bert"
    BertModel(config).save_pretrained(out)
    tokenizer.save_pretrained(out)
    return out


@pytest.fixture(scope="session")
def prepared():
    """The offline defaults, built as `make run` builds them (a no-op once done)."""
    from explorer.defaults.prepare import prepare
    from explorer.settings import load_settings

    settings = load_settings([])
    prepare(settings)
    return settings
