"""A task reaches the analysis surfaces through the registry alone.

``Trio`` (a premise and three endings) is registered here and nowhere else: the
CLI's line syntax, Inside a model's input box, Comparison and model inference
must all work for it without any of their code naming it.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from explorer.cli import build_parser, main
from explorer.compare import comparison_table, filter_table, metric_columns, scale_caption
from explorer.evaluate import EvalResult
from explorer.internals.inputs import example_text, item_text, parse
from explorer.registry import ModelEntry, infer_task
from explorer.tasks.base import ModelInput, Task, clean_field
from explorer.tasks.items import InputError, parse_cli_input
from explorer.tasks.registry import TASKS


@dataclass(frozen=True)
class TrioItem:
    id: str
    premise: str
    endings: tuple[str, ...]
    label: int | None = None


class Trio(Task):
    id = "trio"
    item_type = TrioItem
    name = "Trio"
    title = "Trio · three endings"
    label_names = {0: "ending 1", 1: "ending 2", 2: "ending 3"}
    positive = 2
    main_metric = "f1_macro"
    head = "multiple_choice"
    n_choices = 3
    cli_shape = "PREMISE|ENDING1|ENDING2|ENDING3"
    example_lines = ("비가 왔다. | 길이 젖었다. | 해가 떴다. | 눈이 왔다.",)
    label_words = frozenset({"left", "middle", "right"})
    aliases = ("three_way",)

    def encode(self, item: TrioItem, input_format: str | None = None) -> ModelInput:
        return ModelInput(item.premise, endings=item.endings, truncation="only_first")

    def values(self, item: TrioItem) -> dict[str, str]:
        return {"premise": item.premise, **{f"ending{k}": e for k, e in enumerate(item.endings, start=1)}}

    def length_text(self, item: TrioItem) -> str:
        return item.premise

    def parse_line(self, text: str, analyse=None) -> tuple[TrioItem, list[str]]:
        premise, *endings = self.line_fields(text)
        endings = tuple(clean_field(e, f"Ending {k}") for k, e in enumerate(endings, start=1))
        return TrioItem("input", clean_field(premise, "The premise"), endings), []


@pytest.fixture
def trio(monkeypatch) -> Trio:
    task = Trio()
    monkeypatch.setitem(TASKS, task.id, task)
    return task


def test_the_cli_line_syntax_reads_a_registered_task(trio):
    item = parse_cli_input("trio", " 비가 왔다. |길이 젖었다.| 해가 떴다. | 눈이 왔다.")
    assert item == TrioItem("input", "비가 왔다.", ("길이 젖었다.", "해가 떴다.", "눈이 왔다."))
    with pytest.raises(InputError, match=r"trio input needs 4 fields separated by '\|': PREMISE\|ENDING1"):
        parse_cli_input("trio", "비가 왔다. | 길이 젖었다.")
    with pytest.raises(InputError, match="Ending 2 is empty"):
        parse_cli_input("trio", "비가 왔다. | 길이 젖었다. |  | 눈이 왔다.")
    predict = build_parser().parse_args(["predict", "--model", "m", "--task", "trio", "a|b|c|d"])
    assert predict.task == "trio"


def test_the_cli_names_a_bad_input_of_a_registered_task_before_loading(trio, capsys):
    code = main(["predict", "--model", "never-loaded", "--task", "trio", "비가 왔다. | 길이 젖었다. | 해가 떴다. | 눈이 왔다.",
                 "한 필드만"])
    assert code == 2 and "input 2: trio input needs 4 fields" in capsys.readouterr().err


def test_inside_a_model_reads_a_registered_task_as_one_row_per_ending(trio):
    parsed = parse("trio", example_text("trio") + "\n한 필드만")
    assert [(r.choice, r.label) for r in parsed.rows] == [(0, "1·alt 1"), (1, "1·alt 2"), (2, "1·alt 3")]
    assert {r.first for r in parsed.rows} == {"비가 왔다."} and parsed.rows[2].second == "눈이 왔다."
    assert item_text(parsed.items[0], "trio") == "비가 왔다. | 길이 젖었다. | 해가 떴다. | 눈이 왔다."
    # The bad line is named once, with the shape to type.
    assert parsed.problems == ["line 2: trio input needs 4 fields separated by '|': PREMISE|ENDING1|ENDING2|ENDING3 "
                               "(got 1)."]


def test_comparison_gives_a_registered_task_its_column_and_main_metric(trio):
    result = EvalResult(model="trio-model", model_source="trio-model", task="trio", data={"name": "trio_dev.tsv"},
                        metrics={"n": 10, "accuracy": 0.7, "mcc": 0.4, "f1_macro": 0.55}, predictions=[], seconds=1.0)
    frame = comparison_table([ModelEntry(name="trio-model", source="trio-model", task="trio")], [result])
    assert "Trio F1" in metric_columns() and "Trio F1" in frame.columns
    ours = frame[frame["ours"]]
    assert list(ours["model"]) == ["trio-model"] and ours["Trio F1"].iloc[0] == pytest.approx(55.0)
    assert ours["data"].iloc[0] == "Trio: trio_dev.tsv" and ours["split"].iloc[0] == "dev"
    assert frame.loc[~frame["ours"], "Trio F1"].isna().all()  # no published source has it
    assert list(filter_table(frame, tasks=["Trio F1"])["model"]) == ["trio-model"]
    assert scale_caption() == "CoLA is Matthews correlation; SentiNeg, HellaSwag and Trio macro-F1; the others accuracy."


def test_a_registered_task_is_inferred_from_its_own_words(trio):
    assert infer_task({"finetuning_task": "three_way"})[0] == "trio"
    assert infer_task({"id2label": {"0": "left", "1": "middle", "2": "right"}})[0] == "trio"
    assert infer_task({}, "klue-trio-base") == ("trio", "folder name 'klue-trio-base'")
    # A multiple-choice head without other evidence stays COPA's, the task that declares that head.
    assert infer_task({"architectures": ["BertForMultipleChoice"]})[0] == "copa"

