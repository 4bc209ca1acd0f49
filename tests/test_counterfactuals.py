"""Counterfactual variants from Kiwi's analysis (explorer.internals.counterfactuals)."""

from __future__ import annotations

import pytest

pytest.importorskip("kiwipiepy")

from explorer.tasks.copa import CopaItem  # noqa: E402
from explorer.tasks.wic import WicItem  # noqa: E402
from explorer.internals.counterfactuals import (  # noqa: E402
    EDIT_KINDS,
    Variant,
    edited_item,
    flip_table,
    pair_flip_table,
    pair_variants,
    variants,
)
from explorer.kiwi_lm import KiwiLM, Morpheme  # noqa: E402

SENTENCES = (
    "책이 책상 위에 있다.",
    "나는 사과를 먹었다.",
    "친구와 학교로 갔다.",
    "내가 물을 마실 것이다.",
    "철수와 영희는 공원에서 놀았다.",
    "나는 노래를 들었다.",
    "학교에서는 조용하다",
)


@pytest.fixture(scope="module")
def lm() -> KiwiLM:
    return KiwiLM()


def _variants(lm: KiwiLM, sentence: str) -> list[Variant]:
    return variants(sentence, lm.morphemes(sentence))


def _texts(vs: list[Variant], edit: str | None = None) -> list[str]:
    return [v.text for v in vs if edit is None or v.edit == edit]


def test_particle_allomorph_and_drop(lm: KiwiLM) -> None:
    vs = _variants(lm, "책이 책상 위에 있다.")
    assert "책가 책상 위에 있다." in _texts(vs, "particle allomorph")
    assert "책 책상 위에 있다." in _texts(vs, "particle dropped")
    allo = next(v for v in vs if v.edit == "particle allomorph")
    assert (allo.detail, allo.span) == ("책이 → 책가", (0, 2))


def test_case_swaps_tense_and_swap(lm: KiwiLM) -> None:
    vs = _variants(lm, "나는 사과를 먹었다.")
    swaps = _texts(vs, "case particle swap")
    assert "나는 사과가 먹었다." in swaps and "나는 사과는 먹었다." in swaps
    assert "내가 사과를 먹었다." in swaps  # suppletive 나 + 가 → 내가, from morphology.attach
    assert not any(bad in t for t in swaps for bad in ("사과이", "사과을", "사과은"))
    tenses = _texts(vs, "tense changed")
    assert set(tenses) == {"나는 사과를 먹는다.", "나는 사과를 먹을 것이다."}
    assert "사과를 나는 먹었다." in _texts(vs, "eojeol swapped")
    # Closing punctuation stays at the end of a swapped sentence.
    assert "나는 먹었다 사과를." in _texts(vs, "eojeol swapped")


def test_jkb_and_jc_particles_get_allomorph_and_drop_only(lm: KiwiLM) -> None:
    vs = _variants(lm, "친구와 학교로 갔다.")
    assert {"친구과 학교로 갔다.", "친구와 학교으로 갔다."} <= set(_texts(vs, "particle allomorph"))
    assert {"친구 학교로 갔다.", "친구와 학교 갔다."} <= set(_texts(vs, "particle dropped"))
    assert not _texts(vs, "case particle swap")
    assert set(_texts(vs, "tense changed")) == {"친구와 학교로 간다.", "친구와 학교로 갈 것이다."}


def test_future_to_other_tenses(lm: KiwiLM) -> None:
    vs = _variants(lm, "내가 물을 마실 것이다.")
    assert set(_texts(vs, "tense changed")) == {"내가 물을 마셨다.", "내가 물을 마신다."}
    # 내가 is read 나 + 가: the surface does not match the analysis, so it is left alone.
    assert all(v.span[0] >= 3 for v in vs if v.edit != "eojeol swapped")


def test_skips_irregulars_and_particles_after_particles(lm: KiwiLM) -> None:
    assert not _texts(_variants(lm, "나는 노래를 들었다."), "tense changed")  # 듣다 is ㄷ-irregular
    vs = _variants(lm, "학교에서는 조용하다")
    assert not [v for v in vs if v.edit.startswith("particle") or v.edit == "case particle swap"]


def test_re_read_particle_error_is_not_edited(lm: KiwiLM) -> None:
    # Kiwi reads 책가 as one noun: no particle to vary, and no garbage from it.
    vs = _variants(lm, "책가 책상 위에 있다.")
    assert all(v.edit in ("tense changed", "eojeol swapped") for v in vs)


def test_wrong_particle_allomorph_is_repaired() -> None:
    # Synthetic analysis of a user error Kiwi still tags as a particle.
    ms = [Morpheme("사과", "NNG", 0, 2, 0.0), Morpheme("을", "JKO", 2, 3, 0.0)]
    vs = variants("사과을", ms)
    assert [v.text for v in vs if v.edit == "particle allomorph"] == ["사과를"]


@pytest.mark.parametrize("sentence", SENTENCES)
def test_invariants(lm: KiwiLM, sentence: str) -> None:
    vs = _variants(lm, sentence)
    texts = _texts(vs)
    assert sentence not in texts
    assert len(texts) == len(set(texts))
    assert vs == _variants(lm, sentence)  # deterministic
    for v in vs:
        assert v.edit in EDIT_KINDS
        start, end = v.span
        assert 0 <= start < end <= len(sentence)
        assert v.text[:start] == sentence[:start]
        assert v.text.endswith(sentence[end:])
        if v.edit == "eojeol swapped":
            assert len(v.text) == len(sentence)
            assert sorted(v.text[start:end].split()) == sorted(sentence[start:end].split())
        else:
            before, after = v.detail.split(" → ")
            assert before == sentence[start:end]
            assert v.text == sentence[:start] + after + sentence[end:]


def test_empty_and_unanalysable_input(lm: KiwiLM) -> None:
    assert variants("", []) == []
    assert variants("...", lm.morphemes("...")) == []


def test_flip_table() -> None:
    vs = [Variant("a", "particle dropped", "x → y", (0, 1)), Variant("b", "tense changed", "x → z", (0, 1))]
    rows = flip_table({"m1": 0.8, "m2": 0.3}, {"m1": [0.4, 0.9], "m2": [0.6, 0.1]}, vs)
    assert [(r["variant"], r["model"]) for r in rows] == [("a", "m1"), ("a", "m2"), ("b", "m1"), ("b", "m2")]
    assert [r["flipped"] for r in rows] == [True, True, False, False]
    assert [round(r["change"], 6) for r in rows] == [-0.4, 0.3, 0.1, -0.2]
    assert rows[0]["p_original"] == 0.8 and rows[0]["p_variant"] == 0.4 and rows[0]["edit"] == "particle dropped"
    # Exactly 0.5 counts as acceptable, as in the scorers' labels.
    edge = flip_table({"m": 0.49}, {"m": [0.5]}, vs[:1])
    assert edge[0]["flipped"] is True
    with pytest.raises(ValueError):
        flip_table({"m1": 0.8}, {"m1": [0.4]}, vs)
    with pytest.raises(ValueError):
        flip_table({}, {"m1": [0.4, 0.5]}, vs)


def test_pair_variants_wic_and_copa(lm: KiwiLM) -> None:
    wic = WicItem("1", "먹", "나는 사과를 먹었다.", "책이 책상 위에 있다.", (7, 8), (9, 10), 0)
    pairs = pair_variants("wic", wic, lm.morphemes)
    assert {field for field, _ in pairs} == {"sentence1", "sentence2"}
    assert [v for f, v in pairs if f == "sentence1"] == _variants(lm, wic.sentence1)
    allo = next(v for v in _variants(lm, wic.sentence2) if v.text == "책가 책상 위에 있다.")
    assert ("sentence2", allo) in pairs
    alternatives = ("친구와 학교로 갔다.", "책이 책상 위에 있다.")
    copa = CopaItem("2", "나는 사과를 먹었다.", "effect", alternatives, 0)
    fields = [f for f, _ in pair_variants("copa", copa, lm.morphemes)]
    assert set(fields) == {"premise", "alternative1", "alternative2"}
    assert fields == sorted(fields, key=["premise", "alternative1", "alternative2"].index)
    with pytest.raises(ValueError):
        pair_variants("boolq", wic, lm.morphemes)


def test_edited_wic_item_finds_its_target_again(lm: KiwiLM) -> None:
    wic = WicItem("1", "사과", "나는 사과를 먹었다.", "사과가 달다.", (3, 5), (0, 2), 1)
    swapped = next(v for f, v in pair_variants("wic", wic, lm.morphemes) if f == "sentence1" and v.edit == "eojeol swapped")
    item = edited_item("wic", wic, "sentence1", swapped, lm.morphemes)
    start, end = item.span1
    assert item.sentence1 == swapped.text and item.sentence1[start:end] == "사과"
    assert item.sentence2 == wic.sentence2 and item.span2 == wic.span2


def test_edited_wic_item_keeps_the_users_mark_on_the_same_word(lm: KiwiLM) -> None:
    # The user marked the second 배 (7, 8); no edit may move the mark to the first one.
    sentence = "배가 고파서 배를 먹었다."
    wic = WicItem("1", "배", sentence, "배를 깎았다.", (7, 8), (0, 1), 1)
    edits = [v for f, v in pair_variants("wic", wic, lm.morphemes) if f == "sentence1"]
    for v in edits:
        start, end = edited_item("wic", wic, "sentence1", v, lm.morphemes).span1
        assert v.text[start:end] == "배", v
        if v.span[0] >= 8:  # an edit after the target leaves it in place
            assert (start, end) == (7, 8), v
        elif v.span[1] <= 7:  # an edit before it shifts it by the change in length
            assert start == 7 + len(v.text) - len(sentence), v
    dropped = next(v for v in edits if v.detail.startswith("배가 →") and v.edit == "particle dropped")
    assert edited_item("wic", wic, "sentence1", dropped, lm.morphemes).span1 == (6, 7)


def test_edited_copa_item_replaces_one_field() -> None:
    copa = CopaItem("2", "비가 왔다.", "effect", ("길이 젖었다.", "해가 떴다."), 0)
    edit = Variant("해를 떴다.", "case particle swap", "해가 → 해를", (0, 2))
    assert edited_item("copa", copa, "alternative2", edit).alternatives == ("길이 젖었다.", "해를 떴다.")
    assert edited_item("copa", copa, "premise", Variant("비를 왔다.", "x", "y", (0, 2))).premise == "비를 왔다."
    with pytest.raises(ValueError):
        edited_item("boolq", copa, "premise", edit)


def test_pair_flip_table_marks_changed_answers() -> None:
    from explorer.tasks.predict import Prediction

    edits = [("premise", Variant("비를 왔다.", "particle allomorph", "비가 → 비를", (0, 2))),
             ("alternative1", Variant("길 젖었다.", "particle dropped", "길이 → 길", (0, 2)))]
    before = {"m": Prediction(0, [0.7, 0.3])}
    after = {"m": [Prediction(0, [0.6, 0.4]), Prediction(1, [0.2, 0.8])]}
    rows = pair_flip_table("copa", edits, before, after)
    assert [r["flipped"] for r in rows] == [False, True]
    assert rows[1]["change"] == pytest.approx(0.2 - 0.7) and rows[1]["score"] == "P(alternative 1)"


def test_long_sentences_keep_a_few_edits_of_each_kind(lm: KiwiLM) -> None:
    from explorer.internals.counterfactuals import limit_per_kind

    long = " ".join(["나는 학교에서 친구와 사과를 먹었다."] * 6)
    edits = _variants(lm, long)
    kept = limit_per_kind(edits, per_kind=5)
    assert len(edits) > 80 and len(kept) <= 5 * len(EDIT_KINDS)
    assert {v.edit for v in kept} == {v.edit for v in edits}
    assert kept == [v for v in edits if v in kept]  # order kept
    pairs = [("sentence1", v) for v in edits] + [("sentence2", v) for v in edits]
    per_field = limit_per_kind(pairs, per_kind=3, kind=lambda p: (p[0], p[1].edit))
    assert {f for f, _ in per_field} == {"sentence1", "sentence2"}
