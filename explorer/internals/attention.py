"""Attention maps per layer and head, with the padding shown or hidden.

The study group's question "what does the attention mask do?" is answered by running
one padded batch twice: with the mask, real tokens put ~0 attention on ``[PAD]``
keys; with an all-ones mask they attend to the pads (except a causal decoder padded
on the right, whose real tokens never see the later pads anyway).

Attention weights come from a weight-sharing *eager* view of the model
(:func:`explorer.internals.views.config_view`): ``sdpa``, the default in
transformers 5.x, returns no weights, and the cached model is shared by every
browser session, so its attention implementation is never switched and no hook is
ever put on it.

Families: BERT, ELECTRA, ALBERT and RoBERTa give one ``(seq, seq)`` map per layer
and head; GPT-2's maps are causal (upper triangle 0). Funnel pools the sequence
between blocks, so later layers have fewer queries (and keys): their maps keep their
own shapes and each query/key is labelled with the input positions it pools.

Memory: the forward pass keeps every layer's ``(rows, heads, seq, seq)`` weights, so
the batch is capped at :data:`MAX_ROWS` inputs and :data:`MAX_TOKENS` tokens by
default (24 layers x 16 heads x 8 x 128^2 float32 is ~200 MB; 512 tokens would be
16 times that).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import torch

from explorer.internals.padding import (
    _encode,
    _model_inputs,
    _unpack,
    is_decoder_only,
    resolve_max_length,
    token_grid,
    with_pad_token,
)
from explorer.internals.views import config_view

MAX_ROWS = 8
MAX_TOKENS = 128
_LABEL_TOKENS = 3  # tokens spelled out in the label of a pooled (Funnel) position

Group = tuple[int, ...]  # input positions one query/key stands for


@dataclass
class AttentionMaps:
    """Attention weights of one padded batch, with what is needed to label them.

    Attributes:
        texts: The inputs (first sentences), after the :data:`MAX_ROWS` cap.
        pairs: Second sentences per row, or None.
        tokens: Per row, the token at each position of the padded batch (byte-level
            BPE tokens are decoded so Korean is readable; others are kept as is).
        pad: Per row and position, True for padding (attention mask 0).
        special: Per row and position, True for ``[CLS]``, ``[SEP]``... (not pads).
        weights: Per layer, float32 CPU tensor ``(heads, rows, queries, keys)``. For
            every family but Funnel, queries == keys == the padded length.
        query_groups: Per layer, the input positions each query stands for
            (``(i,)`` for position ``i``; several positions where Funnel pooled).
        key_groups: Per layer, the same for keys.
        with_mask: Whether the tokenizer's attention mask was passed (False: ones).
        model_type: ``config.model_type`` of the model.
        causal: True for decoder-only models (each token sees only earlier ones).
        padding_side: Side the batch was padded on (the tokenizer's).
        notes: What to know when reading the maps (caps, family behaviour).
    """

    texts: list[str]
    pairs: list[str] | None
    tokens: list[list[str]]
    pad: list[list[bool]]
    special: list[list[bool]]
    weights: list[torch.Tensor]
    query_groups: list[list[Group]]
    key_groups: list[list[Group]]
    with_mask: bool
    model_type: str
    causal: bool
    padding_side: str
    notes: list[str] = field(default_factory=list)

    @property
    def num_layers(self) -> int:
        return len(self.weights)

    @property
    def num_heads(self) -> int:
        return int(self.weights[0].shape[0]) if self.weights else 0

    @property
    def num_rows(self) -> int:
        return len(self.tokens)

    @property
    def seq_len(self) -> int:
        """Padded length of the batch (the input positions)."""
        return len(self.tokens[0]) if self.tokens else 0

    @property
    def has_padding(self) -> bool:
        return any(any(row) for row in self.pad)

    @property
    def uniform(self) -> bool:
        """True when every layer maps all positions to all positions (no pooling)."""
        n = self.seq_len
        return all(tuple(w.shape[-2:]) == (n, n) for w in self.weights)

    def stacked(self) -> torch.Tensor | None:
        """All layers as one ``(layers, heads, rows, seq, seq)`` tensor, or None when
        layers differ in shape (Funnel)."""
        return torch.stack(self.weights) if self.uniform and self.weights else None

    def group_pad(self, row: int, groups: Sequence[Group]) -> list[bool]:
        """Pad flag per query/key: a pooled position counts as padding when any of
        its inputs is, which is how Funnel pools its own mask (``min``)."""
        return [any(self.pad[row][i] for i in g) for g in groups]

    def group_special(self, row: int, groups: Sequence[Group]) -> list[bool]:
        return [all(self.special[row][i] for i in g) for g in groups]

    def group_labels(self, row: int, groups: Sequence[Group]) -> list[str]:
        """``3:학교`` (position:token), unique per position so duplicates stay apart;
        a pooled position reads ``3-4:학+교``."""
        return [_label(g, self.tokens[row]) for g in groups]


@dataclass
class HeadMap:
    """One ``(queries, keys)`` map ready to draw.

    Attributes:
        weights: float32 ``(queries, keys)``; rows are queries.
        query_labels: Label per query (see :meth:`AttentionMaps.group_labels`).
        key_labels: Label per key.
        query_pad: Pad flag per query.
        key_pad: Pad flag per key.
        title: ``layer L, head H, input R`` (``mean of heads`` when averaged).
    """

    weights: torch.Tensor
    query_labels: list[str]
    key_labels: list[str]
    query_pad: list[bool]
    key_pad: list[bool]
    title: str


# --------------------------------------------------------------------------- running


def attention_maps(
    loaded: Any,
    texts: Sequence[str],
    pairs: Sequence[str] | None = None,
    with_mask: bool = True,
    max_length: int | None = None,
    *,
    tokenizer: Any = None,
) -> AttentionMaps:
    """Runs one padded batch and returns every layer's attention weights.

    The batch is padded to its longest row on the tokenizer's padding side, as the
    app pads (GPT-2 without a pad token pads with EOS, on a copy of the tokenizer).

    Args:
        loaded: A ``LoadedModel`` (or a bare model, then pass ``tokenizer``). For a
            multiple-choice head each (text, pair) row is one alternative.
        texts: Inputs; only the first :data:`MAX_ROWS` are run.
        pairs: Optional second sentences (same length as ``texts``).
        with_mask: False replaces the attention mask by ones (same batch), to show
            what the mask prevents.
        max_length: Truncation length; defaults to :data:`MAX_TOKENS`, and never
            exceeds the model's or tokenizer's limit.
        tokenizer: Overrides ``loaded.tokenizer``.

    Returns:
        The :class:`AttentionMaps`.

    Raises:
        ValueError: No texts, mismatched pairs, or a model that returns no
            attention weights even in eager mode.
    """
    if not texts:
        raise ValueError("No texts to run.")
    if pairs is not None and len(pairs) != len(texts):
        raise ValueError(f"{len(texts)} texts but {len(pairs)} second sentences.")
    model, device = _unpack(loaded)
    original = tokenizer if tokenizer is not None else getattr(loaded, "tokenizer", None)
    if original is None:
        raise ValueError("Pass tokenizer= with a bare model.")
    tok = with_pad_token(original)
    notes: list[str] = []
    texts, pairs = _cap_rows(texts, pairs, notes)
    limit = _limit(loaded, tok, max_length)
    grid = token_grid(tok, texts, pairs, padding="longest", max_length=limit)
    enc = _encode(tok, texts, pairs, padding="longest", max_length=limit, tensors=True)
    if enc["input_ids"].shape[-1] >= limit:
        notes.append(f"Inputs are capped at {limit} tokens for attention maps; longer ones were truncated to {limit}.")
    view = _eager_view(model, tok)
    inputs = _model_inputs(view, enc, device)
    if not with_mask and "attention_mask" in inputs:
        inputs["attention_mask"] = torch.ones_like(inputs["attention_mask"])
    weights = _run(view, inputs, rows=len(texts))
    if any(bool(torch.isnan(w).any()) for w in weights):
        notes.append("Some fully masked query rows gave NaN weights; they are shown as 0.")
        weights = [torch.nan_to_num(w, nan=0.0) for w in weights]
    n = enc["input_ids"].shape[-1]
    query_groups, key_groups = _groups(model.config, n, weights, notes)
    side = getattr(tok, "padding_side", "right") or "right"
    maps = AttentionMaps(
        texts=list(texts),
        pairs=None if pairs is None else list(pairs),
        tokens=[[c["token"] for c in row] for row in grid],  # token_grid already made them readable
        pad=[[c["pad"] for c in row] for row in grid],
        special=[[c["special"] for c in row] for row in grid],
        weights=weights,
        query_groups=query_groups,
        key_groups=key_groups,
        with_mask=with_mask,
        model_type=str(model.config.model_type),
        causal=is_decoder_only(model),
        padding_side=side,
        notes=notes,
    )
    notes.extend(_family_notes(maps, padded_with_eos=tok is not original))
    return maps


def _cap_rows(texts: Sequence[str], pairs: Sequence[str] | None, notes: list[str]) -> tuple[list[str], list[str] | None]:
    if len(texts) > MAX_ROWS:
        notes.append(f"Only the first {MAX_ROWS} of {len(texts)} rows were run (attention maps are memory-hungry; "
                     "a COPA input is one row per alternative).")
    texts = list(texts)[:MAX_ROWS]
    return texts, None if pairs is None else list(pairs)[:MAX_ROWS]


def _limit(loaded: Any, tok: Any, max_length: int | None) -> int:
    """The truncation length: the request (or MAX_TOKENS), within the model's limits."""
    limits = [resolve_max_length(tok), int(max_length or MAX_TOKENS)]
    model_limit = getattr(loaded, "max_length", None)
    if isinstance(model_limit, int) and model_limit > 0:
        limits.append(model_limit)
    return min(limits)


def _eager_view(model: Any, tok: Any) -> Any:
    """A weight-sharing eager view; it also gets a pad id when the model has none,
    since GPT-2's classifier refuses padded batches without one."""
    extra = {} if model.config.pad_token_id is not None else {"pad_token_id": tok.pad_token_id}
    try:
        return config_view(model, attn_implementation="eager", **extra)
    except (ValueError, NotImplementedError) as err:
        kind = model.config.model_type
        raise ValueError(f"{kind} cannot switch to eager attention, so it gives no attention maps: {err}") from err


@torch.no_grad()
def _run(view: Any, inputs: dict[str, torch.Tensor], rows: int) -> list[torch.Tensor]:
    """Per layer ``(heads, rows, queries, keys)`` on CPU in float32."""
    attentions = view(**inputs, output_attentions=True).attentions
    if not attentions:
        raise ValueError(
            f"{view.config.model_type} returned no attention weights "
            f"(attention implementation {view.config._attn_implementation!r})."
        )
    out = []
    for layer in attentions:
        # Multiple choice runs (rows, 1, seq) as rows * 1 sequences: the batch is rows.
        w = layer.detach().float().cpu().reshape(rows, -1, *layer.shape[-2:])
        out.append(w.transpose(0, 1).contiguous())
    return out


# --------------------------------------------------------------------------- labelling


def _identity(n: int) -> list[Group]:
    return [(i,) for i in range(n)]


def _funnel_pool(groups: list[Group], config: Any) -> list[Group]:
    """What Funnel's ``pool_tensor`` does to positions: [CLS] kept apart (``separate_cls``),
    the last position dropped (``truncate_seq``), then pairs merged (stride 2)."""
    seq = list(groups)
    if getattr(config, "separate_cls", True):
        suffix = seq[:-1] if getattr(config, "truncate_seq", True) else seq
        seq = [seq[0], *suffix]
    pooled = []
    for i in range(0, len(seq), 2):
        merged = dict.fromkeys(p for g in seq[i : i + 2] for p in g)  # ordered, no duplicates
        pooled.append(tuple(merged))
    return pooled


def _levels(config: Any, n: int) -> dict[int, list[Group]]:
    """Groups of every length the model can produce, by length."""
    levels = {n: _identity(n)}
    if config.model_type != "funnel":
        return levels
    groups = _identity(n)
    # Funnel stops pooling once only [CLS] and one position are left.
    while len(groups) > (2 if getattr(config, "separate_cls", True) else 1):
        groups = _funnel_pool(groups, config)
        levels.setdefault(len(groups), groups)
    return levels


def _groups(config: Any, n: int, weights: list[torch.Tensor], notes: list[str]) -> tuple[list[list[Group]], list[list[Group]]]:
    """Input positions behind each query and key of each layer."""
    levels = _levels(config, n)
    queries, keys, unknown = [], [], False
    for w in weights:
        q, k = int(w.shape[-2]), int(w.shape[-1])
        unknown |= q not in levels or k not in levels
        # An unexpected length gets plain indices rather than a wrong token label.
        queries.append(levels.get(q, [(-1 - i,) for i in range(q)]))
        keys.append(levels.get(k, [(-1 - i,) for i in range(k)]))
    if unknown:
        notes.append("Some layers have lengths that match no input positions; their axes show indices only.")
    return queries, keys


def _label(group: Group, tokens: Sequence[str]) -> str:
    if group[0] < 0:  # unknown position (see _groups)
        return f"#{-1 - group[0]}"
    names = [tokens[i] for i in group[:_LABEL_TOKENS]] + (["…"] if len(group) > _LABEL_TOKENS else [])
    where = str(group[0]) if len(group) == 1 else f"{group[0]}-{group[-1]}"
    return f"{where}:{'+'.join(names)}"


def _family_notes(maps: AttentionMaps, padded_with_eos: bool) -> list[str]:
    notes = []
    kind = maps.model_type
    if kind == "funnel":
        notes.append(
            "Funnel pools the sequence between blocks (pairs of positions averaged, [CLS] kept apart): "
            "later layers have fewer queries/keys, labelled with the positions they pool (e.g. 3-4:a+b)."
        )
    if kind == "albert":
        notes.append("ALBERT reuses one layer's weights in every layer; the maps still differ because the inputs do.")
    if maps.causal:
        notes.append("Causal model: each token attends only to itself and earlier tokens (upper triangle is 0).")
        if maps.padding_side == "right":
            notes.append(
                "Padding is on the right, so the causal mask alone already keeps real tokens from seeing the "
                "later pads: dropping the attention mask changes nothing for them."
            )
    if padded_with_eos:
        notes.append("The tokenizer has no pad token: it pads with EOS (on a copy), as the app does.")
    return notes


# --------------------------------------------------------------------------- views and summaries


def head_map(maps: AttentionMaps, layer: int, head: int | None, row: int, show_padding: bool = False) -> HeadMap:
    """One layer/head/input map; ``head=None`` averages the heads.

    With ``show_padding=False`` pad queries and pad keys are dropped, so the map
    shows what real tokens do (with the mask, the dropped columns are ~0 anyway).
    """
    w = maps.weights[layer][:, row]
    w = w.mean(0) if head is None else w[head]
    q_groups, k_groups = maps.query_groups[layer], maps.key_groups[layer]
    q_pad, k_pad = maps.group_pad(row, q_groups), maps.group_pad(row, k_groups)
    q_keep = [i for i, p in enumerate(q_pad) if show_padding or not p]
    k_keep = [i for i, p in enumerate(k_pad) if show_padding or not p]
    labels_q, labels_k = maps.group_labels(row, q_groups), maps.group_labels(row, k_groups)
    who = "mean of heads" if head is None else f"head {head}"
    return HeadMap(
        weights=w[q_keep][:, k_keep],
        query_labels=[labels_q[i] for i in q_keep],
        key_labels=[labels_k[i] for i in k_keep],
        query_pad=[q_pad[i] for i in q_keep],
        key_pad=[k_pad[i] for i in k_keep],
        title=f"layer {layer}, {who}, input {row + 1}",
    )


def _share(maps: AttentionMaps, key_flag: str, padded_rows_only: bool) -> torch.Tensor:
    """Mean over real queries of the attention mass on keys flagged ``key_flag``."""
    out = torch.full((maps.num_layers, maps.num_heads), float("nan"))
    for layer, w in enumerate(maps.weights):
        parts = []
        for row in range(maps.num_rows):
            if padded_rows_only and not any(maps.pad[row]):
                continue
            real_q = ~torch.tensor(maps.group_pad(row, maps.query_groups[layer]))
            flags = getattr(maps, f"group_{key_flag}")(row, maps.key_groups[layer])
            keys = torch.tensor(flags, dtype=torch.bool)
            parts.append(w[:, row][:, real_q][:, :, keys].sum(-1))  # (heads, real queries)
        if parts:
            cat = torch.cat(parts, dim=1)
            if cat.shape[1]:
                out[layer] = cat.mean(1)
    return out


def pad_attention_share(maps: AttentionMaps) -> torch.Tensor:
    """Per (layer, head), the share of attention real-token queries put on pad keys.

    Averaged over the real queries of rows that have padding. ~0 with the mask;
    clearly above 0 without it (except a causal model padded on the right).

    Returns:
        float32 ``(layers, heads)``; NaN where no row has padding (nothing to measure).
    """
    return _share(maps, "pad", padded_rows_only=True)


def special_attention_share(maps: AttentionMaps) -> torch.Tensor:
    """Per (layer, head), the share of attention real-token queries put on special
    tokens ([CLS], [SEP]...): heads parking attention on [SEP]/[CLS] are a well-known
    pattern of trained encoders ("no-op" attention).

    Returns:
        float32 ``(layers, heads)``, averaged over the real queries of every row.
    """
    return _share(maps, "special", padded_rows_only=False)
