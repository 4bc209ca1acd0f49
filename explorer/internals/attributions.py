"""Token attributions: which tokens drive a judgement.

Methods (all computed on the output of ``model.get_input_embeddings()``):

* ``ig`` - Integrated Gradients from a baseline (``[PAD]`` with special tokens
  kept, ``[MASK]``, or zero embeddings), with its convergence delta. ``steps="auto"``
  (the default) doubles a trapezoid grid until the delta is within 1% of
  ``f(x) - f(baseline)``; a whole number runs Captum's Gauss-Legendre rule with
  that many steps.
* ``saliency`` - ``sum |d score / d embedding|`` per token (unsigned).
* ``input_x_gradient`` - ``sum embedding * d score / d embedding`` per token.
* ``occlusion`` - ``score(x) - score(x with token i replaced by its baseline)``.

Integrated Gradients uses Captum's ``IntegratedGradients`` on ``inputs_embeds``
rather than ``LayerIntegratedGradients`` on the embedding module. The two give
the same numbers (LIG interpolates exactly that layer's output), but LIG installs
forward hooks on the embedding module of a model that other Streamlit sessions
share, so their plain predictions running at the same moment would be rewritten
by the hook. Feeding ``inputs_embeds`` installs no hook at all, and the per-model
lock below still serialises the attribution calls themselves.

Scores are per token, summed over the embedding dimension. :func:`aggregate`
sums them into eojeol or Kiwi morpheme spans by character offsets.
"""

from __future__ import annotations

import html
import re
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import torch

from explorer.internals import MAX_STEPS, METHODS
from explorer.internals.padding import readable_tokens, with_pad_token

BASELINES = ("pad", "mask", "zero")
OUTPUTS = ("logit", "prob")
MC_TARGETS = ("chosen", "difference")
TRUNCATIONS = ("longest_first", "only_first", "only_second")
# Above this share of |f(x) - f(baseline)| the IG path integral is too coarse.
DELTA_WARN_RATIO = 0.05
# Adaptive IG stops once |delta| is at most this share of |f(x) - f(baseline)|.
AUTO_TOLERANCE = 0.01
# Adaptive IG's grid: 9 points (8 intervals) first, then every interval halved,
# up to 257 points. Measured on multilingual-e5-small with the [PAD] baseline
# (benchmarks/integrated_gradients.py), the integrand swings ~100x wider than
# f(x) - f(baseline) in the middle of the path and is flat near both ends: the
# trapezoid rule on a uniform grid (exact to high order when the ends are flat)
# reached 1% with 33 or 65 points where Gauss-Legendre at 50 left up to 4%, and
# refining only the intervals with the largest local error needed more points.
AUTO_FIRST_STEPS = 9
AUTO_MAX_STEPS = 257
# Interpolation points x positions per forward/backward pass when the caller does
# not fix a batch: one pass for a short sentence at 50 steps, bounded memory for a
# long one (~1 GB of saved activations for a BERT-base-sized encoder).
_TOKENS_PER_PASS = 2048
_OCCLUSION_BATCH = 32

_LOCKS: dict[int, threading.Lock] = {}
_LOCKS_GUARD = threading.Lock()


@dataclass(frozen=True)
class TokenOffset:
    """Where a token came from.

    Attributes:
        start: First character in its text (``first`` for segment 0, the second text
            of its row for segment 1); ``0`` for special tokens.
        end: One past its last character.
        segment: 0 for the first text, 1 for the second; special tokens take the
            segment they close (``[CLS]`` and the first ``[SEP]`` 0, the last ``[SEP]`` 1).
        special: True for ``[CLS]``, ``[SEP]`` and the like.
        choice: Row of a multiple-choice input (alternative index); 0 otherwise.
    """

    start: int
    end: int
    segment: int
    special: bool
    choice: int = 0


@dataclass
class Attribution:
    """One attribution result.

    Attributes:
        tokens: Token strings, padding dropped; for multiple choice the rows follow
            each other (see ``offsets[i].choice``).
        ids: Their ids.
        scores: One score per token.
        offsets: Character offsets, segment, special flag and row per token.
        target: Class (or alternative) whose score was attributed.
        method: One of ``METHODS``.
        baseline: Baseline actually used (``mask`` may fall back to ``pad``).
        output: ``logit`` or ``prob``: what the score is.
        mc_target: For multiple choice, ``chosen`` or ``difference``; else None.
        contrast: For ``difference``, the alternative subtracted.
        probs: Softmax of the prediction (over classes or alternatives).
        predicted: Argmax of ``probs``.
        f_x: Attributed score at the input.
        f_baseline: Attributed score at the baseline (IG and occlusion).
        delta: IG convergence delta: ``sum(all scores) - (f_x - f_baseline)``.
        delta_ratio: ``|delta| / |f_x - f_baseline|``.
        warning: Set when ``delta_ratio`` exceeds ``DELTA_WARN_RATIO``.
        steps: IG gradient evaluations actually made (the last grid's points for
            ``steps="auto"``); None for other methods.
        adaptive: True when IG chose its steps (``steps="auto"``).
        first: The first text.
        seconds: The second text per row (``[None]`` for a single sentence).
        notes: Fallbacks taken (no mask token, no pad token, slow tokenizer).
        has_offsets: False when the tokenizer gave no character offsets.
    """

    tokens: list[str]
    ids: list[int]
    scores: list[float]
    offsets: list[TokenOffset]
    target: int
    method: str
    baseline: str
    output: str
    mc_target: str | None
    contrast: int | None
    probs: list[float]
    predicted: int
    f_x: float
    f_baseline: float | None = None
    delta: float | None = None
    delta_ratio: float | None = None
    warning: str | None = None
    steps: int | None = None
    adaptive: bool = False
    first: str = ""
    seconds: list[str | None] = field(default_factory=lambda: [None])
    notes: list[str] = field(default_factory=list)
    has_offsets: bool = True


@dataclass
class _Encoded:
    """The tensors fed to the model plus what is needed to label tokens."""

    ids: torch.Tensor  # (rows, seq)
    mask: torch.Tensor
    token_types: torch.Tensor | None
    offsets: list[list[tuple[int, int]]] | None
    sequence_ids: list[list[int | None]] | None
    special: list[list[bool]]
    multiple_choice: bool


# --------------------------------------------------------------------------- locking and grad state


def model_lock(model: torch.nn.Module) -> threading.Lock:
    """The lock serialising attribution calls on one (shared) model."""
    with _LOCKS_GUARD:
        return _LOCKS.setdefault(id(model), threading.Lock())


@contextmanager
def _attribution_session(model: torch.nn.Module) -> Iterator[None]:
    """Holds the model's lock with gradients enabled, and always cleans up.

    ``inference_mode(False)`` matters: callers (and Streamlit caches) often run
    under ``inference_mode``, where ``enable_grad`` alone would build no graph.
    Gradients are taken with ``torch.autograd.grad`` on the embeddings only, so
    parameter ``.grad`` stays untouched; ``zero_grad`` is a guard regardless.
    Parameters stop requiring grad meanwhile (restored after): the forward pass
    then keeps no activations for weight gradients nobody asks for. Plain
    predictions of other sessions run under ``inference_mode`` and do not read the flag.
    """
    with model_lock(model):
        params = list(model.parameters())
        flags = [p.requires_grad for p in params]
        try:
            for p in params:
                p.requires_grad_(False)
            with torch.inference_mode(False), torch.enable_grad():
                yield
        finally:
            for p, flag in zip(params, flags):
                p.requires_grad_(flag)
            model.zero_grad(set_to_none=True)


# --------------------------------------------------------------------------- encoding


def _encode(
    loaded: Any, first: str, second: str | None, endings: Sequence[str] | None, truncation: str = "longest_first"
) -> tuple[_Encoded, list[str]]:
    notes: list[str] = []
    tok = loaded.tokenizer
    multiple_choice = endings is not None
    if multiple_choice and loaded.head != "multiple_choice":
        raise ValueError("endings were given but the model has no multiple-choice head")
    if loaded.head == "multiple_choice" and not multiple_choice:
        raise ValueError("a multiple-choice model needs endings (one per alternative)")
    if multiple_choice:
        if len(endings) < 2:
            raise ValueError("multiple choice needs at least two endings")
        tok = with_pad_token(tok)  # rows are padded to a common length
        firsts, seconds = [first] * len(endings), list(endings)
        raw = tok(firsts, seconds, **_encode_kwargs(tok, loaded.max_length, True, truncation))
    else:
        # One-sided truncation means something only for a pair; a single text is simply cut.
        single_cut = truncation if second is not None else True
        raw = tok(first, second, **_encode_kwargs(tok, loaded.max_length, False, single_cut))
    fast = bool(getattr(tok, "is_fast", False))
    if not fast:
        notes.append("slow tokenizer: no character offsets, so no eojeol/morpheme aggregation")
    ids = raw["input_ids"]
    rows = ids.shape[0]
    offsets = [[tuple(map(int, p)) for p in raw["offset_mapping"][r].tolist()] for r in range(rows)] if fast else None
    sequence_ids = [raw.sequence_ids(r) for r in range(rows)] if fast else None
    special_mask = raw["special_tokens_mask"].bool().tolist()
    device = loaded.device
    return _Encoded(
        ids=ids.to(device),
        mask=raw["attention_mask"].to(device),
        token_types=raw["token_type_ids"].to(device) if "token_type_ids" in raw else None,
        offsets=offsets,
        sequence_ids=sequence_ids,
        special=special_mask,
        multiple_choice=multiple_choice,
    ), notes


def _encode_kwargs(tok: Any, max_length: int, padding: bool, truncation: str | bool = True) -> dict[str, Any]:
    kwargs: dict[str, Any] = dict(
        truncation=truncation, max_length=max_length, padding=padding, return_tensors="pt",
        return_special_tokens_mask=True,
    )
    if getattr(tok, "is_fast", False):
        kwargs["return_offsets_mapping"] = True
    return kwargs


def _model_inputs(enc: _Encoded) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Attention mask and token types shaped for the model (a leading batch of 1 for MC)."""
    if enc.multiple_choice:
        tt = enc.token_types.unsqueeze(0) if enc.token_types is not None else None
        return enc.mask.unsqueeze(0), tt
    return enc.mask, enc.token_types


# --------------------------------------------------------------------------- baselines and scores


def _baseline_ids(loaded: Any, enc: _Encoded, baseline: str, notes: list[str]) -> tuple[torch.Tensor | None, str]:
    """Baseline token ids (special tokens and padding kept), or None for zero embeddings."""
    tok = loaded.tokenizer
    if baseline == "mask" and getattr(tok, "mask_token_id", None) is None:
        notes.append("the tokenizer has no [MASK] token; used [PAD] instead")
        baseline = "pad"
    if baseline == "zero":
        return None, baseline
    fill = tok.mask_token_id if baseline == "mask" else getattr(tok, "pad_token_id", None)
    if fill is None:
        fill = getattr(tok, "eos_token_id", None)
        if fill is None:
            notes.append("the tokenizer has neither [PAD] nor EOS; used zero embeddings")
            return None, "zero"
        notes.append("the tokenizer has no [PAD] token; used EOS as the baseline token")
    keep = torch.tensor(enc.special, device=enc.ids.device) | (enc.mask == 0)
    return torch.where(keep, enc.ids, torch.full_like(enc.ids, int(fill))), baseline


def _embed(loaded: Any, ids: torch.Tensor, multiple_choice: bool) -> torch.Tensor:
    emb = loaded.model.get_input_embeddings()(ids)
    return emb.unsqueeze(0) if multiple_choice else emb


def _score_fn(
    loaded: Any, enc: _Encoded, output: str, target: int, contrast: int | None
) -> Callable[[torch.Tensor], torch.Tensor]:
    """Maps a batch of input embeddings to the attributed score, one per example."""
    model = loaded.model

    def score(embeds: torch.Tensor) -> torch.Tensor:
        mask, token_types = _model_inputs(enc)
        reps = embeds.shape[0]
        # contiguous: multiple-choice heads .view() these to (reps * choices, seq).
        kwargs: dict[str, Any] = {"attention_mask": mask.expand(reps, *mask.shape[1:]).contiguous()}
        if token_types is not None:
            kwargs["token_type_ids"] = token_types.expand(reps, *token_types.shape[1:]).contiguous()
        logits = model(inputs_embeds=embeds, **kwargs).logits.float()
        values = torch.softmax(logits, dim=-1) if output == "prob" else logits
        out = values[:, target]
        return out - values[:, contrast] if contrast is not None else out

    return score


def _predict(loaded: Any, enc: _Encoded) -> list[float]:
    mask, token_types = _model_inputs(enc)
    kwargs: dict[str, Any] = {"attention_mask": mask}
    if token_types is not None:
        kwargs["token_type_ids"] = token_types
    ids = enc.ids.unsqueeze(0) if enc.multiple_choice else enc.ids
    with torch.no_grad():
        logits = loaded.model(input_ids=ids, **kwargs).logits.float()
    return torch.softmax(logits[0], dim=-1).cpu().tolist()


# --------------------------------------------------------------------------- methods


def _integrated_gradients(
    score: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor, x0: torch.Tensor, steps: int, batch: int
) -> tuple[torch.Tensor, float]:
    """Captum's IG with ``steps`` Gauss-Legendre points: the fixed-steps choice."""
    from captum.attr import IntegratedGradients

    ig = IntegratedGradients(score)
    attr, delta = ig.attribute(
        x, baselines=x0, n_steps=steps, internal_batch_size=batch, return_convergence_delta=True
    )
    return attr, float(delta.sum())


@dataclass
class _AdaptiveResult:
    attributions: torch.Tensor
    delta: float
    steps: int  # gradient evaluations made: the points of the last grid
    converged: bool


def _adaptive_integrated_gradients(
    score: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor, x0: torch.Tensor, f_x: float, f_0: float,
    batch: int, tolerance: float = AUTO_TOLERANCE, first: int = AUTO_FIRST_STEPS, cap: int = AUTO_MAX_STEPS,
) -> _AdaptiveResult:
    """IG by the trapezoid rule on a grid that doubles until the delta is small enough.

    Each level halves every interval, so it reuses every gradient already taken
    and only evaluates the new midpoints. The delta of a level is exact (it is
    ``sum(attributions) - (f(x) - f(x0))``), so it stops as soon as
    ``|delta| <= tolerance * |f(x) - f(x0)|``, or at ``cap`` points, unconverged.
    """
    direction = x - x0
    difference = f_x - f_0
    intervals = first - 1
    ends = _gradient_sum(score, x0, direction, torch.tensor([0.0, 1.0]), batch)
    inner = _gradient_sum(score, x0, direction, torch.arange(1, intervals) / intervals, batch)
    while True:
        # Trapezoid: the two ends weigh half an interval, every inner point a whole one.
        attributions = direction * (inner + ends / 2) / intervals
        delta = float(attributions.sum()) - difference
        converged = _delta_ratio(delta, difference) <= tolerance
        if converged or 2 * intervals + 1 > cap:
            return _AdaptiveResult(attributions, delta, intervals + 1, converged)
        intervals *= 2
        midpoints = torch.arange(1, intervals, 2) / intervals  # the new points only
        inner = inner + _gradient_sum(score, x0, direction, midpoints, batch)


def _gradient_sum(
    score: Callable[[torch.Tensor], torch.Tensor], x0: torch.Tensor, direction: torch.Tensor,
    alphas: torch.Tensor, batch: int,
) -> torch.Tensor:
    """Sum over ``alphas`` of d score / d input at ``x0 + alpha * direction``, ``batch`` points per pass."""
    total = torch.zeros_like(x0)
    for chunk in alphas.to(x0.device, x0.dtype).split(batch):
        points = (x0 + chunk.view(-1, *[1] * (x0.dim() - 1)) * direction).detach().requires_grad_(True)
        (grad,) = torch.autograd.grad(score(points).sum(), points)
        total += grad.sum(dim=0, keepdim=True)
    return total


def _points_per_pass(x: torch.Tensor) -> int:
    """Interpolation points per forward pass, sized by the positions each point holds."""
    return max(1, _TOKENS_PER_PASS // max(1, x[0].numel() // x.shape[-1]))


def _gradient(score: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor) -> torch.Tensor:
    x = x.detach().requires_grad_(True)
    # autograd.grad returns the gradient without accumulating into any .grad.
    (grad,) = torch.autograd.grad(score(x).sum(), x)
    return grad


def _occlusion(score: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor, x0: torch.Tensor) -> torch.Tensor:
    """Per position, the score drop when that position takes its baseline embedding.

    Positions whose baseline equals the input (special tokens, padding with a
    token baseline) are skipped: replacing them changes nothing.
    """
    flat_shape = x.shape[1:-1]  # (seq,) or (choices, seq)
    positions = [p for p in _positions(flat_shape) if not torch.equal(x[(0, *p)], x0[(0, *p)])]
    drops = torch.zeros(flat_shape, device=x.device)
    with torch.no_grad():
        full = score(x)[0]
        for start in range(0, len(positions), _OCCLUSION_BATCH):
            chunk = positions[start:start + _OCCLUSION_BATCH]
            batch = x.expand(len(chunk), *x.shape[1:]).clone()
            for row, p in enumerate(chunk):
                batch[(row, *p)] = x0[(0, *p)]
            values = score(batch)
            for row, p in enumerate(chunk):
                drops[p] = full - values[row]
    return drops


def _positions(shape: torch.Size) -> list[tuple[int, ...]]:
    return [tuple(int(i) for i in idx) for idx in torch.cartesian_prod(*[torch.arange(n) for n in shape]).view(-1, len(shape))]


# --------------------------------------------------------------------------- public API


def attribute(
    loaded: Any,
    first: str,
    second: str | None = None,
    method: str = "ig",
    target: int | None = None,
    baseline: str = "pad",
    steps: int | str = "auto",
    endings: Sequence[str] | None = None,
    mc_target: str = "chosen",
    output: str = "logit",
    internal_batch_size: int | None = None,
    truncation: str = "longest_first",
) -> Attribution:
    """Attributes one prediction to its input tokens.

    Args:
        loaded: A ``LoadedModel`` (or anything with ``model``, ``tokenizer``,
            ``device``, ``head`` and ``max_length``).
        first: The first (or only) text.
        second: The second text of a pair; ignored for multiple choice.
        method: One of ``METHODS``.
        target: Class (alternative for multiple choice) to explain; the predicted
            one by default.
        baseline: ``pad`` (special tokens kept), ``mask`` or ``zero`` embeddings;
            used by IG and occlusion.
        steps: IG integration steps: ``"auto"`` doubles a trapezoid grid from
            ``AUTO_FIRST_STEPS`` points until ``|delta| <= AUTO_TOLERANCE * |f(x) -
            f(baseline)|`` (at most ``AUTO_MAX_STEPS`` points, with a warning when
            that is not enough); a whole number runs Captum's Gauss-Legendre rule
            with that many points.
        endings: The alternatives of a multiple-choice input (one row each).
        mc_target: ``chosen``: the target alternative's score; ``difference``: its
            score minus that of the strongest other alternative.
        output: Attribute the ``logit`` or the softmax ``prob``.
        internal_batch_size: IG interpolation points per forward pass; None sizes
            it by the input's length (``_TOKENS_PER_PASS`` positions per pass).
        truncation: Which side of a pair the tokenizer may cut (``ModelInput.truncation``:
            ``only_first`` keeps every ending whole), so the attributed input is the one predicted.

    Returns:
        The attribution; for IG with its convergence delta and the steps used.

    Raises:
        ValueError: for an unknown option or endings that do not fit the head.
    """
    _check_choice("method", method, METHODS)
    _check_choice("baseline", baseline, BASELINES)
    _check_choice("output", output, OUTPUTS)
    _check_choice("mc_target", mc_target, MC_TARGETS)
    _check_choice("truncation", truncation, TRUNCATIONS)
    _check_steps(steps)
    if internal_batch_size is not None and (
        isinstance(internal_batch_size, bool) or not isinstance(internal_batch_size, int) or internal_batch_size < 1
    ):
        raise ValueError(f"internal_batch_size must be a whole number of at least 1 (or None), not {internal_batch_size!r}")
    model = loaded.model
    with _attribution_session(model):
        enc, notes = _encode(loaded, first, None if endings is not None else second, endings, truncation)
        probs = _predict(loaded, enc)
        predicted = int(max(range(len(probs)), key=probs.__getitem__))
        target = predicted if target is None else int(target)
        if not 0 <= target < len(probs):
            raise ValueError(f"target {target} is out of range (0..{len(probs) - 1})")
        contrast = _contrast(probs, target) if enc.multiple_choice and mc_target == "difference" else None
        base_ids, baseline = _baseline_ids(loaded, enc, baseline, notes)
        notes.extend(_scale_invariance_notes(model, method, baseline))
        score = _score_fn(loaded, enc, output, target, contrast)
        x = _embed(loaded, enc.ids, enc.multiple_choice).detach()
        x0 = torch.zeros_like(x) if base_ids is None else _embed(loaded, base_ids, enc.multiple_choice).detach()
        result = _run_method(method, score, x, x0, steps, internal_batch_size or _points_per_pass(x))
    return _package(
        loaded, enc, result, first=first, seconds=list(endings) if endings is not None else [second],
        target=target, method=method, baseline=baseline, output=output,
        mc_target=mc_target if enc.multiple_choice else None, contrast=contrast, probs=probs,
        predicted=predicted, adaptive=method == "ig" and steps == "auto", notes=notes,
    )


def _check_steps(steps: Any) -> None:
    if steps == "auto" and isinstance(steps, str):
        return
    if isinstance(steps, bool) or not isinstance(steps, int) or not 1 <= steps <= MAX_STEPS:
        raise ValueError(f'steps must be "auto" or a whole number from 1 to {MAX_STEPS}, not {steps!r}')


def _scale_invariance_notes(model: Any, method: str, baseline: str) -> list[str]:
    """Funnel layer-normalises each word embedding before anything else is added.

    Scaling an embedding then changes nothing, so gradient × input is 0 by
    construction and the IG path from a zero embedding (Funnel's [PAD] row is zero
    too) is flat until its very start: more steps cannot make it converge.
    """
    if getattr(model.config, "model_type", None) != "funnel":
        return []
    if method == "input_x_gradient" or (method == "ig" and baseline in ("zero", "pad")):
        return ["Funnel layer-normalises word embeddings first, so scaling one changes nothing: gradient × input is 0 "
                "and IG from a zero or [PAD] baseline cannot converge. Use the [MASK] baseline or occlusion."]
    return []


def _check_choice(name: str, value: str, allowed: Sequence[str]) -> None:
    if value not in allowed:
        raise ValueError(f"unknown {name} {value!r}; expected one of {', '.join(allowed)}")


def _contrast(probs: list[float], target: int) -> int:
    others = [i for i in range(len(probs)) if i != target]
    return max(others, key=probs.__getitem__)


@dataclass
class _MethodResult:
    per_position: torch.Tensor  # (rows, seq)
    f_x: float
    f_baseline: float | None
    delta: float | None
    steps: int | None = None  # IG gradient evaluations actually made
    converged: bool = True  # False when adaptive IG reached its cap first


def _run_method(
    method: str, score: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor, x0: torch.Tensor,
    steps: int | str, batch: int,
) -> _MethodResult:
    with torch.no_grad():
        f_x = float(score(x)[0])
        f_0 = float(score(x0)[0])
    delta, used, converged = None, None, True
    if method == "ig" and steps == "auto":
        # Module constants read here, at call time, so a test may lower the cap.
        adaptive = _adaptive_integrated_gradients(score, x, x0, f_x, f_0, batch, AUTO_TOLERANCE, AUTO_FIRST_STEPS,
                                                  AUTO_MAX_STEPS)
        delta, used, converged = adaptive.delta, adaptive.steps, adaptive.converged
        per = adaptive.attributions.sum(dim=-1)
    elif method == "ig":
        attr, delta = _integrated_gradients(score, x, x0, steps, batch)
        used = steps
        per = attr.sum(dim=-1)
    elif method == "saliency":
        per = _gradient(score, x).abs().sum(dim=-1)
    elif method == "input_x_gradient":
        per = (_gradient(score, x) * x).sum(dim=-1)
    else:
        per = _occlusion(score, x, x0).unsqueeze(0)
    per = per[0].detach().float()
    if per.dim() == 1:
        per = per.unsqueeze(0)
    uses_baseline = method in ("ig", "occlusion")
    return _MethodResult(per.cpu(), f_x, f_0 if uses_baseline else None, delta, used, converged)


def _package(loaded: Any, enc: _Encoded, result: _MethodResult, **meta: Any) -> Attribution:
    tokens, ids, scores, offsets = [], [], [], []
    tok = loaded.tokenizer
    mask = enc.mask.cpu().tolist()
    all_ids = enc.ids.cpu().tolist()
    for row in range(len(all_ids)):
        segment = 0
        for pos, token_id in enumerate(all_ids[row]):
            if not mask[row][pos]:
                continue  # padding of a multiple-choice row: not part of the input
            special = bool(enc.special[row][pos])
            seq_id = enc.sequence_ids[row][pos] if enc.sequence_ids is not None else None
            if seq_id is not None:
                segment = int(seq_id)
            start, end = enc.offsets[row][pos] if enc.offsets is not None and not special else (0, 0)
            tokens.append(readable_tokens(tok, [tok.convert_ids_to_tokens(token_id)])[0])
            ids.append(int(token_id))
            scores.append(float(result.per_position[row, pos]))
            offsets.append(TokenOffset(start, end, segment, special, row))
            if special and seq_id is None and pos > 0:
                segment = 1  # what follows a [SEP] belongs to the second text
    delta, ratio, warning = result.delta, None, None
    if delta is not None and result.f_baseline is not None:
        ratio = _delta_ratio(delta, result.f_x - result.f_baseline)
        warning = _delta_warning(delta, ratio, result, meta["adaptive"])
    return Attribution(
        tokens=tokens, ids=ids, scores=scores, offsets=offsets, f_x=result.f_x, f_baseline=result.f_baseline,
        delta=delta, delta_ratio=ratio, warning=warning, has_offsets=enc.offsets is not None, steps=result.steps,
        **meta,
    )


def _delta_warning(delta: float, ratio: float, result: _MethodResult, adaptive: bool) -> str | None:
    share = f"convergence delta {delta:.3g} is {ratio:.1%} of f(x) - f(baseline)"
    if adaptive and not result.converged:
        # Said even below DELTA_WARN_RATIO: "auto" promised AUTO_TOLERANCE and did not reach it.
        return (f"{share} after {result.steps} steps, the most the automatic choice takes (it stops at "
                f"{AUTO_TOLERANCE:.0%}); the path integral is not resolved, so read small scores with care")
    if ratio > DELTA_WARN_RATIO:
        return f"{share}; increase steps (now {result.steps})"
    return None


def _delta_ratio(delta: float, difference: float) -> float:
    """``|delta| / |f(x) - f(baseline)|``, infinite when the difference vanishes but delta does not."""
    if abs(difference) < 1e-12:
        return 0.0 if abs(delta) < 1e-9 else float("inf")
    return abs(delta) / abs(difference)


# --------------------------------------------------------------------------- aggregation


def eojeol_spans(text: str) -> list[tuple[int, int, str]]:
    """Space-separated words (eojeol) as ``(start, end, word)``."""
    return [(m.start(), m.end(), m.group()) for m in re.finditer(r"\S+", text)]


def morpheme_spans(text: str, morphemes: Sequence[Any]) -> list[tuple[int, int, str]]:
    """Kiwi morphemes (``form``, ``tag``, ``start``, ``end``) as ``(start, end, "form/tag")``.

    ``text`` is the string Kiwi analysed; it bounds the offsets.
    """
    spans = []
    for m in morphemes:
        start, end = max(0, int(m.start)), min(len(text), int(m.end))
        spans.append((start, max(start, end), f"{m.form}/{m.tag}"))
    return spans


def aggregate(
    attribution: Attribution,
    text: str,
    segment: int,
    spans: Sequence[tuple[int, int, str]],
    choice: int | None = None,
) -> list[tuple[str, float]]:
    """Sums token scores into character spans (eojeol, morphemes).

    Every non-special token of ``segment`` (and of row ``choice``, or all rows when
    None) is counted exactly once, so the span scores sum exactly to those tokens'
    scores. A token goes to the span holding its first character; a token that
    starts in a gap (e.g. a SentencePiece ``▁`` covering the space) goes to the
    next span, and one past the last span to the last span.

    Args:
        attribution: The result of :func:`attribute`.
        text: The text of that segment (offsets index into it).
        segment: 0 for the first text, 1 for the second.
        spans: ``(start, end, label)``, e.g. from :func:`eojeol_spans`.
        choice: Multiple-choice row to read, or None for every row.

    Returns:
        ``(label, summed score)`` per span, in span order.

    Raises:
        ValueError: when the tokenizer gave no character offsets.
    """
    if not attribution.has_offsets:
        raise ValueError("this attribution has no character offsets (slow tokenizer); aggregate tokens instead")
    if not spans:
        return []
    order = sorted(range(len(spans)), key=lambda i: (spans[i][0], spans[i][1]))
    totals = [0.0] * len(spans)
    for score, off in zip(attribution.scores, attribution.offsets):
        if off.special or off.segment != segment or (choice is not None and off.choice != choice):
            continue
        totals[_span_for(off.start, spans, order)] += score
    return [(spans[i][2], totals[i]) for i in range(len(spans))]


def part_name(attribution: Attribution, segment: int, choice: int) -> str:
    """``text 1`` / ``text 2``, prefixed by ``alt k ·`` for multiple choice."""
    prefix = f"alt {choice + 1} · " if len(attribution.seconds) > 1 else ""
    return f"{prefix}text {segment + 1}"


def aggregate_parts(
    attribution: Attribution, spans_fn: Callable[[str], Sequence[tuple[int, int, str]]]
) -> list[dict[str, Any]]:
    """:func:`aggregate` over every text of every row: both sentences of a pair, each alternative.

    Args:
        attribution: The result of :func:`attribute`.
        spans_fn: Spans of one text, e.g. :func:`eojeol_spans`, or
            ``lambda t: morpheme_spans(t, kiwi.morphemes(t))``.

    Returns:
        ``{part, choice, segment, unit, score}`` per span, part by part.
    """
    rows = []
    for choice, second in enumerate(attribution.seconds):
        for segment, text in enumerate((attribution.first, second)):
            if text is None:
                continue
            for unit, score in aggregate(attribution, text, segment, spans_fn(text), choice=choice):
                rows.append({"part": part_name(attribution, segment, choice), "choice": choice, "segment": segment,
                             "unit": unit, "score": score})
    return rows


def _span_for(start: int, spans: Sequence[tuple[int, int, str]], order: list[int]) -> int:
    for i in order:
        if spans[i][0] <= start < spans[i][1]:
            return i
    for i in order:
        if spans[i][0] > start:
            return i
    return order[-1]


# --------------------------------------------------------------------------- export


def to_rows(attribution: Attribution) -> list[dict[str, Any]]:
    """One dict per token, ready for ``csv.DictWriter`` or a DataFrame."""
    rows = []
    for i, (token, token_id, score, off) in enumerate(
        zip(attribution.tokens, attribution.ids, attribution.scores, attribution.offsets)
    ):
        rows.append({
            "index": i, "choice": off.choice, "segment": off.segment, "token": token, "id": token_id,
            "start": off.start, "end": off.end, "special": off.special, "score": score,
            "method": attribution.method, "target": attribution.target,
        })
    return rows


def _colour(score: float, scale: float) -> str:
    alpha = 0.0 if scale <= 0 else min(1.0, abs(score) / scale) * 0.85
    rgb = "22,163,74" if score >= 0 else "220,38,38"  # green positive, red negative
    return f"rgba({rgb},{alpha:.3f})"


def _span_html(label: str, score: float, scale: float) -> str:
    return (
        f'<span title="{score:+.4g}" style="background:{_colour(score, scale)};border-radius:3px;'
        f'padding:1px 1px">{html.escape(label)}</span>'
    )


def _render_text(attribution: Attribution, text: str, segment: int, choice: int, scale: float) -> str:
    """The original text with each token's characters coloured; gaps (spaces) kept."""
    items = [
        (off.start, off.end, s) for s, off in zip(attribution.scores, attribution.offsets)
        if not off.special and off.segment == segment and off.choice == choice and off.end > off.start
    ]
    parts, cursor = [], 0
    for start, end, score in sorted(items):
        start = max(start, cursor)  # overlapping offsets: never repeat characters
        if end <= start:
            continue
        parts.append(html.escape(text[cursor:start]))
        parts.append(_span_html(text[start:end], score, scale))
        cursor = end
    parts.append(html.escape(text[cursor:]))
    return "".join(parts)


def to_html_page(attribution: Attribution, model_name: str) -> str:
    """A standalone HTML file of the coloured input, titled with the model's name.

    The name comes from a checkpoint folder or ``models.toml`` that anyone may
    have written, so it is escaped like every other text in the page.
    """
    name = html.escape(model_name)
    return (
        f'<!doctype html><html lang="ko"><meta charset="utf-8"><title>{name} · attributions</title>'
        f'<h1 style="font-family:sans-serif;font-size:1.2em">{name}</h1>{to_html(attribution)}</html>'
    )


def to_html(attribution: Attribution, text: str | None = None, segment: int = 0, choice: int = 0) -> str:
    """Coloured HTML of the input: green for positive, red for negative scores.

    Args:
        attribution: The result of :func:`attribute`.
        text: Render only this text (of ``segment`` and row ``choice``); by default
            every text of every row is rendered.
        segment: Segment of ``text``.
        choice: Row of ``text`` for multiple choice.

    Returns:
        A self-contained ``<div>``; each token's score is in its tooltip.
    """
    scale = max((abs(s) for s in attribution.scores), default=0.0)
    wrap = '<div lang="ko" style="font-family:sans-serif;line-height:2;font-size:1.05em">{}</div>'
    if not attribution.has_offsets:
        # No offsets (slow tokenizer): show the tokens themselves.
        return wrap.format(" ".join(_span_html(t, s, scale) for t, s in zip(attribution.tokens, attribution.scores)))
    if text is not None:
        return wrap.format(_render_text(attribution, text, segment, choice, scale))
    lines = []
    for row, second in enumerate(attribution.seconds):
        line = _render_text(attribution, attribution.first, 0, row, scale)
        if second is not None:
            line += " ‖ " + _render_text(attribution, second, 1, row, scale)
        label = f"<b>({row + 1})</b> " if len(attribution.seconds) > 1 else ""
        lines.append(f"<div>{label}{line}</div>")
    header = html.escape(
        f"{attribution.method} · target {attribution.target} · {attribution.output}"
        + (f" · delta {attribution.delta:.3g}" if attribution.delta is not None else "")
    )
    return wrap.format(f'<div style="color:#666;font-size:0.85em">{header}</div>' + "".join(lines))
