"""Where a checkpoint's parameters live: embeddings, projection, layers, head.

The split is made from parameter *names*, not module classes, so one set of
rules covers BERT, ELECTRA, RoBERTa/XLM-R, ALBERT, DistilBERT, Funnel and
GPT-2 checkpoints alike. It answers questions like "why is ELECTRA-small
lighter than BERT": a factorised embedding (``embedding_size`` < hidden, plus a
small projection), or, the other way round, a 250k-token vocabulary (e5 / XLM-R)
that puts most of the model into its token embeddings.

Parameters are counted through ``named_parameters()``, which yields a tensor
shared by several modules once (tied input/output embeddings, ALBERT's one
layer reused ``num_hidden_layers`` times), so the buckets add up exactly to the
number of distinct parameters the checkpoint stores.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pandas as pd
import torch

from explorer.registry import WEIGHT_SUFFIXES, is_training_state

__all__ = ["BUCKETS", "PARTS", "anatomy", "anatomy_frame", "bucket_of", "bytes_on_disk", "part_of", "parts_frame"]

BUCKETS = (
    "token embeddings",
    "position/type embeddings",
    "embedding projection",
    "encoder layers",
    "pooler",
    "head",
    "other",
)
# The three parts a reader compares across models of very different sizes (``parts_frame``): what turns tokens
# into vectors, the stack of layers, and what sits on top for the task. The pooler belongs to the task side:
# BERT's classifier reads it, and models without one do as well without it.
PARTS = ("embeddings", "encoder layers", "pooler + head")
_PART_OF_BUCKET = {
    "token embeddings": "embeddings", "position/type embeddings": "embeddings", "embedding projection": "embeddings",
    "encoder layers": "encoder layers", "pooler": "pooler + head", "head": "pooler + head",
}
# Name segments, checked in this order (first match wins); see ``bucket_of``.
_PROJECTION = {"embeddings_project", "embedding_hidden_mapping_in"}
_TOKEN = {"word_embeddings", "wte", "embed_tokens"}
_POSITION = {"embeddings", "wpe"}  # what is left under ``embeddings.``: positions, types, LayerNorm
_POOLER = {"pooler"}
_HEAD = {
    "classifier", "pre_classifier", "score", "qa_outputs", "cls", "lm_head", "predictions", "sop_classifier",
    "seq_relationship", "discriminator_predictions", "generator_predictions", "generator_lm_head",
    "vocab_transform", "vocab_layer_norm", "vocab_projector",
    "sequence_summary",  # ELECTRA's multiple-choice head (a dense layer before its one-logit scorer)
}
# GPT-2's final ``ln_f`` belongs to the stack of blocks, as BERT's per-layer norms do.
_ENCODER = {"encoder", "layer", "layers", "h", "blocks", "block", "decoder", "ln_f", "final_layer_norm"}
# Trainer state saved next to weights in checkpoint folders; not the model.


def bucket_of(name: str) -> str:
    """The anatomy bucket of one parameter name, e.g. ``bert.embeddings.word_embeddings.weight``.

    Args:
        name: A name from ``model.named_parameters()``.

    Returns:
        One of :data:`BUCKETS`.
    """
    segments = set(name.split(".")[:-1])
    for bucket, names in (
        # The projections sit inside ``encoder.`` (ALBERT) or next to ``embeddings`` (ELECTRA): check them first.
        ("embedding projection", _PROJECTION),
        ("token embeddings", _TOKEN),
        ("position/type embeddings", _POSITION),
        ("pooler", _POOLER),
        # Heads before layers: an LM head's ``decoder`` is not a decoder layer.
        ("head", _HEAD),
        ("encoder layers", _ENCODER),
    ):
        if segments & names:
            return bucket
    return "other"


def _dtype_name(dtype: torch.dtype) -> str:
    return str(dtype).removeprefix("torch.")


def anatomy(model: torch.nn.Module, config: Any = None, folder: str | Path | None = None) -> dict[str, Any]:
    """Splits a model's parameter count into parts and collects its size facts.

    Args:
        model: A loaded transformers model (any head).
        config: Its config; ``model.config`` when omitted.
        folder: The checkpoint folder, to add ``bytes_on_disk``.

    Returns:
        ``parameters`` (bucket -> count, every bucket of :data:`BUCKETS`),
        ``total`` (their sum: distinct parameters), ``vocab_size``,
        ``hidden_size``, ``num_hidden_layers``, ``num_attention_heads``,
        ``embedding_size`` (the hidden size where not factorised), ``dtype``
        (the most common parameter dtype), ``bytes_in_memory`` (parameters and
        buffers), ``shared_layers`` (True when layers reuse weights, as ALBERT's
        do), and ``bytes_on_disk`` when ``folder`` is given.
    """
    config = config if config is not None else getattr(model, "config", None)
    parameters = dict.fromkeys(BUCKETS, 0)
    dtypes: Counter[str] = Counter()
    memory = 0
    for name, param in model.named_parameters():
        parameters[bucket_of(name)] += param.numel()
        dtypes[_dtype_name(param.dtype)] += param.numel()
        memory += param.numel() * param.element_size()
    memory += sum(b.numel() * b.element_size() for _, b in model.named_buffers())
    hidden = getattr(config, "hidden_size", None)
    layers = getattr(config, "num_hidden_layers", None)
    groups = getattr(config, "num_hidden_groups", None)
    facts: dict[str, Any] = {
        "parameters": parameters,
        "total": sum(parameters.values()),
        "vocab_size": getattr(config, "vocab_size", None),
        "hidden_size": hidden,
        "num_hidden_layers": layers,
        "num_attention_heads": getattr(config, "num_attention_heads", None),
        # Only ELECTRA and ALBERT factorise; elsewhere the embedding is as wide as the hidden state.
        "embedding_size": getattr(config, "embedding_size", None) or hidden,
        "dtype": dtypes.most_common(1)[0][0] if dtypes else None,
        "bytes_in_memory": memory,
        "shared_layers": bool(groups is not None and layers is not None and groups < layers),
    }
    if folder is not None:
        facts["bytes_on_disk"] = bytes_on_disk(folder)
    return facts


def bytes_on_disk(folder: str | Path) -> int:
    """Sums the sizes of the weight files at the top of a checkpoint folder.

    ``checkpoint-*`` subfolders and the Trainer's optimizer/scheduler state are
    left out: they are training leftovers, not the model that gets loaded.

    Args:
        folder: A checkpoint folder.

    Returns:
        Bytes; 0 when the folder holds no weight file or does not exist.
    """
    path = Path(folder)
    if not path.is_dir():
        return 0
    return sum(
        f.stat().st_size
        for f in path.iterdir()
        if f.is_file()
        and f.name.endswith(WEIGHT_SUFFIXES)
        and not is_training_state(f.name)
    )


def anatomy_frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """Anatomy results in long form, one row per model and part, for a stacked bar chart.

    Args:
        rows: :func:`anatomy` dicts, each with a ``model`` key naming the bar
            (a missing name becomes ``model <i>``).

    Returns:
        Columns ``model, part, order, parameters, share`` (share of that
        model's total, 0..1); ``order`` is the part's index in :data:`BUCKETS`
        so charts stack parts the same way for every model.
    """
    records = []
    for i, row in enumerate(rows):
        total = row.get("total") or 0
        for order, part in enumerate(BUCKETS):
            count = int(row.get("parameters", {}).get(part, 0))
            records.append(
                {
                    "model": row.get("model", f"model {i}"),
                    "part": part,
                    "order": order,
                    "parameters": count,
                    "share": count / total if total else 0.0,
                }
            )
    return pd.DataFrame(records, columns=["model", "part", "order", "parameters", "share"])


def part_of(bucket: str) -> str:
    """The part (:data:`PARTS`, or ``other``) a bucket of :data:`BUCKETS` belongs to."""
    return _PART_OF_BUCKET.get(bucket, "other")


def parts_frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """Each model's parameters in three parts (:data:`PARTS`, plus ``other`` when a model has some), as shares.

    Shares let a 1.6M-parameter demo sit beside a 118M e5 on one axis: ELECTRA's factorised embeddings
    show as a smaller embedding share than a BERT of the same layers, which raw counts hide.

    Args:
        rows: :func:`anatomy` dicts, each with a ``model`` key.

    Returns:
        Columns ``model, part, order, parameters, share`` (share of the model's total, 0..1); parts a model
        does not have are left out.
    """
    buckets = anatomy_frame(rows)
    if buckets.empty:
        return buckets
    buckets["part"] = buckets["part"].map(part_of)
    parts = buckets.groupby(["model", "part"], sort=False, as_index=False)[["parameters", "share"]].sum()
    parts["order"] = parts["part"].map(lambda part: PARTS.index(part) if part in PARTS else len(PARTS))
    parts = parts[parts["parameters"] > 0]
    models = list(dict.fromkeys(buckets["model"]))  # the caller's order of models
    parts = parts.assign(rank=parts["model"].map(models.index)).sort_values(["rank", "order"], kind="stable")
    return parts[["model", "part", "order", "parameters", "share"]].reset_index(drop=True)
