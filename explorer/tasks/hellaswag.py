"""KoBEST HellaSwag: which of four endings follows the context?

The context runs to several sentences (up to ~650 characters in KoBEST) and
each ending is one sentence. A multiple-choice head reads ``(context, ending)``
four times and scores them jointly; a sequence-classification checkpoint is
used as a pair classifier (P(right) per ending, the highest wins). Only the
context may be cut, never an ending: a cut ending would be judged on words the
model never saw.

The published files have no ID column (an item's id is its line number) and
count labels from 0 (COPA's ``Answer`` counts from 1).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from explorer.data.readers import Layout, Row
from explorer.tasks.base import Field, ModelInput, Task, clean_field, short, with_note

N_ENDINGS = 4


@dataclass(frozen=True, slots=True)
class HellaswagItem:
    """One context and its candidate endings.

    Attributes:
        id: The line number in the file (the files have no ID column).
        context: The ``context`` column.
        endings: Columns ``choice1`` .. ``choice4``.
        label: 0-3, the index into ``endings``, None when unlabelled.
        row: Line number in the file (header = 1).
    """

    id: str
    context: str
    endings: tuple[str, ...]
    label: int | None
    row: int = 0


def _row(row: Row, seen: Counter[str]) -> HellaswagItem:
    endings = tuple(row.text(f"choice{k}") for k in range(1, N_ENDINGS + 1))
    label = row.class_id("label", N_ENDINGS)  # counted from 0
    return HellaswagItem(row.unique_id(seen, None), row.text("context"), endings, label, row.line)


LAYOUTS = (
    Layout("kobest_hellaswag", "hellaswag", "KoBEST v1 HellaSwag",
           ("context", "choice1", "choice2", "choice3", "choice4", "label"),
           ("context", "choice1", "choice2", "choice3", "choice4"), ("label",), "label", _row),
)


class Hellaswag(Task):
    id = "hellaswag"
    item_type = HellaswagItem
    name = "HellaSwag"
    title = "HellaSwag · what happens next"
    label_names = {k: f"ending {k + 1}" for k in range(N_ENDINGS)}
    positive = N_ENDINGS - 1
    main_metric = "f1_macro"  # KoBEST's metric for every task
    verdict_column = "choice"
    head = "multiple_choice"
    n_choices = N_ENDINGS
    cli_shape = "CONTEXT|ENDING1|ENDING2|ENDING3|ENDING4"
    layouts = LAYOUTS
    data_files = ("hellaswag/*.tsv",)
    aliases = ("hella_swag", "kobest_hellaswag")
    counterfactual_edits = "fields"

    def encode(self, item: HellaswagItem, input_format: str | None = None) -> ModelInput:
        return ModelInput(item.context, endings=item.endings, truncation="only_first")

    def answer(self, item: HellaswagItem, label: int) -> str:
        return f"{label + 1}: {short(item.endings[label], 40)}"

    def text(self, item: HellaswagItem) -> str:
        endings = " ".join(f"{k}) {ending}" for k, ending in enumerate(item.endings, start=1))
        return f"{item.context} {endings}"

    def values(self, item: HellaswagItem) -> dict[str, str]:
        return {"context": item.context, **{f"ending{k}": e for k, e in enumerate(item.endings, start=1)}}

    def length_text(self, item: HellaswagItem) -> str:
        return item.context

    def editable_fields(self, item: HellaswagItem) -> list[tuple[str, str]]:
        return [("context", item.context), *((f"ending{k}", e) for k, e in enumerate(item.endings, start=1))]

    def with_field(self, item: HellaswagItem, field: str, text: str, edit_span=None, analyse=None) -> HellaswagItem:
        from dataclasses import replace

        self._check_editable(item, field)
        if field == "context":
            return replace(item, context=text)
        k = int(field.removeprefix("ending")) - 1
        return replace(item, endings=(*item.endings[:k], text, *item.endings[k + 1 :]))

    # --- the page
    page_title = "What happens next · HellaSwag"
    icon = ":material/fast_forward:"
    blurb = "What happens next (HellaSwag): pick the ending that follows"
    page_caption = ("Which ending follows the context? Long contexts are cut to fit each model; an ending never is.")
    run_label = "Pick an ending"
    fields = (
        Field("context", "Context", "c", "text", "아이가 공원에서 자전거를 타다가 넘어졌다. 무릎에서 피가 났다.", height=120),
        *(Field(f"ending{k}", f"Ending {k}", f"e{k}") for k in range(1, N_ENDINGS + 1)),
    )
    examples = (
        {"context": "아이가 공원에서 자전거를 타다가 넘어졌다. 무릎에서 피가 났다.",
         "ending1": "아이는 자전거 가게에 가서 새 자전거를 샀다.", "ending2": "엄마가 달려와 상처에 반창고를 붙여 주었다.",
         "ending3": "아이는 하늘을 날아 집으로 돌아갔다.", "ending4": "공원의 나무들이 모두 쓰러졌다.", "note": "엄마가 반창고를 (a plaster for the knee)", "expected": "ending 2"},
        {"context": "물을 끓이려고 냄비를 가스레인지에 올렸다. 불을 켜고 잠시 기다렸다.",
         "ending1": "냄비가 차갑게 얼어붙었다.", "ending2": "가스레인지가 노래를 불렀다.",
         "ending3": "물이 보글보글 끓기 시작했다.", "ending4": "냄비를 냉장고에 넣었다.", "note": "물이 끓는다 (the water boils)", "expected": "ending 3"},
    )

    def example_label(self, example) -> str:
        return with_note(short(example["context"], 24), example)

    def make_item(self, values, analyse=None) -> tuple[HellaswagItem, None]:
        endings = tuple(clean_field(values[f"ending{k}"], f"Ending {k}") for k in range(1, N_ENDINGS + 1))
        return HellaswagItem("input", clean_field(values["context"], "The context"), endings, None), None
