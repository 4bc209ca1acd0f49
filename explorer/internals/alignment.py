"""Lining subword tokens up with eojeol and Kiwi morphemes.

A tokenizer cuts Korean text without knowing its grammar: WordPiece may keep the
particle ``가`` as its own ``##가`` or fuse it into ``철수가``; SentencePiece may
cut ``학교에`` as ``▁학교`` + ``에``. This module answers, for one token-grid row
(:func:`explorer.internals.padding.token_grid`), without any UI:

* Which eojeol and which Kiwi morpheme(s) does each token belong to, and how do
  they group into columns for an aligned display? -> :func:`align_row`
* How often do Kiwi's morpheme boundaries inside an eojeol fall on a token
  boundary, and which morphemes are split / which tokens fuse morphemes?
  -> :attr:`RowAlignment.stats` and :func:`batch_stats`

Morpheme columns are the connected components of the token-morpheme overlap
relation over character ranges: ``갔`` (one token) covers ``가/VV`` and ``었/EP``,
so they share one group labelled ``가/VV+었/EP``; ``학교`` cut as ``학`` + ``##교``
gives one ``학교/NNG`` group spanning both token columns.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any

from explorer.internals.attributions import eojeol_spans, morpheme_spans

Span = tuple[int, int, str]
MorphemesFn = Callable[[str], Sequence[Any]]

# Group kinds on the morpheme line: how tokens and morphemes meet in one group.
ONE_TO_ONE = "one"  # one token, one morpheme
FUSED = "fused"  # one token, several morphemes, with a character boundary between them
CONTRACTED = "contracted"  # one token, morphemes meeting only inside a syllable (갔 = 가+었)
SPLIT = "split"  # one morpheme, several tokens
TANGLED = "tangled"  # several of each (e.g. ▁철 + 수가 against 철수/NNP + 가/JKS)
EOJEOL = "eojeol"

# Word-boundary markers (SentencePiece, byte-level BPE): a token made only of them
# carries no character of the text, even when its offsets point at one.
_MARKERS = "▁Ġ"
NO_OFFSETS_NOTE = "slow tokenizer: no character offsets, so tokens cannot be lined up with eojeol or morphemes"


@dataclass(frozen=True)
class Group:
    """One cell of an aligned line, spanning token columns.

    Attributes:
        start_col: First token column (index in the row).
        end_col: One past the last column, so ``end_col - start_col`` is the colspan.
        label: ``학교에`` for an eojeol, ``가/VV+었/EP`` for morphemes.
        parts: The label's pieces: ``("학교에",)``, ``("가/VV", "었/EP")``.
        kind: ``eojeol``, or for morphemes ``one``, ``fused``, ``contracted`` (fused,
            but only inside a syllable, so no tokenizer could do better), ``split``,
            ``tangled``.
        sequence: 0 for the first text, 1 for the second.
        start: First character of the group in its text.
        end: One past its last character.
    """

    start_col: int
    end_col: int
    label: str
    kind: str
    sequence: int
    start: int
    end: int
    parts: tuple[str, ...] = ()


@dataclass(frozen=True)
class TokenAlignment:
    """Where one token cell belongs (all None / empty for special and pad tokens).

    Attributes:
        col: The cell's index in the row.
        sequence: 0 or 1, None for special and pad tokens.
        eojeol: Index of its eojeol in ``RowAlignment.eojeols[sequence]``.
        eojeol_text: That eojeol's surface.
        morphemes: Indices into ``RowAlignment.morphemes[sequence]`` it overlaps.
        morpheme_labels: Their ``form/tag`` labels.
    """

    col: int
    sequence: int | None = None
    eojeol: int | None = None
    eojeol_text: str | None = None
    morphemes: tuple[int, ...] = ()
    morpheme_labels: tuple[str, ...] = ()


@dataclass(frozen=True)
class Boundary:
    """A Kiwi morpheme boundary inside an eojeol, at a character position.

    Attributes:
        sequence: 0 or 1.
        position: Character index where the right morpheme starts.
        left: Label of the morpheme(s) ending there, e.g. ``학교/NNG``.
        right: Label of the morpheme(s) starting there, e.g. ``에/JKB``.
        eojeol: The eojeol's surface.
        eojeol_start: Its first character in the text.
        matched: True when the tokens are also cut at ``position``.
    """

    sequence: int
    position: int
    left: str
    right: str
    eojeol: str
    eojeol_start: int
    matched: bool

    @property
    def marked(self) -> str:
        """The eojeol with the boundary drawn in: ``학교|에``."""
        cut = self.position - self.eojeol_start
        return f"{self.eojeol[:cut]}|{self.eojeol[cut:]}"


@dataclass(frozen=True)
class SplitMorpheme:
    """A morpheme whose characters went to several tokens (``학교`` -> ``학`` + ``##교``)."""

    sequence: int
    label: str
    tokens: tuple[str, ...]
    cols: tuple[int, ...]


@dataclass(frozen=True)
class FusingToken:
    """A token covering several morphemes.

    ``avoidable`` is False when the morphemes only meet inside one syllable
    (``갔`` = ``가`` + ``었``): no character-level cut could separate them.
    """

    sequence: int
    col: int
    token: str
    morphemes: tuple[str, ...]
    avoidable: bool


@dataclass
class BoundaryStats:
    """How well token boundaries agree with Kiwi's morpheme boundaries.

    Attributes:
        boundaries: Morpheme boundaries at a character position inside an eojeol
            (within the part of the text the tokens cover).
        within_syllable: Morpheme boundaries inside one syllable (``갔`` = 가+었);
            not counted in ``boundaries`` since no token boundary can fall there.
        split_morphemes: Morphemes cut across tokens.
        fusing_tokens: Tokens that cover several morphemes.
        details: Every counted boundary with whether the tokens agree.
    """

    boundaries: int = 0
    within_syllable: int = 0
    split_morphemes: list[SplitMorpheme] = field(default_factory=list)
    fusing_tokens: list[FusingToken] = field(default_factory=list)
    details: list[Boundary] = field(default_factory=list)

    @property
    def matched(self) -> int:
        """Boundaries that are also token boundaries."""
        return sum(b.matched for b in self.details)

    @property
    def agreement(self) -> float | None:
        """``matched / boundaries``; None when there is no boundary to agree on."""
        return self.matched / self.boundaries if self.boundaries else None

    def missed(self) -> list[Boundary]:
        """Boundaries the tokenizer did not cut at (a morpheme fused with its neighbour)."""
        return [b for b in self.details if not b.matched]


@dataclass
class RowAlignment:
    """One token-grid row lined up with its texts.

    Attributes:
        available: False when the tokenizer gave no offsets (then only ``notes`` matter).
        tokens: One entry per cell of the row, in order.
        eojeol_groups: Groups of the eojeol line, in column order, non-overlapping.
        morpheme_groups: Groups of the morpheme line, in column order, non-overlapping.
        eojeols: ``(start, end, word)`` per sequence.
        morphemes: ``(start, end, "form/tag")`` per sequence.
        stats: Boundary agreement for this row.
        notes: Caveats (slow tokenizer, truncated text, no morphemes).
    """

    available: bool
    tokens: list[TokenAlignment]
    eojeol_groups: list[Group] = field(default_factory=list)
    morpheme_groups: list[Group] = field(default_factory=list)
    eojeols: dict[int, list[Span]] = field(default_factory=dict)
    morphemes: dict[int, list[Span]] = field(default_factory=dict)
    stats: BoundaryStats = field(default_factory=BoundaryStats)
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class _Token:
    """A text token of one sequence with its character range (leading spaces trimmed)."""

    col: int
    token: str
    start: int  # first non-space character (== end for a token that is only a space)
    end: int
    marker: bool = False  # only a word-boundary marker: overlaps no morpheme

    @property
    def empty(self) -> bool:
        return self.marker or self.start >= self.end


# --------------------------------------------------------------------------- public API


def align_row(
    row: Sequence[dict[str, Any]],
    first: str,
    second: str | None = None,
    morphemes_fn: MorphemesFn | None = None,
) -> RowAlignment:
    """Lines the tokens of one token-grid row up with eojeol and Kiwi morphemes.

    Args:
        row: Cells from :func:`explorer.internals.padding.token_grid`.
        first: The row's first text (offsets of sequence 0 index into it).
        second: The row's second text, or None for a single sentence.
        morphemes_fn: ``text -> morphemes`` with ``form``, ``tag``, ``start``, ``end``
            (e.g. ``Explorer.kiwi().morphemes``); None for the eojeol line only.

    Returns:
        A :class:`RowAlignment`. Special tokens (``[CLS]``, ``[SEP]``) and padding
        get empty entries; ``[UNK]`` covers real characters, so it is aligned.
        Without offsets (slow tokenizer) ``available`` is False, with a note.
    """
    if _lacks_offsets(row):
        return RowAlignment(available=False, tokens=[TokenAlignment(col=i) for i in range(len(row))], notes=[NO_OFFSETS_NOTE])
    texts = {0: first, 1: second}
    result = RowAlignment(available=True, tokens=[TokenAlignment(col=i) for i in range(len(row))])
    if morphemes_fn is None:
        result.notes.append("no morpheme analyser: eojeol line only")
    for sequence, tokens in _tokens_by_sequence(row).items():
        text = texts.get(sequence)
        if text is None:
            result.notes.append(f"tokens of sentence {sequence + 1} but no text for it: left unaligned")
            continue
        _align_sequence(result, sequence, text, tokens, morphemes_fn)
    result.eojeol_groups.sort(key=lambda g: g.start_col)
    result.morpheme_groups.sort(key=lambda g: g.start_col)
    return result


def align_rows(
    rows: Sequence[Sequence[dict[str, Any]]],
    firsts: Sequence[str],
    seconds: Sequence[str | None] | None = None,
    morphemes_fn: MorphemesFn | None = None,
) -> list[RowAlignment]:
    """:func:`align_row` for every row of a grid; each distinct text is analysed once."""
    if len(rows) != len(firsts) or (seconds is not None and len(seconds) != len(firsts)):
        raise ValueError(f"{len(rows)} rows for {len(firsts)} texts" + ("" if seconds is None else f" and {len(seconds)} pairs"))
    cached = None if morphemes_fn is None else _memoised(morphemes_fn)
    return [
        align_row(row, firsts[i], None if seconds is None else seconds[i], cached) for i, row in enumerate(rows)
    ]


def _memoised(morphemes_fn: MorphemesFn) -> MorphemesFn:
    """Analyses each distinct text once (a batch often repeats its first sentence)."""
    memo: dict[str, Sequence[Any]] = {}

    def cached(text: str) -> Sequence[Any]:
        if text not in memo:
            memo[text] = morphemes_fn(text)
        return memo[text]

    return cached


def batch_stats(alignments: Sequence[RowAlignment]) -> BoundaryStats:
    """The rows' boundary statistics added up (rows without offsets contribute nothing)."""
    total = BoundaryStats()
    for a in alignments:
        total.boundaries += a.stats.boundaries
        total.within_syllable += a.stats.within_syllable
        total.split_morphemes.extend(a.stats.split_morphemes)
        total.fusing_tokens.extend(a.stats.fusing_tokens)
        total.details.extend(a.stats.details)
    return total


def stats_table(alignments: Sequence[RowAlignment]) -> list[dict[str, Any]]:
    """One summary dict per row, ready for a DataFrame.

    Keys: ``input`` (1-based), ``boundaries``, ``matched``, ``agreement`` (None without
    boundaries), ``missed`` (``나|는`` style), ``split_morphemes``, ``fusing_tokens``
    (avoidable fusions only; a syllable like ``갔`` cannot be cut), ``within_syllable``.
    """
    out = []
    for i, a in enumerate(alignments):
        s = a.stats
        out.append({
            "input": i + 1,
            "boundaries": s.boundaries,
            "matched": s.matched,
            "agreement": s.agreement,
            "missed": " ".join(b.marked for b in s.missed()),
            "split_morphemes": " ".join(m.label for m in s.split_morphemes),
            "fusing_tokens": " ".join(f"{t.token}={'+'.join(t.morphemes)}" for t in s.fusing_tokens if t.avoidable),
            "within_syllable": s.within_syllable,
        })
    return out


# --------------------------------------------------------------------------- per sequence


def _lacks_offsets(row: Sequence[dict[str, Any]]) -> bool:
    """True for a slow tokenizer's row: text tokens but no character offsets anywhere."""
    text_cells = [c for c in row if not c.get("pad") and not c.get("special")]
    return bool(text_cells) and all(c.get("start") is None for c in row)


def _tokens_by_sequence(row: Sequence[dict[str, Any]]) -> dict[int, list[_Token]]:
    """Text tokens (those with a sequence and offsets, ``[UNK]`` included) per sequence."""
    out: dict[int, list[_Token]] = {}
    for col, cell in enumerate(row):
        if cell.get("pad") or cell.get("sequence") is None or cell.get("start") is None or cell.get("end") is None:
            continue
        out.setdefault(int(cell["sequence"]), []).append(
            _Token(col=col, token=str(cell["token"]), start=int(cell["start"]), end=int(cell["end"]))
        )
    return out


def _trim(tokens: list[_Token], text: str) -> list[_Token]:
    """Moves each token's start past leading whitespace.

    SentencePiece's ``▁있다`` starts on the space before ``있다``; the space belongs
    to no eojeol or morpheme, so only the characters after it are matched. A bare
    ``▁`` for the space SentencePiece prepends to the text points at the first
    character (``(0, 1)`` next to ``나`` at ``(0, 1)``): it is marked so that it
    does not claim that character's morpheme.
    """
    out = []
    for t in tokens:
        start = t.start
        while start < t.end and start < len(text) and text[start].isspace():
            start += 1
        marker = bool(t.token) and not t.token.strip(_MARKERS + " ")
        out.append(_Token(t.col, t.token, start, t.end, marker))
    return out


def _align_sequence(
    result: RowAlignment, sequence: int, text: str, tokens: list[_Token], morphemes_fn: MorphemesFn | None
) -> None:
    tokens = _trim(tokens, text)
    eojeols = eojeol_spans(text)
    morphemes = _morphemes(text, morphemes_fn)
    result.eojeols[sequence] = eojeols
    result.morphemes[sequence] = morphemes
    covered, length = max(t.end for t in tokens), len(text.rstrip())
    if covered < length:
        result.notes.append(f"sentence {sequence + 1} truncated: tokens cover its first {covered} of {length} characters")
    if morphemes_fn is not None and not morphemes and text.strip():
        result.notes.append(f"Kiwi found no morphemes in sentence {sequence + 1}")
    links = _links(tokens, morphemes)
    for t in tokens:
        index = _eojeol_for(t.start, eojeols)
        result.tokens[t.col] = TokenAlignment(
            col=t.col,
            sequence=sequence,
            eojeol=index,
            eojeol_text=None if index is None else eojeols[index][2],
            morphemes=tuple(links[t.col]),
            morpheme_labels=tuple(morphemes[m][2] for m in links[t.col]),
        )
    result.eojeol_groups.extend(_eojeol_groups(result.tokens, tokens, sequence, eojeols))
    result.morpheme_groups.extend(_morpheme_groups(tokens, morphemes, links, sequence))
    _add_stats(result.stats, sequence, tokens, eojeols, morphemes, links, covered)


def _morphemes(text: str, morphemes_fn: MorphemesFn | None) -> list[Span]:
    if morphemes_fn is None or not text:
        return []
    return morpheme_spans(text, list(morphemes_fn(text)))


def _eojeol_for(start: int, eojeols: list[Span]) -> int | None:
    """The eojeol holding ``start``; a token starting in a gap goes to the next one.

    The same rule as :func:`explorer.internals.attributions.aggregate`, so the token
    grid and the attribution tables put every token in the same word.
    """
    if not eojeols:
        return None
    for i, (s, e, _) in enumerate(eojeols):
        if s <= start < e:
            return i
    for i, (s, _, _) in enumerate(eojeols):
        if s > start:
            return i
    return len(eojeols) - 1


def _overlaps(t: _Token, m: Span) -> bool:
    if t.empty:
        return False
    if m[0] == m[1]:  # an empty morpheme sits at one point: in the token that holds it
        return t.start <= m[0] < t.end
    return t.start < m[1] and m[0] < t.end


def _links(tokens: list[_Token], morphemes: list[Span]) -> dict[int, list[int]]:
    """Morpheme indices each token column overlaps (a token only of spaces overlaps none)."""
    return {t.col: [i for i, m in enumerate(morphemes) if _overlaps(t, m)] for t in tokens}


# --------------------------------------------------------------------------- groups


def _eojeol_groups(aligned: list[TokenAlignment], tokens: list[_Token], sequence: int, eojeols: list[Span]) -> list[Group]:
    """Runs of consecutive columns in the same eojeol (tokens come in text order)."""
    groups: list[Group] = []
    for t in tokens:
        index = aligned[t.col].eojeol
        if index is None:
            continue
        last = groups[-1] if groups else None
        if last is not None and last.label == eojeols[index][2] and last.start == eojeols[index][0] and last.end_col == t.col:
            groups[-1] = Group(last.start_col, t.col + 1, last.label, EOJEOL, sequence, last.start, last.end, last.parts)
        else:
            s, e, word = eojeols[index]
            groups.append(Group(t.col, t.col + 1, word, EOJEOL, sequence, s, e, (word,)))
    return groups


def _morpheme_groups(tokens: list[_Token], morphemes: list[Span], links: dict[int, list[int]], sequence: int) -> list[Group]:
    """Connected components of the token-morpheme overlap, as column ranges.

    Ranges that would overlap (a morpheme across a space-only token, say) are merged,
    so the groups tile their columns without overlap.
    """
    parent = {("t", t.col): ("t", t.col) for t in tokens} | {("m", i): ("m", i) for i in range(len(morphemes))}

    def find(x: tuple[str, int]) -> tuple[str, int]:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for col, ms in links.items():
        for m in ms:
            parent[find(("m", m))] = find(("t", col))
    components: dict[tuple[str, int], tuple[list[int], list[int]]] = {}
    for t in tokens:
        if links[t.col]:
            components.setdefault(find(("t", t.col)), ([], []))[0].append(t.col)
    for i in range(len(morphemes)):
        root = find(("m", i))
        if root in components:
            components[root][1].append(i)
    ranges = sorted((min(cols), max(cols) + 1, cols, ms) for cols, ms in components.values())
    merged: list[tuple[int, int, list[int], list[int]]] = []
    for start, end, cols, ms in ranges:
        if merged and start < merged[-1][1]:
            s0, e0, c0, m0 = merged[-1]
            merged[-1] = (s0, max(e0, end), c0 + cols, m0 + ms)
        else:
            merged.append((start, end, list(cols), list(ms)))
    by_col = {t.col: t for t in tokens}
    return [_morpheme_group(start, end, cols, ms, morphemes, sequence, by_col) for start, end, cols, ms in merged]


def _morpheme_group(
    start: int, end: int, cols: list[int], ms: list[int], morphemes: list[Span], sequence: int, by_col: dict[int, _Token]
) -> Group:
    order = sorted(set(ms), key=lambda i: (morphemes[i][0], morphemes[i][1], i))
    n_tokens, n_morphemes = len(set(cols)), len(order)
    if n_tokens == 1:
        if n_morphemes == 1:
            kind = ONE_TO_ONE
        else:
            kind = FUSED if _cuts_inside(by_col[cols[0]], [morphemes[i] for i in order]) else CONTRACTED
    else:
        kind = SPLIT if n_morphemes == 1 else TANGLED
    parts = tuple(morphemes[i][2] for i in order)
    first, last = min(morphemes[i][0] for i in order), max(morphemes[i][1] for i in order)
    return Group(start, end, "+".join(parts), kind, sequence, first, last, parts)


def _cuts_inside(token: _Token, morphemes: list[Span]) -> bool:
    """True when the morphemes meet at a character position strictly inside the token."""
    starts = {m[0] for m in morphemes if token.start < m[0] < token.end}
    return any(not any(m[0] < p < m[1] for m in morphemes) for p in starts)


# --------------------------------------------------------------------------- statistics


def _morpheme_boundaries(
    eojeols: list[Span], morphemes: list[Span], covered: int
) -> tuple[list[tuple[int, str, str, Span]], int]:
    """Kiwi's boundaries inside eojeol: ``(position, left, right, eojeol span)`` and the in-syllable count.

    A position counts when some morpheme starts there, it lies strictly inside an
    eojeol, and no morpheme runs across it. Consecutive morphemes sharing
    characters (``가`` and ``었`` both on ``갔``) meet inside a syllable instead.
    Only the first ``covered`` characters count: beyond the truncation point there
    are no tokens to agree or disagree with.
    """
    found = []
    for eojeol in eojeols:
        s, e, _ = eojeol
        inside = [m for m in morphemes if m[1] > s and m[0] < e and m[0] < m[1]]
        for position in sorted({m[0] for m in inside if s < m[0] < min(e, covered)}):
            if any(m[0] < position < m[1] for m in inside):
                continue
            left = "+".join(m[2] for m in inside if m[1] == position) or "?"
            right = "+".join(m[2] for m in inside if m[0] == position)
            found.append((position, left, right, eojeol))
    in_syllable = 0
    ordered = sorted((m for m in morphemes if m[0] < m[1]), key=lambda m: (m[0], m[1]))
    for a, b in pairwise(ordered):
        if b[0] < a[1] and b[0] < covered:
            in_syllable += 1
    return found, in_syllable


def _token_boundaries(tokens: list[_Token]) -> set[int]:
    """Positions where the tokens are cut: token edges that no token runs across."""
    real = [t for t in tokens if not t.empty]
    edges = {t.start for t in real} | {t.end for t in real}
    return {p for p in edges if not any(t.start < p < t.end for t in real)}


def _add_stats(
    stats: BoundaryStats,
    sequence: int,
    tokens: list[_Token],
    eojeols: list[Span],
    morphemes: list[Span],
    links: dict[int, list[int]],
    covered: int,
) -> None:
    found, in_syllable = _morpheme_boundaries(eojeols, morphemes, covered)
    cuts = _token_boundaries(tokens)
    stats.boundaries += len(found)
    stats.within_syllable += in_syllable
    stats.details.extend(Boundary(sequence, p, left, right, w[2], w[0], p in cuts) for p, left, right, w in found)
    by_col = {t.col: t for t in tokens}
    for col, ms in links.items():
        t = by_col[col]
        if len(ms) > 1:
            avoidable = _cuts_inside(t, [morphemes[m] for m in ms])
            stats.fusing_tokens.append(FusingToken(sequence, col, t.token, tuple(morphemes[m][2] for m in ms), avoidable))
    for i, m in enumerate(morphemes):
        cols = [col for col, ms in links.items() if i in ms]
        if len(cols) > 1:
            stats.split_morphemes.append(SplitMorpheme(sequence, m[2], tuple(by_col[c].token for c in cols), tuple(cols)))

