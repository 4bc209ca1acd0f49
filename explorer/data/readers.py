"""Readers for the task files users already have, exactly as published.

Supported layouts (detected from the header row, case and spacing ignored):

* NIKL 2021 CoLA train/dev ``source, acceptability_label, source_annotation, sentence``
  and test ``index, sentence, acceptability_label`` (test rows omit the empty label field).
* NIKL 2021 WiC ``ID, Target, SENTENCE1, SENTENCE2, ANSWER, start_s1, end_s1, start_s2, end_s2``.
* KoBEST v1 WiC ``ID, Target, SENTENCE1, Dictionary 1, Link 1, SENTENCE2, Dictionary 2, Link2, ANSWER``
  with the target marked by ``[brackets]`` inside the sentences.
* COPA (NIKL 2021 and KoBEST v1 share it) ``ID, sentence, question, 1, 2, Answer``.
* BoolQ: NIKL 2021 ``ID, Text, Question, Answer(FALSE = 0, TRUE = 1)``, KoBEST v1 ``ID, Text, Question, Answer``.

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
from typing import Any, Callable, Iterator

from explorer.safeio import DATA_LIMIT, FileRefused, read_limited, size_text

__all__ = [
    "FORMATS",
    "BoolqItem",
    "ColaItem",
    "CopaItem",
    "Dataset",
    "DatasetError",
    "Format",
    "WicItem",
    "read_dataset",
    "supported_headers",
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


# --------------------------------------------------------------------------- items


@dataclass(frozen=True, slots=True)
class ColaItem:
    """One CoLA sentence.

    The NIKL ``source_annotation`` column (``*``, ``?``, ``#`` or empty) restates
    the label, so it is deliberately not read at all: nothing built from a
    ``ColaItem`` can leak it into a model's input.

    Attributes:
        id: Unique within the dataset: the test file's ``index``, or for
            train/dev ``source#k`` (``source`` names a group of related
            sentences and repeats; ``k`` counts from 1 within the group).
        sentence: The sentence, surrounding whitespace stripped.
        label: 1 acceptable, 0 unacceptable, None when the file has no labels.
        source: The ``source`` column (train/dev only); for grouping, not model input.
        row: Line number in the file (header = 1).
    """

    id: str
    sentence: str
    label: int | None
    source: str | None = None
    row: int = 0


@dataclass(frozen=True, slots=True)
class WicItem:
    """One WiC pair: is ``target`` used in the same sense in both sentences?

    Attributes:
        id: The file's ``ID``.
        target: The word (often just a stem, e.g. 묻) as given in ``Target``.
        sentence1: First sentence, without KoBEST's [brackets].
        sentence2: Second sentence, without brackets.
        span1: ``(start, end)`` of the target in ``sentence1``, 0-based and
            end-exclusive, or None when the file gives no usable span (a
            warning then says why).
        span2: Same for ``sentence2``.
        label: 1 same sense, 0 different, None when unlabelled.
        row: Line number in the file (header = 1).
    """

    id: str
    target: str
    sentence1: str
    sentence2: str
    span1: tuple[int, int] | None
    span2: tuple[int, int] | None
    label: int | None
    row: int = 0


@dataclass(frozen=True, slots=True)
class CopaItem:
    """One COPA question.

    Attributes:
        id: The file's ``ID``.
        premise: The ``sentence`` column.
        question: ``"cause"`` (원인) or ``"effect"`` (결과).
        alternatives: Columns ``1`` and ``2``.
        label: 0 or 1, the index into ``alternatives`` (the file's Answer is
            1-based), None when unlabelled.
        row: Line number in the file (header = 1).
    """

    id: str
    premise: str
    question: str
    alternatives: tuple[str, str]
    label: int | None
    row: int = 0


@dataclass(frozen=True, slots=True)
class BoolqItem:
    """One BoolQ question about a passage.

    Attributes:
        id: The file's ``ID``.
        passage: The ``Text`` column.
        question: The ``Question`` column, stripped.
        label: 1 yes (TRUE), 0 no (FALSE), None when unlabelled.
        row: Line number in the file (header = 1).
    """

    id: str
    passage: str
    question: str
    label: int | None
    row: int = 0


Item = ColaItem | WicItem | CopaItem | BoolqItem


@dataclass
class Dataset:
    """A task file, read.

    Attributes:
        task: One of ``explorer.registry.TASKS``.
        format: Key into ``FORMATS`` naming the layout that was detected.
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


# --------------------------------------------------------------------------- formats


@dataclass(frozen=True)
class Format:
    """A published column layout.

    Attributes:
        key: Short identifier stored in ``Dataset.format``.
        task: The task it holds.
        title: Human name, used in messages.
        columns: The header as published.
        required: Normalised names that must all be present to match.
        optional: Normalised names used when present (labels, metadata).
        label: Normalised name of the label column.
    """

    key: str
    task: str
    title: str
    columns: tuple[str, ...]
    required: tuple[str, ...]
    optional: tuple[str, ...]
    label: str


def _norm(name: str) -> str:
    """Normalises a header name: case and all whitespace ignored."""
    return re.sub(r"\s+", "", name).lower()


_BOOLQ_NIKL_LABEL = _norm("Answer(FALSE = 0, TRUE = 1)")

# Order matters only for ties (same number of matched columns).
FORMATS: dict[str, Format] = {
    f.key: f
    for f in (
        Format(
            "nikl2021_cola", "cola", "NIKL 2021 CoLA train/dev",
            ("source", "acceptability_label", "source_annotation", "sentence"),
            ("source", "sentence"), ("acceptability_label", "source_annotation"), "acceptability_label",
        ),
        Format(
            "nikl2021_cola_test", "cola", "NIKL 2021 CoLA test",
            ("index", "sentence", "acceptability_label"),
            ("index", "sentence"), ("acceptability_label",), "acceptability_label",
        ),
        Format(
            "nikl2021_wic", "wic", "NIKL 2021 WiC",
            ("ID", "Target", "SENTENCE1", "SENTENCE2", "ANSWER", "start_s1", "end_s1", "start_s2", "end_s2"),
            ("id", "target", "sentence1", "sentence2", "start_s1", "end_s1", "start_s2", "end_s2"), ("answer",),
            "answer",
        ),
        Format(
            "kobest_wic", "wic", "KoBEST v1 WiC",
            ("ID", "Target", "SENTENCE1", "Dictionary 1", "Link 1", "SENTENCE2", "Dictionary 2", "Link2", "ANSWER"),
            ("id", "target", "sentence1", "sentence2"), ("answer", "dictionary1", "link1", "dictionary2", "link2"),
            "answer",
        ),
        Format(
            "copa", "copa", "NIKL 2021 / KoBEST v1 COPA",
            ("ID", "sentence", "question", "1", "2", "Answer"),
            ("id", "sentence", "question", "1", "2"), ("answer",), "answer",
        ),
        Format(
            "nikl2021_boolq", "boolq", "NIKL 2021 BoolQ",
            ("ID", "Text", "Question", "Answer(FALSE = 0, TRUE = 1)"),
            ("id", "text", "question"), (_BOOLQ_NIKL_LABEL,), _BOOLQ_NIKL_LABEL,
        ),
        Format(
            "kobest_boolq", "boolq", "KoBEST v1 BoolQ",
            ("ID", "Text", "Question", "Answer"),
            ("id", "text", "question"), ("answer",), "answer",
        ),
    )
}


def supported_headers(task: str | None = None) -> list[str]:
    """Lists the supported headers as ``"title: col, col, ..."`` lines.

    Args:
        task: Only formats of this task, or all when None.
    """
    return [f"{f.title}: {', '.join(f.columns)}" for f in FORMATS.values() if task in (None, f.task)]


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


def _cut(text: str, limit: int = MAX_QUOTED) -> str:
    """File content as a message may quote it: at most ``limit`` characters, then "…"."""
    return text if len(text) <= limit else text[:limit] + "…"


def _show(value: str) -> str:
    if not value.strip():
        return "an empty value"
    return '"' + _cut(value, 40) + '"'


class _Row:
    """Field access for one record, raising errors that name row and column."""

    __slots__ = ("ctx", "fields", "line")

    def __init__(self, ctx: _Context, line: int, fields: list[str]):
        self.ctx, self.line, self.fields = ctx, line, fields

    def raw(self, key: str) -> str:
        idx = self.ctx.index.get(key)
        return self.fields[idx] if idx is not None else ""

    def fail(self, key: str, expected: str) -> DatasetError:
        column = _cut(self.ctx.header_text.get(key, key))
        return DatasetError(
            f'{self.ctx.name}: row {self.line}, column "{column}": expected {expected}, got {_show(self.raw(key))}',
            self.ctx.name,
            self.line,
            column,
        )

    def text(self, key: str) -> str:
        value = self.raw(key).strip()
        if not value:
            raise self.fail(key, "text")
        return value


_BINARY = {"1": 1, "0": 0, "true": 1, "false": 0, "1.0": 1, "0.0": 0}


def _binary(row: _Row, key: str, expected: str) -> int | None:
    value = row.raw(key).strip()
    if not value:
        return None
    label = _BINARY.get(value.lower())
    if label is None:
        raise row.fail(key, expected)
    return label


_WHOLE_NUMBER = re.compile(r"\d+(?:\.0*)?")


def _offset(row: _Row, key: str) -> int | None:
    value = row.raw(key).strip()
    if not value:
        return None
    # "13.0" is what a spreadsheet or pandas round trip makes of 13.
    if not _WHOLE_NUMBER.fullmatch(value):
        raise row.fail(key, "a character offset (a whole number)")
    return int(value.split(".")[0])


# --------------------------------------------------------------------------- per-task builders


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
    fmt: Format
    index: dict[str, int]
    header_text: dict[str, str]
    warnings: _Warnings


def _cola(row: _Row, ctx: _Context, seen: Counter[str]) -> ColaItem:
    label = _binary(row, "acceptability_label", "0 or 1")
    sentence = row.text("sentence")
    if ctx.fmt.key == "nikl2021_cola_test":
        return ColaItem(_unique_id(row, ctx, seen, "index"), sentence, label, None, row.line)
    # ``source`` groups related sentences (e.g. a minimal pair), so it repeats.
    source = row.text("source")
    seen[source] += 1
    return ColaItem(f"{source}#{seen[source]}", sentence, label, source, row.line)


def _checked_span(
    row: _Row, ctx: _Context, which: str, sentence: str, target: str, span: tuple[int, int] | None
) -> tuple[int, int] | None:
    """Validates a span against its sentence, warning instead of failing.

    Real files have a few imperfect spans; one bad span should not stop a
    user from looking at the other thousands of items.
    """
    if span is None:
        return None
    start, end = span
    if not 0 <= start < end <= len(sentence):
        ctx.warnings.add(
            "span outside its sentence (span dropped)",
            f"row {row.line}: {which} span {start}:{end} is outside the sentence "
            f"({len(sentence)} characters); span dropped.",
        )
        return None
    if sentence[start:end] != target:
        ctx.warnings.add(
            "span text differs from Target",
            f'row {row.line}: {which}[{start}:{end}] is "{_cut(sentence[start:end])}", not the Target "{_cut(target)}".',
        )
    return span


def _strip_with_span(sentence: str, span: tuple[int, int] | None) -> tuple[str, tuple[int, int] | None]:
    """Strips surrounding whitespace, shifting the span to match."""
    lead = len(sentence) - len(sentence.lstrip())
    stripped = sentence.strip()
    if span is None or not lead:
        return stripped, span
    return stripped, (span[0] - lead, span[1] - lead)


_BRACKETED = re.compile(r"\[([^\[\]]*)\]")


def _unbracket(row: _Row, ctx: _Context, which: str, marked: str, target: str) -> tuple[str, tuple[int, int] | None]:
    """Removes KoBEST's [target] marks, returning the plain sentence and the target's span."""
    spans: list[tuple[int, int]] = []
    pieces: list[str] = []
    length = last = 0
    for match in _BRACKETED.finditer(marked):
        before = marked[last : match.start()]
        pieces.append(before)
        length += len(before)
        pieces.append(match.group(1))
        spans.append((length, length + len(match.group(1))))
        length += len(match.group(1))
        last = match.end()
    pieces.append(marked[last:])
    plain = "".join(pieces)
    if not spans:
        ctx.warnings.add(
            "no [bracketed] target (span left empty)",
            f'row {row.line}: {which} has no [bracketed] target "{_cut(target)}"; span left empty.',
        )
        return plain, None
    exact = [s for s in spans if plain[s[0] : s[1]] == target]
    span = (exact or spans)[0]
    if len(spans) > 1:
        ctx.warnings.add(
            "several [bracketed] marks (first matching one used)",
            f"row {row.line}: {which} has {len(spans)} [bracketed] marks; "
            f'using "{_cut(plain[span[0]:span[1]])}" at {span[0]}:{span[1]}.',
        )
    return plain, span


def _wic(row: _Row, ctx: _Context, seen: Counter[str]) -> WicItem:
    label = _binary(row, "answer", "True or False")
    target = row.text("target")
    spans: list[tuple[int, int] | None] = []
    sentences: list[str] = []
    for n in ("1", "2"):
        which = f"SENTENCE{n}"
        raw = row.raw(f"sentence{n}")
        if not raw.strip():
            raise row.fail(f"sentence{n}", "text")
        if ctx.fmt.key == "kobest_wic":
            sentence, span = _unbracket(row, ctx, which, raw, target)
        else:
            start, end = _offset(row, f"start_s{n}"), _offset(row, f"end_s{n}")
            span = None if start is None or end is None else (start, end)
            if span is None:
                ctx.warnings.add("missing offsets (span left empty)", f"row {row.line}: {which} has no offsets.")
            sentence = raw
        sentence, span = _strip_with_span(sentence, span)
        sentences.append(sentence)
        spans.append(_checked_span(row, ctx, which, sentence, target, span))
    return WicItem(_unique_id(row, ctx, seen), target, sentences[0], sentences[1], spans[0], spans[1], label, row.line)


_QUESTIONS = {"원인": "cause", "결과": "effect", "cause": "cause", "effect": "effect"}


def _copa(row: _Row, ctx: _Context, seen: Counter[str]) -> CopaItem:
    question = _QUESTIONS.get(row.raw("question").strip().lower())
    if question is None:
        raise row.fail("question", "원인 (cause) or 결과 (effect)")
    answer = row.raw("answer").strip()
    if answer and answer not in ("1", "2"):
        raise row.fail("answer", "1 or 2")
    label = int(answer) - 1 if answer else None  # the file counts alternatives from 1
    return CopaItem(
        _unique_id(row, ctx, seen), row.text("sentence"), question, (row.text("1"), row.text("2")), label, row.line
    )


def _boolq(row: _Row, ctx: _Context, seen: Counter[str]) -> BoolqItem:
    label = _binary(row, ctx.fmt.label, "TRUE/FALSE or 1/0")
    return BoolqItem(_unique_id(row, ctx, seen), row.text("text"), row.text("question"), label, row.line)


def _unique_id(row: _Row, ctx: _Context, seen: Counter[str], key: str = "id") -> str:
    item_id = row.text(key)
    seen[item_id] += 1
    if seen[item_id] > 1:
        column = _cut(ctx.header_text.get(key, key))
        ctx.warnings.add("repeated ID", f'row {row.line}: {column} "{_cut(item_id)}" appears more than once.')
    return item_id


_BUILDERS: dict[str, Callable[[_Row, _Context, Counter[str]], Any]] = {
    "cola": _cola,
    "wic": _wic,
    "copa": _copa,
    "boolq": _boolq,
}


# --------------------------------------------------------------------------- detection and entry point


def _detect(header: list[str], name: str, task: str | None, line: int = 1) -> Format:
    """Picks the format whose columns best match the header."""
    names = {_norm(h) for h in header}
    scored = []
    for fmt in FORMATS.values():
        if set(fmt.required) <= names:
            scored.append((len(names & {*fmt.required, *fmt.optional}), fmt))
    if not scored:
        wanted = "\n".join(f"  - {h}" for h in supported_headers(task))
        shown = _cut(", ".join(h.strip() for h in header))
        raise DatasetError(
            f"{name}: line {line}: unrecognised header ({shown}). Supported headers"
            f"{f' for {task}' if task else ''}:\n{wanted}",
            name,
            line,
        )
    best = max(score for score, _ in scored)
    fmt = next(f for score, f in scored if score == best)
    if task is not None and fmt.task != task:
        raise DatasetError(
            f"{name}: the header is a {fmt.title} file ({fmt.task}), not {task}. Supported headers for {task}:\n"
            + "\n".join(f"  - {h}" for h in supported_headers(task)),
            name,
            line,
        )
    return fmt


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


def read_dataset(path_or_bytes: Any, name: str | None = None, task: str | None = None) -> Dataset:
    """Reads a CoLA, WiC, COPA or BoolQ file in one of the published layouts.

    Args:
        path_or_bytes: A file path, the raw bytes of an upload, or a file-like
            object with ``read()``.
        name: Display name used in messages (defaults to the file name).
        task: When given, the file must hold this task (one of
            ``explorer.registry.TASKS``).

    Returns:
        The items, in file order, and any warnings.

    Raises:
        DatasetError: Unreadable or malformed file; the message names the
            line (header = 1), the column and what was expected.
    """
    if task is not None and task not in {f.task for f in FORMATS.values()}:
        raise ValueError(f"Unknown task {task!r}; expected one of {sorted({f.task for f in FORMATS.values()})}.")
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
    fmt = _detect(header, display, task, header_line)

    normalised = [_norm(h) for h in header]
    repeated = sorted({h for h, c in Counter(normalised).items() if c > 1 and h})
    if repeated:
        raise DatasetError(
            f"{display}: line {header_line}: the header repeats column(s) {_cut(', '.join(repeated))}.", display,
            header_line,
        )
    index = {h: i for i, h in enumerate(normalised)}
    header_text = dict(zip(normalised, header))
    warnings = _Warnings()
    known = {*fmt.required, *fmt.optional}
    ignored = [h for h, n in zip(header, normalised) if n not in known and n]
    if ignored:
        warnings.add("ignored columns", f"Ignored column(s) not used for {fmt.task}: {_cut(', '.join(ignored))}.")
    ctx = _Context(display, fmt, index, header_text, warnings)

    rows = list(records)
    width = len(header)
    shortest = _shortest_row_width(rows, normalised, fmt)
    build = _BUILDERS[fmt.task]
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
                    f"{display}: row {line}: expected {width} fields ({_cut(', '.join(header))}), "
                    f"found {len(fields)}. Check for a missing or extra "
                    f"{'tab' if delim == chr(9) else 'comma'} or an unclosed quote.",
                    display,
                    line,
                )
        items.append(build(_Row(ctx, line, fields), ctx, seen))

    if not items:
        raise DatasetError(f"{display}: the file has a header but no data rows.", display)
    labelled = _labelled(items, ctx)
    if encoding != "utf-8":
        warnings.add("encoding", f"Read as {encoding.upper()} text (not UTF-8).")
    digest = hashlib.sha256(data).hexdigest()[:12]
    return Dataset(fmt.task, fmt.key, items, labelled, path, len(items), warnings.render(), encoding, digest)


def _shortest_row_width(rows: list[tuple[int, list[str]]], normalised: list[str], fmt: Format) -> int:
    """How many fields a row may have when trailing columns are left off.

    The NIKL CoLA test file has a 3-name header but 2-field rows: the empty
    label column is simply missing. A row may leave off trailing columns that
    are not required and that no row in the file fills in; a short row in a
    file that does use those columns is a broken row, not a convention.
    """
    width = len(normalised)
    shortest = width
    while shortest > 0 and normalised[shortest - 1] not in fmt.required:
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
    column = _cut(ctx.header_text.get(ctx.fmt.label, ctx.fmt.label))
    raise DatasetError(
        f'{ctx.name}: row {first.row}, column "{column}": expected a label, got an empty value '
        f"({len(items) - len(missing)} of {len(items)} rows are labelled; a file must be fully labelled "
        "or fully unlabelled).",
        ctx.name,
        first.row,
        column,
    )
