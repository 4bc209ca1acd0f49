"""CoLA: is this Korean sentence acceptable?

Scored like every other task: each scorer (fine-tuned transformers, the Kiwi
language model) answers through ``Scorer.predict`` with ``Prediction``s, and the
CoLA page's sentences × models table is ``explorer.tasks.results.matrix_frame``.
"""

from __future__ import annotations

from explorer.data.readers import ColaItem
from explorer.tasks.base import Field, ModelInput, Task


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

    # --- the page (its own: pages/acceptability.py, sentences × models)
    page_title = "Acceptability · CoLA"
    icon = ":material/spellcheck:"
    url_path = "acceptability"
    page_file = "pages/acceptability.py"
    blurb = "Acceptability (CoLA): score sentences with every model"
    fields = (Field("sentence", "Sentences", "s", "text", live="s"),)

    def make_item(self, values, analyse=None) -> tuple[ColaItem, None]:
        from explorer.tasks.items import _clean  # items imports the registry, which imports this module

        return ColaItem("input", _clean(values["sentence"], "The sentence"), None), None

