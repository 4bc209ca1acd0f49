"""Positional embeddings: the model's own table, and proof that it adds positions itself.

Absolute learned tables: BERT, ELECTRA, ALBERT (``embeddings.position_embeddings``),
RoBERTa/XLM-R (same name, but rows ``0..padding_idx`` are never used: positions start
at ``padding_idx + 1``) and GPT-2 (``wpe``). Funnel has no table: it encodes position
as relative attention, so :func:`position_info` says so instead of failing.
"""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from typing import Any

import torch

from explorer.internals.padding import _model_inputs, _unpack, with_pad_token

# RoBERTa-style embeddings number positions from padding_idx + 1.
_OFFSET_TYPES = frozenset({"roberta", "xlm-roberta", "camembert", "longformer"})
_NO_TABLE_NOTES = {
    "funnel": (
        "Funnel Transformer has no absolute position table: position enters through relative "
        "positional attention inside every layer (and token types through learned segment biases), "
        "so there is nothing to plot as a table and position ids cannot be passed in."
    ),
}


def _base(model: Any) -> Any:
    return getattr(model, "base_model", model)


def _absolute_embedding(model: Any) -> torch.nn.Embedding | None:
    """The learned position embedding module, wherever the family keeps it."""
    base = _base(model)
    embeddings = getattr(base, "embeddings", None)
    table = getattr(embeddings, "position_embeddings", None)
    if isinstance(table, torch.nn.Embedding):
        return table
    wpe = getattr(base, "wpe", None)  # GPT-2
    return wpe if isinstance(wpe, torch.nn.Embedding) else None


def position_offset(model: Any) -> int:
    """Index of the first position row used (``padding_idx + 1`` for RoBERTa, else 0)."""
    if model.config.model_type not in _OFFSET_TYPES:
        return 0
    embeddings = getattr(_base(model), "embeddings", None)
    pad = getattr(embeddings, "padding_idx", None)
    if pad is None:
        pad = model.config.pad_token_id
    return int(pad) + 1


def position_info(model: Any) -> dict[str, Any]:
    """What kind of positional encoding the model uses.

    Returns:
        ``{kind, rows, offset, note}``: kind ``"absolute"`` (a learned table, ``rows``
        usable rows starting at row ``offset``) or ``"none"`` (no absolute table; the
        note explains).
    """
    table = _absolute_embedding(model)
    model_type = model.config.model_type
    if table is None:
        note = _NO_TABLE_NOTES.get(
            model_type,
            f"{model_type} has no absolute learned position table (it may use relative or rotary positions).",
        )
        return {"kind": "none", "rows": 0, "offset": 0, "note": note}
    offset = position_offset(model)
    rows = int(table.num_embeddings) - offset
    note = f"Learned absolute table with {rows} positions."
    if offset:
        note += (
            f" Rows 0..{offset - 1} are never used: {model_type} numbers positions from padding_idx + 1 = {offset}"
            " (pads get padding_idx), so the table shown starts at that row."
        )
    return {"kind": "absolute", "rows": rows, "offset": offset, "note": note}


def position_table(model: Any) -> torch.Tensor | None:
    """The rows of the position table the model actually uses, detached on CPU.

    Returns None for families without an absolute table (see :func:`position_info`).
    """
    table = _absolute_embedding(model)
    if table is None:
        return None
    return table.weight.detach().float().cpu()[position_offset(model) :]


def token_type_table(model: Any) -> torch.Tensor | None:
    """Segment (token type) embeddings for pairs, or None when the family has none."""
    embeddings = getattr(_base(model), "embeddings", None)
    table = getattr(embeddings, "token_type_embeddings", None)
    if not isinstance(table, torch.nn.Embedding):
        return None
    return table.weight.detach().float().cpu()


# --------------------------------------------------------------------------- views


def cosine_matrix(table: torch.Tensor) -> torch.Tensor:
    """Cosine similarity between every pair of positions, shape (rows, rows)."""
    unit = torch.nn.functional.normalize(table.float(), dim=-1)
    return unit @ unit.T


def norms(table: torch.Tensor) -> torch.Tensor:
    """L2 norm of each position vector, shape (rows,)."""
    return table.float().norm(dim=-1)


def pca_2d(table: torch.Tensor) -> torch.Tensor:
    """Projects positions onto their two main directions, shape (rows, 2).

    Plain SVD of the centred table (no sklearn); the signs of the axes are arbitrary,
    so they are fixed to make the first position's coordinates non-positive, which
    keeps the picture stable between runs.
    """
    centred = table.float() - table.float().mean(dim=0, keepdim=True)
    _, _, vh = torch.linalg.svd(centred, full_matrices=False)
    coords = centred @ vh[:2].T
    if coords.shape[1] < 2:  # a one-dimensional table still gets two columns
        coords = torch.cat([coords, torch.zeros(coords.shape[0], 2 - coords.shape[1])], dim=1)
    signs = torch.where(coords[0] > 0, -1.0, 1.0)
    return coords * signs


# --------------------------------------------------------------------------- live check


def _accepts_position_ids(model: Any) -> bool:
    return "position_ids" in inspect.signature(model.forward).parameters


@torch.no_grad()
def _run(model: Any, inputs: dict[str, torch.Tensor], position_ids: torch.Tensor | None = None) -> torch.Tensor:
    if position_ids is not None and inputs["input_ids"].dim() == 3:  # multiple choice: (batch, choices, seq)
        position_ids = position_ids.unsqueeze(1)
    extra = {} if position_ids is None else {"position_ids": position_ids}
    return model(**inputs, **extra).logits.float().cpu()


def explicit_position_check(
    loaded: Any,
    texts: Sequence[str],
    pairs: Sequence[str] | None = None,
    seed: int = 0,
    tokenizer: Any = None,
) -> dict[str, Any]:
    """Shows the model adds positions itself: default ids == explicit ``arange`` ids.

    Each text runs alone (no padding, so the explicit ids are simply ``arange`` plus
    the family's offset). Shuffling the ids (a seeded random permutation) shows how
    much the model depends on word order through them.

    Args:
        loaded: A ``LoadedModel`` (or a bare model, then pass ``tokenizer``).
        texts: Texts to run.
        pairs: Optional second sentences.
        seed: Seed of the permutation.
        tokenizer: Overrides ``loaded.tokenizer``.

    Returns:
        ``{kind, offset, note, explicit_max_diff, shuffled_max_diff, per_text}`` where
        ``per_text`` holds ``{index, length, explicit_diff, shuffled_diff}``; diffs are
        None when the family takes no position ids (Funnel).
    """
    model, device = _unpack(loaded)
    tok = with_pad_token(tokenizer if tokenizer is not None else loaded.tokenizer)
    info = position_info(model)
    result: dict[str, Any] = {**{k: info[k] for k in ("kind", "offset", "note")}, "per_text": []}
    if info["kind"] != "absolute" or not _accepts_position_ids(model):
        result.update(explicit_max_diff=None, shuffled_max_diff=None)
        return result
    generator = torch.Generator().manual_seed(seed)
    for i, text in enumerate(texts):
        args = [text] if pairs is None else [text, pairs[i]]
        inputs = _model_inputs(model, tok(*args, truncation=True, return_tensors="pt"), device)
        n = inputs["input_ids"].shape[-1]
        explicit = (torch.arange(n) + info["offset"]).unsqueeze(0).to(device)
        order = torch.randperm(n, generator=generator)
        if n > 1 and bool((order == torch.arange(n)).all()):
            order = order.roll(1)  # an identity "shuffle" would show nothing
        shuffled = explicit[:, order.to(device)]
        base = _run(model, inputs)
        result["per_text"].append(
            {
                "index": i,
                "length": n,
                "explicit_diff": float((_run(model, inputs, explicit) - base).abs().max()),
                "shuffled_diff": float((_run(model, inputs, shuffled) - base).abs().max()),
            }
        )
    rows = result["per_text"]
    result["explicit_max_diff"] = max((r["explicit_diff"] for r in rows), default=0.0)
    result["shuffled_max_diff"] = max((r["shuffled_diff"] for r in rows), default=0.0)
    return result


def used_positions(tokenizer: Any, texts: Sequence[str], pairs: Sequence[str] | None = None) -> tuple[int, int]:
    """(shortest, longest) input length in tokens: the range of table rows the texts use."""
    from explorer.internals.padding import token_lengths

    lengths = token_lengths(tokenizer, texts, pairs)
    return (min(lengths), max(lengths)) if lengths else (0, 0)
