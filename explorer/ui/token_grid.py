"""The token grid lined up with Kiwi morphemes and eojeol, as plain HTML.

Pure functions of a :func:`explorer.internals.padding.token_grid` batch and its
:func:`explorer.internals.alignment.align_rows` result: nothing here needs a
running app, so the page only passes the string to ``st.markdown``.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Sequence
from typing import Any

from explorer.internals.alignment import CONTRACTED, FUSED, SPLIT, TANGLED, Group, RowAlignment
from explorer.ui.internals import SEGMENT_COLOURS

MARK = "#e8710a"  # orange: where the tokenizer and Kiwi disagree
LEGEND = (
    "Line 1: tokens ([PAD] grey, special tokens bold, tint = segment id); line 2: Kiwi morphemes over the "
    "tokens they cover; line 3: eojeol. Orange underline: one token fuses morphemes it could have cut "
    "apart (나는 = 나+는). Dashed orange box: one morpheme split across tokens (학 + ##교). Grey dotted "
    "underline: morphemes contracted inside one syllable (갔 = 가+었), which no tokenizer can separate."
)

_CELL = "padding:2px 5px;border-radius:4px;text-align:center;vertical-align:middle;white-space:nowrap;"
_TABLE = "border-collapse:separate;border-spacing:2px 3px;margin:0;width:auto;font-size:14px;border:none"
_HEADER = (
    "position:sticky;left:0;background:#fff;color:#888;font-size:11px;font-weight:400;text-align:right;"
    "padding:0 6px 0 0;border:none;white-space:nowrap"
)
_GROUP_STYLE = {
    FUSED: f"border:none;border-bottom:3px solid {MARK};",
    CONTRACTED: "border:none;border-bottom:2px dotted #999;",
    SPLIT: f"border:1.5px dashed {MARK};",
    TANGLED: f"border:1.5px dashed {MARK};border-bottom:3px solid {MARK};",
}
_GROUP_NOTE = {
    FUSED: "one token fuses these morphemes",
    CONTRACTED: "morphemes contracted inside one syllable",
    SPLIT: "one morpheme split across tokens",
    TANGLED: "tokens and morphemes cut at different places",
}


def _esc(text: Any) -> str:
    """HTML-escapes, and also ``$`` and ``:`` so ``st.markdown`` reads no math or emoji shortcodes into it."""
    return html.escape(str(text)).replace("$", "&#36;").replace(":", "&#58;")


def aligned_grid_html(
    rows: Sequence[Sequence[dict[str, Any]]],
    alignments: Sequence[RowAlignment | None] | None = None,
    labels: Sequence[str] | None = None,
    *,
    show_morphemes: bool = True,
    show_eojeol: bool = True,
    legend: bool = True,
) -> str:
    """One small table per input: tokens, then Kiwi morphemes, then eojeol under them.

    Args:
        rows: Cells from :func:`explorer.internals.padding.token_grid`.
        alignments: One :class:`RowAlignment` per row (from ``align_rows``); None, or a
            row without offsets, falls back to the plain token line.
        labels: One name per row (``1``, ``2``... by default), as the mask heatmap takes.
        show_morphemes: Draw the morpheme line.
        show_eojeol: Draw the eojeol line.
        legend: Append :data:`LEGEND` under the tables.

    Returns:
        HTML for ``st.markdown(..., unsafe_allow_html=True)``; every text is escaped.
    """
    if alignments is not None and len(alignments) != len(rows):
        raise ValueError(f"{len(rows)} rows but {len(alignments)} alignments")
    names = list(labels) if labels is not None else [str(i + 1) for i in range(len(rows))]
    if len(names) != len(rows):
        raise ValueError(f"{len(rows)} rows but {len(names)} labels")
    blocks = []
    for i, row in enumerate(rows):
        alignment = alignments[i] if alignments is not None else None
        if alignment is None or not alignment.available:
            blocks.append(_plain_line(names[i], row, alignment.notes if alignment is not None else []))
        else:
            blocks.append(_table(names[i], row, alignment, show_morphemes, show_eojeol))
    shown = alignments is not None and any(a is not None and a.available for a in alignments)
    if legend and shown:
        blocks.append(f'<div style="color:#888;font-size:12px;margin-top:4px">{_esc(LEGEND)}</div>')
    return "".join(blocks)


# --------------------------------------------------------------------------- token cells


def _token_style(cell: dict[str, Any]) -> str:
    """The current grid's look: [PAD] greyed, specials bold, segment tint."""
    if cell["pad"]:
        return "background:#eee;color:#999;"
    segment = cell.get("token_type_id") or 0
    return f"background:{SEGMENT_COLOURS[segment % 2]};" + ("font-weight:700;" if cell["special"] else "")


def _token_title(cell: dict[str, Any]) -> str:
    title = f'id {cell["id"]}, mask {cell["attention_mask"]}, segment {cell.get("token_type_id")}'
    if cell.get("start") is not None:
        title += f', chars {cell["start"]}–{cell["end"]}'
    return title


def _plain_line(name: str, row: Sequence[dict[str, Any]], notes: Sequence[str]) -> str:
    """The fallback without alignment: the token line alone, as the old grid drew it."""
    cells = "".join(
        f'<span style="{_token_style(cell)}padding:2px 5px;margin:1px;border-radius:4px;display:inline-block;'
        f'font-size:14px" title="{_esc(_token_title(cell))}">{_esc(cell["token"])}</span>'
        for cell in row
    )
    note = "".join(f'<div style="color:#888;font-size:12px">{_esc(n)}</div>' for n in notes)
    return (f'<div style="margin:4px 0;overflow-x:auto;white-space:nowrap"><span style="color:#888;font-size:12px">'
            f'{_esc(name)}</span> {cells}</div>{note}')


def _token_row(row: Sequence[dict[str, Any]], fusing: set[int]) -> str:
    cells = []
    for col, cell in enumerate(row):
        mark = f"box-shadow:inset 0 -3px 0 {MARK};" if col in fusing else ""
        cells.append(f'<td style="{_CELL}{_token_style(cell)}{mark}border:none" title="{_esc(_token_title(cell))}">'
                     f'{_esc(cell["token"])}</td>')
    return "".join(cells)


# --------------------------------------------------------------------------- aligned lines


def _group_row(n_cols: int, groups: Sequence[Group], render: Callable[[Group], str]) -> str:
    """Cells for one aligned line: each group spans its columns, the rest stay empty."""
    cells, col = [], 0
    for g in sorted(groups, key=lambda g: g.start_col):
        if g.start_col < col:  # groups tile their columns; never draw one over another
            continue
        cells.append('<td style="border:none"></td>' * (g.start_col - col))
        cells.append(render(g))
        col = g.end_col
    cells.append('<td style="border:none"></td>' * max(0, n_cols - col))
    return "".join(cells)


def _morpheme_cell(g: Group) -> str:
    pieces = []
    for part in g.parts or (g.label,):
        form, _, tag = part.rpartition("/") if "/" in part else (part, "", "")
        tag_html = f'<span style="color:#888;font-size:11px">/{_esc(tag)}</span>' if tag else ""
        pieces.append(_esc(form) + tag_html)
    title = g.label + (f" · {_GROUP_NOTE[g.kind]}" if g.kind in _GROUP_NOTE else "")
    style = _GROUP_STYLE.get(g.kind, "border:1px solid #ddd;")
    return (f'<td colspan="{g.end_col - g.start_col}" style="{_CELL}background:#fafafa;{style}" '
            f'title="{_esc(title)}">{"+".join(pieces)}</td>')


def _eojeol_cell(g: Group) -> str:
    return (f'<td colspan="{g.end_col - g.start_col}" style="{_CELL}border:none;border-top:2px solid #bbb;color:#333" '
            f'title="{_esc(f"eojeol {g.label} (chars {g.start}–{g.end})")}">{_esc(g.label)}</td>')


def _table(name: str, row: Sequence[dict[str, Any]], alignment: RowAlignment, show_morphemes: bool, show_eojeol: bool) -> str:
    fusing = {t.col for t in alignment.stats.fusing_tokens if t.avoidable}
    header = f'<th style="{_HEADER}">{{}}</th>'
    lines = [f'<tr>{header.format(_esc(name) + " · tokens")}{_token_row(row, fusing)}</tr>']
    if show_morphemes:
        lines.append(f'<tr>{header.format("morphemes")}{_group_row(len(row), alignment.morpheme_groups, _morpheme_cell)}</tr>')
    if show_eojeol:
        lines.append(f'<tr>{header.format("eojeol")}{_group_row(len(row), alignment.eojeol_groups, _eojeol_cell)}</tr>')
    note = "".join(f'<div style="color:#888;font-size:12px">{_esc(n)}</div>' for n in alignment.notes)
    return (f'<div style="overflow-x:auto;margin:6px 0 10px 0"><table style="{_TABLE}">{"".join(lines)}</table>'
            f"{note}</div>")
