"""The sections of the "Inside a model" page, one function per tab.

Each section reads a :class:`Context` (the chosen checkpoint, loaded, and the
user's lines parsed for its task) and draws its views; every number comes from
``explorer.internals``. Expensive results (attributions, live checks, rescoring)
go through :func:`explorer.ui.internals.memo` because ``st.tabs`` runs every tab on
each rerun.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd
import streamlit as st

from explorer.internals.inputs import Inputs, example_text, item_text, parse
from explorer.text import escape_markdown
from explorer.loading import CheckpointError, LoadedModel
from explorer.registry import ModelEntry
from explorer.scorers import KIWI_LM, SCORER_KINDS, capabilities
from explorer.service import Explorer
from explorer.tasks.registry import TASKS
from explorer.tasks.registry import find as find_task
from explorer.tasks.registry import get as get_task
from explorer.ui.internals import memo


@dataclass
class Context:
    """What every section needs: the registry, the chosen model and the parsed input."""

    explorer: Explorer
    entries: list[ModelEntry]
    models: list[ModelEntry]
    entry: ModelEntry
    loaded: LoadedModel
    text: str
    inputs: Inputs
    device: str | None

    @property
    def task(self) -> str:
        return self.inputs.task

    def morphemes(self, text: str) -> list:
        return self.explorer.kiwi().morphemes(text)

    def inputs_for(self, entry: ModelEntry) -> Inputs:
        """The same lines encoded for another checkpoint (its own input format)."""
        return parse(self.task, self.text, entry.input_format, self.morphemes)

    def model_for(self, entry: ModelEntry) -> LoadedModel:
        return self.loaded if entry.name == self.entry.name else self.explorer.load(entry, self.device)


def choose_input(explorer: Explorer) -> Context:
    """The model picker and the input box; stops the page with a message when nothing can run."""
    entries, _ = explorer.registry()
    models = [e for e in entries if capabilities(e).internals and e.task and not e.problems]
    if not models:
        st.info("No transformer checkpoint is registered. The Kiwi LM is not a transformer, so it has no internals to show.")
        st.stop()
    names = [e.name for e in models]
    by_name = {e.name: e for e in models}
    wanted = st.query_params.get("m")
    if wanted and wanted not in names and "int_model" not in st.session_state:
        _say_unavailable(entries, wanted, names[0])
    name = st.selectbox("Model", names, index=names.index(wanted) if wanted in names else 0, key="int_model",
                        format_func=lambda n: f"{n} · {_task_name(by_name[n].task)}")
    entry = by_name[name]
    task = entry.task
    spec = get_task(task)
    from_url = st.query_params.get("s") if st.query_params.get("t") == task else None
    text = st.text_area(f"{spec.name} inputs", value=from_url or example_text(task), key=f"int_text_{task}", height=110,
                        help=f"{spec.shape_help}. At most 8 inputs.")
    st.caption(f"{spec.name}: {spec.shape_help}.")
    inputs = parse(task, text, entry.input_format, explorer.kiwi().morphemes)
    for problem in inputs.problems:
        st.warning(problem)
    for note in inputs.notes:
        st.caption(f"ℹ️ {note}")
    if not inputs.rows:
        st.warning(f"Type at least one input ({spec.cli_shape}).")
        st.stop()
    _keep_in_url(name, task, "\n".join(inputs.lines))
    device = st.session_state.get("device")
    try:
        loaded = explorer.load(entry, device)
    except CheckpointError as exc:
        st.error(escape_markdown(str(exc)))
        st.stop()
    _say_what_is_cut(loaded, inputs)
    return Context(explorer, entries, models, entry, loaded, text, inputs, device)


def _say_unavailable(entries: list[ModelEntry], wanted: str, shown: str) -> None:
    """A link named a model this page cannot show: say which and why, rather than silently show another."""
    from explorer.ui.model_picker import missing_reason

    why = missing_reason(entries, wanted, otherwise="not a transformer checkpoint with a task head: no internals to show")
    st.warning(f"The link names **{escape_markdown(wanted)}**, which this page cannot show ({why}). "
               f"Showing **{escape_markdown(shown)}** instead.")


def _task_name(task_id: str) -> str:
    """The task's short name (a checkpoint's own classifier: its labels), or its id as the entry spells it."""
    task = find_task(task_id)
    return task.name if task else task_id


def _keep_in_url(name: str, task: str, text: str) -> None:
    """Model and inputs in the link, so a peer sees the same views; too long a text stays out of it."""
    from urllib.parse import quote

    from explorer.ui.acceptability import MAX_URL_CHARS

    st.query_params.update({"m": name, "t": task})
    if len(quote(text)) <= MAX_URL_CHARS:
        st.query_params["s"] = text
    else:
        st.query_params.pop("s", None)
        st.caption("ℹ️ These inputs are too long to keep in the page's link; the model choice is kept.")


def _say_what_is_cut(loaded: LoadedModel, inputs: Inputs) -> None:
    """Every view below sees only the tokens truncation keeps: say so once, up front."""
    from explorer.internals.padding import cut_inputs

    cut = cut_inputs(loaded.tokenizer, inputs.firsts, inputs.seconds, loaded.max_length)
    if cut:
        which = ", ".join(f"{inputs.rows[i].label} ({n} tokens)" for i, n in cut)
        st.warning(f"Longer than the model's {loaded.max_length} tokens, so cut to {loaded.max_length}: input {which}. "
                   "Every view below sees only the kept tokens.")


def pick_item(ctx: Context, key: str, label: str = "Input") -> int:
    """Which of the user's inputs a per-input view shows (the first by default)."""
    items = ctx.inputs.items
    if len(items) == 1:
        return 0
    return st.selectbox(label, range(len(items)), key=key, format_func=lambda i: f"{i + 1}. {item_text(items[i], ctx.task)}"[:120])


def class_name(loaded: LoadedModel, index: int) -> str:
    """``1 (acceptable)`` from the checkpoint's id2label, or the alternative for multiple choice."""
    if loaded.head == "multiple_choice":
        return f"alternative {index + 1}"
    labels = getattr(loaded.model.config, "id2label", None) or {}
    label = labels.get(index) or labels.get(str(index))
    return f"class {index}" + (f" ({label})" if label and not str(label).startswith("LABEL_") else "")


def show_table(rows: list[dict[str, Any]] | pd.DataFrame, **config: Any) -> None:
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch", **config)


# --------------------------------------------------------------------------- tokens, padding and the mask


def tokens_section(ctx: Context) -> None:
    from explorer.internals.alignment import align_rows
    from explorer.internals.padding import mask_invariance, padding_cost, token_grid
    from explorer.ui.internals import mask_heatmap
    from explorer.ui.token_grid import aligned_grid_html

    inputs, loaded = ctx.inputs, ctx.loaded
    labels = [r.label for r in inputs.rows]
    strategy = st.segmented_control("Padding", ["longest", "max_length", "none"], default="longest", key="int_pad") or "longest"
    shown_max = min(loaded.max_length, 64)  # a 512-wide grid would be unreadable
    grid = token_grid(loaded.tokenizer, inputs.firsts, inputs.seconds, padding=False if strategy == "none" else strategy,
                      max_length=shown_max if strategy == "max_length" else loaded.max_length)
    if strategy == "max_length" and shown_max < loaded.max_length:
        st.caption(f"Padded to {shown_max} here to stay readable; the model's max_length is {loaded.max_length} "
                   "(the cost table uses that).")
    alignments = align_rows(grid, inputs.firsts, inputs.seconds, ctx.morphemes)
    st.markdown(aligned_grid_html(grid, alignments, labels), unsafe_allow_html=True)
    st.caption("Under each token: the Kiwi morphemes and the eojeol (space-separated word) it belongs to. "
               "Grey cells are [PAD]; bold cells are special tokens; blue/orange tint is the segment (token_type) id."
               + (" A multiple-choice model reads one row per alternative, each padded to the longest row."
                  if loaded.head == "multiple_choice" else ""))
    _boundary_agreement(alignments, labels)
    st.altair_chart(mask_heatmap(grid, labels), width="stretch")

    st.subheader("What padding costs")
    cost = pd.DataFrame(padding_cost(loaded.tokenizer, inputs.firsts, batch_size=2, pairs=inputs.seconds,
                                     max_length=loaded.max_length))
    show_table(cost[["strategy", "real_tokens", "pad_tokens", "wasted_share", "relative_attention", "note"]],
               column_config={"wasted_share": st.column_config.NumberColumn(format="percent"),
                              "relative_attention": st.column_config.NumberColumn("attention compute ×", format="%.2f")})

    st.subheader("Does the mask matter? (live)")
    rows = memo(("mask", ctx.entry.name, tuple(inputs.rows)),
                lambda: mask_invariance(loaded, loaded.tokenizer, inputs.firsts, inputs.seconds))
    table = pd.DataFrame(rows).drop(columns=["index", "head_rule"])
    table.insert(0, "input", labels)
    diff = st.column_config.NumberColumn
    show_table(table, column_config={
        "padded_length": "padded to", "pad_side": "pad side", "other_side": "other side",
        "diff_masked": diff("Δ padded, mask", format="%.1e", help="Should be ~0: the mask hides the pads."),
        "diff_no_mask": diff("Δ padded, no mask", format="%.1e"),
        "diff_other_side": diff("Δ other pad side, mask", format="%.1e"),
        "diff_other_side_no_mask": diff("Δ other side, no mask", format="%.1e"),
        "diff_other_side_position_ids": diff("Δ other side + position ids", format="%.1e",
                                             help="Decoders: position ids counted from the mask fix left padding."),
        "head_position": "head reads index", "head_token": "head reads token",
    })
    head = rows[0]["head_rule"] if rows else ""
    if loaded.head == "multiple_choice":
        head += " of each alternative's row; the multiple-choice head scores each row, then a softmax compares them"
    st.caption("Max |logit difference| against each input run alone. With the mask passed, padding changes nothing "
               "(≈1e-7); without it, the real tokens attend to [PAD] and the logits move. "
               f"The classification head reads the {head}.")


def _boundary_agreement(alignments: list, labels: list[str]) -> None:
    """How often the tokenizer cuts where Kiwi puts a morpheme boundary (e.g. before a particle)."""
    from explorer.internals.alignment import batch_stats, stats_table

    total = batch_stats(alignments)
    if not total.boundaries:
        return
    with st.expander(f"Do the tokens follow morpheme boundaries? {total.matched} of {total.boundaries} "
                     f"boundaries inside words are also token boundaries ({total.matched / total.boundaries:.0%})"):
        table = pd.DataFrame(stats_table(alignments))
        table["input"] = labels
        show_table(table, column_config={"agreement": st.column_config.NumberColumn(format="percent")})
        st.caption("A particle or ending that is its own token (책|가) lets the model see it as a unit; fused into "
                   "its word (나는) the model must learn each combination. Boundaries inside one syllable (가+었 in 갔) "
                   "cannot be cut by any subword tokenizer and are not counted.")


# --------------------------------------------------------------------------- positional embeddings


def positions_section(ctx: Context) -> None:
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
    from explorer.ui.internals import cosine_heatmap, norms_chart, pca_chart

    inputs, loaded = ctx.inputs, ctx.loaded
    info = position_info(loaded.model)
    st.markdown(f"**{info['kind']}** positions · {info['note']}")
    table = position_table(loaded.model)
    if table is None:
        st.info("This family has no absolute position table: nothing to pass in and nothing to plot.")
    else:
        _, longest = used_positions(loaded.tokenizer, inputs.firsts, inputs.seconds)
        shown = table[: min(len(table), max(64, longest))]
        c1, c2 = st.columns(2)
        c1.altair_chart(cosine_heatmap(cosine_matrix(shown)))
        c2.altair_chart(pca_chart(pca_2d(shown), longest))
        st.altair_chart(norms_chart(norms(table), longest), width="stretch")
        st.caption(f"Your inputs use positions 0–{longest - 1} (dashed line) of {len(table)}.")
    _compare_tables(ctx, table)
    check = memo(("positions", ctx.entry.name, tuple(inputs.rows)),
                 lambda: explicit_position_check(loaded, inputs.firsts, inputs.seconds))
    if check.get("explicit_max_diff") is not None:
        st.markdown(
            f"Default position ids vs explicit `arange` ids: max |Δlogit| = **{check['explicit_max_diff']:.1e}** — "
            f"the model adds positions itself, you need not pass them. Shuffled ids: **{check['shuffled_max_diff']:.3f}** — "
            "order matters to the model only through these embeddings."
        )
    types = token_type_table(loaded.model)
    if types is not None:
        st.caption(f"token_type embeddings: {types.shape[0]} rows; norms {', '.join(f'{v:.2f}' for v in norms(types).tolist())}.")


def _compare_tables(ctx: Context, table) -> None:
    """Two models' position tables side by side (the first 64 positions)."""
    from explorer.internals.positions import cosine_matrix, position_info, position_table
    from explorer.ui.internals import cosine_heatmap

    others = [e for e in ctx.models if e.name != ctx.entry.name]
    other_name = st.selectbox("Compare the position table with", ["(none)", *[e.name for e in others]], key="int_pos_other")
    if other_name == "(none)":
        return
    try:
        other = ctx.model_for(next(e for e in others if e.name == other_name))
    except CheckpointError as exc:
        st.error(escape_markdown(str(exc)))
        return
    for col, label, model in zip(st.columns(2), (ctx.entry.name, other_name), (ctx.loaded.model, other.model)):
        tab = table if model is ctx.loaded.model else position_table(model)
        col.markdown(f"**{label}** · {position_info(model)['note']}")
        if tab is None:
            col.info("No absolute position table.")
        else:
            col.altair_chart(cosine_heatmap(cosine_matrix(tab[: min(len(tab), 64)])))


# --------------------------------------------------------------------------- token attributions

METHOD_NAMES = {"ig": "Integrated Gradients", "input_x_gradient": "Gradient × input", "saliency": "Saliency",
                "occlusion": "Occlusion"}
BASELINE_NAMES = {"pad": "[PAD] (specials kept)", "mask": "[MASK]", "zero": "zero embeddings"}


@dataclass(frozen=True)
class AttributionOptions:
    method: str
    baseline: str
    steps: int | str  # "auto" or a fixed count
    target: int | None
    mc_target: str


def attribution_options(ctx: Context) -> AttributionOptions:
    c1, c2, c3, c4 = st.columns(4)
    method = c1.selectbox("Method", list(METHOD_NAMES), key="int_method", format_func=METHOD_NAMES.get)
    baseline = c2.selectbox("Baseline", list(BASELINE_NAMES), key="int_baseline", format_func=BASELINE_NAMES.get,
                            disabled=method in ("saliency", "input_x_gradient"),
                            help="What a token is compared with: Integrated Gradients and occlusion use it; "
                                 "saliency and gradient × input need none.")
    steps = c3.select_slider("Steps", ["auto", 10, 25, 50, 100, 200], value="auto", key="int_steps",
                             disabled=method != "ig", help="auto: as many as a delta within 1% needs")
    multiple_choice = ctx.loaded.head == "multiple_choice"
    # A multiple-choice head scores one row per alternative; a classifier has its own classes.
    n_classes = len(ctx.inputs.rows_of(0)) if multiple_choice else ctx.loaded.num_labels
    choices = ["predicted", *range(n_classes)]
    target = c4.selectbox("Explain", choices, key="int_target",
                          format_func=lambda t: "predicted" if t == "predicted" else
                          (f"alternative {t + 1}" if multiple_choice else f"class {t}"))
    mc_target = "chosen"
    if multiple_choice:
        mc_target = st.radio("Score to explain", ["chosen", "difference"], horizontal=True, key="int_mc_target",
                             format_func={"chosen": "the alternative's own score",
                                          "difference": "its score minus the strongest other alternative's"}.get)
    return AttributionOptions(method, baseline, steps, None if target == "predicted" else int(target), mc_target)


def compute_attributions(loaded: LoadedModel, rows: list, options: AttributionOptions) -> list:
    """One attribution for a multiple-choice item (all alternatives at once), else one per row."""
    from explorer.internals.attributions import attribute

    common = dict(method=options.method, baseline=options.baseline, steps=options.steps, target=options.target)
    if loaded.head == "multiple_choice":
        return [attribute(loaded, rows[0].first, endings=[r.second for r in rows], mc_target=options.mc_target,
                          truncation=rows[0].truncation, **common)]
    return [attribute(loaded, r.first, r.second, truncation=r.truncation, **common) for r in rows]


def attributions_section(ctx: Context) -> None:
    st.caption("Which tokens drive the judgement. Integrated Gradients on the input embeddings is the default; the "
               "convergence delta says whether enough steps were taken. Green pushes towards the explained class, red "
               "against it.")
    item = pick_item(ctx, "int_attr_item", "Input to explain")
    options = attribution_options(ctx)
    same_task = [e for e in ctx.models if e.task == ctx.task and e.name != ctx.entry.name]
    compare = st.multiselect("Side by side with", [e.name for e in same_task], key="int_attr_others", max_selections=2)
    entries = [ctx.entry, *[e for e in same_task if e.name in compare]]
    for col, entry in zip(st.columns(len(entries)), entries):
        with col:
            _attribution_column(ctx, entry, item, options)
    if SCORER_KINDS[KIWI_LM].answers(ctx.task):  # the Kiwi LM scores these texts: show its counterpart
        from explorer.ui.acceptability import morpheme_chart

        sentence = ctx.inputs.rows_of(item)[0].first
        with st.expander("Kiwi LM: per-morpheme log-probabilities (its counterpart of attributions)"):
            task = get_task(ctx.task)
            kiwi = ctx.explorer.kiwi().predict(task, [task.parse_line(sentence)[0]])[0]
            st.altair_chart(morpheme_chart(kiwi), width="stretch")


def _attribution_column(ctx: Context, entry: ModelEntry, item: int, options: AttributionOptions) -> None:
    try:
        loaded = ctx.model_for(entry)
        rows = ctx.inputs_for(entry).rows_of(item)
        results = memo(("attribution", entry.name, tuple(rows), options),
                       lambda: compute_attributions(loaded, rows, options))
    except (CheckpointError, ValueError, RuntimeError) as exc:
        st.error(f"**{escape_markdown(entry.name)}**: {escape_markdown(str(exc))}")
        return
    for k, result in enumerate(results):
        if len(results) > 1:  # a COPA pair classifier: one (premise, alternative) pair at a time
            st.markdown(f"*Alternative {k + 1}, read as its own pair*")
        _attribution_view(ctx, entry, loaded, result, key=f"{entry.name}-{k}")


def _attribution_view(ctx: Context, entry: ModelEntry, loaded: LoadedModel, result, key: str) -> None:
    from explorer.internals.attributions import (
        aggregate_parts, eojeol_spans, morpheme_spans, to_html, to_html_page, to_rows,
    )
    from explorer.ui.internals import attribution_bars

    what = class_name(loaded, result.target)
    if result.mc_target == "difference":
        what += f" minus alternative {result.contrast + 1}"
    st.markdown(f"**{entry.name}** · explaining {what} (P = {result.probs[result.target]:.2f}; "
                f"predicted {class_name(loaded, result.predicted)})")
    st.markdown(to_html(result), unsafe_allow_html=True)
    if result.mc_target == "chosen":
        st.caption("A multiple-choice head scores each alternative on its own row, so the other alternatives' tokens "
                   "get exactly 0 here; explain the difference to see both.")
    if result.delta is not None:
        how = " (auto)" if result.adaptive else ""
        st.caption(f"convergence delta {result.delta:+.2e} ({result.delta_ratio:.1%} of f(x) − f(baseline)) · "
                   f"{result.steps} steps{how}")
    if result.warning:
        st.warning(result.warning)
    for note in result.notes:
        st.caption(f"ℹ️ {note}")
    st.altair_chart(attribution_bars(result), width="stretch")
    if result.has_offsets:
        words = pd.DataFrame(aggregate_parts(result, eojeol_spans))
        morphs = pd.DataFrame(aggregate_parts(result, lambda t: morpheme_spans(t, ctx.morphemes(t))))
        several = words["part"].nunique() > 1 if len(words) else False
        keep = ["part", "unit", "score"] if several else ["unit", "score"]
        score = st.column_config.NumberColumn(format="%.4f")
        show_table(words[keep].rename(columns={"unit": "eojeol"}), column_config={"score": score})
        show_table(morphs[keep].rename(columns={"unit": "morpheme"}), column_config={"score": score})
        st.caption("A token's score goes to the eojeol and the morpheme where it starts: when one token holds "
                   "several morphemes (나는 = 나+는), the later ones show 0 — the model cannot tell them apart.")
    d1, d2 = st.columns(2)
    d1.download_button("CSV", pd.DataFrame(to_rows(result)).to_csv(index=False).encode("utf-8-sig"),
                       file_name=f"{entry.name}-attributions.csv", key=f"int-csv-{key}")
    d2.download_button("HTML", to_html_page(result, entry.name).encode("utf-8"), file_name=f"{entry.name}-attributions.html",
                       key=f"int-html-{key}")


# --------------------------------------------------------------------------- Korean counterfactuals



def counterfactuals_section(ctx: Context) -> None:
    edits = get_task(ctx.task).counterfactual_edits
    if edits is None:
        st.info(_which_tasks_get_edits())
        return
    st.caption("Minimal edits from Kiwi's analysis: a particle swapped for its wrong allomorph or a neighbouring case "
               "particle, a particle dropped, the tense changed, two eojeol swapped. Every selected model rescores "
               "every variant; flipped judgements are highlighted.")
    item = pick_item(ctx, "int_cf_item", "Input to edit")
    if edits == "sentence":
        _sentence_counterfactuals(ctx, ctx.inputs.items[item])
    else:
        _pair_counterfactuals(ctx, ctx.inputs.items[item])


def _which_tasks_get_edits() -> str:
    """Which tasks the counterfactual tab edits, from the registry (``Task.counterfactual_edits``)."""
    def names(kind: str) -> str:
        return " and ".join(t.name for t in TASKS.values() if t.counterfactual_edits == kind)

    parts = [f"for {names('sentence')} sentences" if names("sentence") else "",
             f"for each sentence of {names('fields')} inputs" if names("fields") else ""]
    if not any(parts):
        return "No task has counterfactual edits."
    return "Counterfactual edits are made " + " and ".join(p for p in parts if p) + "."


def _sentence_counterfactuals(ctx: Context, item: Any) -> None:
    """Edits of a one-sentence item (``counterfactual_edits = "sentence"``), rescored by every chosen model."""
    from explorer.internals.counterfactuals import flip_table, variants
    from explorer.ui.model_picker import pick_models

    task = get_task(ctx.task)
    if not isinstance(item, task.item_type):  # a `first | second` pair typed for a one-text task
        st.info("Counterfactual edits are made to one sentence; this line is a pair. Type it without `|`.")
        return
    field, sentence = task.editable_fields(item)[0]
    edits = _fewer(variants(sentence, ctx.morphemes(sentence)), lambda v: v.edit)
    scorers = pick_models(ctx.entries, ctx.task, key="int_cf_models", preselected=_first_models(ctx, ctx.task))
    if not edits:
        st.info("Kiwi found nothing to edit in this sentence.")
        return
    if not scorers:
        st.info("Pick at least one model to rescore the edits.")
        return
    items = [item, *[task.with_field(item, field, v.text) for v in edits]]
    runs = memo(("counterfactuals", ctx.task, sentence, tuple(e.name for e in scorers)), lambda: ctx.explorer.predict(
        scorers, ctx.task, items, device=ctx.device))
    for r in runs:
        if r.error:
            st.error(f"**{r.entry.name}**: {r.error}")
    ok = [r for r in runs if r.error is None]
    if ok:
        shown = lambda pred: pred.probs[task.score_class]  # noqa: E731
        rows = flip_table({r.entry.name: shown(r.predictions[0]) for r in ok},
                          {r.entry.name: [shown(x) for x in r.predictions[1:]] for r in ok}, edits)
        _flip_frame(pd.DataFrame(rows), len(edits))


def _pair_counterfactuals(ctx: Context, item: Any) -> None:
    from explorer.internals.counterfactuals import edited_item, pair_flip_table, pair_variants
    from explorer.ui.model_picker import pick_models

    edits = _fewer(pair_variants(ctx.task, item, ctx.morphemes), lambda e: (e[0], e[1].edit))
    scorers = pick_models(ctx.entries, ctx.task, key=f"int_cf_models_{ctx.task}", preselected=_first_models(ctx, ctx.task))
    if not edits:
        st.info("Kiwi found nothing to edit in these sentences.")
        return
    if not scorers:
        st.info("Pick at least one model to rescore the edits.")
        return
    items = [item, *[edited_item(ctx.task, item, field, v, ctx.morphemes) for field, v in edits]]
    runs = memo(("pair-counterfactuals", ctx.task, repr(item), tuple(e.name for e in scorers)),
                lambda: ctx.explorer.predict(scorers, ctx.task, items, device=ctx.device))
    for r in runs:
        if r.error:
            st.error(f"**{r.entry.name}**: {r.error}")
    ok = [r for r in runs if r.error is None]
    if not ok:
        return
    rows = pair_flip_table(ctx.task, edits, {r.entry.name: r.predictions[0] for r in ok},
                           {r.entry.name: r.predictions[1:] for r in ok})
    frame = pd.DataFrame(rows)
    for column in ("answer_original", "answer_variant"):
        frame[column] = frame[column].map(get_task(ctx.task).label_names)
    frame = frame.rename(columns={"p_original": f"{rows[0]['score']} before", "p_variant": "after"}).drop(columns="score")
    # The numbers before the long edited sentence, so they stay in view on a laptop.
    frame = frame[[c for c in frame.columns if c != "variant"] + ["variant"]]
    _flip_frame(frame, len(edits))


EDITS_PER_KIND = 8  # per kind (and per sentence for WiC/COPA): every model rescores every edit


def _fewer(edits: list, kind) -> list:
    from explorer.internals.counterfactuals import limit_per_kind

    kept = limit_per_kind(edits, EDITS_PER_KIND, kind)
    if len(kept) < len(edits):
        st.caption(f"ℹ️ {len(edits)} possible edits; the first {EDITS_PER_KIND} of each kind are rescored ({len(kept)}).")
    return kept


def _first_models(ctx: Context, task: str) -> list[str]:
    """The inspected model and up to three others: each selected model rescores every edit,
    and more models than the cache holds would be reloaded from disk on every change."""
    from explorer.ui.model_picker import usable_for

    others = [e.name for e in usable_for(ctx.entries, task)[0] if e.name != ctx.entry.name]
    return ([ctx.entry.name] if ctx.entry.task == task else []) + others[:3]


def _flip_frame(frame: pd.DataFrame, n_edits: int) -> None:
    numbers = {c: ("{:+.2f}" if c == "change" else "{:.2f}") for c in frame.columns
               if c.startswith(("p_", "P(", "after", "change"))}
    st.dataframe(
        frame.style.apply(lambda row: ["background-color: #fff3c4" if row["flipped"] else "" for _ in row], axis=1)
        .format(numbers),
        hide_index=True, width="stretch",
    )
    flips = frame.groupby("model")["flipped"].sum()
    st.caption("Flipped judgements per model: " + ", ".join(f"{m} {int(n)}/{n_edits}" for m, n in flips.items()))


# --------------------------------------------------------------------------- attention maps


def attention_section(ctx: Context) -> None:
    from explorer.internals.attention import attention_maps
    from explorer.ui.attention import attention_view

    st.caption("Attention weights per layer and head for your inputs, padded into one batch as the app runs them. "
               "Turn the mask off to see real tokens attend to [PAD].")
    with_mask = st.toggle("Pass the attention mask", value=True, key="int_att_mask")
    inputs = ctx.inputs
    try:
        maps = memo(("attention", ctx.entry.name, tuple(inputs.rows), with_mask),
                    lambda: attention_maps(ctx.loaded, inputs.firsts, inputs.seconds, with_mask=with_mask),
                    slot="attention")
    except ValueError as exc:
        st.info(f"No attention maps for {ctx.entry.name}: {exc}")
        return
    attention_view(maps, key="int_att", labels=[r.label for r in inputs.rows])


SECTIONS = {
    "Tokens, padding and the mask": tokens_section,
    "Positional embeddings": positions_section,
    "Attention maps": attention_section,
    "Token attributions": attributions_section,
    "Korean counterfactuals": counterfactuals_section,
}
