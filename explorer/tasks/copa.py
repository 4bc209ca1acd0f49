"""COPA: which alternative is the cause (원인) or effect (결과) of the premise?

Two checkpoint styles exist: ``...ForMultipleChoice`` heads score both
alternatives jointly; pair classifiers score (premise, alternative) one at a
time and we pick the higher P(correct). How the premise and an alternative are
joined — a connective such as 왜냐하면 (because) / 그래서 (so), or the
question word — is the entry's ``input_format``.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from explorer.data.readers import Layout, Row
from explorer.tasks.base import Field, InputError, ModelInput, Task, clean_field, short, with_note

DEFAULT_CONNECTIVES = {"cause": "왜냐하면", "effect": "그래서"}
# The one table of COPA's questions: the Korean word files and users write for each.
QUESTION_WORDS = {"cause": "원인", "effect": "결과"}
# What a question may be written as (원인/결과 or cause/effect) → the question.
QUESTIONS = {**{word: question for question, word in QUESTION_WORDS.items()}, **{q: q for q in QUESTION_WORDS}}
FORMATS = {
    "connective": "premise | connective + alternative (왜냐하면 for cause, 그래서 for effect); "
    "`connective:CAUSE/EFFECT` sets other words",
    "question": "premise + question word (원인/결과) | alternative",
    "plain": "premise | alternative",
}
DEFAULT_FORMAT = "connective"
QUESTION_FIELD = Field("question", "Question", "q", "choice", options=(("cause", "원인 · cause"), ("effect", "결과 · effect")),
                       live="cq")


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


def question_of(text: str | None) -> str | None:
    """``"cause"`` or ``"effect"`` for 원인/결과/cause/effect (case and surrounding spaces ignored), else None."""
    return QUESTIONS.get((text or "").strip().lower())


def _row(row: Row, seen: Counter[str]) -> CopaItem:
    question = question_of(row.raw("question"))
    if question is None:
        raise row.fail("question", "원인 (cause) or 결과 (effect)")
    label = row.class_id("answer", 2, first=1)  # the file counts alternatives from 1
    return CopaItem(row.unique_id(seen), row.text("sentence"), question, (row.text("1"), row.text("2")), label, row.line)


LAYOUTS = (
    Layout(
        "copa", "copa", "NIKL 2021 / KoBEST v1 COPA",
        ("ID", "sentence", "question", "1", "2", "Answer"),
        ("id", "sentence", "question", "1", "2"), ("answer",), "answer", _row,
    ),
)


def parse_format(input_format: str | None) -> tuple[str, dict[str, str]]:
    """Splits ``connective:때문에/그래서`` into the style and its connectives."""
    fmt = (input_format or DEFAULT_FORMAT).strip()
    style, _, words = fmt.partition(":")
    if style not in FORMATS:
        raise ValueError(f"unknown COPA input format {fmt!r}; expected one of {', '.join(FORMATS)}")
    connectives = dict(DEFAULT_CONNECTIVES)
    if words:
        cause, _, effect = words.partition("/")
        connectives = {"cause": cause.strip() or connectives["cause"], "effect": effect.strip() or connectives["effect"]}
    return style, connectives


def encode(item: CopaItem, input_format: str | None = None) -> tuple[str, list[str]]:
    """The first text and one second text per alternative."""
    style, connectives = parse_format(input_format)
    if style == "question":
        return f"{item.premise} {QUESTION_WORDS[item.question]}", list(item.alternatives)
    if style == "plain":
        return item.premise, list(item.alternatives)
    word = connectives[item.question]
    return item.premise, [f"{word} {alt}" for alt in item.alternatives]


class Copa(Task):
    id = "copa"
    item_type = CopaItem
    name = "COPA"
    title = "COPA · cause/effect"
    label_names = {0: "alternative 1", 1: "alternative 2"}
    head = "multiple_choice"
    n_choices = 2
    cli_shape = "PREMISE|원인 or 결과|ALTERNATIVE1|ALTERNATIVE2"
    input_formats = FORMATS
    default_format = DEFAULT_FORMAT
    verdict_column = "choice"
    layouts = LAYOUTS
    data_files = ("SKT_COPA_*.tsv", "copa/*.tsv")

    def encode(self, item: CopaItem, input_format: str | None = None) -> ModelInput:
        first, endings = encode(item, input_format)
        return ModelInput(first, endings=tuple(endings))

    def answer(self, item: CopaItem, label: int) -> str:
        return f"{label + 1}: {short(item.alternatives[label], 40)}"

    def format_name(self, item: CopaItem, input_format: str | None) -> str:
        """How the model joins premise and alternative for this item's question."""
        style, connectives = parse_format(input_format)
        default = "" if input_format else " (default)"
        if style == "connective":
            return f"connective {connectives[item.question]}{default}"
        if style == "question":
            return f"question word {QUESTION_WORDS[item.question]}{default}"
        return f"plain{default}"

    def text(self, item: CopaItem) -> str:
        choices = " ".join(f"{k}) {alt}" for k, alt in enumerate(item.alternatives, start=1))
        return f"{item.premise} ({item.question}) {choices}"

    def values(self, item: CopaItem) -> dict[str, str]:
        alternatives = {f"alternative{k}": alt for k, alt in enumerate(item.alternatives, start=1)}
        return {"premise": item.premise, "question": QUESTION_WORDS[item.question], **alternatives}

    def length_text(self, item: CopaItem) -> str:
        return item.premise

    slice_kinds = {"question": tuple(QUESTION_WORDS)}  # cause, then effect

    def slices(self, item: CopaItem, context=None) -> dict[str, str]:
        return {**super().slices(item), "question": item.question}

    # Heads, labels and optional hooks. config_labels stays None: COPA checkpoints say LABEL_0/LABEL_1.

    def demo_items(self, n: int, seed: int) -> list[CopaItem]:
        from explorer.defaults.task_data import generate_copa

        return generate_copa(n, seed=seed)

    def tokenizer_texts(self, item: CopaItem) -> list[str]:
        return [item.premise, *item.alternatives, *DEFAULT_CONNECTIVES.values()]

    def editable_fields(self, item: CopaItem) -> list[tuple[str, str]]:
        alternatives = [(f"alternative{k}", alt) for k, alt in enumerate(item.alternatives, start=1)]
        return [("premise", item.premise), *alternatives]

    def with_field(self, item: CopaItem, field: str, text: str, edit_span=None, analyse=None) -> CopaItem:
        from dataclasses import replace

        self._check_editable(item, field)
        if field == "premise":
            return replace(item, premise=text)
        k = int(field.removeprefix("alternative")) - 1
        return replace(item, alternatives=(*item.alternatives[:k], text, *item.alternatives[k + 1 :]))

    def format_problem(self, input_format: str | None) -> str | None:
        # COPA formats carry arguments (connective:때문에/그래서), so parse rather than look up.
        if not input_format:
            return None
        try:
            parse_format(input_format)
        except ValueError as exc:
            return str(exc)
        return None

    # --- the page
    page_title = "Cause and effect · COPA"
    icon = ":material/swap_horiz:"
    blurb = "Cause and effect (COPA): pick the cause or effect"
    page_caption = "Which alternative is the cause (원인) or the effect (결과) of the premise? Every selected model chooses one."
    run_label = "Choose"
    table_caption = ("Each model's probability for each alternative (green = likely, red = unlikely). Multiple-choice heads "
                     "score both alternatives together; pair classifiers score (premise, alternative) one at a time and the "
                     "two scores are normalised.")
    fields = (
        Field("premise", "Premise", "p", placeholder="밤새 눈이 많이 내렸다.", live="s"),
        QUESTION_FIELD,
        Field("alternative1", "Alternative 1", "a1", placeholder="길이 미끄러웠다.", live="a1"),
        Field("alternative2", "Alternative 2", "a2", placeholder="공원에 꽃이 피었다.", beside=True, live="a2"),
    )
    examples = (  # hand-picked; each note gives the expected answer
        {"premise": "밤새 눈이 많이 내렸다.", "question": "effect", "alternative1": "길이 미끄러웠다.",
         "alternative2": "공원에 꽃이 피었다.", "note": "결과: 눈 → 미끄러운 길 (effect: answer 1)", "expected": "alternative 1"},
        {"premise": "민수는 학교에 지각했다.", "question": "cause", "alternative1": "민수는 복권에 당첨되었다.",
         "alternative2": "민수는 늦잠을 잤다.", "note": "원인: 늦잠 → 지각 (cause: answer 2)", "expected": "alternative 2"},
        {"premise": "서연은 국에 소금을 너무 많이 넣었다.", "question": "effect", "alternative1": "국이 너무 짰다.",
         "alternative2": "방 안이 어두워졌다.", "note": "결과: 짠 국 (effect: answer 1)", "expected": "alternative 1"},
        {"premise": "유리컵이 산산조각 났다.", "question": "cause", "alternative1": "아이가 생일 선물을 받았다.",
         "alternative2": "아이가 유리컵을 바닥에 떨어뜨렸다.", "note": "원인: 떨어뜨린 컵 (cause: answer 2)", "expected": "alternative 2"},
    )

    def form_value(self, field: Field, value: str) -> str:
        if field.name == "question":  # a link may say 원인/결과
            value = question_of(value) or value
        return super().form_value(field, value)

    def example_label(self, example) -> str:
        word = QUESTION_WORDS[self.form_value(QUESTION_FIELD, example["question"])]
        return with_note(f"{short(example['premise'], 18)} ({word})", example)

    def make_item(self, values, analyse=None) -> tuple[CopaItem, None]:
        return make_copa(values["premise"], values["question"], values["alternative1"], values["alternative2"]), None

    shape_help = "`premise | 원인 or 결과 | alternative 1 | alternative 2` per line"
    example_lines = ("비가 많이 왔다. | 결과 | 길이 미끄러웠다. | 하늘이 맑았다.",
                     "아이가 울었다. | 원인 | 넘어져서 무릎을 다쳤다. | 선물을 받았다.")
    counterfactual_edits = "fields"
    default_for_head = "multiple_choice"  # among the NIKL tasks only COPA has a multiple-choice head

    def parse_line(self, text: str, analyse=None) -> tuple[CopaItem, list[str]]:
        return make_copa(*self.line_fields(text)), []


def make_copa(premise: str, question: str, alternative1: str, alternative2: str) -> CopaItem:
    """A typed COPA item; the question may be 원인/결과 or cause/effect."""
    q = question_of(question)
    if q is None:
        raise InputError(f"The question must be 원인 (cause) or 결과 (effect), not {question!r}.")
    alts = (clean_field(alternative1, "Alternative 1"), clean_field(alternative2, "Alternative 2"))
    return CopaItem("input", clean_field(premise, "The premise"), q, alts, None)
