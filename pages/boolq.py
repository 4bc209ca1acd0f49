"""Yes/no questions (BoolQ): does the passage answer the question with yes or no? One row per model."""

import streamlit as st

from explorer.tasks.items import make_boolq
from explorer.ui.state import get_explorer, leave_legacy_multipage_mode
from explorer.ui.task_pages import (
    choose_models,
    example_pills,
    format_help,
    init_inputs,
    models_table,
    run_models,
    should_run,
    show_errors,
    truncation_note,
)

leave_legacy_multipage_mode()
explorer = get_explorer()
st.title("Yes/no questions · BoolQ")
st.caption(
    "Does the passage say yes or no to the question? Long passages are cut to fit each model; the question never is."
)

url_complete, url_models = init_inputs("boolq")
example_pills("boolq")
st.text_area("Passage", key="boolq_passage", height=180, placeholder="김민수는 부산에서 태어났다. 지금은 대전의 한 병원에서 간호사로 일하고 있다.")
st.text_input("Question", key="boolq_question", placeholder="김민수는 간호사로 일하나요?")
models = choose_models(explorer, "boolq", url_models)
clicked = st.button("Answer", type="primary", key="boolq_run")

if should_run("boolq", clicked, url_complete, url_models):
    run_models(explorer, "boolq", models, lambda v: (make_boolq(v["passage"], v["question"]), None))

if result := st.session_state.get("boolq_result"):
    show_errors(result.runs)
    if note := truncation_note(result.runs):
        st.info(note)
    if models_table("boolq", result.item, result.runs):
        st.caption(
            "P(yes): green = yes, red = no, pale = unsure; a yellow answer is not the majority's "
            "(all are yellow when the models split). Input formats — " + format_help("boolq", result.runs)
        )
