"""Word in context (WiC): does the target word mean the same in both sentences? One row per model."""

import streamlit as st

from explorer.tasks.items import make_wic
from explorer.ui.state import get_explorer, leave_legacy_multipage_mode
from explorer.ui.task_pages import (
    choose_models,
    example_pills,
    format_help,
    init_inputs,
    kiwi_analyse,
    models_table,
    run_models,
    should_run,
    show_errors,
    show_wic_targets,
)

leave_legacy_multipage_mode()
explorer = get_explorer()
st.title("Word in context · WiC")
st.caption(
    "Is the target word used in the same sense in both sentences? The target may be a stem (묻 finds 물었다); "
    "if it cannot be found, mark it yourself with [brackets] in the sentence."
)

url_complete, url_models = init_inputs("wic")
example_pills("wic")
st.text_input("Target word", key="wic_target", placeholder="묻", max_chars=50)
left, right = st.columns(2)
left.text_area("Sentence 1", key="wic_sentence1", height=90, placeholder="길을 몰라서 지나가는 사람에게 길을 물었다.")
right.text_area("Sentence 2", key="wic_sentence2", height=90, placeholder="아이들이 마당에 타임캡슐을 묻었다.")
models = choose_models(explorer, "wic", url_models)
clicked = st.button("Compare senses", type="primary", key="wic_run")

if should_run("wic", clicked, url_complete, url_models):
    run_models(
        explorer, "wic", models,
        lambda v: make_wic(v["target"], v["sentence1"], v["sentence2"], analyse=kiwi_analyse(explorer)),
    )

if result := st.session_state.get("wic_result"):
    show_wic_targets(result.item, result.extra)
    show_errors(result.runs)
    if models_table("wic", result.item, result.runs):
        st.caption(
            "P(same sense): green = same sense, red = different senses, pale = unsure; a yellow verdict is not the majority's "
            "(all are yellow when the models split). Input formats — " + format_help("wic", result.runs)
        )
