"""Tokens, padding and attention masks: what the model actually receives.

Three questions from the study group are answered here without any UI:

* What does a padded batch look like (special tokens, ``[PAD]`` cells, segment ids)?
  -> :func:`token_grid`
* How much do the padding strategies waste? -> :func:`padding_cost`
* Are logits the same alone and padded in a batch, and what breaks when the mask is
  dropped or the padding side is wrong? -> :func:`mask_invariance`
"""

from __future__ import annotations

import copy
import inspect
from collections.abc import Sequence
from typing import Any

import torch

from explorer.internals.views import config_view

_DEFAULT_MAX_LENGTH = 512
# Decoder-only families whose sequence-classification head reads the last
# non-pad token (found through ``config.pad_token_id``), not position 0.
_DECODER_TYPES = frozenset(
    {"gpt2", "gpt_neo", "gptj", "gpt_neox", "gpt_bigcode", "llama", "mistral", "qwen2", "opt", "bloom", "phi"}
)
STRATEGIES = ("longest", "max_length", "none", "sorted_dynamic")
STRATEGY_NOTES = {
    "longest": "Every row padded to the longest text of the whole set (one tokenizer call over everything).",
    "max_length": "Every row padded to max_length, whatever the texts.",
    "none": "No padding: each text runs as its own batch of one.",
    "dynamic": "Batches in the given order, each padded to its own longest row (a padding collator).",
    "sorted_dynamic": "Texts sorted by length, then batched and padded per batch: least waste.",
}


# --------------------------------------------------------------------------- helpers


def resolve_max_length(tokenizer: Any, max_length: int | None = None) -> int:
    """The padding/truncation length to use when the caller gives none.

    ``model_max_length`` is a huge sentinel on tokenizers saved without one, so it is
    only trusted when plausible.
    """
    if max_length:
        return int(max_length)
    tok_max = getattr(tokenizer, "model_max_length", None)
    if isinstance(tok_max, int) and 0 < tok_max < 1_000_000:
        return tok_max
    return _DEFAULT_MAX_LENGTH


def with_pad_token(tokenizer: Any) -> Any:
    """Returns a tokenizer that can pad: itself, or a copy whose pad token is EOS.

    GPT-2 ships without a pad token; the usual fix is ``pad_token = eos_token``. The
    copy keeps a tokenizer shared by other sessions untouched.
    """
    if getattr(tokenizer, "pad_token_id", None) is not None:
        return tokenizer
    eos = getattr(tokenizer, "eos_token", None)
    if eos is None:
        raise ValueError("The tokenizer has neither a pad token nor an EOS token to pad with.")
    padded = copy.deepcopy(tokenizer)
    padded.pad_token = eos
    return padded


def _encode(
    tokenizer: Any,
    texts: Sequence[str],
    pairs: Sequence[str] | None,
    *,
    padding: str | bool,
    max_length: int | None = None,
    padding_side: str | None = None,
    tensors: bool = False,
    segments: bool = False,
    offsets: bool = False,
) -> dict[str, Any]:
    """One tokenizer call with the options this module uses everywhere.

    ``segments`` asks for segment ids even from tokenizers that do not return them by
    default; model runs keep the tokenizer's default so they mirror the app's own runs.
    """
    kwargs: dict[str, Any] = {"padding": padding, "truncation": True, "max_length": resolve_max_length(tokenizer, max_length)}
    if segments:
        kwargs["return_token_type_ids"] = True
    if offsets:
        kwargs["return_offsets_mapping"] = True
    if padding_side is not None:
        kwargs["padding_side"] = padding_side
    if tensors:
        kwargs["return_tensors"] = "pt"
    if pairs is not None:
        return tokenizer(list(texts), list(pairs), **kwargs)
    return tokenizer(list(texts), **kwargs)


def _check_pairs(texts: Sequence[str], pairs: Sequence[str] | None) -> None:
    if pairs is not None and len(pairs) != len(texts):
        raise ValueError(f"{len(texts)} texts but {len(pairs)} second sentences.")


# --------------------------------------------------------------------------- token grid


def _byte_level(tok: Any) -> bool:
    """True for byte-level BPE (GPT-2, RoBERTa-BPE), whose Korean tokens are bytes."""
    backend = getattr(tok, "backend_tokenizer", None)
    decoder = getattr(backend, "decoder", None)
    if decoder is None:
        return False
    # Read the decoder object, not backend.to_str(): serialising a 250k-word vocabulary
    # to JSON took 0.65 s per call on multilingual-e5 (20x the model's own forward pass).
    if type(decoder).__name__ == "ByteLevel":
        return True
    return type(decoder).__name__ == "Sequence" and '"ByteLevel"' in repr(decoder.__getstate__())


def readable_tokens(tok: Any, tokens: list[str]) -> list[str]:
    """Tokens as people read them: byte-level BPE pieces (GPT-2, RoBERTa-BPE) decoded to Hangul
    when they form whole characters; other tokenizers' tokens unchanged."""
    if not _byte_level(tok):
        return tokens

    def show(token: str) -> str:
        text = tok.convert_tokens_to_string([token])
        # A piece of a multi-byte character decodes to U+FFFD: keep the raw piece.
        return token if "\ufffd" in text or not text.strip() else text.strip()

    return [show(t) for t in tokens]




def token_grid(
    tokenizer: Any,
    texts: Sequence[str],
    pairs: Sequence[str] | None = None,
    padding: str | bool = "longest",
    max_length: int | None = None,
) -> list[list[dict[str, Any]]]:
    """The batch as the model sees it, one row per text and one cell per token.

    Args:
        tokenizer: A Hugging Face tokenizer (one without a pad token pads with EOS).
        texts: First sentences.
        pairs: Optional second sentences (same length as ``texts``).
        padding: ``"longest"``, ``"max_length"`` or ``False`` (rows keep their lengths).
        max_length: Truncation/padding length; defaults to the tokenizer's limit.

    Returns:
        Rows of cells ``{token, id, attention_mask, token_type_id, special, pad,
        sequence, start, end}``; ``token_type_id`` is None when the tokenizer produces
        no segment ids, and ``special`` marks special tokens other than padding
        (``[CLS]``, ``[SEP]``...). ``sequence`` is 0 for tokens of the first text, 1
        for the second, None for special and pad tokens; ``start``/``end`` are the
        token's characters in that text (None without a fast tokenizer), which is
        what lines tokens up with eojeol and morphemes.
    """
    _check_pairs(texts, pairs)
    tok = with_pad_token(tokenizer) if padding else tokenizer
    fast = bool(getattr(tok, "is_fast", False))
    # Segment ids are what tells the two sentences of a pair apart: always show them.
    enc = _encode(tok, texts, pairs, padding=padding, max_length=max_length, segments=pairs is not None, offsets=fast)
    special_ids = set(getattr(tok, "all_special_ids", []) or [])
    rows = []
    for i, ids in enumerate(enc["input_ids"]):
        mask = enc["attention_mask"][i] if "attention_mask" in enc else [1] * len(ids)
        types = enc["token_type_ids"][i] if "token_type_ids" in enc else [None] * len(ids)
        tokens = readable_tokens(tok, tok.convert_ids_to_tokens(ids))
        sequences = enc.sequence_ids(i) if fast else [None] * len(ids)
        spans = enc["offset_mapping"][i] if fast else [(None, None)] * len(ids)
        rows.append(
            [
                {
                    "token": token,
                    "id": int(tid),
                    "attention_mask": int(m),
                    "token_type_id": None if tt is None else int(tt),
                    # With pad == EOS the id alone cannot tell pad from a real EOS: the mask can.
                    "special": bool(tid in special_ids and m == 1),
                    "pad": bool(m == 0),
                    "sequence": seq if m == 1 else None,
                    "start": None if seq is None or m == 0 else int(span[0]),
                    "end": None if seq is None or m == 0 else int(span[1]),
                }
                for token, tid, m, tt, seq, span in zip(tokens, ids, mask, types, sequences, spans)
            ]
        )
    return rows


def cut_inputs(tokenizer: Any, texts: Sequence[str], pairs: Sequence[str] | None, max_length: int) -> list[tuple[int, int]]:
    """``(row, full length)`` for each input longer than ``max_length`` tokens, which truncation cuts.

    Every view then sees only the kept tokens, so the page says so once, up front.
    """
    _check_pairs(texts, pairs)
    args = (list(texts), list(pairs)) if pairs is not None else (list(texts),)
    lengths = [len(ids) for ids in tokenizer(*args, add_special_tokens=True, verbose=False)["input_ids"]]
    return [(i, n) for i, n in enumerate(lengths) if n > max_length]


# --------------------------------------------------------------------------- padding cost


def token_lengths(
    tokenizer: Any, texts: Sequence[str], pairs: Sequence[str] | None = None, max_length: int | None = None
) -> list[int]:
    """Lengths in tokens (special tokens included, truncated to ``max_length``)."""
    _check_pairs(texts, pairs)
    enc = _encode(tokenizer, texts, pairs, padding=False, max_length=max_length)
    return [len(ids) for ids in enc["input_ids"]]


def _batches(lengths: Sequence[int], batch_size: int) -> list[list[int]]:
    return [list(lengths[i : i + batch_size]) for i in range(0, len(lengths), batch_size)]


def _padded_batches(strategy: str, lengths: list[int], batch_size: int, max_length: int) -> list[tuple[int, int]]:
    """(rows, padded length) per batch the strategy would run."""
    if strategy == "none":
        return [(1, n) for n in lengths]
    if strategy == "longest":
        return [(len(b), max(lengths)) for b in _batches(lengths, batch_size)]
    if strategy == "max_length":
        return [(len(b), max_length) for b in _batches(lengths, batch_size)]
    if strategy == "dynamic":
        return [(len(b), max(b)) for b in _batches(lengths, batch_size)]
    if strategy == "sorted_dynamic":
        return [(len(b), max(b)) for b in _batches(sorted(lengths), batch_size)]
    raise ValueError(f"Unknown padding strategy {strategy!r}; choose from {sorted(STRATEGY_NOTES)}.")


def padding_cost(
    tokenizer: Any,
    texts: Sequence[str],
    batch_size: int,
    strategies: Sequence[str] = STRATEGIES,
    pairs: Sequence[str] | None = None,
    max_length: int | None = None,
) -> list[dict[str, Any]]:
    """What each padding strategy costs on these texts.

    Attention compute is counted as ``sum over batches of rows * length**2`` (the
    score matrix), which is why padding hurts more than the token count suggests.

    Args:
        tokenizer: A Hugging Face tokenizer.
        texts: The texts to batch (pairs are counted together with ``pairs``).
        batch_size: Rows per batch (``none`` always runs rows alone).
        strategies: Any of ``longest``, ``max_length``, ``none``, ``dynamic``, ``sorted_dynamic``.
        pairs: Optional second sentences.
        max_length: Truncation length and the ``max_length`` target.

    Returns:
        One dict per strategy: ``strategy, note, batches, real_tokens, pad_tokens,
        total_tokens, wasted_share, attention_cost, relative_attention`` (relative to
        no padding, the floor).
    """
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1.")
    limit = resolve_max_length(tokenizer, max_length)
    lengths = token_lengths(tokenizer, texts, pairs, limit)
    if not lengths:
        return []
    real = sum(lengths)
    floor = sum(n * n for n in lengths)
    out = []
    for strategy in strategies:
        batches = _padded_batches(strategy, lengths, batch_size, limit)
        total = sum(rows * n for rows, n in batches)
        cost = sum(rows * n * n for rows, n in batches)
        out.append(
            {
                "strategy": strategy,
                "note": STRATEGY_NOTES[strategy],
                "batches": len(batches),
                "real_tokens": real,
                "pad_tokens": total - real,
                "total_tokens": total,
                "wasted_share": (total - real) / total if total else 0.0,
                "attention_cost": cost,
                "relative_attention": cost / floor if floor else 1.0,
            }
        )
    return out


# --------------------------------------------------------------------------- mask invariance


def is_decoder_only(model: Any) -> bool:
    """True for GPT-2-style models whose classifier reads the last real token."""
    config = model.config
    return config.model_type in _DECODER_TYPES or bool(getattr(config, "is_decoder", False))


def is_multiple_choice(model: Any) -> bool:
    """True for ``*ForMultipleChoice`` heads (inputs shaped ``(batch, choices, seq)``)."""
    return type(model).__name__.endswith("ForMultipleChoice")


def _unpack(loaded_or_model: Any) -> tuple[Any, torch.device]:
    """Accepts a :class:`explorer.loading.LoadedModel` or a bare module."""
    model = getattr(loaded_or_model, "model", loaded_or_model)
    device = getattr(loaded_or_model, "device", None) or next(model.parameters()).device
    return model, torch.device(device)


def _model_inputs(model: Any, enc: dict[str, Any], device: torch.device) -> dict[str, torch.Tensor]:
    """Keeps what the model's forward takes.

    Segment ids are dropped for models without a segment table: GPT-2's forward would
    otherwise look them up in its *word* embeddings.
    """
    params = inspect.signature(model.forward).parameters
    keep = {k: v.to(device) for k, v in enc.items() if k in params}
    if getattr(model.config, "type_vocab_size", None) is None:
        keep.pop("token_type_ids", None)
    if is_multiple_choice(model):
        # Each row becomes a one-alternative question. A multiple-choice head scores
        # every alternative on its own (the softmax comes after), so a row's logit is
        # the same as inside its full question.
        keep = {k: v.unsqueeze(1) for k, v in keep.items()}
    return keep


@torch.no_grad()
def _logits(model: Any, inputs: dict[str, torch.Tensor]) -> torch.Tensor:
    logits = model(**inputs).logits.float().cpu()
    return logits.view(-1, 1) if is_multiple_choice(model) else logits


def head_positions(model: Any, input_ids: torch.Tensor, pad_token_id: int | None) -> list[int]:
    """Index per row of the token the sequence-classification head reads.

    Encoders (BERT, ELECTRA, ALBERT, RoBERTa, Funnel) read position 0 (``[CLS]``/
    ``<s>``) whatever the padding. Decoders read the rightmost non-pad token, found
    the way Hugging Face finds it: through ``pad_token_id``.
    """
    rows = input_ids.shape[0]
    if not is_decoder_only(model):
        return [0] * rows
    if pad_token_id is None:
        return [input_ids.shape[1] - 1] * rows
    non_pad = (input_ids != pad_token_id).int()
    index = torch.arange(input_ids.shape[1])
    return [int(i) for i in (index * non_pad).argmax(-1)]


def _with_pad_id(model: Any, pad_id: int) -> Any:
    """The model itself, or a weight-sharing view with ``pad_token_id`` set when it has none.

    GPT-2's classifier refuses padded batches without it; setting it on the cached
    model would change other sessions' runs, so the view owns the change.
    """
    if model.config.pad_token_id is not None:
        return model
    return config_view(model, pad_token_id=pad_id)


def _position_ids_from_mask(mask: torch.Tensor) -> torch.Tensor:
    """Positions counted over real tokens only: the fix for left padding."""
    return (mask.long().cumsum(-1) - 1).clamp(min=0)


def mask_invariance(
    loaded_or_model: Any,
    tokenizer: Any,
    texts: Sequence[str],
    pairs: Sequence[str] | None = None,
) -> list[dict[str, Any]]:
    """Logits alone vs padded in one batch, with and without the attention mask.

    Measured per text (max absolute logit difference against the text run alone):

    * ``diff_masked``: padded on the tokenizer's side, mask passed. Should be ~0.
    * ``diff_no_mask``: same batch, mask replaced by ones. Encoders attend to the pads
      and move; a causal decoder padded on the right does *not* (real tokens never see
      later pads and the head finds the last real token), which is worth showing.
    * ``diff_other_side``: padded on the other side, mask passed. BERT/GPT-2 number
      positions 0..n-1 regardless of the mask, so left padding shifts every real token
      (and puts a pad where BERT's head reads); RoBERTa derives positions from the
      pads and survives.
    * ``diff_other_side_no_mask``: the other side without the mask.
    * ``diff_other_side_position_ids`` (decoders only): the other side with position
      ids counted from the mask, the usual fix for left padding.

    Args:
        loaded_or_model: A ``LoadedModel`` or a bare sequence-classification model.
        tokenizer: Its tokenizer (GPT-2 without a pad token pads with EOS, on a copy).
        texts: Texts, best of different lengths.
        pairs: Optional second sentences.

    Returns:
        One dict per text with the diffs above plus ``length``, ``padded_length``,
        ``pad_side``, ``other_side``, ``head_position`` (index in the padded row the
        head reads), ``head_token`` and ``head_rule``.
    """
    _check_pairs(texts, pairs)
    model, device = _unpack(loaded_or_model)
    tok = with_pad_token(tokenizer)
    side = getattr(tok, "padding_side", "right") or "right"
    other = "left" if side == "right" else "right"
    decoder = is_decoder_only(model)
    model = _with_pad_id(model, tok.pad_token_id)
    pad_id = model.config.pad_token_id
    alone = [
        _logits(model, _model_inputs(model, _encode(tok, [t], None if pairs is None else [pairs[i]], padding=False, tensors=True), device))
        for i, t in enumerate(texts)
    ]
    runs = {}
    for name, pad_side in (("same", side), ("other", other)):
        enc = _encode(tok, texts, pairs, padding="longest", padding_side=pad_side, tensors=True)
        inputs = _model_inputs(model, enc, device)
        runs[name] = {"enc": enc, "masked": _logits(model, inputs)}
        runs[name]["no_mask"] = _logits(model, {**inputs, "attention_mask": torch.ones_like(inputs["attention_mask"])})
        if decoder and name == "other":
            fixed = {**inputs, "position_ids": _position_ids_from_mask(inputs["attention_mask"])}
            runs[name]["position_ids"] = _logits(model, fixed)
    heads = head_positions(model, runs["same"]["enc"]["input_ids"], pad_id)
    return [_invariance_row(i, model, tok, alone[i], runs, heads[i], side, other, decoder) for i in range(len(texts))]


def _invariance_row(
    i: int, model: Any, tok: Any, alone: torch.Tensor, runs: dict, head: int, side: str, other: str, decoder: bool
) -> dict[str, Any]:
    def diff(run: str, key: str) -> float:
        return float((runs[run][key][i] - alone[0]).abs().max())

    ids = runs["same"]["enc"]["input_ids"][i]
    return {
        "index": i,
        "length": int(runs["same"]["enc"]["attention_mask"][i].sum()),
        "padded_length": int(ids.shape[0]),
        "pad_side": side,
        "other_side": other,
        "diff_masked": diff("same", "masked"),
        "diff_no_mask": diff("same", "no_mask"),
        "diff_other_side": diff("other", "masked"),
        "diff_other_side_no_mask": diff("other", "no_mask"),
        "diff_other_side_position_ids": diff("other", "position_ids") if decoder else None,
        "head_position": head,
        "head_token": readable_tokens(tok, tok.convert_ids_to_tokens([int(ids[head])]))[0],
        "head_rule": "last non-pad token (via pad_token_id)" if decoder else "first token ([CLS] / <s>) at index 0",
    }
