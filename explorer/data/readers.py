"""The generic reader of tab-separated task files: decoding, splitting, quoting, header detection, errors.

It names no task. A task declares the published layouts it reads (``Layout``,
each with its own row builder) in its own module under ``explorer.tasks``;
``explorer.tasks.registry.read_dataset`` collects them and calls
``read_table`` here. A layout is detected from the header row, case and
spacing ignored; its required columns may come in any order.

Files are tab-separated (comma-separated is accepted when the header has no tab),
UTF-8 with or without BOM, CP949, or UTF-16 with BOM (Excel's "Unicode text").

Quoting. The published files mix two conventions: most quoted fields are proper
CSV (``"..."`` around text with doubled ``""`` inside), but some fields simply
*begin* with a quotation mark that is part of the text (``"빚 갚는데 번 돈 다 쓴다"
중산층 ...``). ``csv``/``pandas`` with ``QUOTE_MINIMAL`` silently eat those marks,
which alters 13 fields of the NIKL BoolQ train file (4 of dev) and shifts
five NIKL WiC test spans off their target. We therefore treat a field as
CSV-quoted only when quoting was needed to write it (it contains ``""``, the
delimiter or a line break) or when the whole file is quoted (every header name
is quoted); otherwise quotes are text. With this rule every WiC span in the
NIKL files matches its target.

Nothing here imports pandas: a hand-rolled line splitter is faster on these
files and lets every error name the line a user sees in an editor.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

from explorer.safeio import DATA_LIMIT, FileRefused, read_limited, size_text

__all__ = [
    "Dataset",
    "DatasetError",
    "Format",
    "Layout",
    "Row",
    "cut",
    "header_lines",
    "norm",
    "read_table",
]

# Individual warnings listed per kind before the rest are summarised: a file
# with thousands of quirks should not bury the page in text.
MAX_WARNINGS_PER_KIND = 10
# Longest piece of file content a message quotes: a one-line 50 MB file must not
# come back as a 50 MB error.
MAX_QUOTED = 80

class DatasetError(ValueError):
    """A task file that cannot be read; the message is meant for the user.

    Attributes:
        name: The file's display name.
        row: 1-based line number in the file (the header is line 1), if known.
        column: Column name as written in the file's header, if known.
    """

    def __init__(self, message: str, name: str = "", row: int | None = None, column: str | None = None):
        super().__init__(message)
        self.name = name
        self.row = row
        self.column = column


@dataclass
class Dataset:
    """A task file, read.

    Attributes:
        task: The id of the task the layout belongs to (``Layout.task``).
        format: The ``Layout.key`` of the layout that was detected.
        items: One item per data row, in file order.
        labelled: True when every item has a label (files are all-or-nothing).
        path: The file path, or the display name of uploaded bytes.
        n_rows: Number of data rows read (blank lines excluded).
        warnings: Quirks worth showing the user; the data was still read.
        encoding: The text encoding that decoded the file.
        sha256: The first 12 hex digits of the SHA-256 of the bytes read.
    """

    task: str
    format: str
    items: list[Any]
    labelled: bool
    path: str
    n_rows: int
    warnings: list[str] = field(default_factory=list)
    encoding: str = "utf-8"
    sha256: str | None = None


# --------------------------------------------------------------------------- layouts


@dataclass(frozen=True)
class Layout:
    """A published column layout, and how one of its rows becomes an item.

    A task declares its layouts in its own module (``Task.layouts``); the
    reader matches a header against them and calls ``build`` once per data row.

    Columns are matched by normalised name (case and all whitespace ignored),
    so the required ones may come in any order (KoBEST SentiNeg's train file
    has ``ID, Text, Label``, its dev file ``ID, Label, Text``). Columns in the
    file that the layout does not name are not read; a warning names them.

    A layout need not have an id column. Its builder then gives each item its
    line number in the file (the header is line 1) as id, with
    ``row.unique_id(seen, None)``; KoBEST HellaSwag is such a file.

    The builder owns the label: it maps the label column's values to class ids
    (``row.binary`` for 0/1 and TRUE/FALSE, ``row.class_id`` for N classes
    counted from 0 or 1) and returns None for an empty label. The reader only
    checks that a file is fully labelled or fully unlabelled.

    Attributes:
        key: Short identifier stored in ``Dataset.format``; unique over all tasks.
        task: The id of the task it holds.
        title: Human name, used in messages.
        columns: The header as published.
        required: Normalised names that must all be present to match.
        optional: Normalised names used when present (labels, metadata).
        label: Normalised name of the label column.
        build: ``build(row, seen) -> item``: one data row (a ``Row``) to one
            item. ``seen`` counts ids (or groups) so far, for ``Row.unique_id``.
            It raises ``row.fail(...)`` for a bad value and may ``row.warn``.
    """

    key: str
    task: str
    title: str
    columns: tuple[str, ...]
    required: tuple[str, ...]
    optional: tuple[str, ...]
    label: str
    build: Callable[[Row, Counter[str]], Any]

    @property
    def header_line(self) -> str:
        """``"title: col, col, ..."``, as messages list supported headers."""
        return f"{self.title}: {', '.join(self.columns)}"


Format = Layout  # the name before layouts carried their builders


def norm(name: str) -> str:
    """Normalises a header name: case and all whitespace ignored."""
    return re.sub(r"\s+", "", name).lower()



def header_lines(layouts: Sequence[Layout], task: str | None = None) -> list[str]:
    """Lists the supported headers as ``"title: col, col, ..."`` lines.

    Args:
        layouts: The candidate layouts.
        task: Only layouts of this task, or all when None.
    """
    return [layout.header_line for layout in layouts if task in (None, layout.task)]


# --------------------------------------------------------------------------- decoding and splitting


def _decode(data: bytes, name: str) -> tuple[str, str]:
    """Decodes file bytes, trying the encodings Korean users' files come in.

    Returns:
        ``(text, encoding)``.

    Raises:
        DatasetError: Binary data or an encoding we cannot guess.
    """
    if data.startswith(b"PK\x03\x04"):
        raise DatasetError(
            f"{name}: this looks like an Excel/zip file; save it as tab-separated text (.tsv) and upload that.", name
        )
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        # Excel's "Unicode text" export: UTF-16 with a byte-order mark.
        try:
            return data.decode("utf-16"), "utf-16"
        except UnicodeDecodeError as exc:
            message = f"{name}: starts like UTF-16 text but is not valid UTF-16 ({exc.reason})."
            raise DatasetError(message, name) from None
    if b"\x00" in data:
        line = data[: data.index(b"\x00")].count(b"\n") + 1
        raise DatasetError(f"{name}: line {line} contains a NUL byte; this is not a text file.", name, line)
    try:
        return data.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError as exc:
        utf8_error = exc
    line = data[: utf8_error.start].count(b"\n") + 1
    # A UTF-8 file with one damaged byte should be reported as such, not as
    # "not CP949" (or, rarely, read as CP949 mojibake). CP949 text never
    # decodes to many Hangul syllables as UTF-8; damaged UTF-8 does.
    lenient = data.decode("utf-8", errors="replace")
    if _HANGUL.search(lenient) and len(_HANGUL.findall(lenient)) > lenient.count("\ufffd"):
        raise DatasetError(
            f"{name}: line {line} is not valid UTF-8 (byte {data[utf8_error.start]:#04x}) although the rest of the "
            "file is; the file may be truncated or damaged.",
            name,
            line,
        )
    try:
        return data.decode("cp949"), "cp949"
    except UnicodeDecodeError:
        pass
    raise DatasetError(
        f"{name}: line {line} is neither UTF-8 nor CP949 text (byte {data[utf8_error.start]:#04x}); "
        "save the file as UTF-8.",
        name,
        line,
    )


_HANGUL = re.compile(r"[\uac00-\ud7a3]")
_OPEN_QUOTED = re.compile(r'"(?:[^"]|"")*\Z')
# A well-formed quoted field per delimiter: quote, text with doubled quotes, quote, then delimiter or end.
_QUOTED = {d: re.compile(r'"((?:[^"]|"")*)"(?=' + re.escape(d) + r"|\Z)") for d in ("\t", ",")}
# A quoted field may run over this many physical lines before we give up and read the quote as text.
_MAX_JOINED_LINES = 100


def _records(lines: list[str], delim: str, quote_all: bool) -> Iterator[tuple[int, list[str]]]:
    """Splits lines into records, yielding ``(line_number, fields)``.

    Blank lines are skipped. See the module docstring for the quoting rule.
    """
    quoted = _QUOTED[delim]
    n = len(lines)
    i = 0
    while i < n:
        line = lines[i]
        start = i + 1
        i += 1
        if not line.strip():
            continue
        if '"' not in line:  # fast path: almost every row
            yield start, line.split(delim)
            continue
        fields: list[str] = []
        text, pos = line, 0
        while True:
            if text.startswith('"', pos):
                match = quoted.match(text, pos)
                joined, j = text, i
                while match is None and j < n and j - i < _MAX_JOINED_LINES and _OPEN_QUOTED.match(joined, pos):
                    joined += "\n" + lines[j]
                    j += 1
                    match = quoted.match(joined, pos)
                if match:
                    inner = match.group(1)
                    if quote_all or '""' in inner or delim in inner or "\n" in inner:
                        text, i = joined, j
                        fields.append(inner.replace('""', '"'))
                        pos = match.end()
                        if pos >= len(text):
                            break
                        pos += 1
                        continue
            end = text.find(delim, pos)
            if end < 0:
                fields.append(text[pos:])
                break
            fields.append(text[pos:end])
            pos = end + 1
        yield start, fields


# --------------------------------------------------------------------------- value parsing


def cut(text: str, limit: int = MAX_QUOTED) -> str:
    """File content as a message may quote it: at most ``limit`` characters, then "…"."""
    return text if len(text) <= limit else text[:limit] + "…"


def _show(value: str) -> str:
    if not value.strip():
        return "an empty value"
    return '"' + cut(value, 40) + '"'


_BINARY = {"1": 1, "0": 0, "true": 1, "false": 0, "1.0": 1, "0.0": 0}
_WHOLE_NUMBER = re.compile(r"\d+(?:\.0*)?")


def _alternatives(words: list[str]) -> str:
    """``"0, 1, 2 or 3"``."""
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} or {words[-1]}"


class Row:
    """One data record as a layout's builder sees it: field access, and errors that name row and column.

    Attributes:
        line: Line number in the file (header = 1); items keep it as ``row``.
        fields: The record's fields, in header order.
    """

    __slots__ = ("_ctx", "fields", "line")

    def __init__(self, ctx: _Context, line: int, fields: list[str]):
        self._ctx, self.line, self.fields = ctx, line, fields

    @property
    def layout(self) -> Layout:
        """The layout the file was detected as."""
        return self._ctx.layout

    def column(self, key: str) -> str:
        """The column ``key`` (normalised name) as the file's header writes it, cut for messages."""
        return cut(self._ctx.header_text.get(key, key))

    def raw(self, key: str) -> str:
        """The field of column ``key`` (normalised name) as written; empty when the file has no such column."""
        idx = self._ctx.index.get(key)
        return self.fields[idx] if idx is not None else ""

    def fail(self, key: str, expected: str) -> DatasetError:
        """The error for a bad value in column ``key``: names the file, row, column, what was expected and found."""
        column = self.column(key)
        name = self._ctx.name
        return DatasetError(
            f'{name}: row {self.line}, column "{column}": expected {expected}, got {_show(self.raw(key))}',
            name,
            self.line,
            column,
        )

    def warn(self, kind: str, message: str) -> None:
        """Records a quirk the user should see; ``kind`` groups them when there are many."""
        self._ctx.warnings.add(kind, message)

    def text(self, key: str) -> str:
        """Required text, surrounding whitespace stripped."""
        value = self.raw(key).strip()
        if not value:
            raise self.fail(key, "text")
        return value

    def binary(self, key: str, expected: str) -> int | None:
        """A 0/1 label (also TRUE/FALSE, 1.0/0.0); None when empty."""
        value = self.raw(key).strip()
        if not value:
            return None
        label = _BINARY.get(value.lower())
        if label is None:
            raise self.fail(key, expected)
        return label

    def whole_number(self, key: str, expected: str = "a whole number") -> int | None:
        """A non-negative whole number; None when empty."""
        value = self.raw(key).strip()
        if not value:
            return None
        # "13.0" is what a spreadsheet or pandas round trip makes of 13.
        if not _WHOLE_NUMBER.fullmatch(value):
            raise self.fail(key, expected)
        return int(value.split(".")[0])

    def class_id(self, key: str, n: int, first: int = 0) -> int | None:
        """A label among ``n`` classes written ``first``..``first + n - 1``, as a 0-based class id; None when empty.

        KoBEST HellaSwag counts its 4 endings from 0, COPA its 2 alternatives from 1.
        """
        allowed = [str(k) for k in range(first, first + n)]
        value = self.whole_number(key, _alternatives(allowed))
        if value is None:
            return None
        if str(value) not in allowed:
            raise self.fail(key, _alternatives(allowed))
        return value - first

    def unique_id(self, seen: Counter[str], key: str | None = "id") -> str:
        """The item id from column ``key``, warning when it repeats; the line number when ``key`` is None."""
        item_id = str(self.line) if key is None else self.text(key)
        seen[item_id] += 1
        if seen[item_id] > 1:
            self.warn("repeated ID", f'row {self.line}: {self.column(key or "line")} "{cut(item_id)}" appears more than once.')
        return item_id

# --------------------------------------------------------------------------- warnings and context


class _Warnings:
    """Collects warnings by kind and summarises long lists."""

    def __init__(self) -> None:
        self._kinds: dict[str, list[str]] = {}

    def add(self, kind: str, message: str) -> None:
        self._kinds.setdefault(kind, []).append(message)

    def render(self) -> list[str]:
        out = []
        for kind, messages in self._kinds.items():
            out.extend(messages[:MAX_WARNINGS_PER_KIND])
            if len(messages) > MAX_WARNINGS_PER_KIND:
                out.append(f"... and {len(messages) - MAX_WARNINGS_PER_KIND} more rows: {kind}.")
        return out


@dataclass
class _Context:
    name: str
    layout: Layout
    index: dict[str, int]
    header_text: dict[str, str]
    warnings: _Warnings


# --------------------------------------------------------------------------- detection and entry point


def _best(header_names: set[str], layouts: Sequence[Layout]) -> Layout | None:
    """The layout whose columns best match the header, or None when none has all its required columns.

    Order matters only for ties (same number of matched columns): the first wins.
    """
    scored = [
        (len(header_names & {*layout.required, *layout.optional}), layout)
        for layout in layouts
        if set(layout.required) <= header_names
    ]
    if not scored:
        return None
    best = max(score for score, _ in scored)
    return next(layout for score, layout in scored if score == best)


def _detect(header: list[str], layouts: Sequence[Layout], name: str, task: str | None, line: int = 1) -> Layout:
    """Picks the layout whose columns best match the header.

    With ``task`` given, that task's layouts are tried first: a layout of
    another task that happens to match as well (a generic ``text, label``
    beside a task's own) does not shadow them.
    """
    names = {norm(h) for h in header}
    if task is not None:
        own = _best(names, [layout for layout in layouts if layout.task == task])
        if own is not None:
            return own
    found = _best(names, layouts)
    if found is None:
        wanted = "\n".join(f"  - {h}" for h in header_lines(layouts, task))
        shown = cut(", ".join(h.strip() for h in header))
        raise DatasetError(
            f"{name}: line {line}: unrecognised header ({shown}). Supported headers"
            f"{f' for {task}' if task else ''}:\n{wanted}",
            name,
            line,
        )
    if task is not None:  # it matches another task's layout only
        raise DatasetError(
            f"{name}: the header is a {found.title} file ({found.task}), not {task}. Supported headers for {task}:\n"
            + "\n".join(f"  - {h}" for h in header_lines(layouts, task)),
            name,
            line,
        )
    return found


def _load(path_or_bytes: Any, name: str | None) -> tuple[bytes, str, str]:
    """Returns ``(data, display_name, path)`` for a path, bytes, or a file-like upload.

    Every source is held to ``DATA_LIMIT``: a path is read with ``read_limited``
    (which refuses FIFOs, devices and folders), an upload is measured.
    """
    if isinstance(path_or_bytes, (bytes, bytearray, memoryview)):
        display = name or "uploaded file"
        return _within_limit(bytes(path_or_bytes), display), display, display
    if hasattr(path_or_bytes, "read"):  # an upload object (e.g. Streamlit's UploadedFile)
        display = name or str(getattr(path_or_bytes, "name", "") or "uploaded file")
        data = path_or_bytes.read(DATA_LIMIT + 1)
        return _within_limit(data.encode("utf-8") if isinstance(data, str) else bytes(data), display), display, display
    path = Path(os.fspath(path_or_bytes))
    display = name or path.name or str(path)
    try:
        return read_limited(path, DATA_LIMIT, "data file"), display, str(path)
    except FileRefused as exc:  # its message names the file already
        raise DatasetError(str(exc), display) from None
    except OSError as exc:
        raise DatasetError(f"{display}: cannot read {path}: {exc.strerror or exc}.", display) from None


def _within_limit(data: bytes, display: str) -> bytes:
    if len(data) > DATA_LIMIT:
        raise DatasetError(
            f"{display}: the file is over {size_text(DATA_LIMIT)}; a data file may be at most that, so it was not read.",
            display,
        )
    return data


def read_table(
    path_or_bytes: Any, layouts: Sequence[Layout], name: str | None = None, task: str | None = None
) -> Dataset:
    """Reads a task file in one of ``layouts``, detected from its header.

    ``explorer.tasks.registry.read_dataset`` calls this with the layouts of
    every registered task.

    Args:
        path_or_bytes: A file path, the raw bytes of an upload, or a file-like
            object with ``read()``.
        layouts: The candidate layouts, in order of preference for ties.
        name: Display name used in messages (defaults to the file name).
        task: When given, the file must hold this task (the ``task`` of some
            layout in ``layouts``).

    Returns:
        The items, in file order, and any warnings.

    Raises:
        DatasetError: Unreadable or malformed file; the message names the
            line (header = 1), the column and what was expected.
    """
    tasks = {layout.task for layout in layouts}
    if task is not None and task not in tasks:
        raise ValueError(f"Unknown task {task!r}; expected one of {sorted(tasks)}.")
    data, display, path = _load(path_or_bytes, name)
    text, encoding = _decode(data, display)
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    first = next((i for i, line in enumerate(lines) if line.strip()), None)
    if first is None:
        raise DatasetError(f"{display}: the file is empty.", display)
    # The header decides the delimiter: every published file is tab-separated,
    # but a spreadsheet's "CSV" export has commas and no tabs.
    delim = "\t" if "\t" in lines[first] or "," not in lines[first] else ","
    header_cells = [h.strip() for h in lines[first].split(delim)]
    quote_all = all(len(h) >= 2 and h[0] == h[-1] == '"' for h in header_cells)
    records = _records(lines, delim, quote_all)
    header_line, header = next(records)
    header = [h.strip() for h in header]
    layout = _detect(header, layouts, display, task, header_line)

    normalised = [norm(h) for h in header]
    repeated = sorted({h for h, c in Counter(normalised).items() if c > 1 and h})
    if repeated:
        raise DatasetError(
            f"{display}: line {header_line}: the header repeats column(s) {cut(', '.join(repeated))}.", display,
            header_line,
        )
    index = {h: i for i, h in enumerate(normalised)}
    header_text = dict(zip(normalised, header))
    warnings = _Warnings()
    known = {*layout.required, *layout.optional}
    ignored = [h for h, n in zip(header, normalised) if n not in known and n]
    if ignored:
        read = [h for h, n in zip(header, normalised) if n in known]
        warnings.add("ignored columns", f"Ignored column(s) not used for {layout.task}: {cut(', '.join(ignored))} "
                     f"(read: {cut(', '.join(read))}).")
    ctx = _Context(display, layout, index, header_text, warnings)

    rows = list(records)
    width = len(header)
    shortest = _shortest_row_width(rows, normalised, layout)
    seen: Counter[str] = Counter()
    items = []
    for line, fields in rows:
        if len(fields) != width:
            if shortest <= len(fields) < width:
                fields = fields + [""] * (width - len(fields))
            elif len(fields) > width and not any(f.strip() for f in fields[width:]):
                fields = fields[:width]  # stray trailing delimiters, e.g. from a spreadsheet
            else:
                raise DatasetError(
                    f"{display}: row {line}: expected {width} fields ({cut(', '.join(header))}), "
                    f"found {len(fields)}. Check for a missing or extra "
                    f"{'tab' if delim == chr(9) else 'comma'} or an unclosed quote.",
                    display,
                    line,
                )
        items.append(layout.build(Row(ctx, line, fields), seen))

    if not items:
        raise DatasetError(f"{display}: the file has a header but no data rows.", display)
    labelled = _labelled(items, ctx)
    if encoding != "utf-8":
        warnings.add("encoding", f"Read as {encoding.upper()} text (not UTF-8).")
    digest = hashlib.sha256(data).hexdigest()[:12]
    return Dataset(layout.task, layout.key, items, labelled, path, len(items), warnings.render(), encoding, digest)


def _shortest_row_width(rows: list[tuple[int, list[str]]], normalised: list[str], layout: Layout) -> int:
    """How many fields a row may have when trailing columns are left off.

    The NIKL CoLA test file has a 3-name header but 2-field rows: the empty
    label column is simply missing. A row may leave off trailing columns that
    are not required and that no row in the file fills in; a short row in a
    file that does use those columns is a broken row, not a convention.
    """
    width = len(normalised)
    shortest = width
    while shortest > 0 and normalised[shortest - 1] not in layout.required:
        shortest -= 1
    for c in range(width - 1, shortest - 1, -1):
        if any(len(fields) > c and fields[c].strip() for _, fields in rows):
            return c + 1
    return shortest


def _labelled(items: list[Any], ctx: _Context) -> bool:
    """True for a fully labelled file, False for an unlabelled one; a mix is an error.

    A half-labelled file is almost always a broken one, and silently scoring
    only part of it would make its metrics misleading.
    """
    missing = [item for item in items if item.label is None]
    if not missing:
        return True
    if len(missing) == len(items):
        return False
    first = missing[0]
    column = cut(ctx.header_text.get(ctx.layout.label, ctx.layout.label))
    raise DatasetError(
        f'{ctx.name}: row {first.row}, column "{column}": expected a label, got an empty value '
        f"({len(items) - len(missing)} of {len(items)} rows are labelled; a file must be fully labelled "
        "or fully unlabelled).",
        ctx.name,
        first.row,
        column,
    )
