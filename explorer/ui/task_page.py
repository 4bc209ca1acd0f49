"""The page of any task that asks for one item: ``render(task)``.

A task page asks for one item (a target and two sentences, a premise and two
alternatives, a passage and a question, one sentence, a context and its
endings...) and shows one row per model, so agreement across models reads at a
glance. Everything task-specific comes from the ``Task`` object: the form from
``task.fields``, the examples, the wording, how the form becomes an item
(``make_item``) and what to mark in it (``highlights``). The page itself names
no task, so a registered task gets its page from a one-line page file.
"""

from __future__ import annotations

from collections import Counter
import dataclasses
from dataclasses import dataclass
from typing import Any, Callable, Sequence
from urllib.parse import quote

import streamlit as st

from explorer.agreement import Agreement
from explorer.registry import ModelEntry
from explorer.service import Explorer, TaskRun
from explorer.tasks.base import Field, Highlight, Task
from explorer.tasks.items import InputError
from explorer.tasks.results import RIGHT, RIGHT_COLUMN, WRONG, agreement, csv_frame, judged_labels, results_frame, tally
from explorer.text import escape_markdown, join_words, script_note
from explorer.ui.acceptability import MAX_URL_CHARS
from explorer.ui.feedback import Timing, demo_note, predict_with_status, script_warning, stale_warning
from explorer.ui.model_picker import pick_models, usable_for
from explorer.ui.state import get_explorer, leave_legacy_multipage_mode
from explorer.ui.tables import MISSING, STALE, probability_colour

DISAGREES = "background-color: #fff3c4; color: #111"  # the yellow of split rows on the CoLA page
MARK_COLOURS = {RIGHT: "color: #1b6e20", WRONG: "color: #b3261e"}  # the words and signs say it without colour


def render(task: Task) -> None:
    """The whole page: title, examples, the form, the model picker, the run button and the results."""
    leave_legacy_multipage_mode()
    explorer = get_explorer()
    st.title(task.nav.title)
    if task.page_caption:
        st.caption(task.page_caption)

    url_complete, url_models = init_inputs(task)
    example_pills(task)
    form(task)
    models = choose_models(explorer, task, url_models)
    clicked = st.button(task.run_label, type="primary", key=f"{task.id}_run")

    if should_run(task, clicked, url_complete, url_models):
        run_models(explorer, task, models)

    if result := st.session_state.get(f"{task.id}_result"):
        stale = stale_warning(task.run_label, result.values != current_inputs(task),
                              [r.entry.name for r in result.runs] != [m.name for m in models])
        show_highlights(task.highlights(result.item, result.extra))
        show_errors(result.runs)
        if note := truncation_note(task, result.runs):
            st.info(note)
        script_warning(input_script_note(task, result.values))
        if models_table(task, result.item, result.runs, task.expected_label(result.values), stale):
            legend = task.legend()
            if task.input_formats:
                legend += " Input formats — " + format_help(task, result.runs)
            st.caption(legend)
            demo_note(result.runs)
            if caption := result.timing.caption():
                st.caption(caption)


def field_key(task: Task, field: Field) -> str:
    """The session-state key of a form field (``wic_target``, ``copa_premise`` ...)."""
    return f"{task.id}_{field.name}"


# --- the form -------------------------------------------------------------------------------------

def form(task: Task) -> None:
    """The task's fields in order; a field marked ``beside`` shares a row with the one before it."""
    rows = []
    for field in task.fields:
        if field.beside and rows:
            rows[-1].append(field)
        else:
            rows.append([field])
    for row in rows:
        places = st.columns(len(row)) if len(row) > 1 else [st]
        for place, field in zip(places, row):
            field_widget(place, task, field)


def field_widget(place: Any, task: Task, field: Field, key: str | None = None) -> None:
    """One field's widget, in ``place`` (the page or a column); its value lives in session state under ``key``
    (the task page's own key when None)."""
    key = key or field_key(task, field)
    if field.kind == "choice":
        labels = dict(field.options)
        place.radio(field.label, list(labels), key=key, format_func=labels.get, horizontal=True)
    elif field.kind == "text":
        place.text_area(field.label, key=key, height=field.height, placeholder=field.placeholder or None,
                        max_chars=field.max_chars)
    else:
        place.text_input(field.label, key=key, placeholder=field.placeholder or None, max_chars=field.max_chars)


# --- examples -------------------------------------------------------------------------------------

def task_examples(task: Task) -> list[dict[str, str]]:
    """Example inputs for the pills: the task's hand-picked ones."""
    return [dict(e) for e in task.examples]


def _fill_example(task: Task, examples: list[dict[str, str]]) -> None:
    """Pill callback: the clicked example replaces the form's fields, then the pill clears."""
    pill = f"{task.id}_example"
    picked = st.session_state.get(pill)
    st.session_state[pill] = None
    if picked is None:
        return
    for field in task.fields:
        st.session_state[field_key(task, field)] = task.form_value(field, examples[picked].get(field.name, ""))


def example_pills(task: Task) -> None:
    """Clickable examples that fill the form (nothing when the task has none)."""
    examples = task_examples(task)
    if not examples:
        return
    st.pills(
        "Examples — click one to fill the form",
        range(len(examples)),
        format_func=lambda i: task.example_label(examples[i]),
        key=f"{task.id}_example",
        on_change=_fill_example,
        args=(task, examples),
    )


# --- URL state ------------------------------------------------------------------------------------

def init_inputs(task: Task) -> tuple[bool, list[str]]:
    """Seeds the form when its widgets have no state yet: from the URL, else from the last result.

    Streamlit forgets a page's widget values when the user visits another
    page; the stored result keeps what was scored, so coming back shows the
    inputs beside their table.

    Returns:
        Whether the URL holds a complete item (every typed field non-empty; a
        choice has its default), and the model names it lists (``m``, repeated).
    """
    complete = True
    last = st.session_state.get(f"{task.id}_result")
    for field in task.fields:
        value = st.query_params.get(field.url, "")
        if field.kind != "choice":
            complete = complete and bool(value.strip())
        key = field_key(task, field)
        if key not in st.session_state:
            if not value and last is not None:
                value = last.values.get(field.name, "")
            st.session_state[key] = task.form_value(field, value) if value else field.initial
    return complete, st.query_params.get_all("m")


def current_inputs(task: Task) -> dict[str, str]:
    """What the form holds now, by field name."""
    return {f.name: st.session_state.get(field_key(task, f), f.initial) or "" for f in task.fields}


def write_url_state(task: Task, values: dict[str, str], model_names: list[str]) -> None:
    """Puts the inputs and models in the URL so a copied link reproduces the table.

    Inputs longer than a link can carry are left out (the models stay), with a note.
    """
    params: dict[str, Any] = {field.url: values[field.name] for field in task.fields}
    if sum(len(quote(v)) for v in params.values()) > MAX_URL_CHARS:
        st.caption("The inputs are too long to share in a link; the URL keeps only the models.")
        params = {}
    st.query_params.from_dict({**params, "m": model_names})


# --- models -------------------------------------------------------------------------------------

def no_models_help(explorer: Explorer, task: Task) -> None:
    """Explains how to add a model when none is registered for the task."""
    from explorer.defaults.from_data import RECIPES

    folder = explorer.settings.checkpoints_dir
    from_files = (
        f"- **Train one from the NIKL 2021 or KoBEST files**: `python -m explorer prepare --data DIR --tasks {task.id}` "
        f"(or `make models DATA=DIR TASKS={task.id}`) finds the train and dev files in DIR, trains and registers it; "
        "the README gives the recipe and what it took on a CPU.\n"
    ) if task.id in RECIPES else ""
    st.info(
        f"No {task.name} model is registered yet. To add one:\n\n"
        + from_files +
        f"- **Drop a checkpoint folder** (saved with `save_pretrained`) into `{folder}` — "
        f"the task is read from `config.json` (`finetuning_task = \"{task.id}\"`) or the folder name (`klue-bert-{task.id}`).\n"
        f"- **Or fine-tune one offline**: `python -m explorer finetune --task {task.id} --base multilingual-e5-small "
        f"--train TRAIN.tsv --dev DEV.tsv --out {folder}/e5-{task.id}`\n"
        f"- **Or list it** in `{explorer.settings.models_toml.name}` with `task = \"{task.id}\"`.\n\n"
        "The Home page shows every registered model and which task it was given."
    )


def choose_models(explorer: Explorer, task: Task, preselected: Sequence[str]) -> list[ModelEntry]:
    """The task's model picker, or help on adding a model when there is none."""
    entries, _ = explorer.registry()
    usable, broken = usable_for(entries, task.id)
    if not usable and not broken:
        no_models_help(explorer, task)
        return []
    return pick_models(entries, task.id, key=f"{task.id}_models", preselected=preselected)


# --- running --------------------------------------------------------------------------------------

@dataclass
class TaskResult:
    """What a page shows after scoring: the inputs as typed, the item, extras, each model's run."""

    values: dict[str, str]
    item: Any
    extra: Any
    runs: list[TaskRun]
    timing: Timing = dataclasses.field(default_factory=Timing)


def run_models(explorer: Explorer, task: Task, models: Sequence[ModelEntry]) -> None:
    """Builds the item from the form, runs every chosen model, stores the result, updates the URL.

    What cannot form an item (an empty field, a bad value) is shown as a warning, never a traceback.
    """
    result_key = f"{task.id}_result"
    values = current_inputs(task)
    blank = [f.what for f in task.fields if not values[f.name].strip()]
    try:
        if blank:
            raise InputError(f"Fill in {join_words(blank)}.")
        item, extra = task.make_item(values, analyse=kiwi_analyse(explorer) if task.uses_morphemes else None)
    except InputError as exc:
        st.warning(f"{exc} Type your own, or click an example above.")
        st.session_state.pop(result_key, None)
        return
    if not models:
        st.warning("Pick at least one model.")
        return
    runs, timing = predict_with_status(explorer, models, task.id, [item])
    st.session_state[result_key] = TaskResult(values, item, extra, runs, timing)
    write_url_state(task, values, [m.name for m in models])


def input_script_note(task: Task, values: dict[str, str]) -> str:
    """Which typed fields have little or no Korean (``explorer.text.script_note``); "" when all are Korean.

    A task with one typed field calls it "this input"; choices (COPA's cause/effect) are not typed.
    """
    typed = [f for f in task.fields if f.kind != "choice"]
    if len(typed) == 1:
        return script_note({"this input": values.get(typed[0].name, "")})
    return script_note({f.what: values.get(f.name, "") for f in typed})


def should_run(task: Task, clicked: bool, url_complete: bool, url_models: Sequence[str]) -> bool:
    """Runs on a click, or once on a shared link's first load."""
    return clicked or (url_complete and bool(url_models) and f"{task.id}_result" not in st.session_state)


def kiwi_analyse(explorer: Explorer) -> Callable[[str], Sequence] | None:
    """Kiwi's morpheme analysis (for finding inflected words), or None (with a note) if Kiwi fails."""
    try:
        return explorer.kiwi().morphemes
    except (ImportError, OSError, RuntimeError, ValueError) as exc:
        st.caption(f"Kiwi is unavailable ({exc}); the target is found by exact match only.")
        return None


def show_errors(runs: Sequence[TaskRun]) -> None:
    for run in runs:
        if run.error:
            st.error(f"**{run.entry.name}**: {run.error}")


# --- the table ------------------------------------------------------------------------------------

def agreement_line(agreed: Agreement) -> str:
    """The agreement summary as markdown: green when every model agrees, orange otherwise."""
    if agreed.total == 0:
        return "**Majority:** none · no model could judge this input (see the notes)"
    if agreed.verdict == "split":
        return (
            f"**Majority:** :orange-background[split] · no majority: {agreed.agreeing} of {agreed.total} models "
            f"on each side ({agreed.share:.0%})"
        )
    colour = "green" if agreed.agreeing == agreed.total else "orange"
    models = "model" if agreed.total == 1 else "models"
    return (
        f"**Majority:** :{colour}-background[{agreed.verdict}] · {agreed.agreeing} of {agreed.total} {models} "
        f"agree ({agreed.share:.0%})"
    )


def expected_line(task: Task, item: Any, expected: int, labels: Sequence[int | None]) -> str:
    """The known answer of a built-in example and how many models gave it, as markdown."""
    return (f"**Expected answer:** {escape_markdown(task.answer(item, expected))} (a built-in example) · "
            f"{tally(labels, expected)}")


def models_table(task: Task, item: Any, runs: Sequence[TaskRun], expected: int | None = None,
                 stale: bool = False) -> Agreement | None:
    """Agreement summary, then rows = models with probabilities coloured, then the CSV download.

    Args:
        expected: The right answer when the input is a built-in example: the table then marks each
            model's answer right or wrong, and a line says how many were right. None: no marks.
        stale: The table answers an earlier input: it is shown grey, without colours.

    Returns:
        The agreement, or None when no model answered.
    """
    frame = results_frame(task.id, item, runs, expected)
    if frame.empty:
        return None
    labels = judged_labels(runs)
    agreed = agreement(task.id, labels)
    st.markdown(agreement_line(agreed))
    if expected is not None:
        st.markdown(expected_line(task, item, expected, labels))
    shown = frame.drop(columns=["notes"]) if frame["notes"].eq("").all() else frame
    probs = task.prob_columns
    votes = Counter(label for label in labels if label is not None).most_common(1)
    top_label = votes[0][0] if votes else None
    # Yellow answers disagree with the majority (on a split, every answer is yellow); no verdict, no mark.
    marks = ["" if label is None else DISAGREES if agreed.verdict == "split" or label != top_label else ""
             for label in labels]
    if stale:
        styler = shown.style.map(lambda _: STALE)
    else:
        styler = shown.style.map(probability_colour, subset=probs).apply(lambda _: marks, subset=[task.verdict_column])
        if RIGHT_COLUMN in shown:
            styler = styler.map(lambda m: MARK_COLOURS.get(m, ""), subset=[RIGHT_COLUMN])
    styler = styler.format({c: "{:.3f}" for c in probs}, na_rep=MISSING)
    st.dataframe(
        styler,
        hide_index=True,
        width="stretch",
        key=f"{task.id}-table",
        placeholder=MISSING,  # a model that could not judge has no probability: a dash, never "None"
        column_config={"model": st.column_config.TextColumn("model", pinned=True)},
    )
    st.download_button(
        "Download CSV",
        csv_frame(task.id, item, frame, agreed, expected).to_csv(index=False).encode("utf-8-sig"),  # BOM: Excel reads Hangul
        file_name=f"{task.id}.csv",
        mime="text/csv",
        key=f"{task.id}-csv",
    )
    return agreed


def format_help(task: Task, runs: Sequence[TaskRun]) -> str:
    """One line per input format the answering models use, for a caption."""
    used = []
    for run in runs:
        if run.error is None:
            style = (run.entry.input_format or task.default_format or "").partition(":")[0]
            if style not in used:
                used.append(style)
    return " · ".join(f"**{s}**: {task.input_formats.get(s, '?')}" for s in used)


def truncation_note(task: Task, runs: Sequence[TaskRun]) -> str | None:
    """Says how many tokens each model cut from the one input that may be cut; None when none was cut.

    Only for a task that names that input (``cut_side``); other tasks note cut tokens in the table.
    """
    if not task.cut_side:
        return None
    cut = [
        f"**{r.entry.name}** read {r.predictions[0].n_tokens} tokens and cut {r.predictions[0].n_dropped}"
        for r in runs
        if r.error is None and r.predictions and r.predictions[0].n_dropped
    ]
    if not cut:
        return None
    return (
        f"The {task.cut_side} was too long for " + ("this model" if len(cut) == 1 else f"{len(cut)} models") + ": "
        + "; ".join(cut) + "." + (f" {task.cut_note}" if task.cut_note else "")
    )


# --- marked spans (WiC: where the target is) ------------------------------------------------------

escape = escape_markdown  # user text inside st.markdown(unsafe_allow_html=True): HTML and markdown syntax alike


def highlight(text: str, span: tuple[int, int] | None) -> str:
    """The text as safe HTML with the span wrapped in ``<mark>``."""
    if span is None:
        return escape(text)
    a, b = span
    return f"{escape(text[:a])}<mark>{escape(text[a:b])}</mark>{escape(text[b:])}"


def show_highlights(marks: Sequence[Highlight]) -> None:
    """Each marked text, how its span was found, and its warning when there is one."""
    for mark in marks:
        st.markdown(
            f"**{mark.label}** &nbsp; {highlight(mark.text, mark.span)} &nbsp; "
            f"<span style='color: grey; font-size: 0.85em'>({escape(mark.how)})</span>",
            unsafe_allow_html=True,
        )
        if mark.problem:
            st.warning(mark.problem)
