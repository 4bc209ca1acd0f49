"""Minimal counterfactual variants of a Korean sentence, from Kiwi's analysis.

Given the user's sentence and Kiwi's morphemes for it, :func:`variants` builds
the small edits a learner (or an adversary) might make — a particle's wrong
allomorph, a neighbouring case particle, a dropped particle, another tense on
the final predicate, two adjacent eojeol swapped — so every selected model can
rescore them and :func:`flip_table` can show which edits flip its judgement.

The morphology itself (allomorphs, conjugation) comes from
:mod:`explorer.morphology`, the same rules that generate the demo CoLA
errors; this module only locates *where* in real input they apply. Kiwi
sometimes merges or re-reads words (내가 → 나 + 가, 갔다 → 가 + 었 + 다 on
overlapping offsets), so every edit first checks that the surface text agrees
with the analysis and is skipped otherwise: no variant beats a garbage one.

Example:
    >>> from explorer.kiwi_lm import KiwiLM
    >>> text = "책이 책상 위에 있다."
    >>> [v.detail for v in variants(text, KiwiLM().morphemes(text))][:2]
    ['책이 → 책가', '책이 → 책을']
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from explorer.morphology import ADJECTIVES, attach, future, past, present, resolve_particle, wrong_allomorph
from explorer.tasks.registry import get as get_task

__all__ = [
    "EDIT_KINDS",
    "Variant",
    "flip_table",
    "pair_fields",
    "pair_variants",
    "variants",
]

EDIT_KINDS = ("particle allomorph", "case particle swap", "particle dropped", "tense changed", "eojeol swapped")

# Particles we know how to vary, by Kiwi tag. Other forms under these tags
# (에, 에서, 께서, 도, 만 ...) have a single form and no safe neighbour.
_PARTICLE_FORMS: dict[str, frozenset[str]] = {
    "JKS": frozenset({"이", "가"}),
    "JKO": frozenset({"을", "를"}),
    "JX": frozenset({"은", "는"}),
    "JKB": frozenset({"으로", "로", "와", "과"}),
    "JC": frozenset({"와", "과"}),
}
# Subject, object and topic markers are interchangeable slots of one noun
# phrase; 와/과 and (으)로 have no such neighbour, so they get no case swap.
_CASE_GROUPS: dict[str, str] = {"JKS": "이/가", "JKO": "을/를", "JX": "은/는"}
# A particle is only edited after a nominal; after an ending or another
# particle (학교에서는) a case swap would build non-words.
_NOMINAL_TAGS = frozenset({"NNG", "NNP", "NNB", "NP", "NR", "SL", "SN", "SH", "XSN", "ETN"})
_PREDICATE_TAGS = frozenset({"VV", "VA", "VX", "XSV", "XSA"})
# What may stand between the stem and the final ending: 었/았, and the pieces
# of -(으)ㄹ 것이다 (ETM ㄹ, NNB 것, VCP 이). Anything else (으시, 겠, 요 ...)
# is a form the conjugator does not produce, so the predicate is skipped.
_BETWEEN_TAGS = frozenset({"EP", "ETM", "NNB", "VCP"})
_TENSES: dict[str, Callable[..., str]] = {"past": past, "present": present, "future": future}
# Closing punctuation stays at the end when eojeol are swapped.
_TRAILING_PUNCT = re.compile(r"[\s.?!…。,'\"”’)\]]*$")


class MorphemeLike(Protocol):
    """What :func:`variants` needs of a morpheme (e.g. :class:`explorer.kiwi_lm.Morpheme`)."""

    form: str
    tag: str
    start: int
    end: int


@dataclass(frozen=True)
class Variant:
    """One minimal edit of a sentence.

    Attributes:
        text: The edited sentence.
        edit: Its kind, one of :data:`EDIT_KINDS`.
        detail: Human-readable before → after, e.g. ``"책이 → 책가"``.
        span: ``(start, end)`` in the original sentence of the text replaced;
            outside it the variant equals the original (an eojeol swap keeps
            the length too, so the span is also where the swapped text lies).
    """

    text: str
    edit: str
    detail: str
    span: tuple[int, int]


# --- Helpers -------------------------------------------------------------------


def _base_tag(tag: str) -> str:
    """Kiwi marks (ir)regular predicates as ``VV-I``/``VV-R``; only the base tag matters here."""
    return tag.split("-", 1)[0]


def _eojeol_spans(text: str) -> list[tuple[int, int]]:
    """Character spans of the whitespace-separated words (eojeol)."""
    return [m.span() for m in re.finditer(r"\S+", text)]


def _eojeol_start(spans: Sequence[tuple[int, int]], pos: int) -> int | None:
    """Start of the eojeol containing ``pos``, or None when ``pos`` is in whitespace."""
    for start, end in spans:
        if start <= pos < end:
            return start
    return None


def _replace(sentence: str, start: int, end: int, new: str, edit: str) -> Variant:
    """A variant replacing ``sentence[start:end]`` by ``new`` and nothing else."""
    return Variant(sentence[:start] + new + sentence[end:], edit, f"{sentence[start:end]} → {new}", (start, end))


# --- Particles -------------------------------------------------------------------


def _particle_host(
    sentence: str, morphemes: Sequence[MorphemeLike], i: int, spans: Sequence[tuple[int, int]]
) -> int | None:
    """Start of the noun that particle ``morphemes[i]`` attaches to, or None to skip it.

    The noun is the text from the eojeol's start to the particle. It is trusted
    only when Kiwi's morphemes cover exactly that text (내가 is read 나 + 가, so
    the surface 내 ≠ 나 and it is skipped) and the last of them is a nominal.
    """
    particle = morphemes[i]
    start = _eojeol_start(spans, particle.start)
    if start is None or start >= particle.start or sentence[particle.start : particle.end] != particle.form:
        return None
    before = [m for m in morphemes[:i] if m.start >= start]
    if not before or _base_tag(before[-1].tag) not in _NOMINAL_TAGS or before[-1].end != particle.start:
        return None
    if "".join(m.form for m in before) != sentence[start : particle.start]:
        return None
    return start


def _particle_variants(sentence: str, morphemes: Sequence[MorphemeLike]) -> list[Variant]:
    """Allomorph, case-swap and drop variants for every particle Kiwi found, in sentence order."""
    spans = _eojeol_spans(sentence)
    out: list[Variant] = []
    for i, m in enumerate(morphemes):
        tag = _base_tag(m.tag)
        if m.form not in _PARTICLE_FORMS.get(tag, ()):
            continue
        host = _particle_host(sentence, morphemes, i, spans)
        if host is None:
            continue
        noun = sentence[host : m.start]
        # The allomorph swap normally makes the error (책이 → 책가); if the
        # user's particle was already the wrong one, the swap is its repair.
        wrong = wrong_allomorph(noun, m.form)
        if wrong == noun + m.form:
            wrong = attach(noun, m.form)
        out.append(_replace(sentence, host, m.end, wrong, "particle allomorph"))
        if tag in _CASE_GROUPS:
            own = resolve_particle(_CASE_GROUPS[tag])
            for group in _CASE_GROUPS.values():
                if resolve_particle(group) is not own:
                    out.append(_replace(sentence, host, m.end, attach(noun, group), "case particle swap"))
        out.append(_replace(sentence, host, m.end, noun, "particle dropped"))
    return out


# --- Tense -----------------------------------------------------------------------


def _final_predicate(morphemes: Sequence[MorphemeLike]) -> tuple[MorphemeLike, MorphemeLike] | None:
    """(stem, final ending) of the sentence's last predicate, or None.

    Walks back from the last EF over 었/았 and the pieces of -(으)ㄹ 것이다 to
    the stem; anything else in between means a form we cannot regenerate.
    """
    ef_index = max((i for i, m in enumerate(morphemes) if _base_tag(m.tag) == "EF"), default=None)
    if ef_index is None:
        return None
    for j in range(ef_index - 1, -1, -1):
        tag = _base_tag(morphemes[j].tag)
        if tag in _PREDICATE_TAGS:
            return morphemes[j], morphemes[ef_index]
        if tag not in _BETWEEN_TAGS:
            return None
    return None


def _current_tense(stem: str, surface: str, adjective_hint: bool) -> tuple[str, bool] | None:
    """Which (tense, adjective) of ``stem`` spells ``surface``, or None.

    Matching the regenerated form against the text is the safety check: Kiwi's
    analysis of irregular or contracted forms is trusted only when the
    conjugator reproduces the user's spelling exactly. ``adjective_hint`` is
    tried first because past and future look the same for both classes,
    while the present the variant will get differs (바쁘다, not *바쁜다).
    """
    for tense, conjugator in _TENSES.items():
        for adjective in (adjective_hint, not adjective_hint):
            try:
                form = conjugator(stem, adjective) if tense == "present" else conjugator(stem)
            except ValueError:  # irregular or non-Hangul stem: the conjugator refuses
                return None
            if form == surface:
                return tense, adjective
    return None


def _tense_variants(sentence: str, morphemes: Sequence[MorphemeLike]) -> list[Variant]:
    """The final predicate in the other tenses (past ↔ present ↔ future)."""
    found = _final_predicate(morphemes)
    if found is None:
        return []
    stem, ending = found
    start, end = stem.start, ending.end
    if not 0 <= start < end <= len(sentence):
        return []
    # Kiwi tags 있다 as a verb; morphology.ADJECTIVES knows it conjugates as an adjective (있다, not 있는다).
    hint = _base_tag(stem.tag) in {"VA", "XSA"} or stem.form + "다" in ADJECTIVES
    current = _current_tense(stem.form, sentence[start:end], hint)
    if current is None:
        return []
    tense, adjective = current
    out = []
    for other, conjugator in _TENSES.items():
        if other != tense:
            form = conjugator(stem.form, adjective) if other == "present" else conjugator(stem.form)
            out.append(_replace(sentence, start, end, form, "tense changed"))
    return out


# --- Word order --------------------------------------------------------------------


def _swap_variants(sentence: str) -> list[Variant]:
    """Each pair of adjacent eojeol swapped; closing punctuation stays at the end."""
    core_end = _TRAILING_PUNCT.search(sentence).start()  # always matches (possibly empty)
    spans = _eojeol_spans(sentence[:core_end])
    out = []
    for (a0, a1), (b0, b1) in zip(spans, spans[1:]):
        a, gap, b = sentence[a0:a1], sentence[a1:b0], sentence[b0:b1]
        if a != b:
            swapped = b + gap + a
            text = sentence[:a0] + swapped + sentence[b1:]
            out.append(Variant(text, "eojeol swapped", f"{a} {b} → {b} {a}", (a0, b1)))
    return out


# --- Public API ----------------------------------------------------------------------


def variants(sentence: str, morphemes: Iterable[MorphemeLike]) -> list[Variant]:
    """Minimal variants of ``sentence`` located with Kiwi's analysis.

    Order is deterministic: particle edits in sentence order (allomorph, case
    swaps, drop for each particle), then tense changes of the final
    predicate, then adjacent eojeol swaps. Duplicates and the original
    sentence itself are removed (the first occurrence wins).

    Args:
        sentence: The user's sentence, exactly as analysed.
        morphemes: Kiwi's morphemes for ``sentence`` (``KiwiLM().morphemes``),
            with character offsets into it.

    Returns:
        The variants; empty when nothing could be edited safely.
    """
    ms = sorted(morphemes, key=lambda m: (m.start, m.end))
    candidates = _particle_variants(sentence, ms) + _tense_variants(sentence, ms) + _swap_variants(sentence)
    seen = {sentence}
    out = []
    for v in candidates:
        if v.text not in seen:
            seen.add(v.text)
            out.append(v)
    return out


def limit_per_kind(edits: Sequence[Any], per_kind: int = 8, kind: Callable[[Any], Any] = lambda v: v.edit) -> list[Any]:
    """At most ``per_kind`` edits of each kind, in order.

    A long sentence has thousands of edits (every particle, every pair of eojeol)
    and each is rescored by every model; a few of each kind show every way a
    judgement can flip at a fraction of the cost.
    """
    seen: dict[str, int] = {}
    kept = []
    for e in edits:
        k = kind(e)
        if seen.get(k, 0) < per_kind:
            seen[k] = seen.get(k, 0) + 1
            kept.append(e)
    return kept


def flip_table(
    original_probs: Mapping[str, float],
    variant_probs: Mapping[str, Sequence[float]],
    variants: Sequence[Variant],
) -> list[dict[str, Any]]:
    """One row per variant and model: the new P(acceptable), its change, and whether it flipped.

    A judgement flips when the variant's probability is on the other side of
    0.5 from the original's (``p >= 0.5`` counts as acceptable, as in the
    scorers' labels).

    Args:
        original_probs: Model name → P(acceptable) of the original sentence.
        variant_probs: Model name → P(acceptable) of each variant, in the
            order of ``variants``.
        variants: The variants that were scored.

    Returns:
        Rows (variant-major, models in ``variant_probs`` order) with keys
        ``variant``, ``edit``, ``detail``, ``model``, ``p_original``,
        ``p_variant``, ``change`` and ``flipped``.

    Raises:
        ValueError: If a model has no original score or the wrong number of
            variant scores.
    """
    for model, probs in variant_probs.items():
        if model not in original_probs:
            raise ValueError(f"no original score for model {model!r}")
        if len(probs) != len(variants):
            raise ValueError(f"model {model!r} has {len(probs)} scores for {len(variants)} variants")
    rows = []
    for k, v in enumerate(variants):
        for model, probs in variant_probs.items():
            before, after = float(original_probs[model]), float(probs[k])
            rows.append(
                {
                    "variant": v.text,
                    "edit": v.edit,
                    "detail": v.detail,
                    "model": model,
                    "p_original": before,
                    "p_variant": after,
                    "change": after - before,
                    "flipped": (before >= 0.5) != (after >= 0.5),
                }
            )
    return rows


def pair_fields(task: str, item: Any) -> list[tuple[str, str]]:
    """The (field, text) pairs of an item that get edited (``Task.editable_fields``).

    WiC: ``sentence1``, ``sentence2``. COPA: ``premise``, ``alternative1`` ... ``alternativeN``.

    Raises:
        ValueError: For a task that makes no counterfactual edits.
    """
    fields = get_task(task).editable_fields(item)
    if not fields:
        raise ValueError(f"counterfactual edits are not made for {get_task(task).name} items")
    return fields


def pair_variants(
    task: str, item: Any, morphemes_fn: Callable[[str], Iterable[MorphemeLike]]
) -> list[tuple[str, Variant]]:
    """The same edits applied to each editable field of an item (each sentence of WiC, each part of COPA).

    Args:
        task: A task id whose items have ``editable_fields``.
        item: One of its items.
        morphemes_fn: Analyses one sentence, e.g. ``KiwiLM().morphemes``.

    Returns:
        ``(field, variant)`` tuples, field by field in :func:`pair_fields` order.
    """
    return [(field, v) for field, text in pair_fields(task, item) for v in variants(text, morphemes_fn(text))]


def edited_item(
    task: str, item: Any, field: str, variant: Variant, analyse: Callable[[str], Iterable[MorphemeLike]] | None = None
) -> Any:
    """``item`` with one field (see :func:`pair_fields`) replaced by its edited text (``Task.with_field``).

    Marks the task keeps move with the edit: a WiC target keeps pointing at the same word.
    """
    return get_task(task).with_field(item, field, variant.text, variant.span, analyse)


def pair_flip_table(
    task: str,
    edits: Sequence[tuple[str, Variant]],
    original: Mapping[str, Any],
    edited: Mapping[str, Sequence[Any]],
) -> list[dict[str, Any]]:
    """One row per edit and model: the answer before and after, and whether it flipped.

    The score shown is the task's ``score_class`` probability (P(same sense) for WiC,
    P(alternative 1) for a multiple-choice task), so a change has one sign convention per task.

    Args:
        task: A task id whose items have ``editable_fields``.
        edits: ``(field, variant)`` from :func:`pair_variants`.
        original: Model name → its prediction (``label``, ``probs``) on the item.
        edited: Model name → its predictions on the edited items, in ``edits`` order.
    """
    spec = get_task(task)
    shown = spec.score_class
    score_name = f"P({spec.label_name(shown)})"
    rows = []
    for model, before in original.items():
        for (field, variant), after in zip(edits, edited[model]):
            p0, p1 = before.probs[shown], after.probs[shown]
            rows.append({
                "model": model, "field": field, "edit": variant.edit, "detail": variant.detail,
                "variant": variant.text, "answer_original": before.label, "answer_variant": after.label,
                "score": score_name, "p_original": p0, "p_variant": p1, "change": p1 - p0,
                "flipped": before.label != after.label,
            })
    return rows
