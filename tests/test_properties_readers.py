"""Property tests: whatever bytes a user uploads, the reader answers with a Dataset or a short DatasetError.

Any other exception would reach the Evaluate page as a traceback; an unbounded
message would echo a huge one-line file back to the user.
"""

import codecs
import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from explorer.data.readers import Dataset, DatasetError
from explorer.tasks.registry import FORMATS, read_dataset

# The longest legitimate message lists every supported header (about 600 characters);
# anything much longer is quoting file content it should have cut.
MAX_MESSAGE = 1200
MAX_WARNING = 400
TASKS = sorted({f.task for f in FORMATS.values()})

PROPERTY = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Cells drawn from what real files and broken exports contain: Hangul, digits and
# labels, quotes, brackets, delimiters, line breaks, and the odd control character.
CELL_ALPHABET = st.sampled_from(list('가나다묻물었다 ab01TRUEFALSE.,"[]\t\r\n\x0b\u00a0\ufeff원인결과-'))
CELL = st.one_of(
    st.sampled_from(["", "0", "1", "2", "TRUE", "False", "원인", "결과", "13", "13.0", "-1", '"', '""', "[묻]"]),
    st.text(CELL_ALPHABET, max_size=12),
    st.builds(lambda ch, n: ch * n, st.sampled_from(["가", "x", "[묻]", "1"]), st.integers(200, 3000)),  # long cells
)


def _check(source, name="prop.tsv", task=None) -> None:
    try:
        dataset = read_dataset(source, name=name, task=task)
    except DatasetError as exc:
        _assert_short(str(exc), MAX_MESSAGE)
        return
    assert isinstance(dataset, Dataset)
    assert dataset.items and len(dataset.items) == dataset.n_rows
    assert dataset.labelled == all(item.label is not None for item in dataset.items)
    assert task is None or dataset.task == task
    for warning in dataset.warnings:
        _assert_short(warning, MAX_WARNING)


def _assert_short(message: str, limit: int) -> None:
    # Reported by length and start only: a failing case must not print megabytes.
    assert len(message) <= limit, f"{len(message)} characters: {message[:200]!r}"


@PROPERTY
@given(data=st.binary(max_size=3000), task=st.sampled_from([None, *TASKS]))
def test_arbitrary_bytes_give_a_dataset_or_a_short_error(data, task):
    _check(data, task=task)


TEXT = st.one_of(
    st.text(st.sampled_from(list("가나다묻물었다 ab.[]\"'")), min_size=1, max_size=20),
    st.builds(lambda ch, n: ch * n, st.sampled_from(["가", "x", "[묻]"]), st.integers(200, 3000)),
)
# What a well-formed cell of each (normalised) column looks like; other columns get TEXT.
PLAUSIBLE = {
    "acceptability_label": st.sampled_from(["0", "1"]),
    "answer": st.sampled_from(["0", "1", "2", "TRUE", "False"]),
    "answer(false=0,true=1)": st.sampled_from(["0", "1", "TRUE", "FALSE"]),
    "question": st.sampled_from(["원인", "결과", "cause"]),
    "source_annotation": st.sampled_from(["", "*", "?"]),
    **{k: st.integers(0, 30).map(str) for k in ("start_s1", "end_s1", "start_s2", "end_s2")},
}


def _cell(column: str):
    """Mostly a plausible value for the column, sometimes anything at all."""
    key = re.sub(r"\s+", "", column).lower()
    plausible = PLAUSIBLE.get(key, TEXT)
    return st.one_of(*[plausible] * 6, CELL)


@st.composite
def tsv_files(draw):
    """A file with the real header of a supported layout and rows of plausible and odd cells."""
    fmt = draw(st.sampled_from(list(FORMATS.values())))
    header = list(fmt.columns)
    if draw(st.booleans()):  # headers are matched ignoring case and spacing
        header = [draw(st.sampled_from([h, h.upper(), h.lower(), f" {h} "])) for h in header]
    if draw(st.booleans()):  # an extra column, perhaps a very long one
        header.insert(draw(st.integers(0, len(header))), draw(CELL))
    delim = draw(st.sampled_from(["\t", "\t", ","]))
    unlabelled = draw(st.booleans())
    rows = [delim.join(header)]
    for _ in range(draw(st.integers(1, 6))):
        cells = [draw(_cell(h)) for h in header]
        if unlabelled:
            cells = ["" if re.sub(r"\s+", "", h).lower() == fmt.label else c for h, c in zip(header, cells)]
        if draw(st.integers(0, 9)) == 0:  # a row with a field too few or too many
            cells = cells[:-1] if draw(st.booleans()) else [*cells, draw(CELL)]
        rows.append(delim.join(cells))
    newline = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    text = newline.join(rows) + draw(st.sampled_from(["", newline]))
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "cp949", "utf-16"]))
    data = text.encode(encoding, errors="replace")
    if encoding == "utf-16" and not data.startswith(codecs.BOM_UTF16):
        data = codecs.BOM_UTF16_LE + text.encode("utf-16-le", errors="replace")
    task = draw(st.one_of(st.sampled_from([None, fmt.task]), st.sampled_from(TASKS)))
    return data, task


@PROPERTY
@given(file=tsv_files())
def test_files_with_real_headers_give_a_dataset_or_a_short_error(file):
    data, task = file
    _check(data, task=task)


@PROPERTY
@given(file=tsv_files(), cut=st.integers(0, 200), noise=st.binary(min_size=1, max_size=8))
def test_damaged_files_give_a_dataset_or_a_short_error(file, cut, noise):
    """A file truncated mid-way, or with a few bytes of garbage spliced in."""
    data, task = file
    at = min(cut, len(data))
    _check(data[:at] + noise + data[at:], task=task)
    _check(data[: len(data) - at], task=task)


def test_a_long_one_line_file_is_not_echoed_back():
    """A 5 MB header line (the issue's case was 50 MB) comes back as a message of a few hundred characters."""
    try:
        read_dataset(b"x" * 5_000_000, name="one-line.tsv")
    except DatasetError as exc:
        _assert_short(str(exc), MAX_MESSAGE)
        assert "…" in str(exc)[:200]
    else:
        raise AssertionError("a header of x's was accepted")


def test_long_cells_are_cut_in_row_errors_and_warnings():
    long = "가" * 100_000
    header = "ID\tTarget\tSENTENCE1\tSENTENCE2\tANSWER\tstart_s1\tend_s1\tstart_s2\tend_s2"
    rows = [header, f"1\t{long}\t{long}\t{long}\tTrue\t0\t3\t0\t3", f"1\t{long}\t{long}\t{long}\tTrue\t0\t3\t0\t3"]
    dataset = read_dataset("\n".join(rows).encode(), name="wic.tsv")
    assert dataset.warnings
    for warning in dataset.warnings:
        _assert_short(warning, MAX_WARNING)
    bad = [header, f"1\t{long}\t{long}\t{long}\t{long}\t0\t3\t0\t3"]
    try:
        read_dataset("\n".join(bad).encode(), name="wic.tsv")
    except DatasetError as exc:
        _assert_short(str(exc), MAX_MESSAGE)
        assert "ANSWER" in str(exc)
    else:
        raise AssertionError("a 100,000-character label was accepted")
