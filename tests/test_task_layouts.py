"""A task declares its file layouts and item class in its own module: the reader is generic.

Each test defines a throw-away task here (registered only through monkeypatch)
in the shapes KoBEST HellaSwag and SentiNeg publish: no id column, four
endings labelled from 0, columns in any order, extra columns not read.
"""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest

from explorer.data.readers import DatasetError, Layout, Row, read_table
from explorer.tasks import registry
from explorer.tasks.base import Task
from explorer.tasks.copa import QUESTION_WORDS, QUESTIONS, question_of
from explorer.tasks.wic import bracket, strip_marks, unbracket

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
needs_real_data = pytest.mark.skipif(not SHARED_DATA.is_dir(), reason="../shared/data is not present")


@dataclass(frozen=True)
class EndingItem:
    id: str
    context: str
    endings: tuple[str, ...]
    label: int | None
    row: int = 0


def _ending_row(row: Row, seen: Counter[str]) -> EndingItem:
    endings = tuple(row.text(f"choice{k}") for k in range(1, 5))
    return EndingItem(row.unique_id(seen, None), row.text("context"), endings, row.class_id("label", 4), row.line)


ENDINGS = Layout(
    "toy_endings", "toy_endings", "Toy endings",
    ("context", "choice1", "choice2", "choice3", "choice4", "label"),
    ("context", "choice1", "choice2", "choice3", "choice4"), ("label",), "label", _ending_row,
)


@dataclass(frozen=True)
class SentenceItem:
    id: str
    text: str
    label: int | None
    row: int = 0


def _sentence_row(row: Row, seen: Counter[str]) -> SentenceItem:
    return SentenceItem(row.unique_id(seen), row.text("text"), row.binary("label", "0 or 1"), row.line)


SENTENCES = Layout("toy_sentences", "toy_sentences", "Toy sentences", ("ID", "Text", "Label"),
                   ("id", "text"), ("label",), "label", _sentence_row)


class ToyEndings(Task):
    id = "toy_endings"
    item_type = EndingItem
    name = "Endings"
    title = "Endings · which one follows"
    label_names = {k: f"ending {k + 1}" for k in range(4)}
    head = "multiple_choice"
    n_choices = 4
    cli_shape = "CONTEXT|E1|E2|E3|E4"
    layouts = (ENDINGS,)


class ToySentences(Task):
    id = "toy_sentences"
    item_type = SentenceItem
    name = "Sentences"
    title = "Sentences · polarity"
    label_names = {0: "negative", 1: "positive"}
    cli_shape = "SENTENCE"
    layouts = (SENTENCES,)


@pytest.fixture
def toys(monkeypatch):
    """Both throw-away tasks, registered for this test only."""
    for task in (ToyEndings(), ToySentences()):
        monkeypatch.setitem(registry.TASKS, task.id, task)


ENDINGS_FILE = "\n".join([
    "context\tchoice1\tchoice2\tchoice3\tchoice4\tlabel",
    '공을 던진다.\t친다.\t잡는다.\t"심판이 ""아웃""을 외친다."\t뛴다.\t3',  # CSV-quoted, as 7 real rows are
    "학교에 간다.\t\"늦었다, 뛴다\"\t잔다.\t먹는다.\t논다.\t0",
]).encode()


def test_a_task_registered_in_its_own_module_reads_its_files_without_an_id_column(toys):
    ds = registry.read_dataset(ENDINGS_FILE, name="endings.tsv", task="toy_endings")
    assert (ds.task, ds.format, ds.labelled, ds.warnings) == ("toy_endings", "toy_endings", True, [])
    first, second = ds.items
    # No id column: the id is the line number (header = line 1).
    assert [first.id, second.id] == ["2", "3"] and [first.row, second.row] == [2, 3]
    assert first.endings == ("친다.", "잡는다.", '심판이 "아웃"을 외친다.', "뛴다.") and first.label == 3
    # Quoting it was not needed (a comma in a tab-separated file), so the quotes are text.
    assert second.endings[0] == '"늦었다, 뛴다"' and second.label == 0
    # Untold, the same header is the registered KoBEST HellaSwag's, which comes first in the registry.
    assert registry.read_dataset(ENDINGS_FILE).task == "hellaswag"
    assert "Toy endings: context, choice1" in "\n".join(registry.supported_headers())


def test_n_class_labels_counted_from_zero_are_checked_by_the_builder(toys):
    bad = ENDINGS_FILE.replace(b"\t0", b"\t4")
    with pytest.raises(DatasetError) as raised:
        registry.read_dataset(bad, name="endings.tsv")
    assert str(raised.value) == 'endings.tsv: row 3, column "label": expected 0, 1, 2 or 3, got "4"'
    unlabelled = ENDINGS_FILE.replace(b"\t3\n", b"\t\n").replace(b"\t0", b"\t")
    ds = registry.read_dataset(unlabelled)
    assert not ds.labelled and [i.label for i in ds.items] == [None, None]


def test_columns_in_any_order_and_columns_not_read_are_named(toys):
    train = registry.read_dataset(b"ID\tText\tLabel\r\n1\t\xeb\xb3\x84\xeb\xa1\x9c\xeb\x8b\xa4\t0\r\n", name="train.tsv", task="toy_sentences")
    dev = registry.read_dataset(b"ID\tLabel\tText\r\n1\t0\t\xeb\xb3\x84\xeb\xa1\x9c\xeb\x8b\xa4\r\n", name="dev.tsv", task="toy_sentences")
    assert train.items == dev.items == [SentenceItem("1", "별로다", 0, 2)]
    assert train.warnings == dev.warnings == []
    extra = "ID\tText\tLabel\tLabel_origin\tText_origin\tCategory_neg\n1\t별로다\t0\t1\t좋다\t부정\n".encode()
    ds = registry.read_dataset(extra, name="test.tsv", task="toy_sentences")
    assert ds.items == [SentenceItem("1", "별로다", 0, 2)]  # Text and Label, never the *_origin columns
    assert ds.warnings == ["Ignored column(s) not used for toy_sentences: Label_origin, Text_origin, Category_neg (read: ID, Text, Label)."]


def test_the_reader_takes_its_layouts_as_an_argument():
    ds = read_table(ENDINGS_FILE, [ENDINGS], name="endings.tsv")
    assert ds.task == "toy_endings" and len(ds.items) == 2
    # A registered layout is not a candidate unless passed, and the message lists only the candidates.
    copa = "ID\tsentence\tquestion\t1\t2\tAnswer\n1\t가.\t결과\t나.\t다.\t1\n".encode()
    with pytest.raises(DatasetError, match="unrecognised header") as raised:
        read_table(copa, [ENDINGS], name="copa.tsv")
    assert "Toy endings: context" in str(raised.value) and "COPA" not in str(raised.value)
    with pytest.raises(ValueError, match="Unknown task 'copa'"):
        read_table(copa, [ENDINGS], task="copa")


def test_with_a_task_given_its_own_layout_wins_over_another_tasks_match():
    # A generic "text, label" layout of another task also matches; asked for the sentence task, its own is used.
    generic = Layout("generic", "generic", "Generic text", ("Text", "Label"), ("text",), ("label", "id"), "label",
                     _sentence_row)
    data = b"ID\tText\tLabel\n1\tx\t1\n"
    assert read_table(data, [generic, SENTENCES], task="toy_sentences").format == "toy_sentences"
    assert read_table(data, [generic, SENTENCES], task="generic").format == "generic"


def test_every_registered_layout_belongs_to_its_task_and_has_a_unique_key():
    keys = [layout.key for layout in registry.layouts()]
    assert len(keys) == len(set(keys)) == len(registry.FORMATS)
    for task in registry.TASKS.values():
        assert task.layouts, task
        assert {layout.task for layout in task.layouts} == {task.id}


def test_the_data_layer_imports_no_task():
    code = "import sys, explorer.data; print(sorted(m for m in sys.modules if m.startswith('explorer.tasks')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).resolve().parents[1])
    assert out.stdout.strip() == "[]"


def test_bracket_marks_and_spans_are_one_helper():
    plain, spans = unbracket("바짓[단]이 뜯어져 [단]이 내려왔다.")
    assert plain == "바짓단이 뜯어져 단이 내려왔다." and spans == [(2, 3), (9, 10)]
    assert bracket(plain, spans[0]) == "바짓[단]이 뜯어져 단이 내려왔다."
    assert unbracket(bracket(plain, spans[1])) == (plain, [spans[1]])
    assert strip_marks("[]는 빈 표시") == ("[]는 빈 표시", None)  # an empty mark marks nothing
    assert bracket("그대로", None) == "그대로"


def test_copa_questions_come_from_one_table():
    assert {question_of(w) for w in ("원인", " 결과 ", "Cause", "effect")} == {"cause", "effect"}
    assert question_of("이유") is None and question_of(None) is None
    assert QUESTIONS == {"원인": "cause", "결과": "effect", "cause": "cause", "effect": "effect"}
    assert QUESTION_WORDS == {"cause": "원인", "effect": "결과"}


@needs_real_data
def test_real_kobest_hellaswag_reads_with_a_layout_declared_in_a_test(toys):
    ds = registry.read_dataset(SHARED_DATA / "kobest_v1/hellaswag/dev.tsv", task="toy_endings")
    assert ds.n_rows == 500 and ds.labelled and ds.warnings == []
    assert Counter(item.label for item in ds.items) == {0: 111, 1: 125, 2: 145, 3: 119}
    assert len({item.id for item in ds.items}) == 500 and ds.items[0].id == "2"


@needs_real_data
def test_real_kobest_sentineg_reads_in_both_column_orders(toys):
    for split, rows in (("train", 3649), ("dev", 400)):
        ds = registry.read_dataset(SHARED_DATA / f"kobest_v1/sentineg/{split}.tsv", task="toy_sentences")
        assert ds.n_rows == rows and ds.labelled and {item.label for item in ds.items} == {0, 1}
        assert all(item.text and item.text == item.text.strip() for item in ds.items)
