"""Token attributions: completeness, analytic answers, aggregation, thread safety."""

from __future__ import annotations

import csv
import html
import io
import json
import re
import threading
from types import SimpleNamespace

import pytest
import torch
from torch import nn

from explorer.internals import attributions
from explorer.internals.attributions import (
    aggregate,
    aggregate_parts,
    attribute,
    eojeol_spans,
    morpheme_spans,
    to_html,
    to_html_page,
    to_rows,
)
from explorer.loading import LoadedModel, load_model
from explorer.registry import ModelEntry

SENTENCE = "철수가 학교에 갔다"
SECOND = "영희는 집에 있었다"


class LinearToy(nn.Module):
    """Logits linear in the word embeddings: ``W · mean_i(x_i) + b`` over unmasked tokens."""

    def __init__(self, vocab: int, dim: int = 8) -> None:
        super().__init__()
        torch.manual_seed(1)
        self.emb = nn.Embedding(vocab, dim)
        self.head = nn.Linear(dim, 2)
        self.config = SimpleNamespace(num_labels=2)

    def get_input_embeddings(self) -> nn.Embedding:
        return self.emb

    def forward(self, input_ids=None, attention_mask=None, token_type_ids=None, inputs_embeds=None):
        x = self.emb(input_ids) if inputs_embeds is None else inputs_embeds
        m = attention_mask.unsqueeze(-1).to(x.dtype)
        return SimpleNamespace(logits=self.head((x * m).sum(1) / m.sum(1)))


def _loaded(model: nn.Module, tokenizer, head: str = "sequence") -> LoadedModel:
    return LoadedModel(
        entry=ModelEntry(name="toy", source="toy"), model=model.eval(), tokenizer=tokenizer,
        device=torch.device("cpu"), dtype=torch.float32, head=head, positive_label=1,
        positive_how="test", max_length=64,
    )


@pytest.fixture(scope="module")
def bert(make_checkpoint):
    return load_model(ModelEntry(name="b", source=str(make_checkpoint("bert", name="attr-bert")), task="cola"), "cpu")


@pytest.fixture(scope="module")
def bert_mc(make_checkpoint):
    path = make_checkpoint("bert", name="attr-mc", head="multiple_choice")
    return load_model(ModelEntry(name="mc", source=str(path), task="copa"), "cpu")


@pytest.fixture(scope="module")
def toy(tokenizer):
    return _loaded(LinearToy(len(tokenizer)), tokenizer)


def _assert_clean(model: nn.Module) -> None:
    for module in model.modules():
        assert not module._forward_hooks and not module._forward_pre_hooks and not module._backward_hooks
    assert all(p.grad is None for p in model.parameters())
    # Attribution freezes the weights while it runs and gives the flags back.
    assert all(p.requires_grad for p in model.parameters())


# --------------------------------------------------------------------------- (1) completeness


def test_ig_completeness_on_bert(bert):
    a = attribute(bert, SENTENCE, SECOND, method="ig", steps=200)
    assert a.method == "ig" and a.target == a.predicted
    assert len(a.tokens) == len(a.scores) == len(a.ids) == len(a.offsets)
    assert abs(sum(a.scores) - (a.f_x - a.f_baseline)) <= abs(a.delta) + 1e-4
    # Special tokens keep their id in the [PAD] baseline, so they get exactly nothing.
    assert all(s == 0.0 for s, o in zip(a.scores, a.offsets) if o.special)
    assert {o.segment for o in a.offsets if not o.special} == {0, 1}
    assert a.probs and abs(sum(a.probs) - 1) < 1e-5


def test_chosen_class_and_probability_output(bert):
    a = attribute(bert, SENTENCE, method="ig", target=0, output="prob", steps=100)
    b = attribute(bert, SENTENCE, method="ig", target=1, output="prob", steps=100)
    assert (a.target, b.target) == (0, 1)
    # The two class probabilities sum to 1, so their attributions are opposite.
    assert a.scores == pytest.approx([-s for s in b.scores], abs=1e-5)
    with pytest.raises(ValueError):
        attribute(bert, SENTENCE, target=5)
    with pytest.raises(ValueError):
        attribute(bert, SENTENCE, method="shap")


# --------------------------------------------------------------------------- (2) analytic answers


def _analytic(toy: LoadedModel, baseline_ids: torch.Tensor | None, target: int) -> list[float]:
    enc = toy.tokenizer(SENTENCE, return_tensors="pt")
    emb = toy.model.emb.weight.detach()
    x = emb[enc["input_ids"][0]]
    x0 = torch.zeros_like(x) if baseline_ids is None else emb[baseline_ids]
    w = toy.model.head.weight.detach()[target]
    return ((x - x0) @ w / x.shape[0]).tolist()


@pytest.mark.parametrize("baseline", ["pad", "mask", "zero"])
def test_ig_on_linear_model_is_analytic(toy, baseline):
    tok = toy.tokenizer
    a = attribute(toy, SENTENCE, method="ig", baseline=baseline, target=1, steps=20)
    ids = torch.tensor(a.ids)
    special = torch.tensor([o.special for o in a.offsets])
    fill = {"pad": tok.pad_token_id, "mask": tok.mask_token_id}.get(baseline)
    base = None if fill is None else torch.where(special, ids, torch.full_like(ids, fill))
    assert a.scores == pytest.approx(_analytic(toy, base, 1), abs=1e-5)
    assert abs(a.delta) < 1e-5


def test_input_x_gradient_and_saliency_on_linear_model(toy):
    ixg = attribute(toy, SENTENCE, method="input_x_gradient", target=0)
    assert ixg.scores == pytest.approx(_analytic(toy, None, 0), abs=1e-6)
    sal = attribute(toy, SENTENCE, method="saliency", target=0)
    w = toy.model.head.weight.detach()[0]
    expected = float(w.abs().sum()) / len(sal.tokens)
    assert sal.scores == pytest.approx([expected] * len(sal.tokens), abs=1e-6)


# --------------------------------------------------------------------------- (3) convergence delta


def test_convergence_delta_reported_and_warned(make_checkpoint):
    # Large random weights make the model far from linear along the IG path, so two
    # steps are visibly too few (a default-initialised tiny BERT is almost linear).
    path = make_checkpoint("bert", name="attr-rough", initializer_range=0.5)
    rough = load_model(ModelEntry(name="r", source=str(path), task="cola"), "cpu")
    fine = attribute(rough, SENTENCE, method="ig", steps=300)
    coarse = attribute(rough, SENTENCE, method="ig", steps=2)
    assert fine.delta is not None and fine.delta_ratio is not None
    assert abs(fine.delta) < abs(coarse.delta)
    assert fine.delta_ratio < 0.05 and fine.warning is None
    assert coarse.delta_ratio > 0.05 and "increase steps" in coarse.warning


def _rough_bert(make_checkpoint):
    path = make_checkpoint("bert", name="attr-rough", initializer_range=0.5)
    return load_model(ModelEntry(name="r", source=str(path), task="cola"), "cpu")


def test_auto_steps_stop_at_the_first_grid_when_it_is_exact(toy):
    # A model linear in the embeddings has a constant integrand: the first grid is exact.
    a = attribute(toy, SENTENCE, method="ig", target=1)
    assert a.adaptive and a.steps == attributions.AUTO_FIRST_STEPS
    assert abs(a.delta) < 1e-5 and a.warning is None
    fixed = attribute(toy, SENTENCE, method="ig", target=1, steps=20)
    assert not fixed.adaptive and fixed.steps == 20
    assert a.scores == pytest.approx(fixed.scores, abs=1e-5)


def test_auto_steps_refine_until_the_delta_is_within_one_percent(make_checkpoint):
    rough = _rough_bert(make_checkpoint)
    auto = attribute(rough, SENTENCE, method="ig")
    reference = attribute(rough, SENTENCE, method="ig", steps=1000)
    difference = abs(auto.f_x - auto.f_baseline)
    # Far from linear: the first grid is not enough, and the grid only ever doubles.
    assert auto.steps > attributions.AUTO_FIRST_STEPS and (auto.steps - 1) % (attributions.AUTO_FIRST_STEPS - 1) == 0
    assert auto.delta_ratio <= attributions.AUTO_TOLERANCE and auto.warning is None
    assert abs(sum(auto.scores) - (auto.f_x - auto.f_baseline)) == pytest.approx(abs(auto.delta), abs=1e-5)
    # The delta bounds only the sum; on this model each token is also within 1% of f(x) - f(baseline)
    # of a 1000-step Gauss-Legendre run (measured: at most 0.6%).
    assert reference.delta_ratio < 1e-4
    assert max(abs(x - y) for x, y in zip(auto.scores, reference.scores)) <= attributions.AUTO_TOLERANCE * difference
    _assert_clean(rough.model)


def test_auto_steps_at_the_cap_say_the_integral_is_not_resolved(make_checkpoint, monkeypatch):
    rough = _rough_bert(make_checkpoint)
    monkeypatch.setattr(attributions, "AUTO_MAX_STEPS", attributions.AUTO_FIRST_STEPS)
    a = attribute(rough, SENTENCE, method="ig")
    assert a.steps == attributions.AUTO_FIRST_STEPS and a.delta_ratio > attributions.AUTO_TOLERANCE
    assert "not resolved" in a.warning and f"after {a.steps} steps" in a.warning


def test_cli_attribute_reports_the_steps_auto_took(make_checkpoint, capsys, tmp_path, monkeypatch):
    from explorer.cli import main

    for key, value in {"EXPLORER_DEFAULTS": "0", "EXPLORER_RESULTS": str(tmp_path / "results"), "HF_HUB_OFFLINE": "1",
                       "EXPLORER_CHECKPOINTS": str(tmp_path / "none"), "EXPLORER_MODELS": str(tmp_path / "m.toml")}.items():
        monkeypatch.setenv(key, value)  # no default models: only the folder given
    folder = make_checkpoint("bert", name="attr-rough-cola", initializer_range=0.5, finetuning_task="cola")
    assert main(["attribute", "--model", str(folder), "--task", "cola", "--json", SENTENCE]) == 0
    result = json.loads(capsys.readouterr().out)["results"][0]
    assert result["steps"] > attributions.AUTO_FIRST_STEPS and result["delta_ratio"] <= attributions.AUTO_TOLERANCE


# --------------------------------------------------------------------------- (4) aggregation


def _segment_sum(a, segment: int, choice: int | None = None) -> float:
    return sum(
        s for s, o in zip(a.scores, a.offsets)
        if not o.special and o.segment == segment and (choice is None or o.choice == choice)
    )


def test_aggregation_to_eojeol_and_morphemes_sums_token_scores(bert):
    from explorer.kiwi_lm import KiwiLM

    a = attribute(bert, SENTENCE, SECOND, method="input_x_gradient")
    words = aggregate(a, SENTENCE, 0, eojeol_spans(SENTENCE))
    assert [w for w, _ in words] == SENTENCE.split()
    assert sum(v for _, v in words) == pytest.approx(_segment_sum(a, 0), abs=1e-9)
    second = aggregate(a, SECOND, 1, eojeol_spans(SECOND))
    assert sum(v for _, v in second) == pytest.approx(_segment_sum(a, 1), abs=1e-9)

    morphemes = KiwiLM().morphemes(SENTENCE)
    spans = morpheme_spans(SENTENCE, morphemes)
    by_morpheme = aggregate(a, SENTENCE, 0, spans)
    assert len(by_morpheme) == len(morphemes) and any(label.endswith("/JKS") for label, _ in by_morpheme)
    assert sum(v for _, v in by_morpheme) == pytest.approx(_segment_sum(a, 0), abs=1e-9)


def test_token_overlapping_two_spans_goes_to_its_first_character(bert):
    a = attribute(bert, SENTENCE, method="saliency")
    # Split the text at every character: each token lands in the span of its first character.
    spans = [(i, i + 1, SENTENCE[i]) for i in range(len(SENTENCE))]
    per_char = aggregate(a, SENTENCE, 0, spans)
    for score, off in zip(a.scores, a.offsets):
        if not off.special:
            assert per_char[off.start][1] >= score - 1e-12
    assert sum(v for _, v in per_char) == pytest.approx(_segment_sum(a, 0), abs=1e-9)


# --------------------------------------------------------------------------- (5) multiple choice


def test_multiple_choice_chosen_and_difference(bert_mc):
    endings = ["그래서 비가 왔다", "그래서 해가 떴다"]
    chosen = attribute(bert_mc, SENTENCE, endings=endings, method="ig", steps=100)
    diff = attribute(bert_mc, SENTENCE, endings=endings, method="ig", steps=100, mc_target="difference")
    assert chosen.mc_target == "chosen" and chosen.contrast is None
    assert diff.contrast == 1 - diff.target and len(diff.probs) == 2
    assert {o.choice for o in chosen.offsets} == {0, 1}
    assert chosen.scores != pytest.approx(diff.scores, abs=1e-6)
    for a in (chosen, diff):
        assert abs(sum(a.scores) - (a.f_x - a.f_baseline)) <= abs(a.delta) + 1e-4
        for row, ending in enumerate(endings):
            agg = aggregate(a, ending, 1, eojeol_spans(ending), choice=row)
            assert sum(v for _, v in agg) == pytest.approx(_segment_sum(a, 1, row), abs=1e-9)
        parts = aggregate_parts(a, eojeol_spans)
        assert {p["part"] for p in parts} == {"alt 1 · text 1", "alt 1 · text 2", "alt 2 · text 1", "alt 2 · text 2"}
        non_special = sum(s for s, o in zip(a.scores, a.offsets) if not o.special)
        assert sum(p["score"] for p in parts) == pytest.approx(non_special, abs=1e-9)
    occ = attribute(bert_mc, SENTENCE, endings=endings, method="occlusion", mc_target="difference")
    assert len(occ.scores) == len(chosen.tokens) and occ.tokens == chosen.tokens
    with pytest.raises(ValueError):
        attribute(bert_mc, SENTENCE)


# --------------------------------------------------------------------------- (6) occlusion and exports


def test_occlusion_one_score_per_token(bert, toy):
    a = attribute(bert, SENTENCE, SECOND, method="occlusion")
    assert len(a.scores) == len(a.tokens) and a.delta is None
    assert all(s == 0.0 for s, o in zip(a.scores, a.offsets) if o.special)
    assert any(s != 0.0 for s in a.scores)
    # Linear toy: the drop from occluding one token is w·(x_i - pad)/L, the IG score.
    occ = attribute(toy, SENTENCE, method="occlusion", target=1)
    ig = attribute(toy, SENTENCE, method="ig", target=1)
    assert occ.scores == pytest.approx(ig.scores, abs=1e-5)


def test_rows_and_html(bert):
    a = attribute(bert, "<b>철수가</b> & 갔다", SECOND, method="input_x_gradient")
    rows = to_rows(a)
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    assert len(buffer.getvalue().splitlines()) == len(a.tokens) + 1
    page = to_html(a)
    # User text is escaped (the tokenizer splits "<b>" into characters, each escaped) and reads as typed.
    assert "<b>철" not in page and ">&lt;</span>" in page and "&amp;" in page
    assert "<b>철수가</b> & 갔다" in html.unescape(re.sub(r"<[^>]+>", "", page))
    assert "rgba(22,163,74" in page and "rgba(220,38,38" in page
    only_second = to_html(a, SECOND, segment=1)
    assert "철" not in only_second and "었다</span>" in only_second and "영" in only_second


def test_html_export_escapes_the_model_name_and_the_text(bert):
    """A checkpoint folder may be named anything; the downloaded page must not run it as markup."""
    a = attribute(bert, "a<b & c", method="saliency")
    page = to_html_page(a, "<script>alert(1)</script>")
    assert "<script>" not in page
    assert "<title>&lt;script&gt;alert(1)&lt;/script&gt; · attributions</title>" in page
    assert "<h1" in page and "&lt;script&gt;alert(1)&lt;/script&gt;</h1>" in page
    assert ">&lt;</span>" in page and "&amp;" in page and "a<b" not in page


def test_steps_and_batch_size_out_of_range_are_refused(bert):
    for steps in (0, -3, 10_001, 2.5, True, None, "fast", "AUTO"):
        with pytest.raises(ValueError, match='steps must be "auto" or a whole number from 1 to 1000'):
            attribute(bert, SENTENCE, steps=steps)
    with pytest.raises(ValueError, match="internal_batch_size"):
        attribute(bert, SENTENCE, internal_batch_size=0)


# --------------------------------------------------------------------------- (7) thread safety


def test_concurrent_attributions_match_sequential_and_leave_no_trace(bert):
    sequential = [attribute(bert, text, method="ig", steps=30).scores for text in (SENTENCE, SECOND)]
    results: dict[int, list[float]] = {}
    errors: list[BaseException] = []
    start = threading.Barrier(2)

    def work(i: int, text: str) -> None:
        try:
            start.wait()
            results[i] = attribute(bert, text, method="ig", steps=30).scores
        except BaseException as exc:  # surfaced below; a thread cannot fail the test itself
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i, t)) for i, t in enumerate((SENTENCE, SECOND))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert [results[0], results[1]] == [pytest.approx(s, abs=1e-6) for s in sequential]
    _assert_clean(bert.model)


def test_errors_leave_no_trace_and_inference_mode_callers_work(bert):
    with pytest.raises(ValueError):
        attribute(bert, SENTENCE, target=9)
    _assert_clean(bert.model)
    with torch.inference_mode():
        a = attribute(bert, SENTENCE, method="ig", steps=20)
    assert a.delta is not None
    _assert_clean(bert.model)


def test_funnel_says_why_gradient_methods_are_flat(tokenizer):
    from test_internals_padding import build_tiny

    funnel = _loaded(build_tiny("funnel", len(tokenizer), tokenizer.pad_token_id), tokenizer)
    flat = attribute(funnel, SENTENCE, method="input_x_gradient")
    assert max(abs(s) for s in flat.scores) < 1e-4 and any("layer-normalises" in n for n in flat.notes)
    masked = attribute(funnel, SENTENCE, method="ig", baseline="mask", steps=20)
    assert not any("layer-normalises" in n for n in masked.notes)
