"""COPA: which alternative is the cause (원인) or effect (결과) of the premise?

Two checkpoint styles exist: ``...ForMultipleChoice`` heads score both
alternatives jointly; pair classifiers score (premise, alternative) one at a
time and we pick the higher P(correct). How the premise and an alternative are
joined — a connective such as 왜냐하면 (because) / 그래서 (so), or the
question word — is the entry's ``input_format``.
"""

from __future__ import annotations

from explorer.data.readers import CopaItem
from explorer.tasks.base import ModelInput, Task, short

DEFAULT_CONNECTIVES = {"cause": "왜냐하면", "effect": "그래서"}
QUESTION_WORDS = {"cause": "원인", "effect": "결과"}
FORMATS = {
    "connective": "premise | connective + alternative (왜냐하면 for cause, 그래서 for effect); "
    "`connective:CAUSE/EFFECT` sets other words",
    "question": "premise + question word (원인/결과) | alternative",
    "plain": "premise | alternative",
}
DEFAULT_FORMAT = "connective"


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

    def result_columns(self, item: CopaItem, pred, input_format: str | None) -> tuple[dict, list[str]]:
        # A pair classifier scores each alternative alone; the row says so, and shows the raw scores.
        pair = (pred.details or {}).get("pair_scores")
        row = {**dict(zip(self.prob_columns, pred.probs)), "choice": self.answer(item, pred.label),
               "head": "pair classifier" if pair else "multiple choice",
               "input format": self.format_name(item, input_format)}
        notes = []
        if pair:
            scores = " · ".join(f"{p:.3f}" for p in pair)
            notes.append(f"P(right) scored one at a time: {scores}, normalised to sum to 1")
        if pred.n_dropped:
            notes.append(f"{pred.n_dropped} tokens cut")
        return row, notes

    def text(self, item: CopaItem) -> str:
        choices = " ".join(f"{k}) {alt}" for k, alt in enumerate(item.alternatives, start=1))
        return f"{item.premise} ({item.question}) {choices}"

    def values(self, item: CopaItem) -> dict[str, str]:
        alternatives = {f"alternative{k}": alt for k, alt in enumerate(item.alternatives, start=1)}
        return {"premise": item.premise, "question": QUESTION_WORDS[item.question], **alternatives}

    def length_text(self, item: CopaItem) -> str:
        return item.premise

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
