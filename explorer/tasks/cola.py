"""CoLA: is this Korean sentence acceptable?

Scored like every other task: each scorer (fine-tuned transformers, the Kiwi
language model) answers through ``Scorer.predict`` with ``Prediction``s, and the
CoLA page's sentences × models table is ``explorer.tasks.results.matrix_frame``.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from explorer.data.readers import Layout, Row
from explorer.tasks.base import Field, ModelInput, Task, clean_field


@dataclass(frozen=True, slots=True)
class ColaItem:
    """One CoLA sentence.

    The NIKL ``source_annotation`` column (``*``, ``?``, ``#`` or empty) restates
    the label, so it is deliberately not read at all: nothing built from a
    ``ColaItem`` can leak it into a model's input.

    Attributes:
        id: Unique within the dataset: the test file's ``index``, or for
            train/dev ``source#k`` (``source`` names a group of related
            sentences and repeats; ``k`` counts from 1 within the group).
        sentence: The sentence, surrounding whitespace stripped.
        label: 1 acceptable, 0 unacceptable, None when the file has no labels.
        source: The ``source`` column (train/dev only); for grouping, not model input.
        row: Line number in the file (header = 1).
    """

    id: str
    sentence: str
    label: int | None
    source: str | None = None
    row: int = 0


def _label(row: Row) -> int | None:
    return row.binary("acceptability_label", "0 or 1")


def _train_row(row: Row, seen: Counter[str]) -> ColaItem:
    label, sentence = _label(row), row.text("sentence")
    # ``source`` groups related sentences (e.g. a minimal pair), so it repeats.
    source = row.text("source")
    seen[source] += 1
    return ColaItem(f"{source}#{seen[source]}", sentence, label, source, row.line)


def _test_row(row: Row, seen: Counter[str]) -> ColaItem:
    label, sentence = _label(row), row.text("sentence")
    return ColaItem(row.unique_id(seen, "index"), sentence, label, None, row.line)


LAYOUTS = (
    Layout(
        "nikl2021_cola", "cola", "NIKL 2021 CoLA train/dev",
        ("source", "acceptability_label", "source_annotation", "sentence"),
        ("source", "sentence"), ("acceptability_label", "source_annotation"), "acceptability_label", _train_row,
    ),
    Layout(
        "nikl2021_cola_test", "cola", "NIKL 2021 CoLA test",
        ("index", "sentence", "acceptability_label"),
        ("index", "sentence"), ("acceptability_label",), "acceptability_label", _test_row,
    ),
)


class Cola(Task):
    id = "cola"
    item_type = ColaItem
    name = "CoLA"
    title = "CoLA · acceptability"
    label_names = {0: "unacceptable", 1: "acceptable"}
    main_metric = "mcc"  # NIKL ranks CoLA by Matthews correlation: the classes are unbalanced
    cli_shape = "SENTENCE"
    layouts = LAYOUTS
    data_files = ("NIKL_CoLA_*.tsv",)

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
    examples = (  # hand-picked; each note gives the expected answer
        {"sentence": "민수는 어제 도서관에서 책을 읽었다.", "note": "정문 (acceptable)", "expected": "acceptable"},
        {"sentence": "할머니께서 시장에서 떡을 파셨다.", "note": "정문: 높임 -시- + ㄹ 탈락 (acceptable: honorific, ㄹ-drop)", "expected": "acceptable"},
        {"sentence": "지민이 어제 동생과 영화를 봤다.", "note": "정문 (acceptable)", "expected": "acceptable"},
        {"sentence": "책가 책상 위에 있다.", "note": "조사 오류: 책가 → 책이 (particle allomorph)", "expected": "unacceptable"},
        {"sentence": "서연은 시장에서 사과을 샀다.", "note": "조사 오류: 사과을 → 사과를 (particle allomorph)", "expected": "unacceptable"},
        {"sentence": "준호는 어제 집로 갔다.", "note": "조사 오류: 집로 → 집으로 (particle allomorph)", "expected": "unacceptable"},
        {"sentence": "동생이 어제 공원에서 자전거를 타었다.", "note": "어미 오류: 타었다 → 탔다 (verb ending)", "expected": "unacceptable"},
        {"sentence": "요즘 날씨가 따뜻한다.", "note": "어미 오류: 따뜻한다 → 따뜻하다 (adjective + -ㄴ다)", "expected": "unacceptable"},
        {"sentence": "민수는 어제 부산에 갈 것이다.", "note": "시제 오류: 어제 + 미래 → 갔다 (tense vs. time adverb)", "expected": "unacceptable"},
        {"sentence": "지훈은 내일 친구를 만났다.", "note": "시제 오류: 내일 + 과거 → 만날 것이다 (tense vs. time adverb)", "expected": "unacceptable"},
        {"sentence": "할머니께서 방에서 잤다.", "note": "높임 오류: 께서 + 잤다 → 주무셨다 (honorific agreement)", "expected": "unacceptable"},
        {"sentence": "나는 어제 학교에 가셨다.", "note": "높임 오류: 1인칭에 -시- → 갔다 (self-honorification)", "expected": "unacceptable"},
    )

    # Heads, labels and optional hooks.
    config_labels = {0: "unacceptable", 1: "acceptable"}

    def editable_fields(self, item: ColaItem) -> list[tuple[str, str]]:
        return [("sentence", item.sentence)]

    def demo_data(self, n_train: int, n_dev: int) -> tuple[list, list]:
        """Generated sentences split by source sentence, so dev minimal pairs come from unseen sources."""
        import random

        from explorer.defaults.korean import generate_cola

        examples = generate_cola(n_train + n_dev, seed=13)
        sources = sorted({e.source for e in examples})
        random.Random(7).shuffle(sources)
        dev_sources = set(sources[: max(1, len(sources) * n_dev // (n_train + n_dev))])
        to_item = lambda k, e: ColaItem(f"gen-{k}", e.sentence, e.label)  # noqa: E731
        train = [to_item(k, e) for k, e in enumerate(examples) if e.source not in dev_sources]
        dev = [to_item(k, e) for k, e in enumerate(examples) if e.source in dev_sources]
        return train, dev


    shape_help = "one sentence per line; `first | second` makes a sentence pair (to see segment ids)"
    # Of different lengths in any tokenizer (5, 5 and 6 eojeol): Inside a model pads the shorter ones, so its mask
    # check has padding to show even with a vocabulary of whole eojeol (the demos' is).
    example_lines = ("나는 어제 학교에 갔다.", "책가 책상 위에 있다.", "할머니께서 어제 시장에서 떡을 파셨다.")
    counterfactual_edits = "sentence"
    label_words = frozenset({"acceptable", "grammatical", "unacceptable", "ungrammatical", "허용", "적격", "비문"})

    def parse_line(self, text: str, analyse=None) -> tuple[ColaItem, list[str]]:
        return make_cola(*self.line_fields(text)), []

    def cli_json_fields(self, item: ColaItem, pred) -> dict:
        return {"sentence": item.sentence, "p_acceptable": pred.p1}


    def make_item(self, values, analyse=None) -> tuple[ColaItem, None]:
        return ColaItem("input", clean_field(values["sentence"], "The sentence"), None), None


def make_cola(sentence: str) -> ColaItem:
    """A typed sentence as an item (cleaned; InputError when nothing is left)."""
    return ColaItem("input", clean_field(sentence, "The sentence"), None)
