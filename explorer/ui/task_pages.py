"""Shared pieces of the WiC, COPA and BoolQ pages.

Each page asks for one item (a target and two sentences, a premise and two
alternatives, a passage and a question) and shows one row per model, so
agreement across models reads at a glance. This module holds what the three
pages share: inputs kept in session state and in the URL, clickable examples,
running the models, the coloured models table with its agreement summary and
CSV, and the WiC target highlighting.
"""

from __future__ import annotations

import html
import re
from collections import Counter
from dataclasses import dataclass
from typing import Any, Callable, Sequence
from urllib.parse import quote

import streamlit as st

from explorer.agreement import Agreement
from explorer.registry import TASK_NAMES, ModelEntry
from explorer.service import Explorer, TaskRun
from explorer.tasks import boolq as boolq_task
from explorer.tasks import copa as copa_task
from explorer.tasks import wic as wic_task
from explorer.tasks.items import QUESTIONS, InputError
from explorer.tasks.results import (
    PROB_COLUMNS,
    VERDICT_COLUMN,
    agreement,
    csv_frame,
    judged_labels,
    results_frame,
    short,
)
from explorer.ui.acceptability import MAX_URL_CHARS
from explorer.ui.model_picker import pick_models, usable_for
from explorer.ui.tables import probability_colour

DISAGREES = "background-color: #fff3c4; color: #111"  # the yellow of split rows on the CoLA page

# Form fields per task: URL parameter → field name (the key of a demo input).
# A field's widget key in session state is ``{task}_{field}``.
URL_FIELDS: dict[str, dict[str, str]] = {
    "wic": {"t": "target", "s1": "sentence1", "s2": "sentence2"},
    "copa": {"p": "premise", "q": "question", "a1": "alternative1", "a2": "alternative2"},
    "boolq": {"passage": "passage", "q": "question"},
}
FIELD_LABELS = {
    "target": "the target word", "sentence1": "sentence 1", "sentence2": "sentence 2", "premise": "the premise",
    "alternative1": "alternative 1", "alternative2": "alternative 2", "passage": "the passage", "question": "the question",
}
QUESTION_OPTIONS = tuple(copa_task.QUESTION_WORDS)
QUESTION_LABELS = {question: f"{word} · {question}" for question, word in copa_task.QUESTION_WORDS.items()}
# Used when explorer.defaults.task_data is missing or offers nothing usable.
FALLBACK_EXAMPLES: dict[str, list[dict[str, str]]] = {
    "wic": [
        {"target": "묻", "sentence1": "길을 몰라서 지나가는 사람에게 길을 물었다.", "sentence2": "아이들이 마당에 타임캡슐을 묻었다.",
         "note": "different senses: ask vs. bury (묻다 is irregular: 물었다)"},
        {"target": "눈", "sentence1": "밤새 눈이 많이 내려 길이 하얗다.", "sentence2": "아이들이 마당에서 눈을 뭉쳐 던졌다.",
         "note": "same sense: snow"},
    ],
    "copa": [
        {"premise": "밤새 눈이 많이 내렸다.", "question": "effect", "alternative1": "길이 미끄러웠다.",
         "alternative2": "공원에 꽃이 피었다.", "note": "결과 → 1"},
        {"premise": "민수는 학교에 지각했다.", "question": "cause", "alternative1": "민수는 복권에 당첨되었다.",
         "alternative2": "민수는 늦잠을 잤다.", "note": "원인 → 2"},
    ],
    "boolq": [
        {"passage": "김민수는 부산에서 태어났다. 지금은 대전의 한 병원에서 간호사로 일하고 있다.",
         "question": "김민수는 간호사로 일하나요?", "note": "yes"},
        {"passage": "김민수는 부산에서 태어났다. 지금은 대전의 한 병원에서 간호사로 일하고 있다.",
         "question": "김민수의 고향은 광주인가?", "note": "no: 부산"},
    ],
}


def field_key(task: str, field: str) -> str:
    """The session-state key of a form field (``wic_target``, ``copa_premise`` ...)."""
    return f"{task}_{field}"


def _field_default(task: str, field: str) -> str:
    return "cause" if (task, field) == ("copa", "question") else ""


def _normalise(task: str, field: str, value: str) -> str:
    if task == "copa" and field == "question":
        return QUESTIONS.get((value or "").strip().lower(), "cause")
    return value


# --- examples -------------------------------------------------------------------------------------

def task_examples(task: str) -> list[dict[str, str]]:
    """Example inputs for the pills: ``demo_inputs(task)``, else a small built-in list."""
    needed = set(URL_FIELDS[task].values())
    try:
        from explorer.defaults.task_data import demo_inputs  # written alongside; may be absent

        found = list(demo_inputs(task))
    except (ImportError, KeyError, ValueError):
        found = []
    usable = [dict(e) for e in found if isinstance(e, dict) and needed <= e.keys()]
    return usable or FALLBACK_EXAMPLES[task]


def example_label(task: str, example: dict[str, str]) -> str:
    """What a pill says: the target, the premise or the question, and the example's note."""
    note = example.get("note", "")
    if task == "wic":
        head = example["target"]
    elif task == "copa":
        word = copa_task.QUESTION_WORDS.get(_normalise("copa", "question", example["question"]), "")
        head = f"{short(example['premise'], 18)} ({word})"
    else:
        head = short(example["question"], 24)
    return f"{head} · {short(note, 32)}" if note else head


def _fill_example(task: str, examples: list[dict[str, str]]) -> None:
    """Pill callback: the clicked example replaces the form's fields, then the pill clears."""
    pill = f"{task}_example"
    picked = st.session_state.get(pill)
    st.session_state[pill] = None
    if picked is None:
        return
    for field in URL_FIELDS[task].values():
        st.session_state[field_key(task, field)] = _normalise(task, field, examples[picked].get(field, ""))


def example_pills(task: str) -> None:
    """Clickable examples that fill the form."""
    examples = task_examples(task)
    st.pills(
        "Examples — click one to fill the form",
        range(len(examples)),
        format_func=lambda i: example_label(task, examples[i]),
        key=f"{task}_example",
        on_change=_fill_example,
        args=(task, examples),
    )


# --- URL state ------------------------------------------------------------------------------------

def init_inputs(task: str) -> tuple[bool, list[str]]:
    """Seeds the form when its widgets have no state yet: from the URL, else from the last result.

    Streamlit forgets a page's widget values when the user visits another
    page; the stored result keeps what was scored, so coming back shows the
    inputs beside their table.

    Returns:
        Whether the URL holds a complete item (every text field non-empty),
        and the model names it lists (``m``, repeated).
    """
    complete = True
    last = st.session_state.get(f"{task}_result")
    for param, field in URL_FIELDS[task].items():
        value = st.query_params.get(param, "")
        if (task, field) != ("copa", "question"):
            complete = complete and bool(value.strip())
        key = field_key(task, field)
        if key not in st.session_state:
            if not value and last is not None:
                value = last.values.get(field, "")
            st.session_state[key] = _normalise(task, field, value) if value else _field_default(task, field)
    return complete, st.query_params.get_all("m")


def current_inputs(task: str) -> dict[str, str]:
    """What the form holds now, by field name."""
    return {f: st.session_state.get(field_key(task, f), _field_default(task, f)) or "" for f in URL_FIELDS[task].values()}


def write_url_state(task: str, values: dict[str, str], model_names: list[str]) -> None:
    """Puts the inputs and models in the URL so a copied link reproduces the table.

    Inputs longer than a link can carry are left out (the models stay), with a note.
    """
    params: dict[str, Any] = {param: values[field] for param, field in URL_FIELDS[task].items()}
    if sum(len(quote(v)) for v in params.values()) > MAX_URL_CHARS:
        st.caption("The inputs are too long to share in a link; the URL keeps only the models.")
        params = {}
    st.query_params.from_dict({**params, "m": model_names})


# --- models -------------------------------------------------------------------------------------

def no_models_help(explorer: Explorer, task: str) -> None:
    """Explains how to add a model when none is registered for the task."""
    name = TASK_NAMES[task]
    st.info(
        f"No {name} model is registered yet. To add one:\n\n"
        f"- **Drop a checkpoint folder** (saved with `save_pretrained`) into `{explorer.settings.checkpoints_dir}` — "
        f"the task is read from `config.json` (`finetuning_task = \"{task}\"`) or the folder name (`klue-bert-{task}`).\n"
        f"- **Or fine-tune one offline**: `python -m explorer finetune --task {task} --base multilingual-e5-small "
        f"--train TRAIN.tsv --dev DEV.tsv --out {explorer.settings.checkpoints_dir}/e5-{task}`\n"
        f"- **Or list it** in `{explorer.settings.models_toml.name}` with `task = \"{task}\"`.\n\n"
        "The Home page shows every registered model and which task it was given."
    )


def choose_models(explorer: Explorer, task: str, preselected: Sequence[str]) -> list[ModelEntry]:
    """The task's model picker, or help on adding a model when there is none."""
    entries, _ = explorer.registry()
    usable, broken = usable_for(entries, task)
    if not usable and not broken:
        no_models_help(explorer, task)
        return []
    return pick_models(entries, task, key=f"{task}_models", preselected=preselected)


# --- running --------------------------------------------------------------------------------------

@dataclass
class TaskResult:
    """What a page shows after scoring: the inputs as typed, the item, extras, each model's run."""

    values: dict[str, str]
    item: Any
    extra: Any
    runs: list[TaskRun]


def run_models(
    explorer: Explorer,
    task: str,
    models: Sequence[ModelEntry],
    build: Callable[[dict[str, str]], tuple[Any, Any]],
) -> None:
    """Builds the item from the form, runs every chosen model, stores the result, updates the URL.

    Args:
        build: Form values → (item, extras); raises ``InputError`` for what
            cannot form an item (an empty field), shown as a warning.
    """
    result_key = f"{task}_result"
    values = current_inputs(task)
    blank = [FIELD_LABELS[f] for f, v in values.items() if not v.strip()]
    try:
        if blank:
            raise InputError(f"Fill in {_join(blank)}.")
        item, extra = build(values)
    except InputError as exc:
        st.warning(f"{exc} Type your own, or click an example above.")
        st.session_state.pop(result_key, None)
        return
    if not models:
        st.warning("Pick at least one model.")
        return
    with st.spinner(f"Running {len(models)} model(s)…"):
        runs = explorer.predict(models, task, [item], device=st.session_state.get("device"))
    st.session_state[result_key] = TaskResult(values, item, extra, runs)
    write_url_state(task, values, [m.name for m in models])


def _join(words: Sequence[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def should_run(task: str, clicked: bool, url_complete: bool, url_models: Sequence[str]) -> bool:
    """Runs on a click, or once on a shared link's first load."""
    return clicked or (url_complete and bool(url_models) and f"{task}_result" not in st.session_state)


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


def models_table(task: str, item: Any, runs: Sequence[TaskRun]) -> Agreement | None:
    """Agreement summary, then rows = models with probabilities coloured, then the CSV download.

    Returns:
        The agreement, or None when no model answered.
    """
    frame = results_frame(task, item, runs)
    if frame.empty:
        return None
    labels = judged_labels(runs)
    agreed = agreement(task, labels)
    st.markdown(agreement_line(agreed))
    shown = frame.drop(columns=["notes"]) if frame["notes"].eq("").all() else frame
    probs = PROB_COLUMNS[task]
    votes = Counter(label for label in labels if label is not None).most_common(1)
    top_label = votes[0][0] if votes else None
    # Yellow answers disagree with the majority (on a split, every answer is yellow); no verdict, no mark.
    marks = ["" if label is None else DISAGREES if agreed.verdict == "split" or label != top_label else ""
             for label in labels]
    styler = (
        shown.style.map(probability_colour, subset=probs)
        .apply(lambda _: marks, subset=[VERDICT_COLUMN[task]])
        .format({c: "{:.3f}" for c in probs}, na_rep="–")
    )
    st.dataframe(
        styler,
        hide_index=True,
        width="stretch",
        key=f"{task}-table",
        column_config={"model": st.column_config.TextColumn("model", pinned=True)},
    )
    st.download_button(
        "Download CSV",
        csv_frame(task, item, frame, agreed).to_csv(index=False).encode("utf-8-sig"),  # BOM: Excel reads Hangul
        file_name=f"{task}.csv",
        mime="text/csv",
        key=f"{task}-csv",
    )
    return agreed


def format_help(task: str, runs: Sequence[TaskRun]) -> str:
    """One line per input format the answering models use, for a caption."""
    formats = {"wic": wic_task.FORMATS, "copa": copa_task.FORMATS, "boolq": boolq_task.FORMATS}[task]
    default = {"wic": wic_task.DEFAULT_FORMAT, "copa": copa_task.DEFAULT_FORMAT, "boolq": boolq_task.DEFAULT_FORMAT}[task]
    used = []
    for run in runs:
        if run.error is None:
            style = (run.entry.input_format or default).partition(":")[0]
            if style not in used:
                used.append(style)
    return " · ".join(f"**{s}**: {formats.get(s, '?')}" for s in used)


# --- WiC: where the target is ---------------------------------------------------------------------

_MARKDOWN_SPECIAL = re.compile(r"[\\`*_\[\](){}#$~|:]")


def escape(text: str) -> str:
    """Escapes user text for ``st.markdown(unsafe_allow_html=True)``: HTML and markdown syntax alike."""
    return _MARKDOWN_SPECIAL.sub(lambda m: f"&#{ord(m.group())};", html.escape(text, quote=True))


def highlight(sentence: str, span: tuple[int, int] | None) -> str:
    """The sentence as safe HTML with the target span wrapped in ``<mark>``."""
    if span is None:
        return escape(sentence)
    a, b = span
    return f"{escape(sentence[:a])}<mark>{escape(sentence[a:b])}</mark>{escape(sentence[b:])}"


def kiwi_analyse(explorer: Explorer) -> Callable[[str], Sequence] | None:
    """Kiwi's morpheme analysis for finding inflected targets, or None (with a note) if Kiwi fails."""
    try:
        return explorer.kiwi().morphemes
    except (ImportError, OSError, RuntimeError, ValueError) as exc:
        st.caption(f"Kiwi is unavailable ({exc}); the target is found by exact match only.")
        return None


def show_wic_targets(item: Any, spans: Sequence[Any]) -> None:
    """Both sentences with the target highlighted, how it was found, and what to do when it was not."""
    for n, (sentence, found) in enumerate(zip((item.sentence1, item.sentence2), spans), start=1):
        how = escape(found.how) if found.span else "not found"
        st.markdown(
            f"**Sentence {n}** &nbsp; {highlight(sentence, found.span)} &nbsp; "
            f"<span style='color: grey; font-size: 0.85em'>({how})</span>",
            unsafe_allow_html=True,
        )
        if found.span is None:
            st.warning(
                f"The target “{item.target}” was not found in sentence {n}. Mark it yourself with [brackets] "
                "in the sentence (e.g. 길을 [물었다].) and score again. The models still ran on the plain pair, "
                "but models whose input format is `marked` did not see where the target is."
            )


# --- BoolQ: what was cut --------------------------------------------------------------------------

def truncation_note(runs: Sequence[TaskRun]) -> str | None:
    """Says how many passage tokens each model cut, or None when none was cut."""
    cut = [
        f"**{r.entry.name}** read {r.predictions[0].n_tokens} tokens and cut {r.predictions[0].n_dropped}"
        for r in runs
        if r.error is None and r.predictions and r.predictions[0].n_dropped
    ]
    if not cut:
        return None
    return (
        "The passage was too long for " + ("this model" if len(cut) == 1 else f"{len(cut)} models") + ": "
        + "; ".join(cut) + ". Only the end of the passage is cut — the question is never cut."
    )

