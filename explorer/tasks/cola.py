"""CoLA: is this Korean sentence acceptable?

Scored like every other task: each scorer (fine-tuned transformers, the Kiwi
language model) answers through ``Scorer.predict`` with ``Prediction``s, and the
CoLA page's sentences × models table is ``explorer.tasks.results.matrix_frame``.
"""

from __future__ import annotations

from explorer.data.readers import ColaItem
from explorer.tasks.base import ModelInput, Task


class Cola(Task):
    id = "cola"
    item_type = ColaItem
    name = "CoLA"
    title = "CoLA · acceptability"
    label_names = {0: "unacceptable", 1: "acceptable"}
    main_metric = "mcc"  # NIKL ranks CoLA by Matthews correlation: the classes are unbalanced
    cli_shape = "SENTENCE"

    def encode(self, item: ColaItem, input_format: str | None = None) -> ModelInput:
        return ModelInput(item.sentence)

    def text(self, item: ColaItem) -> str:
        return item.sentence

    def values(self, item: ColaItem) -> dict[str, str]:
        return {"sentence": item.sentence}

    def length_text(self, item: ColaItem) -> str:
        return item.sentence
