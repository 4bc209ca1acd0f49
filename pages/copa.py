"""Cause and effect (COPA): which alternative is the premise's cause or effect? One row per model."""

import streamlit as st

from explorer.tasks.items import make_copa
from explorer.ui.state import get_explorer, leave_legacy_multipage_mode
from explorer.ui.task_pages import (
    QUESTION_LABELS,
    QUESTION_OPTIONS,
    choose_models,
    example_pills,
    format_help,
    init_inputs,
    models_table,
    run_models,
    should_run,
    show_errors,
)

leave_legacy_multipage_mode()
explorer = get_explorer()
st.title("Cause and effect · COPA")
st.caption("Which alternative is the cause (원인) or the effect (결과) of the premise? Every selected model chooses one.")

url_complete, url_models = init_inputs("copa")
example_pills("copa")
st.text_input("Premise", key="copa_premise", placeholder="밤새 눈이 많이 내렸다.")
st.radio("Question", QUESTION_OPTIONS, key="copa_question", format_func=QUESTION_LABELS.get, horizontal=True)
left, right = st.columns(2)
left.text_input("Alternative 1", key="copa_alternative1", placeholder="길이 미끄러웠다.")
right.text_input("Alternative 2", key="copa_alternative2", placeholder="공원에 꽃이 피었다.")
models = choose_models(explorer, "copa", url_models)
clicked = st.button("Choose", type="primary", key="copa_run")

if should_run("copa", clicked, url_complete, url_models):
    run_models(
        explorer, "copa", models,
        lambda v: (make_copa(v["premise"], v["question"], v["alternative1"], v["alternative2"]), None),
    )

if result := st.session_state.get("copa_result"):
    show_errors(result.runs)
    if models_table("copa", result.item, result.runs):
        st.caption(
            "Each model's probability for each alternative (green = likely, red = unlikely). Multiple-choice heads "
            "score both alternatives together; pair classifiers score (premise, alternative) one at a time and the "
            "two scores are normalised. Input formats — " + format_help("copa", result.runs)
        )
