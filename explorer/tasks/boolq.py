"""BoolQ: does the passage say yes or no to the question?

Long passages are cut, never the question: the tokenizer truncates only the
passage side, and we report how many passage tokens were dropped.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from explorer.data.readers import Layout, Row, norm
from explorer.tasks.base import Field, ModelInput, Task, clean_field, short, with_note

FORMATS = {
    "passage-question": "passage first, question second (passage truncated)",
    "question-passage": "question first, passage second (passage truncated)",
}
DEFAULT_FORMAT = "passage-question"


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


def _row(row: Row, seen: Counter[str]) -> BoolqItem:
    label = row.binary(row.layout.label, "TRUE/FALSE or 1/0")
    return BoolqItem(row.unique_id(seen), row.text("text"), row.text("question"), label, row.line)


_NIKL_LABEL = norm("Answer(FALSE = 0, TRUE = 1)")

LAYOUTS = (
    Layout(
        "nikl2021_boolq", "boolq", "NIKL 2021 BoolQ",
        ("ID", "Text", "Question", "Answer(FALSE = 0, TRUE = 1)"),
        ("id", "text", "question"), (_NIKL_LABEL,), _NIKL_LABEL, _row,
    ),
    Layout(
        "kobest_boolq", "boolq", "KoBEST v1 BoolQ",
        ("ID", "Text", "Question", "Answer"),
        ("id", "text", "question"), ("answer",), "answer", _row,
    ),
)


class Boolq(Task):
    id = "boolq"
    item_type = BoolqItem
    name = "BoolQ"
    title = "BoolQ · yes/no"
    label_names = {0: "no", 1: "yes"}
    cli_shape = "PASSAGE|QUESTION"
    input_formats = FORMATS
    default_format = DEFAULT_FORMAT
    verdict_column = "answer"
    layouts = LAYOUTS
    data_files = ("SKT_BoolQ_*.tsv", "boolq/*.tsv")

    def encode(self, item: BoolqItem, input_format: str | None = None) -> ModelInput:
        first, second, truncation = encode(item, input_format)
        return ModelInput(first, second, truncation=truncation)

    def result_columns(self, item: BoolqItem, pred, input_format: str | None) -> tuple[dict, list[str]]:
        # Only the passage is ever cut (see encode), so the row counts passage tokens, not a note.
        row = self.answer_columns(item, pred, input_format)
        row["tokens read"] = pred.n_tokens
        row["passage tokens cut"] = pred.n_dropped
        return row, []

    def text(self, item: BoolqItem) -> str:
        # The question first: a passage can run to pages, so a table shows its start only.
        return f"{item.question} | {item.passage[:120]}"

    def values(self, item: BoolqItem) -> dict[str, str]:
        return {"passage": item.passage, "question": item.question}

    def length_text(self, item: BoolqItem) -> str:
        return item.passage

    # --- the page
    page_title = "Yes/no questions · BoolQ"
    icon = ":material/help:"
    blurb = "Yes/no questions (BoolQ): answer from a passage"
    page_caption = ("Does the passage say yes or no to the question? Long passages are cut to fit each model; "
                    "the question never is.")
    run_label = "Answer"
    cut_side = "passage"
    cut_note = "Only the end of the passage is cut — the question is never cut."
    fields = (
        Field("passage", "Passage", "passage", "text", "김민수는 부산에서 태어났다. 지금은 대전의 한 병원에서 간호사로 일하고 있다.",
              height=180, live="s"),
        Field("question", "Question", "q", placeholder="김민수는 간호사로 일하나요?", live="q"),
    )
    examples = (  # hand-picked; each note gives the expected answer
        {"passage": "김민수는 부산에서 태어났다. 지금은 대전의 한 병원에서 간호사로 일하고 있다. "
                    "주말마다 등산을 즐기고, 집에서 고양이를 한 마리 키운다.",
         "question": "김민수는 간호사로 일하나요?", "note": "예 (yes)", "expected": "yes"},
        {"passage": "김민수는 부산에서 태어났다. 지금은 대전의 한 병원에서 간호사로 일하고 있다. "
                    "주말마다 등산을 즐기고, 집에서 고양이를 한 마리 키운다.",
         "question": "김민수의 고향은 광주인가?", "note": "아니요 (no: 부산)", "expected": "no"},
        {"passage": "해오름 식당은 2009년에 문을 열었다. 대표 메뉴는 칼국수이고, 매주 월요일에 쉰다. "
                    "점심시간에는 근처 회사원들로 늘 붐빈다.",
         "question": "해오름 식당은 일요일에 쉰다.", "note": "아니요 (no: 월요일) — 평서문 질문 (statement-style question)", "expected": "no"},
        {"passage": "솔섬은 남해에 있는 작은 섬이다. 섬에는 약 400명이 살고, 멸치와 미역이 특산물로 유명하다. "
                    "육지에서 배로 한 시간 정도 걸린다.",
         "question": "솔섬은 멸치로 유명한가요?", "note": "예 (yes)", "expected": "yes"},
    )

    def example_label(self, example) -> str:
        return with_note(short(example["question"], 24), example)

    def make_item(self, values, analyse=None) -> tuple[BoolqItem, None]:
        return make_boolq(values["passage"], values["question"]), None

    shape_help = "`passage | question` per line"
    example_lines = ("한강은 서울을 가로질러 흐르는 강이다. | 한강은 서울을 지나가나요?",)

    def parse_line(self, text: str, analyse=None) -> tuple[BoolqItem, list[str]]:
        return make_boolq(*self.line_fields(text)), []

    # Heads, labels and optional hooks.
    config_labels = {0: "no", 1: "yes"}

    def demo_items(self, n: int, seed: int) -> list[BoolqItem]:
        from explorer.defaults.task_data import generate_boolq

        return generate_boolq(n, seed=seed)


def encode(item: BoolqItem, input_format: str | None = None) -> tuple[str, str, str]:
    """Returns (first, second, truncation) so only the passage side is cut."""
    fmt = input_format or DEFAULT_FORMAT
    if fmt == "question-passage":
        return item.question, item.passage, "only_second"
    if fmt != "passage-question":
        raise ValueError(f"unknown BoolQ input format {fmt!r}; expected one of {', '.join(FORMATS)}")
    return item.passage, item.question, "only_first"


def make_boolq(passage: str, question: str) -> BoolqItem:
    """A typed passage and question as an item (each cleaned; InputError when one is empty)."""
    return BoolqItem("input", clean_field(passage, "The passage"), clean_field(question, "The question"), None)
