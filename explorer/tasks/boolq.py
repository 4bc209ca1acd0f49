"""BoolQ: does the passage say yes or no to the question?

Long passages are cut, never the question: the tokenizer truncates only the
passage side, and we report how many passage tokens were dropped.
"""

from __future__ import annotations

from explorer.data.readers import BoolqItem
from explorer.tasks.base import ModelInput, Task

FORMATS = {
    "passage-question": "passage first, question second (passage truncated)",
    "question-passage": "question first, passage second (passage truncated)",
}
DEFAULT_FORMAT = "passage-question"


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
