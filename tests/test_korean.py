"""Tests for the Korean morphology rules (explorer.morphology) and the template
generator built on them (explorer.defaults.korean).

Besides unit tests of the morphology rules, this checks the generated
data with Kiwi's language model: acceptable sentences should score higher than
their particle-error variants, and it prints (without asserting tightly) how
often Kiwi prefers the acceptable member of each minimal pair, per error type.
That share is roughly the ceiling of a zero-shot Kiwi acceptability scorer on
this data. Run with ``-s`` to see the table.
"""

from __future__ import annotations

import difflib
import random
import statistics
import subprocess
import sys
from collections import Counter

import pytest

from explorer import morphology as mo
from explorer.defaults import korean as ko
from explorer.defaults.korean import ERROR_TYPES, Example, generate_cola
from explorer.morphology import (
    attach,
    conjugate,
    final_consonant,
    has_final_consonant,
    has_rieul_final,
    ill_formed_endings,
    wrong_allomorph,
)

# ----------------------------------------------------------------------------- primitives


@pytest.mark.parametrize(
    "word, final",
    [
        ("책", "ㄱ"), ("사과", ""), ("물", "ㄹ"), ("집", "ㅂ"), ("닭", "ㄺ"), ("선생님", "ㅁ"),
        ("학교 앞", "ㅍ"), ("책)", "ㄱ"), ("'사과'", ""), ("서울.", "ㄹ"),
        ("1", "ㄹ"), ("2", ""), ("3", "ㅁ"), ("6", "ㄱ"), ("10", "ㅂ"), ("100", "ㄱ"), ("1,000", "ㄴ"),
        ("20000", "ㄴ"), ("0", "ㅇ"), ("3.5", ""),
        ("KBS", ""), ("HTML", "ㄹ"), ("IBM", "ㅁ"), ("BERT", ""), ("Python", "ㄴ"), ("email", "ㄹ"),
        ("Google", "ㄹ"), ("game", "ㅁ"), ("book", "ㄱ"), ("robot", "ㅅ"), ("computer", ""),
        ("ㅋㅋ", "ㅋ"), ("ㄲ", "ㄱ"), ("ㅠ", ""), ("漢", ""),
    ],
)  # fmt: skip
def test_final_consonant(word, final):
    assert final_consonant(word) == final


def test_final_consonant_rejects_empty():
    with pytest.raises(ValueError):
        final_consonant("  ..")


def test_has_final_and_rieul():
    assert has_final_consonant("책") and has_final_consonant("선생님") and has_final_consonant("물")
    assert not has_final_consonant("사과") and not has_final_consonant("학교")
    assert has_rieul_final("물") and has_rieul_final("서울") and has_rieul_final("연필")
    assert not has_rieul_final("집") and not has_rieul_final("닭") and not has_rieul_final("사과")


@pytest.mark.parametrize(
    "noun, particle, expected",
    [
        ("책", "이/가", "책이"), ("사과", "이/가", "사과가"), ("물", "(으)로", "물로"), ("집", "(으)로", "집으로"),
        ("학교", "(으)로", "학교로"), ("연필", "로", "연필로"), ("선생님", "와/과", "선생님과"),
        ("친구", "와/과", "친구와"), ("책", "을/를", "책을"), ("사과", "를/을", "사과를"), ("책", "은/는", "책은"),
        ("사과", "은/는", "사과는"), ("지민", "아/야", "지민아"), ("민수", "아/야", "민수야"), ("빵", "이나/나", "빵이나"),
        ("우유", "이나/나", "우유나"), ("동생", "이랑/랑", "동생이랑"), ("친구", "이랑/랑", "친구랑"),
        ("나", "이/가", "내가"), ("저", "가", "제가"), ("누구", "이/가", "누가"), ("나", "은/는", "나는"),
        ("책", "가", "책이"),  # a single form is repaired to the right one
        ("서울", "에", "서울에"), ("할머니", "께서", "할머니께서"),  # invariant particles
        ("2", "(으)로", "2로"), ("3", "(으)로", "3으로"), ("7", "(으)로", "7로"), ("KBS", "이/가", "KBS가"),
        ("학교 앞", "에서", "학교 앞에서"), ("축구 경기", "을/를", "축구 경기를"),
        ("책", mo.I_GA, "책이"),
    ],
)  # fmt: skip
def test_attach(noun, particle, expected):
    assert attach(noun, particle) == expected


@pytest.mark.parametrize(
    "noun, particle, expected",
    [
        ("책", "이/가", "책가"), ("사과", "을/를", "사과을"), ("집", "(으)로", "집로"), ("물", "(으)로", "물으로"),
        ("학교", "(으)로", "학교으로"), ("친구", "와/과", "친구과"), ("선생님", "와/과", "선생님와"),
        ("지민", "아/야", "지민야"), ("빵", "이나/나", "빵나"), ("친구", "이랑/랑", "친구이랑"), ("나", "이/가", "나가"),
    ],
)  # fmt: skip
def test_wrong_allomorph(noun, particle, expected):
    assert wrong_allomorph(noun, particle) == expected
    assert wrong_allomorph(noun, particle) != attach(noun, particle)


def test_wrong_allomorph_needs_an_alternating_particle():
    with pytest.raises(ValueError):
        wrong_allomorph("학교", "에서")


def test_particle_names():
    assert [p.name for p in mo.PARTICLES.values()] == list(mo.PARTICLES)
    assert mo.Particle("이", "가").name == "이/가" and mo.EURO_RO.name == "(으)로"
    assert set(mo.PARTICLES) == {"이/가", "은/는", "을/를", "와/과", "아/야", "(으)로", "이나/나", "이랑/랑"}


@pytest.mark.parametrize(
    "lemma, kw, past, present, future, hon_past",
    [
        ("먹다", {}, "먹었다", "먹는다", "먹을 것이다", "드셨다"),
        ("가다", {}, "갔다", "간다", "갈 것이다", "가셨다"),
        ("오다", {}, "왔다", "온다", "올 것이다", "오셨다"),
        ("보다", {}, "봤다", "본다", "볼 것이다", "보셨다"),
        ("하다", {}, "했다", "한다", "할 것이다", "하셨다"),
        ("공부하다", {}, "공부했다", "공부한다", "공부할 것이다", "공부하셨다"),
        ("만들다", {}, "만들었다", "만든다", "만들 것이다", "만드셨다"),
        ("살다", {}, "살았다", "산다", "살 것이다", "사셨다"),
        ("열다", {}, "열었다", "연다", "열 것이다", "여셨다"),
        ("팔다", {}, "팔았다", "판다", "팔 것이다", "파셨다"),
        ("놀다", {}, "놀았다", "논다", "놀 것이다", "노셨다"),
        ("쓰다", {}, "썼다", "쓴다", "쓸 것이다", "쓰셨다"),
        ("읽다", {}, "읽었다", "읽는다", "읽을 것이다", "읽으셨다"),
        ("찾다", {}, "찾았다", "찾는다", "찾을 것이다", "찾으셨다"),
        ("입다", {}, "입었다", "입는다", "입을 것이다", "입으셨다"),
        ("닫다", {}, "닫았다", "닫는다", "닫을 것이다", "닫으셨다"),
        ("마시다", {}, "마셨다", "마신다", "마실 것이다", "마시셨다"),
        ("기다리다", {}, "기다렸다", "기다린다", "기다릴 것이다", "기다리셨다"),
        ("가르치다", {}, "가르쳤다", "가르친다", "가르칠 것이다", "가르치셨다"),
        ("배우다", {}, "배웠다", "배운다", "배울 것이다", "배우셨다"),
        ("보내다", {}, "보냈다", "보낸다", "보낼 것이다", "보내셨다"),
        ("타다", {}, "탔다", "탄다", "탈 것이다", "타셨다"),
        ("만나다", {}, "만났다", "만난다", "만날 것이다", "만나셨다"),
        ("자다", {}, "잤다", "잔다", "잘 것이다", "주무셨다"),
        ("바쁘다", {"adjective": True}, "바빴다", "바쁘다", "바쁠 것이다", "바쁘셨다"),
        ("아프다", {"adjective": True}, "아팠다", "아프다", "아플 것이다", "아프셨다"),
        ("좋다", {"adjective": True}, "좋았다", "좋다", "좋을 것이다", "좋으셨다"),
        ("맑다", {"adjective": True}, "맑았다", "맑다", "맑을 것이다", "맑으셨다"),
        ("흐리다", {"adjective": True}, "흐렸다", "흐리다", "흐릴 것이다", "흐리셨다"),
        ("비싸다", {"adjective": True}, "비쌌다", "비싸다", "비쌀 것이다", "비싸셨다"),
        ("피곤하다", {"adjective": True}, "피곤했다", "피곤하다", "피곤할 것이다", "피곤하셨다"),
        ("있다", {"adjective": True}, "있었다", "있다", "있을 것이다", "계셨다"),
    ],
)  # fmt: skip
def test_conjugate(lemma, kw, past, present, future, hon_past):
    hon = ko.HONORIFIC_SUPPLETION.get(lemma)
    assert conjugate(lemma, "past", **kw) == past
    assert conjugate(lemma, "present", **kw) == present
    assert conjugate(lemma, "future", **kw) == future
    assert conjugate(lemma, "past", honorific=True, honorific_lemma=hon, **kw) == hon_past


def test_conjugate_honorific_present_and_propositive():
    assert conjugate("먹다", "present", honorific=True, honorific_lemma="드시다") == "드신다"
    assert conjugate("있다", "present", adjective=True, honorific=True, honorific_lemma="계시다") == "계신다"
    assert conjugate("자다", "future", honorific=True, honorific_lemma="주무시다") == "주무실 것이다"
    assert conjugate("바쁘다", "present", adjective=True, honorific=True) == "바쁘시다"
    assert conjugate("살다", "present", honorific=True) == "사신다"
    assert conjugate("읽다", "future", honorific=True) == "읽으실 것이다"
    assert [conjugate(v, "propositive") for v in ("가다", "먹다", "만들다", "공부하다")] == ["가자", "먹자", "만들자", "공부하자"]


@pytest.mark.parametrize("lemma", ["듣다", "춥다", "부르다", "모르다", "짓다", "파랗다"])
def test_irregular_predicates_are_refused(lemma):
    with pytest.raises(ValueError):
        conjugate(lemma, "past")


def test_conjugate_rejects_bad_input():
    with pytest.raises(ValueError):
        conjugate("먹", "past")
    with pytest.raises(ValueError):
        conjugate("먹다", "pluperfect")


@pytest.mark.parametrize(
    "lemma, tense, kw, expected",
    [
        ("먹다", "past", {}, ("먹았다",)), ("잡다", "past", {}, ("잡었다",)), ("가다", "past", {}, ("가었다", "가았다")),
        ("보다", "past", {}, ("보었다",)), ("쓰다", "past", {}, ("쓰었다",)), ("공부하다", "past", {}, ("공부하았다",)),
        ("바쁘다", "past", {"adjective": True}, ("바쁘었다",)), ("마시다", "past", {}, ()),
        ("가다", "present", {}, ("가는다",)), ("만들다", "present", {}, ("만들는다",)), ("먹다", "present", {}, ()),
        ("바쁘다", "present", {"adjective": True}, ("바쁜다",)), ("좋다", "present", {"adjective": True}, ("좋는다",)),
        ("있다", "present", {"adjective": True}, ()), ("싸다", "present", {"adjective": True}, ()),
        ("가다", "future", {}, ("가을 것이다",)), ("만들다", "future", {}, ("만들을 것이다",)), ("먹다", "future", {}, ()),
        ("읽다", "past", {"honorific": True}, ("읽셨다",)), ("만들다", "past", {"honorific": True}, ("만들으셨다",)),
        ("바쁘다", "present", {"adjective": True, "honorific": True}, ("바쁘신다",)),
        ("먹다", "past", {"honorific": True, "honorific_lemma": "드시다"}, ()),
        ("가다", "propositive", {}, ()),
    ],
)  # fmt: skip
def test_ill_formed_endings(lemma, tense, kw, expected):
    assert ill_formed_endings(lemma, tense, **kw) == expected


def test_every_lexicon_predicate_conjugates_and_errors_differ():
    lemmas = {lemma for scene in ko.SCENES for lemma in scene.lemmas}
    for lemma in sorted(lemmas):
        adj = lemma in mo.ADJECTIVES
        for tense in ("past", "present", "future"):
            for hon in (False, True):
                kw = dict(adjective=adj, honorific=hon, honorific_lemma=ko.HONORIFIC_SUPPLETION.get(lemma))
                form = conjugate(lemma, tense, **kw)
                assert form.endswith("다")
                assert form not in ill_formed_endings(lemma, tense, **kw)


def test_lexicon_size_and_mix():
    nouns = ko.lexicon_nouns()
    assert len(nouns) >= 60
    finals = Counter("ㄹ" if has_rieul_final(n) else "C" if has_final_consonant(n) else "V" for n in nouns)
    assert finals["V"] >= 20 and finals["C"] >= 20 and finals["ㄹ"] >= 8, finals
    assert {"할머니", "선생님", "아버지"} <= set(ko.HONORED)
    assert {"어제", "지난주에", "내일", "다음 주에", "지금"} <= set(ko.TIME_CLASS)


# ----------------------------------------------------------------------------- generation


def _diff_blocks(a: str, b: str) -> list[tuple[list[str], list[str], int]]:
    """Word-level differences: (old words, new words, words after the block in ``a``)."""
    wa, wb = a.split(), b.split()
    ops = difflib.SequenceMatcher(None, wa, wb, autojunk=False).get_opcodes()
    return [(wa[i1:i2], wb[j1:j2], len(wa) - i2) for tag, i1, i2, j1, j2 in ops if tag != "equal"]


@pytest.fixture(scope="module")
def data() -> list[Example]:
    return generate_cola(4000, seed=0)


def test_deterministic():
    assert generate_cola(300, seed=7) == generate_cola(300, seed=7)
    assert generate_cola(300, seed=7) != generate_cola(300, seed=8)
    assert generate_cola(0) == []


def test_balance_and_error_types(data):
    assert sum(e.label for e in data) == 2000
    errors = Counter(e.error for e in data if e.label == 0)
    assert set(errors) == set(ERROR_TYPES)
    assert max(errors.values()) - min(errors.values()) <= 1
    for balance in (0.0, 0.3, 0.8, 1.0):
        ex = generate_cola(501, seed=1, balance=balance)
        assert len(ex) == 501 and sum(e.label for e in ex) == round(501 * balance)
        assert len({e.sentence for e in ex}) == 501
        neg = Counter(e.error for e in ex if e.label == 0)
        if neg:
            assert max(neg.values()) - min(neg.values()) <= 1


def test_bad_arguments():
    with pytest.raises(ValueError):
        generate_cola(-1)
    with pytest.raises(ValueError):
        generate_cola(10, balance=1.5)


def test_no_duplicates_and_consistent_fields(data):
    assert len({e.sentence for e in data}) == len(data)
    for e in data:
        assert e.label in (0, 1)
        if e.label:
            assert e.error == "" and e.source == e.sentence
        else:
            assert e.error in ERROR_TYPES and e.source != e.sentence
        assert e.sentence.endswith(".") and "  " not in e.sentence


def test_pairs_share_sources(data):
    positives = {e.sentence for e in data if e.label == 1}
    assert all(e.source in positives for e in data if e.label == 0)
    # with more negatives than positives, extra negatives are derived from included sources too
    ex = generate_cola(400, seed=2, balance=0.25)
    included = {x.sentence for x in ex if x.label == 1}
    assert sum(1 for e in ex if e.label == 0 and e.source in included) >= 0.8 * 300


def test_unacceptable_examples_differ_minimally(data):
    for e in (e for e in data if e.label == 0):
        blocks = _diff_blocks(e.source, e.sentence)
        assert len(blocks) == 1, (e.source, e.sentence)
        old, new, after = blocks[0]
        assert 1 <= max(len(old), len(new)) <= 2, (e.source, e.sentence)
        if e.error == "particle_allomorph":
            # one word, same noun, different particle
            assert len(old) == len(new) == 1
            assert old[0][0] == new[0][0] and len(old[0]) - len(new[0]) in (-1, 0, 1)
        elif e.error in ("verb_ending", "honorific"):
            # only the predicate (the last word, or "갈 것이다.") changes
            assert after + len(old) <= 2 and (after == 0 or e.source.endswith(" 것이다.")), (e.source, e.sentence)
        else:
            # either the predicate changed, or one time adverb replaced another
            times = [t for t in ko.TIME_CLASS if t in e.source]
            swapped = any(e.source.replace(t1, t2, 1) == e.sentence for t1 in times for t2 in ko.TIME_CLASS)
            assert swapped or after == 0, (e.source, e.sentence)


def test_acceptable_sentences_have_no_known_error_forms(data):
    bad_bits = ("가었다", "는는다", "을을", "으로로", "께서께서")
    for e in data:
        if e.label == 1:
            assert not any(b in e.sentence for b in bad_bits), e.sentence


def test_error_functions_return_none_when_not_applicable():
    rng = random.Random(0)
    plain = ko.Sentence(ko.Predicate("가다", "present"), ko.Phrase("민수", "이/가"), (ko.Phrase("학교", "에"),))
    assert ko.tense_adverb(plain, rng) is None  # no time adverb
    assert ko.honorific(plain, rng) is None  # third person, no 께서
    assert ko.verb_ending(plain, rng).render() == "민수가 학교에 가는다."
    assert ko.particle_allomorph(plain, rng).render() == "민수이 학교에 간다."


def test_many_sentences_generate_without_repeats_dominating():
    ex = generate_cola(20000, seed=0)  # speed lives in benchmarks/generators.py
    assert len(ex) == 20000
    assert len({e.sentence for e in ex}) == 20000  # every sentence distinct


def test_cola_examples_cover_each_error_type():
    from explorer.tasks.registry import get

    demos = [(e["sentence"], e["note"]) for e in get("cola").examples]
    assert 8 <= len(demos) <= 14
    assert len({s for s, _ in demos}) == len(demos)
    notes = " ".join(n for _, n in demos)
    for needle in ("acceptable", "particle", "verb ending", "tense", "honorific"):
        assert needle in notes
    for sentence, note in demos:
        assert sentence.endswith(".") and note


def test_counterfactuals_use_the_rules_without_the_demo_data():
    # Editing a user's sentence needs the morphology rules, not the demo lexicon
    # and generators: importing counterfactuals must not load explorer.defaults.
    code = (
        "import sys, explorer.internals.counterfactuals; "
        "print(sorted(m for m in sys.modules if m.startswith('explorer.defaults')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# ----------------------------------------------------------------------------- Kiwi check

KIWI_MODELS = ("cong", "cong-global")


def _kiwi(model_type: str):
    kiwipiepy = pytest.importorskip("kiwipiepy")
    try:
        return kiwipiepy.Kiwi(model_type=model_type)
    except (OSError, ValueError) as exc:  # model file not shipped with this kiwipiepy-model
        pytest.skip(f"Kiwi model_type={model_type!r} unavailable: {exc}")


def _scores(kiwi, sentences: list[str]) -> list[tuple[float, float, float]]:
    """(raw log-prob, per non-space character, per morpheme) for each sentence."""
    out = []
    for sentence, result in zip(sentences, kiwi.analyze(sentences, top_n=1)):
        tokens, score = result[0]
        n_chars = sum(1 for ch in sentence if not ch.isspace())
        out.append((score, score / n_chars, score / max(1, len(tokens))))
    return out


@pytest.mark.parametrize("model_type", KIWI_MODELS)
def test_kiwi_prefers_acceptable_sentences(model_type, data):
    kiwi = _kiwi(model_type)
    pairs = [(e.source, e.sentence, e.error) for e in data if e.label == 0]
    good = _scores(kiwi, [p[0] for p in pairs])
    bad = _scores(kiwi, [p[1] for p in pairs])

    print(f"\nKiwi model_type={model_type!r}: share of minimal pairs where the acceptable sentence scores higher")
    print(f"{'error type':<20}{'pairs':>6}{'raw':>8}{'/char':>8}{'/morph':>8}{'ties':>8}   mean Δ/char")
    per_type: dict[str, list[tuple[float, float, float]]] = {}
    for (_, _, error), g, b in zip(pairs, good, bad):
        per_type.setdefault(error, []).append(tuple(gi - bi for gi, bi in zip(g, b)))
    for error in ERROR_TYPES + ("all",):
        diffs = [d for v in per_type.values() for d in v] if error == "all" else per_type[error]
        shares = [sum(d[k] > 0 for d in diffs) / len(diffs) for k in range(3)]
        mean_char = statistics.fmean(d[1] for d in diffs)
        ties = sum(d[0] == 0 for d in diffs) / len(diffs)  # Kiwi reads both the same way (e.g. 놀었다 as 놀았다)
        print(f"{error:<20}{len(diffs):>6}" + "".join(f"{s:>8.1%}" for s in (*shares, ties)) + f"   {mean_char:+.3f}")

    particle = per_type["particle_allomorph"]
    # on average, acceptable sentences score higher than their particle-error variants
    assert statistics.fmean(d[1] for d in particle) > 0
    assert statistics.fmean(d[2] for d in particle) > 0
    assert sum(d[1] > 0 for d in particle) / len(particle) > 0.6
