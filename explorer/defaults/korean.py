"""Deterministic Korean acceptability (CoLA-style) data from templates.

The morphology it needs (받침, particle allomorphs, conjugation) lives in
:mod:`explorer.morphology`, shared with the counterfactual edits of real user
input. This module holds the rest, in two layers:

1. **A small hand-written lexicon and scene templates**: which verbs go with
   which objects and places, so every acceptable sentence is natural Korean.
2. **Structured sentences, error injectors and the generator**: a
   :class:`Sentence` is rendered from parts; each error type is a function of
   that structure that changes exactly one part, so an unacceptable example
   differs minimally from the acceptable sentence it was derived from.

Labels follow the NIKL (국립국어원) CoLA convention: ``1`` = acceptable,
``0`` = unacceptable.

Example:
    >>> from explorer.defaults.korean import generate_cola
    >>> [e.label for e in generate_cola(4, seed=0)].count(1)
    2
"""

from __future__ import annotations

import random
from dataclasses import dataclass, replace

from explorer.morphology import (
    ADJECTIVES,
    SUPPLETIVE_SUBJECT,
    attach,
    conjugate,
    ill_formed_endings,
    resolve_particle,
    wrong_allomorph,
)

__all__ = [
    "ERROR_TYPES",
    "Example",
    "Predicate",
    "Phrase",
    "Sentence",
    "apply_error",
    "generate_cola",
    "honorific",
    "lexicon_nouns",
    "particle_allomorph",
    "sample_sentence",
    "tense_adverb",
    "verb_ending",
]

# =============================================================================
# 1. Lexicon and scenes (hand-written; no external data)
# =============================================================================

NAMES = ("민수", "지민", "서연", "준호", "유나", "현우", "수빈", "지훈", "다솔", "예린")
PEOPLE = ("동생", "친구", "언니", "오빠", "누나", "형", "딸", "아들", "이웃", "사촌")
# Honorific targets: a subject from this list takes -(으)시- on its predicate.
HONORED = ("할머니", "할아버지", "선생님", "아버지", "어머니", "교수님", "사장님", "부모님")
FIRST_PERSON = "나"
FRIENDS = NAMES + ("친구", "동생", "사촌")  # people one meets, waits for, writes to

PAST_TIMES = ("어제", "그저께", "지난주에", "지난 주말에", "아까", "어젯밤에")
FUTURE_TIMES = ("내일", "모레", "다음 주에", "다음 주말에")
PRESENT_TIMES = ("지금", "요즘", "매일")
LONG_PAST = ("작년에", "지난달에")
LONG_FUTURE = ("내년에", "다음 달에")
TIME_CLASS: dict[str, str] = {
    **{t: "past" for t in PAST_TIMES + LONG_PAST},
    **{t: "future" for t in FUTURE_TIMES + LONG_FUTURE},
    **{t: "present" for t in PRESENT_TIMES},
}
DEFAULT_TIMES = PAST_TIMES + FUTURE_TIMES + PRESENT_TIMES
LONG_TIMES = DEFAULT_TIMES + LONG_PAST + LONG_FUTURE

# Suppletive subject honorifics: the plain verb + 시 is not used for these.
HONORIFIC_SUPPLETION = {"먹다": "드시다", "자다": "주무시다", "있다": "계시다"}

LOCAL_PLACES = (
    "학교", "도서관", "시장", "병원", "공원", "회사", "은행", "백화점", "영화관", "수영장",
    "박물관", "우체국", "학원", "식당", "카페", "집", "교회", "미술관", "서점", "약국",
)  # fmt: skip
CITIES = ("서울", "부산", "대전", "광주", "인천", "강릉", "고향", "시골")


@dataclass(frozen=True)
class _Scene:
    """One kind of event: predicates with the arguments that fit them."""

    lemmas: tuple[str, ...]
    objects: tuple[str, ...] = ()
    places: tuple[str, ...] = ()
    place_particle: str = "에서"  # "에서" (activity), "에" (location) or "motion" (에 or (으)로)
    subjects: str | tuple[str, ...] = "person"  # "person", "plain" (no honorific subject) or thing nouns
    times: tuple[str, ...] = DEFAULT_TIMES
    time_optional: bool = True
    place_optional: bool = True
    companion: bool = False
    coordinate: bool = False
    instruments: tuple[str, ...] = ()
    transports: tuple[str, ...] = ()
    recipients: tuple[str, ...] = ()
    propositive: bool = False


_GROCERY = ("사과", "포도", "귤", "딸기", "수박", "배추", "양파", "생선", "고기", "달걀", "두부")
_WEAR = ("옷", "신발", "가방", "모자", "시계", "구두", "우산", "장갑", "양말", "치마", "바지", "선물")
_SUBJECTS_SCHOOL = ("한국어", "영어", "수학", "일본어", "역사", "과학")
_SUBJECTS_HOBBY = ("피아노", "바이올린", "태권도", "수영", "요리", "그림")

SCENES: tuple[_Scene, ...] = (
    # eating and drinking
    _Scene(("먹다",), ("밥", "김밥", "비빔밥", "라면", "국수", "떡볶이", "냉면", "만두", "불고기", "샌드위치", "점심", "저녁", "피자"),
           ("식당", "집", "학교", "회사"), propositive=True, companion=True),
    _Scene(("먹다",), ("사과", "포도", "귤", "딸기", "수박", "바나나", "빵", "과자", "떡", "케이크", "복숭아"),
           ("집", "공원", "카페"), propositive=True, coordinate=True),
    _Scene(("마시다",), ("물", "우유", "커피", "주스", "녹차", "콜라", "식혜"), ("카페", "집", "식당", "회사"),
           propositive=True, companion=True),
    # reading and writing
    _Scene(("읽다",), ("책", "신문", "소설", "잡지", "만화책", "교과서", "동화책", "시집", "편지"),
           ("도서관", "집", "카페", "지하철", "공원", "교실")),
    _Scene(("쓰다",), ("편지", "일기", "소설", "시", "보고서", "글", "카드"), ("집", "도서관", "카페", "교실", "방"),
           instruments=("연필", "볼펜", "만년필", "펜", "컴퓨터")),
    # buying and selling
    _Scene(("사다",), _GROCERY, ("시장", "마트", "가게"), coordinate=True, propositive=True),
    _Scene(("사다",), _WEAR, ("백화점", "시장", "가게"), coordinate=True, companion=True),
    _Scene(("사다",), ("공책", "연필", "지우개", "볼펜", "필통"), ("문구점",), coordinate=True),
    _Scene(("사다",), ("잡지", "소설", "동화책", "시집", "만화책"), ("서점",), coordinate=True),
    _Scene(("사다",), ("빵", "우유", "과자", "라면", "음료수", "아이스크림"), ("편의점", "마트", "가게"), coordinate=True),
    _Scene(("팔다",), _GROCERY + ("떡", "김밥", "꽃"), ("시장", "가게")),
    _Scene(("팔다",), _WEAR, ("시장", "가게", "백화점")),
    # watching, making, drawing
    _Scene(("보다",), ("영화",), ("영화관", "집", "극장"), companion=True, propositive=True),
    _Scene(("보다",), ("드라마", "뉴스", "만화"), ("집", "거실", "방"), companion=True),
    _Scene(("보다",), ("그림", "사진", "전시"), ("박물관", "미술관"), companion=True, propositive=True),
    _Scene(("보다",), ("축구 경기", "야구 경기", "농구 경기"), ("경기장", "집"), companion=True, propositive=True),
    _Scene(("만들다",), ("김밥", "케이크", "떡볶이", "비빔밥", "샌드위치", "쿠키", "만두", "김치", "빵"), ("집", "부엌"),
           companion=True, propositive=True),
    _Scene(("그리다",), ("그림", "꽃", "나무", "고양이", "강아지", "바다", "산"), ("공원", "교실", "집", "미술실")),
    # people
    _Scene(("기다리다", "만나다"), FRIENDS, ("카페", "공원", "학교 앞", "도서관", "역", "식당")),
    _Scene(("기다리다",), ("버스",), ("정류장", "버스 정류장"), propositive=True),
    _Scene(("기다리다",), ("지하철", "기차"), ("역",)),
    _Scene(("보내다",), ("편지", "선물", "소포", "사진", "이메일", "문자"), recipients=FRIENDS),
    # learning and teaching
    _Scene(("배우다", "가르치다"), _SUBJECTS_SCHOOL, ("학교", "학원", "대학교"), times=LONG_TIMES),
    _Scene(("배우다", "가르치다"), _SUBJECTS_HOBBY, ("학원", "문화센터"), times=LONG_TIMES),
    _Scene(("공부하다",), (), ("도서관", "학교", "집", "카페", "교실", "학원", "방"), companion=True, propositive=True),
    # chores, things
    _Scene(("찾다",), ("가방", "우산", "열쇠", "지갑", "휴대폰", "안경", "시계", "모자", "공책", "장갑"),
           ("집", "방", "교실", "사무실", "거실")),
    _Scene(("열다", "닫다"), ("문", "창문", "서랍"), ("교실", "방", "거실", "부엌")),
    _Scene(("열다", "닫다"), ("가게", "식당"), ()),
    _Scene(("청소하다",), ("방", "교실", "거실", "부엌", "화장실", "집", "사무실", "창고"), (), propositive=True),
    _Scene(("입다",), ("새 옷", "한복", "코트", "치마", "바지", "셔츠", "교복", "정장"), ()),
    # vehicles
    _Scene(("타다",), ("버스",), ("정류장", "학교 앞")),
    _Scene(("타다",), ("지하철", "기차"), ("역",)),
    _Scene(("타다",), ("택시",), ("역 앞", "집 앞", "회사 앞")),
    _Scene(("타다",), ("자전거",), ("공원", "운동장"), propositive=True),
    _Scene(("타다",), ("비행기",), ("공항",)),
    # intransitive activities
    _Scene(("운동하다",), (), ("공원", "체육관", "운동장", "헬스장", "학교"), companion=True, propositive=True),
    _Scene(("일하다",), (), ("회사", "병원", "은행", "식당", "가게", "학교", "우체국", "공장", "도서관", "시청"), times=LONG_TIMES),
    _Scene(("놀다",), (), ("공원", "놀이터", "집", "바닷가", "운동장", "마당"), subjects="plain", place_optional=False,
           companion=True, propositive=True),
    _Scene(("자다",), (), ("방", "집", "호텔", "거실", "소파"),
           times=("어제", "아까", "어젯밤에", "지금", "내일", "모레", "지난 주말에", "다음 주말에")),
    # motion and location
    _Scene(("가다",), (), LOCAL_PLACES, place_particle="motion", place_optional=False, companion=True,
           transports=("버스", "지하철", "택시", "자전거"), propositive=True),
    _Scene(("가다", "오다"), (), CITIES, place_particle="motion", place_optional=False, companion=True,
           transports=("기차", "버스", "차", "고속버스"), times=PAST_TIMES + FUTURE_TIMES + LONG_PAST + LONG_FUTURE),
    _Scene(("가다",), (), ("제주도",), place_particle="motion", place_optional=False, companion=True,
           transports=("비행기", "배")),
    _Scene(("오다",), (), ("학교", "도서관", "회사", "병원", "집", "시장", "공원"), place_particle="motion",
           place_optional=False, transports=("버스", "지하철", "택시", "자전거")),
    _Scene(("살다",), (), CITIES[:-2] + ("제주도", "시골", "아파트", "미국", "일본"), place_particle="에",
           place_optional=False, times=("작년에", "요즘", "지금", "내년에")),
    _Scene(("있다",), (), ("집", "학교", "도서관", "회사", "병원", "방", "공원", "카페", "시장"), place_particle="에",
           place_optional=False, times=("어제", "아까", "어젯밤에", "지금", "내일", "지난 주말에", "다음 주말에")),
    # things where they are: a thing as the subject (책이 책상 위에 있다), so 책가 is an error the demos meet
    _Scene(("있다",), (), ("책상 위", "가방 안", "서랍 안", "식탁 위", "냉장고 안", "방", "거실", "교실", "의자 밑", "침대 위"),
           place_particle="에", place_optional=False,
           subjects=("책", "연필", "시계", "우산", "지갑", "열쇠", "사과", "우유", "공책", "안경", "휴대폰", "편지", "모자",
                     "사진", "빵", "컵", "신문", "장갑"),
           times=("어제", "아까", "지금", "어젯밤에")),
    # adjectives
    # (기쁘다 and other feeling adjectives are avoided: of a third person they need -어하다.)
    _Scene(("바쁘다", "피곤하다"), ()),
    _Scene(("아프다",), (), times=PAST_TIMES + ("지금", "요즘"), time_optional=False),  # not *"will be sick"
    _Scene(("행복하다",), (), times=("요즘", "지금", "작년에")),
    _Scene(("건강하다",), (), times=("요즘", "지금", "작년에", "내년에")),
    _Scene(("좋다", "맑다", "흐리다", "따뜻하다", "쌀쌀하다"), (), time_optional=False, subjects=("날씨",),
           times=("어제", "그저께", "지금", "요즘", "내일", "모레", "지난 주말에", "다음 주말에")),
    _Scene(("맑다", "흐리다"), (), time_optional=False, subjects=("하늘",), times=("어제", "아까", "지금", "내일", "모레")),
    _Scene(("비싸다", "싸다"), (), time_optional=False, subjects=("사과", "배추", "딸기", "수박", "고기", "생선", "달걀", "귤", "양파"),
           times=("요즘", "지금", "작년에", "지난달에", "내년에", "다음 달에")),
    _Scene(("조용하다", "깨끗하다"), (), time_optional=False, subjects=("방", "교실", "도서관", "거실", "공원"),
           times=("어제", "아까", "지금", "요즘", "내일", "지난 주말에")),
    _Scene(("복잡하다", "조용하다"), (), time_optional=False, subjects=("시장", "지하철", "거리", "식당", "백화점"),
           times=("어제", "아까", "지금", "요즘", "내일", "지난 주말에", "다음 주말에")),
)  # fmt: skip

_COMPANIONS_PLAIN = ("친구", "동생", "가족", "언니", "오빠", "누나", "형", "사촌") + NAMES
_COMPANIONS_HONORED = ("할머니", "할아버지", "친구", "가족", "이웃")


def lexicon_nouns() -> tuple[str, ...]:
    """Every noun the templates can use (for documentation and tests)."""
    nouns: list[str] = list(NAMES + PEOPLE + HONORED + _COMPANIONS_PLAIN + _COMPANIONS_HONORED)
    for scene in SCENES:
        nouns += scene.objects + scene.places + scene.instruments + scene.transports + scene.recipients
        if isinstance(scene.subjects, tuple):
            nouns += scene.subjects
    return tuple(dict.fromkeys(nouns))


# =============================================================================
# 2. Structured sentences, errors and the generator
# =============================================================================


@dataclass(frozen=True)
class Phrase:
    """A noun with its particle; ``wrong`` renders the wrong allomorph."""

    noun: str
    particle: str
    wrong: bool = False

    @property
    def allomorphic(self) -> bool:
        """Whether the particle alternates, so an allomorph error is possible."""
        return resolve_particle(self.particle) is not None and self.noun not in SUPPLETIVE_SUBJECT

    def render(self) -> str:
        return wrong_allomorph(self.noun, self.particle) if self.wrong else attach(self.noun, self.particle)


@dataclass(frozen=True)
class Predicate:
    """A sentence-final predicate; ``override`` holds an injected ill-formed surface."""

    lemma: str
    tense: str
    honorific: bool = False
    override: str = ""

    @property
    def adjective(self) -> bool:
        return self.lemma in ADJECTIVES

    @property
    def honorific_lemma(self) -> str | None:
        return HONORIFIC_SUPPLETION.get(self.lemma)

    def correct(self) -> str:
        return conjugate(
            self.lemma, self.tense, adjective=self.adjective, honorific=self.honorific,
            honorific_lemma=self.honorific_lemma,
        )  # fmt: skip

    def render(self) -> str:
        return self.override or self.correct()


@dataclass(frozen=True)
class Sentence:
    """Structured form of a generated sentence.

    Attributes:
        predicate: The sentence-final predicate.
        subject: Subject phrase, or ``None`` (propositive sentences).
        args: Other phrases in surface order (companion, place, object ...).
        time: Time adverb, ``""`` for none.
        time_first: Put the time adverb before the subject.
        vocative: Addressee phrase (지민아), propositive sentences only.
        together: Insert 같이 ("together") before the arguments.
        person: ``"first"`` (나), ``"honored"`` (할머니 ...), ``"third"`` or
            ``"thing"``.
    """

    predicate: Predicate
    subject: Phrase | None = None
    args: tuple[Phrase, ...] = ()
    time: str = ""
    time_first: bool = False
    vocative: Phrase | None = None
    together: bool = False
    person: str = "third"

    def words(self) -> list[str]:
        """Space-separated words of the rendered sentence (final period included)."""
        out: list[str] = []
        if self.vocative is not None:
            out.append(self.vocative.render() + ",")
        if self.time and (self.time_first or self.subject is None):
            out += self.time.split()
        if self.subject is not None:
            out.append(self.subject.render())
            if self.time and not self.time_first:
                out += self.time.split()
        if self.together:
            out.append("같이")
        out += [w for a in self.args for w in a.render().split()]
        out += (self.predicate.render() + ".").split()
        return out

    def render(self) -> str:
        return " ".join(self.words())


# --- error injectors ----------------------------------------------------------
# Each takes an acceptable Sentence and returns a corrupted copy that changes
# exactly one part (one word, or the adverb/verb phrase for tense), or None when
# the error type does not apply to this sentence.


def particle_allomorph(sentence: Sentence, rng: random.Random) -> Sentence | None:
    """Swaps one particle for its wrong allomorph (책이 → 책가, 집으로 → 집로)."""
    slots: list[tuple[str, int]] = []
    if sentence.subject is not None and sentence.subject.allomorphic:
        slots.append(("subject", -1))
    if sentence.vocative is not None and sentence.vocative.allomorphic:
        slots.append(("vocative", -1))
    slots += [("args", i) for i, a in enumerate(sentence.args) if a.allomorphic]
    if not slots:
        return None
    where, i = rng.choice(slots)
    if where == "args":
        args = list(sentence.args)
        args[i] = replace(args[i], wrong=True)
        return replace(sentence, args=tuple(args))
    return replace(sentence, **{where: replace(getattr(sentence, where), wrong=True)})


def verb_ending(sentence: Sentence, rng: random.Random) -> Sentence | None:
    """Replaces the predicate by a learner-style misconjugation (갔다 → 가었다)."""
    p = sentence.predicate
    forms = ill_formed_endings(
        p.lemma, p.tense, adjective=p.adjective, honorific=p.honorific, honorific_lemma=p.honorific_lemma
    )
    if not forms:
        return None
    return replace(sentence, predicate=replace(p, override=rng.choice(forms)))


def tense_adverb(sentence: Sentence, rng: random.Random) -> Sentence | None:
    """Makes a past time adverb clash with future tense or vice versa.

    Either the adverb is swapped (어제 → 내일 with 갔다) or the predicate is
    re-conjugated (어제 ... 갔다 → 갈 것이다). Present-tense sentences are
    left alone: 내일 간다 (scheduled future) is fine Korean.
    """
    cls = TIME_CLASS.get(sentence.time)
    if cls not in ("past", "future"):
        return None
    p = sentence.predicate
    if p.tense == "propositive" or rng.random() < 0.5:
        pool = PAST_TIMES + LONG_PAST if cls == "future" else FUTURE_TIMES + LONG_FUTURE
        return replace(sentence, time=rng.choice(pool))
    return replace(sentence, predicate=replace(p, tense="future" if cls == "past" else "past"))


def honorific(sentence: Sentence, rng: random.Random) -> Sentence | None:
    """Breaks subject-honorific agreement.

    Two clear-cut cases: a 께서 subject whose predicate lacks -(으)시-
    (할머니께서 ... 먹었다 for 드셨다) and -(으)시- on a first-person subject
    (나는 ... 가셨다: speakers never honour themselves).
    """
    p = sentence.predicate
    if p.tense == "propositive" or sentence.subject is None:
        return None
    if sentence.person == "honored" and p.honorific and sentence.subject.particle.startswith("께서"):
        return replace(sentence, predicate=replace(p, honorific=False))
    if sentence.person == "first" and not p.honorific:
        return replace(sentence, predicate=replace(p, honorific=True))
    return None


ERROR_TYPES: tuple[str, ...] = ("particle_allomorph", "verb_ending", "tense_adverb", "honorific")
_ERROR_FUNCS = {
    "particle_allomorph": particle_allomorph,
    "verb_ending": verb_ending,
    "tense_adverb": tense_adverb,
    "honorific": honorific,
}


def apply_error(sentence: Sentence, error: str, rng: random.Random) -> Sentence | None:
    """Applies the named error type (one of :data:`ERROR_TYPES`)."""
    return _ERROR_FUNCS[error](sentence, rng)


# --- sampling -----------------------------------------------------------------

_HONORABLE_SCENES = tuple(s for s in SCENES if s.subjects == "person")
_PROPOSITIVE_TIMES = FUTURE_TIMES + ("지금", "")


def _pick_subject(scene: _Scene, rng: random.Random, need: str | None) -> tuple[Phrase, str]:
    if isinstance(scene.subjects, tuple):
        return Phrase(rng.choice(scene.subjects), "이/가" if rng.random() < 0.75 else "은/는"), "thing"
    if need == "honorific":
        kind = "honored" if rng.random() < 0.7 else "first"
    else:
        r = rng.random()
        kind = "name" if r < 0.35 else "people" if r < 0.6 else "honored" if r < 0.85 else "first"
    if kind == "honored" and scene.subjects == "plain":
        kind = "name"
    if kind == "honored":
        r = rng.random()
        if need == "honorific":
            particle = "께서" if r < 0.8 else "께서는"
        else:
            particle = "께서" if r < 0.6 else "께서는" if r < 0.8 else "이/가" if r < 0.9 else "은/는"
        return Phrase(rng.choice(HONORED), particle), "honored"
    if kind == "first":
        return Phrase(FIRST_PERSON, "은/는" if rng.random() < 0.7 else "이/가"), "first"
    noun = rng.choice(NAMES if kind == "name" else PEOPLE)
    return Phrase(noun, "이/가" if rng.random() < 0.5 else "은/는"), "third"


def sample_sentence(rng: random.Random, need: str | None = None) -> Sentence:
    """Draws one acceptable structured sentence.

    Args:
        rng: Source of randomness (the only one used, for determinism).
        need: An error type the sentence should admit; the draw is steered so
            that it usually does (honorific → an honoured 께서 subject or 나;
            tense_adverb → a past or future time adverb). The caller must
            still check, since e.g. not every predicate has a learner error.

    Returns:
        An acceptable :class:`Sentence`.
    """
    scenes = _HONORABLE_SCENES if need == "honorific" else SCENES
    scene = rng.choice(scenes)
    lemma = rng.choice(scene.lemmas)
    mood_prop = scene.propositive and need != "honorific" and rng.random() < 0.15

    subject: Phrase | None = None
    vocative: Phrase | None = None
    person = "third"
    if mood_prop:
        vocative = Phrase(rng.choice(NAMES), "아/야")
    else:
        subject, person = _pick_subject(scene, rng, need)

    if mood_prop:
        times = _PROPOSITIVE_TIMES
    elif scene.time_optional:
        times = scene.times + ("",) * max(1, len(scene.times) // 3)  # about a quarter without
    else:
        times = scene.times
    if need == "tense_adverb":
        times = tuple(t for t in times if TIME_CLASS.get(t) in ("past", "future"))
    time = rng.choice(times)
    if mood_prop:
        tense = "propositive"
    elif time:
        tense = TIME_CLASS[time]
    else:
        r = rng.random()
        tense = "past" if r < 0.5 else "present" if r < 0.75 else "future"

    excluded = {subject.noun if subject else "", vocative.noun if vocative else ""}
    args: list[Phrase] = []
    if scene.companion and not mood_prop and rng.random() < 0.25:
        pool = _COMPANIONS_HONORED if person == "honored" else _COMPANIONS_PLAIN
        noun = rng.choice([c for c in pool if c not in excluded])
        excluded.add(noun)
        args.append(Phrase(noun, "와/과" if rng.random() < 0.7 else "이랑/랑"))
    place: Phrase | None = None
    if scene.places and (not scene.place_optional or rng.random() < 0.75):
        noun = rng.choice(scene.places)
        if scene.place_particle == "motion":
            particle = "에" if rng.random() < 0.7 else "(으)로"
        else:
            particle = scene.place_particle
        place = Phrase(noun, particle)
    if place is not None and place.particle == "에서":
        args.append(place)
    if scene.instruments and rng.random() < 0.35:
        args.append(Phrase(rng.choice(scene.instruments), "(으)로"))
    # "버스로 학교로" stacks two (으)로, so a vehicle only goes with 에.
    if scene.transports and place is not None and place.particle == "에" and not mood_prop and rng.random() < 0.35:
        args.append(Phrase(rng.choice(scene.transports), "(으)로"))
    if place is not None and place.particle != "에서":
        args.append(place)
    if scene.recipients:
        args.append(Phrase(rng.choice([r for r in scene.recipients if r not in excluded]), "에게"))
    if scene.objects:
        objects = [o for o in scene.objects if o not in excluded]
        if scene.coordinate and rng.random() < 0.3:
            first, second = rng.sample(objects, 2)
            # "A이나 B" (or) reads oddly of a completed event, so only outside the past.
            pairs = ("와/과", "와/과", "이랑/랑") + (("이나/나",) if tense != "past" else ())
            args += [Phrase(first, rng.choice(pairs)), Phrase(second, "을/를")]
        else:
            args.append(Phrase(rng.choice(objects), "을/를"))

    predicate = Predicate(lemma, tense, honorific=person == "honored")
    return Sentence(
        predicate=predicate,
        subject=subject,
        args=tuple(args),
        time=time,
        # "어제 날씨가 좋았다" reads better than "날씨가 어제 좋았다"; people go either way.
        time_first=subject is not None and bool(time) and rng.random() < (0.8 if person == "thing" else 0.35),
        vocative=vocative,
        together=mood_prop,
        person=person,
    )


@dataclass(frozen=True)
class Example:
    """One labelled sentence.

    Attributes:
        sentence: The text.
        label: 1 = acceptable (NIKL convention), 0 = unacceptable.
        error: ``""`` for acceptable sentences, else one of :data:`ERROR_TYPES`.
        source: The acceptable sentence it was derived from (== ``sentence``
            when ``label`` is 1).
    """

    sentence: str
    label: int
    error: str
    source: str


_MAX_TRIES = 2000


def _draw_pair(rng: random.Random, error: str, seen: set[str]) -> tuple[Sentence, str, str]:
    for _ in range(_MAX_TRIES):
        good = sample_sentence(rng, need=error)
        bad = apply_error(good, error, rng)
        if bad is None:
            continue
        g, b = good.render(), bad.render()
        if g not in seen and b not in seen and g != b:
            return good, g, b
    raise RuntimeError(f"could not draw a new {error} pair; the template space may be exhausted")


def _reuse_source(
    rng: random.Random, error: str, seen: set[str], sources: list[tuple[Sentence, str]]
) -> tuple[str, str] | None:
    """Another error of type ``error`` on an already included source, if one is found quickly."""
    for _ in range(50 if sources else 0):
        source, text = rng.choice(sources)
        bad = apply_error(source, error, rng)
        if bad is not None and (b := bad.render()) not in seen:
            return text, b
    return None


def generate_cola(n: int, seed: int = 0, balance: float = 0.5) -> list[Example]:
    """Generates a CoLA-style data set of minimal pairs.

    Acceptable sentences come from the templates; each unacceptable one is
    derived from an acceptable source by one error type, cycling through
    :data:`ERROR_TYPES` so they are equally represented. Wherever both labels
    are wanted, the source itself is included too, so the data is made of
    minimal pairs (the only difference a model can latch on to is the error);
    when negatives outnumber positives, the extra ones are derived from
    included sources where possible.

    Args:
        n: Number of examples.
        seed: Seed; the same (n, seed, balance) always gives the same list.
        balance: Share of acceptable examples (``round(n * balance)`` exactly).

    Returns:
        ``n`` shuffled examples, no sentence repeated.

    Raises:
        ValueError: For negative ``n`` or ``balance`` outside [0, 1].
    """
    if n < 0:
        raise ValueError("n must be >= 0")
    if not 0.0 <= balance <= 1.0:
        raise ValueError("balance must be in [0, 1]")
    rng = random.Random(seed)
    n_pos = round(n * balance)
    n_neg = n - n_pos
    seen: set[str] = set()
    out: list[Example] = []
    counter = 0

    def next_error() -> str:
        nonlocal counter
        counter += 1
        return ERROR_TYPES[(counter - 1) % len(ERROR_TYPES)]

    sources: list[tuple[Sentence, str]] = []
    for _ in range(min(n_pos, n_neg)):
        error = next_error()
        structured, good, bad = _draw_pair(rng, error, seen)
        seen.update((good, bad))
        sources.append((structured, good))
        out += [Example(good, 1, "", good), Example(bad, 0, error, good)]
    for _ in range(n_pos - len(out) // 2):
        for _ in range(_MAX_TRIES):
            good = sample_sentence(rng).render()
            if good not in seen:
                break
        else:
            raise RuntimeError("could not draw a new acceptable sentence")
        seen.add(good)
        out.append(Example(good, 1, "", good))
    for _ in range(n_neg - min(n_pos, n_neg)):
        # More negatives than positives: derive a second error from a source
        # already in the data (a different slot or error type); failing that,
        # from a fresh source that is recorded but not included.
        error = next_error()
        reused = _reuse_source(rng, error, seen, sources)
        good, bad = reused if reused else _draw_pair(rng, error, seen)[1:]
        seen.add(bad)
        out.append(Example(bad, 0, error, good))
    rng.shuffle(out)
    return out


if __name__ == "__main__":  # pragma: no cover - a quick look at the data
    for ex in generate_cola(20, seed=0):
        print(ex.label, f"{ex.error or '-':<18}", ex.sentence)
