"""Demo checkpoints trained at first start on the project's generated data.

Two architectures on purpose, so comparing is meaningful out of the box: an
ELECTRA-style discriminator with factorised embeddings (a small embedding
projected up to the hidden size: fewer parameters per vocabulary entry) and a
BERT-style encoder whose embeddings are as wide as its hidden layers. Both are
trained from scratch with one WordPiece tokenizer trained on the same text, and
saved as ordinary Hugging Face folders, loaded by the same code as user
checkpoints.
"""

from __future__ import annotations

import json
import random
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

import torch
from sklearn.metrics import matthews_corrcoef
from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers
from transformers import (
    BertConfig,
    BertForSequenceClassification,
    ElectraConfig,
    ElectraForSequenceClassification,
    PreTrainedTokenizerFast,
)

from explorer.defaults.korean import Example, generate_cola

Progress = Callable[[float, str], None]
MAX_LENGTH = 64
ID2LABEL = {0: "unacceptable", 1: "acceptable"}
SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]


@dataclass(frozen=True)
class DemoSpec:
    """What one demo model is: its folder name and architecture."""

    name: str
    family: str  # "electra" or "bert"
    description: str
    lr: float = 1e-3  # ELECTRA's small embeddings diverge at 1e-3 on this data; measured in prepare


DEMOS = (
    DemoSpec(
        "demo-electra-cola",
        "electra",
        "ELECTRA-style, factorised embeddings (64 → 128), 3 layers; trained here on generated Korean CoLA data",
        lr=5e-4,
    ),
    DemoSpec(
        "demo-bert-cola",
        "bert",
        "BERT-style, embeddings as wide as the hidden size (128), 3 layers; trained here on generated Korean CoLA data",
    ),
)


def train_tokenizer(texts: Sequence[str], out_dir: Path, vocab_size: int = 2000) -> PreTrainedTokenizerFast:
    """Trains a WordPiece tokenizer on generated Korean text and saves it.

    A small vocabulary keeps particles (이/가, 을/를 ...) as their own
    subwords, so the demo models can see the errors they are meant to learn.
    """
    tok = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    tok.normalizer = normalizers.NFC()
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.decoder = decoders.WordPiece()
    trainer = trainers.WordPieceTrainer(vocab_size=vocab_size, special_tokens=SPECIALS, min_frequency=1)
    tok.train_from_iterator(texts, trainer=trainer)
    cls_id, sep_id = tok.token_to_id("[CLS]"), tok.token_to_id("[SEP]")
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]",
        pair="[CLS] $A [SEP] $B:1 [SEP]:1",
        special_tokens=[("[CLS]", cls_id), ("[SEP]", sep_id)],
    )
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok,
        unk_token="[UNK]",
        pad_token="[PAD]",
        cls_token="[CLS]",
        sep_token="[SEP]",
        mask_token="[MASK]",
        model_max_length=MAX_LENGTH,
    )
    fast.save_pretrained(out_dir)
    return fast


def build_model(family: str, vocab_size: int, pad_id: int):
    """A small, randomly initialised classifier of the given family."""
    common = dict(
        vocab_size=vocab_size,
        hidden_size=128,
        num_hidden_layers=3,
        num_attention_heads=4,
        intermediate_size=256,
        max_position_embeddings=MAX_LENGTH,
        pad_token_id=pad_id,
        num_labels=2,
        id2label=ID2LABEL,
        label2id={v: k for k, v in ID2LABEL.items()},
        finetuning_task="cola",
        hidden_dropout_prob=0.1,
        attention_probs_dropout_prob=0.1,
    )
    if family == "electra":
        return ElectraForSequenceClassification(ElectraConfig(embedding_size=64, **common))
    return BertForSequenceClassification(BertConfig(**common))


@torch.inference_mode()
def _predict(model, tokenizer, sentences: Sequence[str], batch_size: int = 128) -> list[int]:
    model.eval()
    preds: list[int] = []
    for start in range(0, len(sentences), batch_size):
        batch = tokenizer(list(sentences[start : start + batch_size]), padding=True, truncation=True, return_tensors="pt")
        preds += model(**batch).logits.argmax(-1).tolist()
    return preds


def train_demo(
    spec: DemoSpec,
    tokenizer: PreTrainedTokenizerFast,
    train: Sequence[Example],
    dev: Sequence[Example],
    out_dir: Path,
    seconds: float = 50.0,
    epochs: int = 4,
    seed: int = 0,
    progress: Progress | None = None,
) -> dict:
    """Trains one demo model and saves it as a Hugging Face folder.

    Training stops after ``epochs`` or ``seconds``, whichever comes first, so
    the first start stays inside its time budget on a 2-core machine.

    Returns:
        Metrics on the generated dev split (accuracy, MCC, steps, seconds).
    """
    torch.manual_seed(seed)
    rng = random.Random(seed)
    model = build_model(spec.family, len(tokenizer), tokenizer.pad_token_id)
    optimiser = torch.optim.AdamW(model.parameters(), lr=spec.lr, weight_decay=0.01)
    items = list(train)
    batch_size = 32
    total_steps = epochs * ((len(items) + batch_size - 1) // batch_size)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimiser, max_lr=spec.lr, total_steps=total_steps, pct_start=0.1)
    started = time.monotonic()
    step = 0
    model.train()
    for _ in range(epochs):
        rng.shuffle(items)
        for start in range(0, len(items), batch_size):
            chunk = items[start : start + batch_size]
            batch = tokenizer([e.sentence for e in chunk], padding=True, truncation=True, return_tensors="pt")
            loss = model(**batch, labels=torch.tensor([e.label for e in chunk])).loss
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimiser.step()
            schedule.step()
            optimiser.zero_grad()
            step += 1
            elapsed = time.monotonic() - started
            if progress and step % 20 == 0:
                progress(min(1.0, max(step / total_steps, elapsed / seconds)), f"{spec.name}: step {step}, loss {loss.item():.3f}")
            if elapsed > seconds:
                break
        if time.monotonic() - started > seconds:
            break
    preds = _predict(model, tokenizer, [e.sentence for e in dev])
    gold = [e.label for e in dev]
    metrics = {
        "dev_accuracy": sum(int(p == g) for p, g in zip(preds, gold)) / max(1, len(gold)),
        "dev_mcc": float(matthews_corrcoef(gold, preds)),
        "steps": step,
        "seconds": round(time.monotonic() - started, 1),
        "train_examples": len(train),
        "dev_examples": len(dev),
        "n_params": sum(p.numel() for p in model.parameters()),
    }
    tmp = out_dir.with_name(out_dir.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    model.save_pretrained(tmp, safe_serialization=True)
    tokenizer.save_pretrained(tmp)
    (tmp / "demo.json").write_text(
        json.dumps({"description": spec.description, "family": spec.family, **metrics}, indent=2), encoding="utf-8"
    )
    shutil.rmtree(out_dir, ignore_errors=True)
    tmp.rename(out_dir)
    return metrics


def demo_data(n_train: int = 8000, n_dev: int = 1000) -> tuple[list[Example], list[Example]]:
    """Generated CoLA data, split by source sentence so dev pairs are unseen."""
    examples = generate_cola(n_train + n_dev, seed=13)
    sources = sorted({e.source for e in examples})
    random.Random(7).shuffle(sources)
    dev_sources = set(sources[: max(1, len(sources) * n_dev // (n_train + n_dev))])
    train = [e for e in examples if e.source not in dev_sources]
    dev = [e for e in examples if e.source in dev_sources]
    return train, dev
