"""Acceptability (CoLA): sentences × models, with agreement."""

import streamlit as st

from explorer.kiwi_lm import LIMITS as KIWI_LIMITS
from explorer.scorers import capabilities
from explorer.tasks.registry import get as get_task
from explorer.tasks.results import matrix_frame
from explorer.text import split_sentences
from explorer.ui.acceptability import (
    CoLAResult, add_example, expected_labels, morpheme_chart, read_url_state, sentence_items, sentences_script_note,
    tally_line, write_url_state,
)
from explorer.ui.feedback import demo_note, predict_with_status, script_warning, stale_warning
from explorer.ui.model_picker import pick_models
from explorer.ui.state import get_explorer, leave_legacy_multipage_mode
from explorer.ui.tables import show_probability_table

leave_legacy_multipage_mode()
explorer = get_explorer()
st.title("Acceptability · CoLA")
st.caption("Is this Korean sentence acceptable? One sentence per line; every selected model judges each one.")

url_text, url_models = read_url_state()
if "cola_text" not in st.session_state:
    st.session_state["cola_text"] = url_text

examples = [(e["sentence"], e["note"]) for e in get_task("cola").examples]
st.pills(
    "Examples — click to add (the tag says which error the sentence carries)",
    range(len(examples)),
    format_func=lambda i: f"{examples[i][0]}  · {examples[i][1].split(':')[0].split(' (')[0]}",
    key="cola_example",
    on_change=add_example,
    args=(examples,),
)
text = st.text_area("Sentences", key="cola_text", height=160, placeholder="나는 어제 학교에 갔다.\n책가 책상 위에 있다.")
entries, _ = explorer.registry()
models = pick_models(entries, "cola", key="cola_models", preselected=url_models)
run = st.button("Score", type="primary", key="cola_run")

cleaned = split_sentences(text)
auto = bool(url_text and url_models) and "cola_result" not in st.session_state
if run or auto:
    if not cleaned.sentences:
        st.warning("Type at least one sentence (empty lines and spaces are ignored).")
        st.session_state.pop("cola_result", None)
    elif not models:
        st.warning("Pick at least one model.")
    else:
        items = sentence_items(cleaned.sentences)
        runs, timing = predict_with_status(explorer, models, "cola", items)
        st.session_state["cola_result"] = CoLAResult(text, cleaned, items, runs, timing)
        write_url_state(text, [m.name for m in models])

if result := st.session_state.get("cola_result"):
    cleaned, items, runs = result.cleaned, result.items, result.runs
    stale_warning("Score", text != result.text, [r.entry.name for r in runs] != [m.name for m in models])
    for note in cleaned.notes:
        st.info(note)
    for r in runs:
        if r.error:
            st.error(f"**{r.entry.name}**: {r.error}")
    script_warning(sentences_script_note(cleaned.sentences))
    if any(not r.error for r in runs):
        expected = expected_labels(cleaned.sentences)
        if line := tally_line(runs, expected):
            st.markdown(line)
        table = matrix_frame("cola", items, runs, expected)
        show_probability_table(table, key="cola", file_name="acceptability.csv")
        st.caption(
            "Cells show P(acceptable): green = acceptable, red = unacceptable, pale = unsure. "
            "Agreement is the share of models that agree with the majority verdict; yellow rows split the models."
            + (" For a built-in example, **expected** is its right answer and **right?** marks each model's answer, "
               "one sign per model in the columns' order (✓ right, ✗ wrong), then how many were right."
               if "expected" in table else "")
        )
        demo_note(runs)
        if caption := result.timing.caption():
            st.caption(caption)
        kiwi_run = next((r for r in runs if capabilities(r.entry).morpheme_scores and not r.error), None)
        if kiwi_run:
            with st.expander("Kiwi LM: where does the sentence go wrong? (per-morpheme log-probability)"):
                idx = st.selectbox(
                    "Sentence", range(len(cleaned.sentences)), format_func=lambda i: cleaned.sentences[i][:80], key="kiwi_pick"
                )
                st.altair_chart(morpheme_chart(kiwi_run.predictions[idx]), width="stretch")
                st.caption(KIWI_LIMITS)
