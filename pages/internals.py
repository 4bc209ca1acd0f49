"""Inside a model: tokens, padding and the attention mask; positional embeddings."""

import pandas as pd
import streamlit as st

from explorer.internals.padding import mask_invariance, padding_cost, token_grid
from explorer.internals.positions import (
    cosine_matrix,
    explicit_position_check,
    norms,
    pca_2d,
    position_info,
    position_table,
    token_type_table,
    used_positions,
)
from explorer.loading import CheckpointError
from explorer.text import split_sentences
from explorer.ui.internals import cosine_heatmap, grid_html, mask_heatmap, memo, norms_chart, pca_chart
from explorer.ui.state import get_explorer, leave_legacy_multipage_mode

leave_legacy_multipage_mode()
explorer = get_explorer()
st.title("Inside a model")
st.caption("Must padding be fed to the model, and what does the attention mask do? Must position embeddings be passed in? "
           "Write one input per line; `first | second` makes a sentence pair.")

entries, _ = explorer.registry()
models = [e for e in entries if e.kind == "transformer" and e.task and not e.problems]
if not models:
    st.info("No transformer checkpoint is registered. The Kiwi LM is not a transformer, so it has no internals to show.")
    st.stop()
names = [e.name for e in models]
name = st.selectbox("Model", names, index=names.index(st.query_params.get("m")) if st.query_params.get("m") in names else 0,
                    key="int_model")
text = st.text_area("Inputs", value=st.query_params.get("s", "나는 어제 학교에 갔다.\n책가 책상 위에 있다.\n할머니께서 시장에서 떡을 파셨다."),
                    key="int_text", height=110)
lines = split_sentences(text).sentences
if not lines:
    st.warning("Type at least one input.")
    st.stop()
st.query_params.update({"m": name, "s": "\n".join(lines)})
firsts = [line.split(" | ", 1)[0] for line in lines]
seconds = [line.split(" | ", 1)[1] for line in lines] if all(" | " in line for line in lines) else None
entry = next(e for e in models if e.name == name)
try:
    loaded = explorer.load(entry, st.session_state.get("device"))
except CheckpointError as exc:
    st.error(str(exc))
    st.stop()
if loaded.head != "sequence":
    st.info(f"{name} has a multiple-choice head; these views use sequence-classification models for now.")
    st.stop()

tokens_tab, positions_tab, attr_tab, counter_tab = st.tabs(
    ["Tokens, padding and the mask", "Positional embeddings", "Token attributions", "Korean counterfactuals"]
)
with tokens_tab:
    strategy = st.segmented_control("Padding", ["longest", "max_length", "none"], default="longest", key="int_pad") or "longest"
    grid = token_grid(loaded.tokenizer, firsts, seconds, padding=False if strategy == "none" else strategy,
                      max_length=min(loaded.max_length, 64) if strategy == "max_length" else loaded.max_length)
    st.markdown(grid_html(grid), unsafe_allow_html=True)
    st.caption("Grey cells are [PAD]; bold cells are special tokens; blue/orange tint is the segment (token_type) id.")
    st.altair_chart(mask_heatmap(grid), width="stretch")
    st.subheader("What padding costs")
    cost = pd.DataFrame(padding_cost(loaded.tokenizer, firsts, batch_size=2, pairs=seconds, max_length=loaded.max_length))
    st.dataframe(cost[["strategy", "real_tokens", "pad_tokens", "wasted_share", "relative_attention", "note"]], hide_index=True,
                 width="stretch", column_config={"wasted_share": st.column_config.NumberColumn(format="percent"),
                                                 "relative_attention": st.column_config.NumberColumn("attention compute ×", format="%.2f")})
    st.subheader("Does the mask matter? (live)")
    rows = memo(("mask", name, tuple(lines)), lambda: mask_invariance(loaded, loaded.tokenizer, firsts, seconds))
    table = pd.DataFrame(rows)
    st.dataframe(table, hide_index=True, width="stretch")
    st.caption("Max |logit difference| against each input run alone. With the mask passed, padding changes nothing "
               "(≈1e-7); without it, the real tokens attend to [PAD] and the logits move. "
               f"The classification head reads {rows[0]['head_rule'] if rows else ''}.")
with positions_tab:
    info = position_info(loaded.model)
    st.markdown(f"**{info['kind']}** positions · {info['note']}")
    table = position_table(loaded.model)
    if table is None:
        st.info("This family has no absolute position table: nothing to pass in and nothing to plot.")
    else:
        shortest, longest = used_positions(loaded.tokenizer, firsts, seconds)
        shown = table[: min(len(table), max(64, longest))]
        c1, c2 = st.columns(2)
        c1.altair_chart(cosine_heatmap(cosine_matrix(shown)))
        c2.altair_chart(pca_chart(pca_2d(shown), longest))
        st.altair_chart(norms_chart(norms(table), longest), width="stretch")
        st.caption(f"Your inputs use positions 0–{longest - 1} (dashed line) of {len(table)}.")
    other_names = [e.name for e in models if e.name != name]
    other_name = st.selectbox("Compare the position table with", ["(none)", *other_names], key="int_pos_other")
    if other_name != "(none)":
        try:
            other = explorer.load(next(e for e in models if e.name == other_name), st.session_state.get("device"))
        except CheckpointError as exc:
            st.error(str(exc))
        else:
            other_table = position_table(other.model)
            o1, o2 = st.columns(2)
            for col, label, tab in ((o1, name, table), (o2, other_name, other_table)):
                col.markdown(f"**{label}** · {position_info(loaded.model if label == name else other.model)['note']}")
                if tab is None:
                    col.info("No absolute position table.")
                else:
                    col.altair_chart(cosine_heatmap(cosine_matrix(tab[: min(len(tab), 64)])))
    check = memo(("positions", name, tuple(lines)), lambda: explicit_position_check(loaded, firsts, seconds))
    if check.get("explicit_max_diff") is not None:
        st.markdown(
            f"Default position ids vs explicit `arange` ids: max |Δlogit| = **{check['explicit_max_diff']:.1e}** — "
            f"the model adds positions itself, you need not pass them. Shuffled ids: **{check['shuffled_max_diff']:.3f}** — "
            "order matters to the model only through these embeddings."
        )
    types = token_type_table(loaded.model)
    if types is not None:
        st.caption(f"token_type embeddings: {types.shape[0]} rows; norms {', '.join(f'{v:.2f}' for v in norms(types).tolist())}.")
with counter_tab:
    from explorer.internals.counterfactuals import flip_table, variants
    from explorer.ui.model_picker import pick_models

    st.caption("Minimal edits of the first input, from Kiwi's analysis: a particle swapped for its wrong allomorph or a "
               "neighbouring case particle, a particle dropped, the tense changed, two eojeol swapped. Every CoLA model "
               "rescores every variant; flipped judgements are marked.")
    sentence = firsts[0]
    edits = variants(sentence, explorer.kiwi().morphemes(sentence))
    scorers = pick_models(entries, "cola", key="int_cf_models")
    if not edits:
        st.info("Kiwi found nothing to edit in this sentence.")
    elif scorers:
        runs = memo(("counterfactuals", sentence, tuple(e.name for e in scorers)), lambda: explorer.score_acceptability(
            scorers, [sentence, *[v.text for v in edits]], device=st.session_state.get("device")))
        ok = [r for r in runs if r.error is None]
        for r in runs:
            if r.error:
                st.error(f"**{r.entry.name}**: {r.error}")
        if ok:
            rows = flip_table({r.entry.name: r.results[0].p_acceptable for r in ok},
                              {r.entry.name: [x.p_acceptable for x in r.results[1:]] for r in ok}, edits)
            frame = pd.DataFrame(rows)
            st.dataframe(
                frame.style.apply(lambda row: ["background-color: #fff3c4" if row["flipped"] else "" for _ in row], axis=1)
                .format({"p_original": "{:.2f}", "p_variant": "{:.2f}", "change": "{:+.2f}"}),
                hide_index=True, width="stretch",
            )
            flips = frame.groupby("model")["flipped"].sum()
            st.caption("Flipped judgements per model: " + ", ".join(f"{m} {int(n)}/{len(edits)}" for m, n in flips.items()))
with attr_tab:
    from explorer.internals.attributions import aggregate, attribute, eojeol_spans, morpheme_spans, to_html, to_rows
    from explorer.ui.acceptability import morpheme_chart
    from explorer.ui.internals import attribution_bars

    st.caption("Which tokens drive the judgement of the first input. Layer Integrated Gradients on the input embeddings "
               "is the default; the convergence delta says whether enough steps were taken.")
    c1, c2, c3, c4 = st.columns(4)
    method = c1.selectbox("Method", ["ig", "input_x_gradient", "saliency", "occlusion"], key="int_method",
                          format_func={"ig": "Integrated Gradients", "input_x_gradient": "Gradient × input",
                                       "saliency": "Saliency", "occlusion": "Occlusion"}.get)
    baseline = c2.selectbox("Baseline", ["pad", "mask", "zero"], key="int_baseline",
                            format_func={"pad": "[PAD] (specials kept)", "mask": "[MASK]", "zero": "zero embeddings"}.get)
    steps = c3.select_slider("Steps", [10, 25, 50, 100, 200], value=50, key="int_steps", disabled=method != "ig")
    target = c4.selectbox("Explain class", ["predicted", 0, 1], key="int_target")
    others = [e.name for e in models if e.task == entry.task and e.name != name]
    compare = st.multiselect("Side by side with", others, key="int_attr_others", max_selections=2)
    cols = st.columns(1 + len(compare))
    for col, model_name in zip(cols, [name, *compare]):
        with col:
            other = loaded if model_name == name else explorer.load(next(e for e in models if e.name == model_name),
                                                                     st.session_state.get("device"))
            result = memo(("attribution", model_name, firsts[0], seconds[0] if seconds else None, method, baseline, steps, target),
                          lambda other=other: attribute(other, firsts[0], seconds[0] if seconds else None, method=method,
                                                        baseline=baseline, steps=steps,
                                                        target=None if target == "predicted" else int(target)))
            st.markdown(f"**{model_name}** · explaining class {result.target} (P = {result.probs[result.target]:.2f})")
            st.markdown(to_html(result), unsafe_allow_html=True)
            if result.delta is not None:
                st.caption(f"convergence delta {result.delta:+.2e} ({result.delta_ratio:.1%} of f(x) − f(baseline))")
            if result.warning:
                st.warning(result.warning)
            st.altair_chart(attribution_bars(result), width="stretch")
            words = aggregate(result, firsts[0], 0, eojeol_spans(firsts[0]))
            morphs = aggregate(result, firsts[0], 0, morpheme_spans(firsts[0], explorer.kiwi().morphemes(firsts[0])))
            st.dataframe(pd.DataFrame(words, columns=["eojeol", "score"]), hide_index=True, width="stretch")
            st.dataframe(pd.DataFrame(morphs, columns=["morpheme", "score"]), hide_index=True, width="stretch")
            st.download_button("CSV", pd.DataFrame(to_rows(result)).to_csv(index=False).encode("utf-8-sig"),
                               file_name=f"{model_name}-attributions.csv", key=f"int-csv-{model_name}")
            st.download_button("HTML", to_html(result).encode(), file_name=f"{model_name}-attributions.html",
                               key=f"int-html-{model_name}")
    kiwi_result = explorer.kiwi().score_acceptability([firsts[0]])[0]
    with st.expander("Kiwi LM: per-morpheme log-probabilities (its counterpart of attributions)"):
        st.altair_chart(morpheme_chart(kiwi_result), width="stretch")
