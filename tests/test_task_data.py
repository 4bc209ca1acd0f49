"""Tests for the generated WiC / COPA / BoolQ data (explorer.defaults.task_data).

Besides format checks (reader item classes, spans, balance, no duplicates,
determinism, a round trip through the NIKL file readers), this checks that the
data is *learnable* the way the demo models must learn it, with bag-of-words
logistic regressions trained on one seed and scored on another:

* WiC: crossed context-word features of the two sentences (a linear model
  over single-sentence words cannot express "same sense", so that baseline is
  printed too and should stay near chance);
* BoolQ: question character bigrams split by whether they occur in the
  passage (a question-only model must stay near chance: no value gives the
  answer away);
* COPA: premise × alternative word pairs, scored as a difference between the
  two alternatives.

Run with ``-s`` to see the accuracies.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Callable

import pytest
from sklearn.feature_extraction import DictVectorizer
from sklearn.linear_model import LogisticRegression

from explorer.tasks.boolq import BoolqItem
from explorer.tasks.copa import CopaItem
from explorer.tasks.registry import read_dataset
from explorer.tasks.wic import WicItem
from explorer.defaults import task_data as td
from explorer.defaults.task_data import fill, generate_boolq, generate_copa, generate_wic

GENERATORS: dict[str, Callable[..., list]] = {"wic": generate_wic, "copa": generate_copa, "boolq": generate_boolq}
ITEM_TYPES = {"wic": WicItem, "copa": CopaItem, "boolq": BoolqItem}

# ----------------------------------------------------------------------------- shared behaviour


@pytest.mark.parametrize("task", sorted(GENERATORS))
def test_items_are_reader_items_with_ids(task: str) -> None:
    items = GENERATORS[task](50, seed=0)
    assert len(items) == 50
    assert all(type(i) is ITEM_TYPES[task] for i in items)
    assert [i.id for i in items] == [f"gen-{task}-{k:05d}" for k in range(1, 51)]
    assert [i.row for i in items] == list(range(2, 52))


@pytest.mark.parametrize("task", sorted(GENERATORS))
def test_deterministic_per_seed(task: str) -> None:
    gen = GENERATORS[task]
    assert gen(300, seed=4) == gen(300, seed=4)
    assert gen(300, seed=4) != gen(300, seed=5)


@pytest.mark.parametrize("task", sorted(GENERATORS))
def test_edge_sizes(task: str) -> None:
    gen = GENERATORS[task]
    assert gen(0) == []
    assert len(gen(1)) == 1
    with pytest.raises(ValueError):
        gen(-1)


@pytest.mark.parametrize("task", sorted(GENERATORS))
def test_ten_thousand_items(task: str) -> None:
    items = GENERATORS[task](10_000, seed=0)  # speed lives in benchmarks/generators.py
    assert len(items) == 10_000


def _strings(item: object) -> list[str]:
    """Every text field of a reader item (alternatives included)."""
    out: list[str] = []
    for name in item.__slots__:  # type: ignore[attr-defined]
        value = getattr(item, name)
        if isinstance(value, str):
            out.append(value)
        elif isinstance(value, tuple) and all(isinstance(v, str) for v in value):
            out += list(value)
    return out


@pytest.mark.parametrize("task", sorted(GENERATORS))
def test_no_tabs_or_newlines(task: str) -> None:
    # The items must survive being written as NIKL-style TSV rows.
    for item in GENERATORS[task](2000, seed=1):
        for value in _strings(item):
            assert "\t" not in value and "\n" not in value and "\r" not in value
            assert value == value.strip()


def test_fill_uses_particle_allomorphs() -> None:
    assert fill("{A:은/는} {B:(으)로} 일한다.", {"A": "서연", "B": "경찰관"}) == "서연은 경찰관으로 일한다."
    assert fill("{A:은/는} {B:(으)로} 일한다.", {"A": "민수", "B": "요리사"}) == "민수는 요리사로 일한다."
    assert fill("{A:이/가} 좋아하는 것은 {B:이다}.", {"A": "지민", "B": "냉면"}) == "지민이 좋아하는 것은 냉면이다."
    with pytest.raises(KeyError):
        fill("{C}", {})


# ----------------------------------------------------------------------------- WiC


def test_wic_spans_point_at_the_target() -> None:
    items = generate_wic(3000, seed=0)
    for item in items:
        assert item.span1 is not None and item.span2 is not None
        assert item.sentence1[item.span1[0] : item.span1[1]] == item.target
        assert item.sentence2[item.span2[0] : item.span2[1]] == item.target
    # Every target of the lexicon is used, verb stems included.
    assert {i.target for i in items} == {t.target for t in td.WIC_LEXICON}


def test_wic_lexicon_templates_are_well_formed() -> None:
    for entry in td.WIC_LEXICON:
        assert len(entry.senses) >= 2
        for sense, templates in entry.senses.items():
            assert len(templates) >= 3, (entry.target, sense)
            assert len(set(templates)) == len(templates)
            for template in templates:
                assert template.count("[") == template.count("]") == 1
                assert template[template.index("[") + 1 : template.index("]")] == entry.target, template
                assert template.endswith("."), template


def test_wic_irregular_stem_rule() -> None:
    # NIKL files irregular surfaces under the literal string: 묻 only before
    # endings that keep it (묻고, 묻었다 "buried"), 물 for 물었다 "asked".
    items = generate_wic(4000, seed=2)
    mut = [s for i in items if i.target == "묻" for s in (i.sentence1, i.sentence2)]
    mul = [s for i in items if i.target == "물" for s in (i.sentence1, i.sentence2)]
    assert mut and mul
    assert all("묻" in s for s in mut)
    assert any("길을 물었다" in s or "물어" in s for s in mul)


def test_wic_balanced_and_distinct() -> None:
    items = generate_wic(1001, seed=3)
    counts = Counter(i.label for i in items)
    assert abs(counts[0] - counts[1]) <= 1
    pairs = [(i.target, *sorted((i.sentence1, i.sentence2))) for i in items]
    assert len(set(pairs)) == len(pairs)
    assert all(i.sentence1 != i.sentence2 for i in items)
    # No target predicts the label.
    by_target = Counter((i.target, i.label) for i in generate_wic(6000, seed=3))
    for target in {t for t, _ in by_target}:
        pos, neg = by_target[(target, 1)], by_target[(target, 0)]
        assert 0.35 < pos / (pos + neg) < 0.65, target


# ----------------------------------------------------------------------------- COPA


def test_copa_items_are_well_formed() -> None:
    items = generate_copa(2000, seed=0)
    for item in items:
        assert item.question in ("cause", "effect")
        assert item.label in (0, 1)
        assert len(item.alternatives) == 2
        a, b = item.alternatives
        assert a != b and item.premise not in item.alternatives
        assert all(s.endswith(".") and "{" not in s for s in (item.premise, a, b))
    keys = [(i.premise, i.question, i.alternatives) for i in items]
    assert len(set(keys)) == len(keys)


def test_copa_balanced() -> None:
    items = generate_copa(1003, seed=1)
    combos = Counter((i.question, i.label) for i in items)
    assert len(combos) == 4 and max(combos.values()) - min(combos.values()) <= 1


def test_copa_right_answer_is_the_paired_event() -> None:
    # Rebuild (cause, effect) from the lexicon with every person (은/는 or 이/가 on the subject) and check
    # the right answer always completes a listed pair, the wrong one never does.
    pairs: set[tuple[str, str]] = set()
    for pair in td.COPA_PAIRS:
        for person in td._COPA_SUBJECTS:
            for c in pair.causes:
                for e in pair.effects:
                    for particle in ("{A:은/는}", "{A:이/가}"):
                        c2, e2 = (t.replace("{A:은/는}", particle) for t in (c, e))
                        pairs.add((fill(c2, {"A": person}), fill(e2, {"A": person})))
    items = generate_copa(1500, seed=2)
    from explorer.morphology import attach

    def subject_particle(premise: str) -> str:
        return next((particle for person in td._COPA_SUBJECTS for particle in ("은/는", "이/가")
                     if premise.startswith(attach(person, particle) + " ")), "")

    particles = Counter(subject_particle(i.premise) for i in items)
    assert 0.15 < particles["이/가"] / (particles["이/가"] + particles["은/는"]) < 0.5, particles
    for item in items:
        right, wrong = item.alternatives[item.label], item.alternatives[1 - item.label]
        if item.question == "effect":
            assert (item.premise, right) in pairs and (item.premise, wrong) not in pairs
        else:
            assert (right, item.premise) in pairs and (wrong, item.premise) not in pairs


def test_copa_lexicon_size_and_topics() -> None:
    assert len(td.COPA_PAIRS) >= 60
    assert len({t for p in td.COPA_PAIRS for t in p.topics}) >= 5
    texts = [t for p in td.COPA_PAIRS for t in p.causes + p.effects]
    assert len(set(texts)) == len(texts), "an event listed twice would make a distractor a right answer"


# ----------------------------------------------------------------------------- BoolQ


def test_boolq_passages_and_questions() -> None:
    lo, hi = td.BOOLQ_PASSAGE_CHARS
    s_lo, s_hi = td.BOOLQ_PASSAGE_SENTENCES
    items = generate_boolq(2000, seed=0)
    for item in items:
        assert lo <= len(item.passage) <= hi
        sentences = re.findall(r"[^.?!]+[.?!]", item.passage)
        assert s_lo <= len(sentences) <= s_hi, item.passage
        assert item.question[-1] in "?."
        assert "{" not in item.passage + item.question
    assert len({(i.passage, i.question) for i in items}) == len(items)
    questions = Counter(i.question[-1] for i in items)
    assert 0.5 < questions["?"] / len(items) < 0.85  # NIKL: about 57 % end in "?"


def test_boolq_balanced() -> None:
    items = generate_boolq(999, seed=4)
    counts = Counter(i.label for i in items)
    assert abs(counts[0] - counts[1]) <= 1


# ----------------------------------------------------------------------------- NIKL file round trip


def test_round_trip_through_nikl_readers() -> None:
    wic = generate_wic(40, seed=6)
    rows = ["ID\tTarget\tSENTENCE1\tSENTENCE2\tANSWER\tstart_s1\tend_s1\tstart_s2\tend_s2"]
    rows += [
        f"{i.id}\t{i.target}\t{i.sentence1}\t{i.sentence2}\t{bool(i.label)}\t{i.span1[0]}\t{i.span1[1]}\t"
        f"{i.span2[0]}\t{i.span2[1]}"
        for i in wic
    ]
    assert read_dataset("\r\n".join(rows).encode(), "wic.tsv").items == wic

    copa = generate_copa(40, seed=6)
    rows = ["ID\tsentence\tquestion\t1\t2\tAnswer"]
    rows += [
        f"{i.id}\t{i.premise}\t{'원인' if i.question == 'cause' else '결과'}\t{i.alternatives[0]}\t"
        f"{i.alternatives[1]}\t{i.label + 1}"
        for i in copa
    ]
    assert read_dataset("\r\n".join(rows).encode(), "copa.tsv").items == copa

    boolq = generate_boolq(40, seed=6)
    rows = ["ID\tText\tQuestion\tAnswer(FALSE = 0, TRUE = 1)"]
    rows += [f"{i.id}\t{i.passage}\t{i.question}\t{i.label}" for i in boolq]
    assert read_dataset("\r\n".join(rows).encode(), "boolq.tsv").items == boolq


# ----------------------------------------------------------------------------- demo inputs


def test_every_task_has_hand_picked_examples_that_make_items() -> None:
    from explorer.tasks.registry import TASKS

    for task in TASKS.values():
        assert len(task.examples) >= 2, task.id
        for ex in task.examples:
            assert {f.name for f in task.fields} | {"note", "expected"} == set(ex), (task.id, ex)
            assert ex["expected"] in task.label_names.values(), (task.id, ex)
            task.make_item({f.name: task.form_value(f, ex[f.name]) for f in task.fields})  # no InputError
    for ex in TASKS["wic"].examples:  # the target occurs literally, once, in each sentence
        assert ex["sentence1"].count(ex["target"]) == 1 and ex["sentence2"].count(ex["target"]) == 1
    for ex in TASKS["copa"].examples:
        assert ex["question"] in ("cause", "effect") and ex["alternative1"] != ex["alternative2"]


# ----------------------------------------------------------------------------- learnability

Features = list[dict[str, float]]


def _fit(train: Features, y_train: list[int]) -> Callable[[Features, list[int]], float]:
    """Fits a logistic regression; returns a scorer (accuracy) for other data."""
    vec = DictVectorizer()
    model = LogisticRegression(C=4.0, max_iter=2000)
    model.fit(vec.fit_transform(train), y_train)
    return lambda x, y: float(model.score(vec.transform(x), y)) if x else float("nan")


def _fit_score(train: Features, y_train: list[int], dev: Features, y_dev: list[int]) -> float:
    return _fit(train, y_train)(dev, y_dev)


def _context(sentence: str, span: tuple[int, int], window: int = 2) -> list[str]:
    """Words within ``window`` of the target's word, the target's own ending included."""
    words = sentence.rstrip(".").split()
    starts, pos = [], 0
    for w in words:
        pos = sentence.index(w, pos)
        starts.append(pos)
        pos += len(w)
    k = max(i for i, s in enumerate(starts) if s <= span[0])
    own = words[k][: span[0] - starts[k]] + "_" + words[k][span[0] - starts[k] + span[1] - span[0] :]
    near = words[max(0, k - window) : k] + words[k + 1 : k + 1 + window]
    return [own, *near]


def _wic_cross(item: WicItem) -> dict[str, float]:
    c1, c2 = _context(item.sentence1, item.span1), _context(item.sentence2, item.span2)
    return {f"{item.target}|{'|'.join(sorted((a, b)))}": 1.0 for a in c1 for b in c2}


def _wic_flat(item: WicItem) -> dict[str, float]:
    words = _context(item.sentence1, item.span1) + _context(item.sentence2, item.span2)
    return {f"{item.target}|{w}": 1.0 for w in words}


def _wic_first_only(item: WicItem) -> dict[str, float]:
    return {f"{item.target}|{w}": 1.0 for w in _context(item.sentence1, item.span1)}


def _wic_key(item: WicItem) -> tuple[str, ...]:
    return (item.target, *sorted((item.sentence1, item.sentence2)))


def test_wic_learnable_from_context_words() -> None:
    train, dev = generate_wic(4000, seed=0), generate_wic(1000, seed=1)
    y_train = [i.label for i in train]
    seen = {_wic_key(i) for i in train}
    unseen = [i for i in dev if _wic_key(i) not in seen]

    def score(features: Callable[[WicItem], dict[str, float]], items: list[WicItem]) -> float:
        return _fit([features(i) for i in train], y_train)([features(i) for i in items], [i.label for i in items])

    cross, cross_unseen = score(_wic_cross, dev), score(_wic_cross, unseen)
    flat, first = score(_wic_flat, dev), score(_wic_first_only, dev)
    print(f"\nWiC dev accuracy: crossed context words {cross:.3f} (on the {len(unseen)} dev pairs not in train: "
          f"{cross_unseen:.3f}); flat words of both sentences {flat:.3f}; sentence 1 alone {first:.3f}")
    assert cross >= 0.75 and cross_unseen >= 0.7
    # A bag of both sentences' words already beats chance (a pair of one sense
    # shows one sense's words only), but one sentence alone must not.
    assert first < 0.6


def _bigrams(text: str) -> list[str]:
    compact = re.sub(r"[\s.?!,]", "", text)
    return [compact[i : i + 2] for i in range(len(compact) - 1)]


def _boolq_overlap(item: BoolqItem) -> dict[str, float]:
    feats: dict[str, float] = {}
    for b in _bigrams(item.question):
        key = f"{'in' if b in item.passage else 'out'}:{b}"
        feats[key] = 1.0
    return feats


def _boolq_question_only(item: BoolqItem) -> dict[str, float]:
    return {f"q:{b}": 1.0 for b in _bigrams(item.question)}


def test_boolq_learnable_by_checking_the_passage() -> None:
    train, dev = generate_boolq(4000, seed=0), generate_boolq(1000, seed=1)
    y_train, y_dev = [i.label for i in train], [i.label for i in dev]
    overlap = _fit_score([_boolq_overlap(i) for i in train], y_train, [_boolq_overlap(i) for i in dev], y_dev)
    alone = _fit_score([_boolq_question_only(i) for i in train], y_train,
                       [_boolq_question_only(i) for i in dev], y_dev)  # fmt: skip
    print(f"\nBoolQ dev accuracy: question bigrams found/not found in passage {overlap:.3f}, "
          f"question alone {alone:.3f}")
    assert overlap >= 0.85
    assert alone < 0.6  # no value or phrasing gives the answer away


def _content_words(sentence: str) -> list[str]:
    """Words of a sentence without the person (the same in premise and both alternatives)."""
    return [w for w in sentence.rstrip(".").split() if not w.startswith(td._COPA_SUBJECTS)]


def _copa_phi(item: CopaItem, alt: str) -> Counter[str]:
    return Counter(f"{item.question}|{p}|{a}" for p in _content_words(item.premise) for a in _content_words(alt))


def _copa_diff(item: CopaItem) -> dict[str, float]:
    first, second = _copa_phi(item, item.alternatives[0]), _copa_phi(item, item.alternatives[1])
    return {k: float(first[k] - second[k]) for k in first.keys() | second.keys() if first[k] != second[k]}


def test_copa_learnable_from_premise_alternative_pairs() -> None:
    train, dev = generate_copa(4000, seed=0), generate_copa(1000, seed=1)
    acc = _fit_score([_copa_diff(i) for i in train], [i.label for i in train],
                     [_copa_diff(i) for i in dev], [i.label for i in dev])  # fmt: skip
    print(f"\nCOPA dev accuracy: premise × alternative word pairs {acc:.3f}")
    assert acc >= 0.75
