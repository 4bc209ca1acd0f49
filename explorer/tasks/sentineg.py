"""KoBEST SentiNeg: is this review sentence negative or positive, when negation may flip it?

KoBEST built the task from shopping reviews: each sentence is a review, often
with a negation (안, 않다, 못, 없다) that reverses what its words alone suggest
("좋지 않아요" is negative). One sentence in, two classes out; KoBEST ranks
models by macro-F1.

The published files put the columns in different orders (train ``ID, Text,
Label``; dev ``ID, Label, Text``): columns are matched by name, so one layout
reads both. The test file adds ``Label_origin``, ``Text_origin`` and
``Category_neg`` (the sentence before negation, its label, and the kind of
negation). Only ``Text`` and ``Label`` are read — the negated sentence and its
own label — and the reader's warning names the columns it left unread.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from explorer.data.readers import Layout, Row
from explorer.tasks.base import Field, ModelInput, Task, clean_field


@dataclass(frozen=True, slots=True)
class SentinegItem:
    """One review sentence.

    Attributes:
        id: The file's ``ID``.
        text: The ``Text`` column, stripped.
        label: 1 positive, 0 negative, None when unlabelled.
        row: Line number in the file (header = 1).
    """

    id: str
    text: str
    label: int | None
    row: int = 0


def _row(row: Row, seen: Counter[str]) -> SentinegItem:
    return SentinegItem(row.unique_id(seen), row.text("text"), row.binary("label", "0 (negative) or 1 (positive)"),
                        row.line)


LAYOUTS = (
    Layout("kobest_sentineg", "sentineg", "KoBEST v1 SentiNeg", ("ID", "Text", "Label"),
           ("id", "text"), ("label",), "label", _row),
)


class Sentineg(Task):
    id = "sentineg"
    item_type = SentinegItem
    name = "SentiNeg"
    title = "SentiNeg · sentiment under negation"
    label_names = {0: "negative", 1: "positive"}
    config_labels = {0: "negative", 1: "positive"}  # what fine-tuned checkpoints' id2label say (read back by label_words)
    main_metric = "f1_macro"  # KoBEST's metric for every task
    cli_shape = "SENTENCE"
    verdict_column = "sentiment"
    layouts = LAYOUTS
    data_files = ("sentineg/*.tsv",)
    counterfactual_edits = "sentence"  # Kiwi's particle, tense and order edits of the review
    label_words = frozenset({"negative", "positive", "부정", "긍정"})  # a sentiment head's id2label

    def encode(self, item: SentinegItem, input_format: str | None = None) -> ModelInput:
        return ModelInput(item.text)

    def text(self, item: SentinegItem) -> str:
        return item.text

    def values(self, item: SentinegItem) -> dict[str, str]:
        return {"text": item.text}

    def length_text(self, item: SentinegItem) -> str:
        return item.text

    def editable_fields(self, item: SentinegItem) -> list[tuple[str, str]]:
        return [("text", item.text)]

    # --- the page
    page_title = "Sentiment · SentiNeg"
    icon = ":material/sentiment_neutral:"
    blurb = "Sentiment under negation (SentiNeg): is a review negative or positive?"
    page_caption = ("Is the review sentence negative or positive? KoBEST's sentences often carry a negation "
                    "(안, 않다, 못, 없다) that turns what the words alone suggest.")
    run_label = "Judge sentiment"
    fields = (Field("text", "Review sentence", "s", "text", "가격은 싼데 품질이 좋지 않아요.", height=90, live="s"),)
    examples = (
        {"text": "착한 가격에 좋은 제품 구입했어요", "note": "긍정 (positive)", "expected": "positive"},
        {"text": "가격은 싼데 품질이 좋지 않아요.", "note": "부정: 좋지 않다 (negated positive word)", "expected": "negative"},
        {"text": "생각보다 나쁘지 않네요.", "note": "긍정: 나쁘지 않다 (negated negative word)", "expected": "positive"},
    )

    def make_item(self, values, analyse=None) -> tuple[SentinegItem, None]:
        return SentinegItem("input", clean_field(values["text"], "The sentence"), None), None
