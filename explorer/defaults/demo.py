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
from pathlib import Path
from typing import Callable, Sequence

import torch
from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers
from transformers import (
    BertConfig,
    BertForMultipleChoice,
    BertForSequenceClassification,
    ElectraConfig,
    ElectraForMultipleChoice,
    ElectraForSequenceClassification,
    PreTrainedTokenizerFast,
)

from explorer.defaults.demo_specs import DEMOS, MAX_LENGTH, DemoSpec, fingerprint  # re-exported: the demos as data
from explorer.tasks.registry import get as get_task

Progress = Callable[[float, str], None]
SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]


def train_tokenizer(texts: Sequence[str], out_dir: Path, vocab_size: int = 2000, max_length: int = MAX_LENGTH,
                    fixed_ids: bool = False) -> PreTrainedTokenizerFast:
    """Trains a WordPiece tokenizer on generated Korean text and saves it.

    A small vocabulary keeps particles (이/가, 을/를 ...) as their own
    subwords, so the demo models can see the errors they are meant to learn.
    ``fixed_ids``: number the learned tokens the same way in every run (``_in_fixed_order``).
    """
    tok = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    tok.normalizer = normalizers.NFC()
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.decoder = decoders.WordPiece()
    trainer = trainers.WordPieceTrainer(vocab_size=vocab_size, special_tokens=SPECIALS, min_frequency=1)
    tok.train_from_iterator(texts, trainer=trainer)
    if fixed_ids:  # the demos and the tests' tiny models: the same ids, so the same model, in every run
        tok.model = _in_fixed_order(tok.get_vocab())
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
        model_max_length=max_length,
    )
    fast.save_pretrained(out_dir)
    return fast


def _in_fixed_order(vocab: dict[str, int]) -> models.WordPiece:
    """The trained vocabulary with ids that do not change from run to run.

    The trainer learns the same tokens each time but numbers them in an arbitrary
    order (Rust hash maps), so two builds of the same data gave different ids: a
    demo or test model built on them behaved differently from run to run. The special
    tokens keep their leading ids; the rest are numbered in sorted order.
    """
    rest = sorted(t for t in vocab if t not in SPECIALS)
    return models.WordPiece({t: i for i, t in enumerate([*SPECIALS, *rest])}, unk_token="[UNK]")


def build_model(spec: DemoSpec, vocab_size: int, pad_id: int):
    """A small, randomly initialised model of the spec's family and task head."""
    task = get_task(spec.task)
    labels = task.config_id2label
    common = dict(
        vocab_size=vocab_size,
        hidden_size=128,
        num_hidden_layers=spec.layers,
        num_attention_heads=4,
        intermediate_size=256,
        max_position_embeddings=spec.max_length,
        pad_token_id=pad_id,
        num_labels=task.num_labels,
        id2label=labels,
        label2id={v: k for k, v in labels.items()},
        finetuning_task=spec.task,
        hidden_dropout_prob=0.1,
        attention_probs_dropout_prob=0.1,
    )
    config = ElectraConfig(embedding_size=64, **common) if spec.family == "electra" else BertConfig(**common)
    if spec.input_format:
        config.explorer_input_format = spec.input_format  # read back by the registry
    if task.head == "multiple_choice":
        return (ElectraForMultipleChoice if spec.family == "electra" else BertForMultipleChoice)(config)
    return (ElectraForSequenceClassification if spec.family == "electra" else BertForSequenceClassification)(config)


def texts_of(spec: DemoSpec, items: Sequence) -> list[str]:
    """Every text in task items, for tokenizer training (``Task.tokenizer_texts``).

    Not the encoded inputs: training the vocabulary on WiC's [marked] sentences measured
    0.70-0.75 accuracy on unseen items against 0.82 with the plain sentences and the brackets apart.
    """
    task = get_task(spec.task)
    return [text for item in items for text in task.tokenizer_texts(item)]


def encode_batch(tokenizer, spec: DemoSpec, items: Sequence) -> dict[str, torch.Tensor]:
    """Model inputs for a training batch, encoded exactly as the app encodes them."""
    task = get_task(spec.task)
    encoded = [task.encode(i, spec.input_format) for i in items]
    rows = [pair for e in encoded for pair in e.pairs]
    seconds = None if rows[0][1] is None else [second for _, second in rows]
    truncation = True if encoded[0].truncation == "longest_first" else encoded[0].truncation
    flat = tokenizer([first for first, _ in rows], seconds, padding=True, truncation=truncation,
                     max_length=spec.max_length, return_tensors="pt")
    if encoded[0].endings:  # a [batch, endings, tokens] block: every item of a batch has the same number
        return {k: v.view(len(items), len(encoded[0].endings), -1) for k, v in flat.items()}
    return dict(flat)


def train_demo(
    spec: DemoSpec,
    tokenizer: PreTrainedTokenizerFast,
    train: Sequence,
    dev: Sequence,
    out_dir: Path,
    seed: int = 0,
    progress: Progress | None = None,
) -> dict:
    """Trains one demo model, saves it as a Hugging Face folder, and scores it.

    Training runs in rounds of ``spec.epochs`` epochs, each one learning-rate cycle, and stops after
    the first round whose model gets ``spec.fit`` of a fixed sample of its training items right (never
    the dev set, never the page's examples), or after ``spec.rounds`` rounds. Steps, not a clock,
    decide, so the result does not depend on how busy the machine is; only past ``spec.hard_stop``
    seconds (a machine eight times slower than expected) is no further round started, and
    ``stopped`` says ``"time"``. The dev score and the page examples are scored by loading the saved
    folder through the app's own loader and predictor, so they check the whole path a user takes.

    Returns:
        Metrics: dev accuracy and MCC, page examples right of total and the misses (indices into the
        task's ``examples``), steps, rounds' end (``stopped``: fit, rounds or time), seconds.
    """
    torch.manual_seed(seed)
    rng = random.Random(seed)
    model = build_model(spec, len(tokenizer), tokenizer.pad_token_id)
    optimiser = torch.optim.AdamW(model.parameters(), lr=spec.lr, weight_decay=0.01, fused=True)  # fewer ops a step
    items = list(train)
    probe = random.Random(seed + 1).sample(items, min(len(items), spec.probe))
    batch_size = spec.batch_size
    per_epoch = (len(items) + batch_size - 1) // batch_size
    round_steps = spec.epochs * per_epoch
    max_steps = spec.rounds * round_steps
    started, cpu_started = time.monotonic(), time.process_time()
    step, fit, stopped = 0, 0.0, "rounds"
    for round_ in range(spec.rounds):
        # Each round is one learning-rate cycle over ``epochs`` epochs; later rounds peak lower (warm restarts).
        peak = spec.lr * (0.5 if round_ else 1.0)
        for group in optimiser.param_groups:
            group["lr"] = peak
        schedule = torch.optim.lr_scheduler.OneCycleLR(optimiser, max_lr=peak, total_steps=round_steps, pct_start=0.1)
        model.train()
        for _ in range(spec.epochs):
            rng.shuffle(items)
            for start in range(0, len(items), batch_size):
                chunk = items[start : start + batch_size]
                loss = model(**encode_batch(tokenizer, spec, chunk), labels=torch.tensor([i.label for i in chunk])).loss
                loss.backward()
                torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
                optimiser.step()
                schedule.step()
                optimiser.zero_grad()
                step += 1
                if progress and step % 20 == 0:
                    progress(step / max_steps, f"{spec.name}: step {step} (at most {max_steps}), loss {loss.item():.3f}")
        fit = _accuracy(model, tokenizer, spec, probe)
        if progress:
            progress(step / max_steps, f"{spec.name}: round {round_ + 1}, {fit:.1%} of {len(probe)} training items right")
        if fit >= spec.fit:
            stopped = "fit"
            break
        if round_ + 1 < spec.rounds and time.monotonic() - started > spec.hard_stop:
            stopped = "time"  # a very slow machine: keep what there is rather than hang the first start
            break
    model.eval()
    seconds, cpu_seconds = round(time.monotonic() - started, 1), round(time.process_time() - cpu_started, 1)
    tmp = out_dir.with_name(out_dir.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    model.save_pretrained(tmp, safe_serialization=True)
    tokenizer.save_pretrained(tmp)
    metrics = _score_saved(tmp, spec, dev)
    metrics.update(steps=step, max_steps=max_steps, stopped=stopped, train_fit=round(fit, 4), seconds=seconds,
                   cpu_seconds=cpu_seconds, train_examples=len(train), dev_examples=len(dev),
                   n_params=sum(p.numel() for p in model.parameters()))
    (tmp / "demo.json").write_text(
        json.dumps({"description": spec.description, "family": spec.family, "task": spec.task,
                    "fingerprint": fingerprint(spec), **metrics}, indent=2),
        encoding="utf-8",
    )
    shutil.rmtree(out_dir, ignore_errors=True)
    tmp.rename(out_dir)
    return metrics


@torch.no_grad()
def _accuracy(model, tokenizer, spec: DemoSpec, items: Sequence, batch_size: int = 128) -> float:
    """The share of ``items`` the model in training gets right (dropout off while it checks)."""
    model.eval()
    right = 0
    for start in range(0, len(items), batch_size):
        chunk = items[start : start + batch_size]
        logits = model(**encode_batch(tokenizer, spec, chunk)).logits
        right += int((logits.argmax(-1) == torch.tensor([i.label for i in chunk])).sum())
    model.train()
    return right / max(1, len(items))


def _score_saved(folder: Path, spec: DemoSpec, dev: Sequence) -> dict:
    from explorer.loading import load_model
    from explorer.metrics import classification_metrics
    from explorer.registry import folder_entry
    from explorer.tasks.predict import predict_items

    entry = folder_entry(folder, "default")
    entry.name, entry.task = spec.name, spec.task
    loaded = load_model(entry, "cpu")
    preds = predict_items(loaded, spec.task, dev, spec.input_format, batch_size=128)
    m = classification_metrics([i.label for i in dev], [p.label for p in preds], labels=get_task(spec.task).labels)
    examples = page_examples(spec.task)
    answers = predict_items(loaded, spec.task, [item for item, _ in examples], spec.input_format)
    misses = [k for k, ((_, expected), p) in enumerate(zip(examples, answers)) if p.label != expected]
    return {"dev_accuracy": m["accuracy"], "dev_mcc": m["mcc"], "page_right": len(examples) - len(misses),
            "page_total": len(examples), "page_misses": misses}


def page_examples(task_id: str) -> list[tuple[object, int]]:
    """The task page's built-in examples as (item, expected label), in the page's order."""
    task = get_task(task_id)
    out = []
    for example in task.examples:
        values = {f.name: task.form_value(f, example[f.name]) for f in task.fields}
        item, _ = task.make_item(values)
        out.append((item, task.expected_label(values)))
    return out


# Besides the page examples themselves, the fields whose text, shared with a page example, keeps a generated
# item out of a demo's data: the sentence a page example judges (CoLA) and either sentence of a WiC pair
# (other fillers of the same template stay). A COPA item is held out only as a whole: a premise without a
# person has one wording, so holding out every item with it would remove the whole cause-and-effect pair,
# knowledge the toy has no other way to get.
HELD_OUT_FIELDS = {"cola": ("sentence",), "wic": ("sentence1", "sentence2"), "copa": ()}


def without_page_examples(task_id: str, items: Sequence) -> list:
    """``items`` less any that is a page example or shares a ``HELD_OUT_FIELDS`` text with one.

    The page marks each demo's answer to its examples right or wrong; a demo trained on them
    would only show it remembers them.
    """
    task = get_task(task_id)
    fields = HELD_OUT_FIELDS.get(task_id, ())
    page = [task.values(item) for item, _ in page_examples(task_id)]
    same_items = {frozenset(v.values()) for v in page}
    texts = {v[f] for v in page for f in fields}
    return [i for i in items if frozenset((v := task.values(i)).values()) not in same_items
            and not any(v[f] in texts for f in fields)]


def demo_data(task: str = "cola", n_train: int = 8000, n_dev: int = 1000) -> tuple[list, list]:
    """Generated (train, dev) items of a task (``Task.demo_data``): dev holds no item seen in training.

    Raises:
        ValueError: the task has no generated data.
    """
    data = get_task(task).demo_data(n_train, n_dev)
    if data is None:
        raise ValueError(f"{get_task(task).name} has no generated demo data; fine-tune a model on its files instead.")
    return data


def training_data(spec: DemoSpec) -> tuple[list, list]:
    """The (train, dev) items a demo is built from: generated, with its page's examples kept out."""
    return tuple(without_page_examples(spec.task, items) for items in demo_data(spec.task, n_train=spec.n_train))


def build_demo(name: str, out_root: str, queue=None) -> dict:
    """Generates data, trains a tokenizer and one demo model: one job of ``prepare``.

    Runs in a worker process with one thread: these models are too small for
    intra-op parallelism to pay, so two models side by side use two cores far
    better than one model with two threads.
    """
    torch.set_num_threads(1)
    spec = next(d for d in DEMOS if d.name == name)
    train, dev = training_data(spec)
    out = Path(out_root) / spec.name
    tokenizer = train_tokenizer(texts_of(spec, train), out.with_name(out.name + ".tokenizer"), vocab_size=spec.vocab_size,
                                max_length=spec.max_length, fixed_ids=True)
    report = (lambda f, m: queue.put((name, f, m))) if queue is not None else None
    metrics = train_demo(spec, tokenizer, train, dev, out, progress=report)
    shutil.rmtree(out.with_name(out.name + ".tokenizer"), ignore_errors=True)
    return metrics
