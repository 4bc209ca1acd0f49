"""The generic task page works for any registered task, not only WiC, COPA and BoolQ.

Two throw-away tasks are registered for one test each: one sentence → two
classes (the shape of KoBEST SentiNeg) and a context with four endings (the
shape of KoBEST HellaSwag). Their pages come from ``render(task)`` alone, and
their tables must show what ``predict_items`` gives on the same item.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import SimpleNamespace
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

import explorer.registry as model_registry
from explorer.tasks import registry as task_registry
from explorer.tasks.base import Field, ModelInput, Task
from explorer.tasks.items import InputError

REPO = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Sentence:
    id: str
    text: str
    label: int | None = None


@dataclass(frozen=True)
class Story:
    id: str
    context: str
    endings: tuple[str, ...]
    label: int | None = None


def _filled(values, name: str) -> str:
    if not values[name].strip():
        raise InputError(f"{name} is empty.")
    return values[name].strip()


class Mood(Task):
    """One sentence, negative or positive; everything else left at the defaults."""

    id = "mood"
    item_type = Sentence
    name = "Mood"
    title = "Mood · sentiment"
    label_names = {0: "negative", 1: "positive"}
    cli_shape = "TEXT"
    fields = (Field("text", "Text", "text", "text", "배송이 빨라서 좋아요."),)
    examples = ({"text": "별로네요 글씨가 지워져요!", "note": "negative"}, {"text": "만족입니다", "note": "positive"})

    def encode(self, item, input_format=None):
        return ModelInput(item.text)

    def values(self, item):
        return {"text": item.text}

    def make_item(self, values, analyse=None):
        return Sentence("input", _filled(values, "text")), None


class Ending(Task):
    """A context and four endings; no question field, a 2×2 grid of endings."""

    id = "ending"
    item_type = Story
    name = "Ending"
    title = "Ending · which ending"
    label_names = {k: f"ending {k + 1}" for k in range(4)}
    head = "multiple_choice"
    n_choices = 4
    verdict_column = "choice"
    cli_shape = "CONTEXT|E1|E2|E3|E4"
    fields = (
        Field("context", "Context", "c", "text", height=120),
        *(Field(f"ending{k}", f"Ending {k}", f"e{k}", beside=k % 2 == 0) for k in range(1, 5)),
    )
    examples = ({"context": "민수는 우산을 챙겼다.", "ending1": "비가 왔다.", "ending2": "해가 떴다.", "ending3": "눈이 왔다.",
                 "ending4": "바람이 불었다.", "note": "1"},)

    def encode(self, item, input_format=None):
        return ModelInput(item.context, endings=item.endings, truncation="only_first")

    def values(self, item):
        return {"context": item.context, **{f"ending{k}": e for k, e in enumerate(item.endings, start=1)}}

    def make_item(self, values, analyse=None):
        endings = tuple(_filled(values, f"ending{k}") for k in range(1, 5))
        return Story("input", _filled(values, "context"), endings), None


@pytest.fixture
def register(tmp_path, monkeypatch, make_checkpoint):
    """Registers a throw-away task with one tiny sequence classifier, and writes its one-line page file."""

    def add(task: Task) -> AppTest:
        monkeypatch.setitem(task_registry.TASKS, task.id, task)
        monkeypatch.setattr(model_registry, "TASKS", (*model_registry.TASKS, task.id))
        source = make_checkpoint("bert", name=f"{task.id}-src", seed=3)
        toml = tmp_path / "models.toml"
        toml.write_text(f'[[model]]\nname = "tiny-{task.id}"\npath = "{source}"\ntask = "{task.id}"\n', encoding="utf-8")
        monkeypatch.setenv("EXPLORER_CHECKPOINTS", str(tmp_path / "none"))
        monkeypatch.setenv("EXPLORER_MODELS", str(toml))
        monkeypatch.setenv("EXPLORER_DEFAULTS", "0")
        monkeypatch.setenv("EXPLORER_DEVICE", "cpu")
        st.cache_resource.clear()
        page = tmp_path / f"{task.id}.py"
        page.write_text("from explorer.tasks.registry import get\nfrom explorer.ui.task_page import render\n\n"
                        f"render(get({task.id!r}))\n", encoding="utf-8")
        return AppTest.from_file(str(page), default_timeout=180)

    yield add
    st.cache_resource.clear()


def _expected(task: Task, item):
    from explorer.loading import load_model
    from explorer.service import Explorer
    from explorer.settings import load_settings
    from explorer.tasks.predict import predict_items

    entry = next(e for e in Explorer(load_settings([])).registry()[0] if e.task == task.id)
    return predict_items(load_model(entry, "cpu"), task.id, [item])[0]


def test_a_one_sentence_task_gets_a_working_page(register):
    task = Mood()
    at = register(task).run()
    assert not at.exception
    assert at.title[0].value == "Mood · sentiment"
    assert [w.key for w in at.text_area] == ["mood_text"] and not at.text_input and not at.radio
    assert at.button(key="mood_run").label == "Run"

    at.button(key="mood_run").click().run()  # nothing typed: a warning, not a traceback
    assert not at.exception and any(w.value.startswith("Fill in the text.") for w in at.warning)

    at.pills(key="mood_example").set_value(1).run()
    assert at.text_area(key="mood_text").value == "만족입니다"
    at.button(key="mood_run").click().run()
    assert not at.exception and not at.error
    frame = at.dataframe[0].value.set_index("model")
    pred = _expected(task, Sentence("input", "만족입니다"))
    assert frame.loc["tiny-mood", "P(positive)"] == pytest.approx(pred.probs[1], abs=1e-5)
    assert frame.loc["tiny-mood", "verdict"] == task.label_names[pred.label]
    assert any(c.value.startswith("P(positive): green = positive, red = negative") for c in at.caption)
    assert at.query_params["text"] == "만족입니다" and at.query_params["m"] == "tiny-mood"


def test_a_four_ending_task_gets_a_working_page_and_link(register):
    task = Ending()
    story = Story("input", "민수는 우산을 챙겼다.", ("비가 왔다.", "해가 떴다.", "눈이 왔다.", "바람이 불었다."))
    at = register(task)
    for param, value in {"c": story.context, **{f"e{k}": e for k, e in enumerate(story.endings, start=1)}}.items():
        at.query_params[param] = value
    at.query_params["m"] = "tiny-ending"
    at.run()  # a complete link runs at once
    assert not at.exception and not at.error
    assert [w.key for w in at.text_input] == [f"ending_ending{k}" for k in range(1, 5)]
    frame = at.dataframe[0].value.set_index("model")
    pred = _expected(task, story)
    assert len(pred.probs) == 4
    for k in range(4):
        assert frame.loc["tiny-ending", f"P(ending {k + 1})"] == pytest.approx(pred.probs[k], abs=1e-5)
    assert frame.loc["tiny-ending", "choice"] == f"ending {pred.label + 1}"
    assert any("each alternative" in c.value for c in at.caption)


def test_every_registered_task_has_its_page_file_and_nav_facts():
    """A task's page file exists; a generic one renders exactly its own task (the CoLA page is its own)."""
    paths = set()
    for task in task_registry.TASKS.values():
        nav = task.nav
        page = REPO / nav.file
        assert page.is_file(), f"{task.id}: {nav.file} is missing"
        text = page.read_text(encoding="utf-8")
        assert "render(" not in text or f'render(get("{task.id}"))' in text
        assert nav.title and nav.blurb and nav.url_path and nav.icon
        paths.add(nav.url_path)
    assert len(paths) == len(task_registry.TASKS)


def test_a_registered_task_is_listed_on_home_and_its_page_opens_from_the_app(register, tmp_path, monkeypatch):
    """Registering a task is the whole change: Home links it, names its id, and the app serves its page."""
    register(Mood())
    monkeypatch.setattr(Mood, "page_file", str(tmp_path / "mood.py"))
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=180).run()
    assert not at.exception
    links = [link.proto.label for link in at.get("page_link")]
    ids = list(task_registry.TASKS)
    assert links[: len(ids)] == [t.nav.blurb for t in task_registry.TASKS.values()]
    assert links[len(ids) - 1] == "Mood · sentiment"  # the title stands in for a blurb the task does not set
    assert any(f"# {', '.join(ids[:-1])} or mood\n" in m.value for m in at.markdown)
    at.switch_page(str(tmp_path / "mood.py")).run()
    assert not at.exception and at.title[0].value == "Mood · sentiment"


def test_a_task_without_models_says_how_to_train_one_from_the_files(tmp_path, monkeypatch):
    """The empty page names the one command that trains a model from NIKL/KoBEST files, where a recipe exists."""
    for name, value in {"EXPLORER_CHECKPOINTS": tmp_path / "none", "EXPLORER_MODELS": tmp_path / "models.toml",
                        "EXPLORER_CACHE": tmp_path / "cache", "EXPLORER_DEFAULTS": "0"}.items():
        monkeypatch.setenv(name, str(value))
    st.cache_resource.clear()
    at = AppTest.from_file(str(REPO / "pages" / "sentineg.py"), default_timeout=180).run()
    assert not at.exception
    help_text = " ".join(box.value for box in at.info)
    assert "No SentiNeg model is registered yet" in help_text
    assert "python -m explorer prepare --data DIR --tasks sentineg" in help_text
    assert "make models DATA=DIR TASKS=sentineg" in help_text

    # A task with no recipe (registered by a user) is not promised one.
    from explorer.settings import load_settings
    from explorer.ui.task_page import no_models_help

    calls = []
    monkeypatch.setattr("explorer.ui.task_page.st.info", calls.append)
    no_models_help(SimpleNamespace(settings=load_settings([])), Mood())
    assert "No Mood model" in calls[0] and "prepare --data" not in calls[0]
