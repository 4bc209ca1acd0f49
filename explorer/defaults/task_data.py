"""Deterministic Korean WiC, COPA and BoolQ data the project makes itself.

The demo checkpoints trained at first start need task data that ships with the
project (the NIKL release may not be redistributed). These generators build it
from hand-written lexicons and templates, in the style of the 2021 NIKL files,
and return exactly the item classes of :mod:`explorer.data.readers`, so the
rest of the app cannot tell generated items from read ones.

Design goals, in order:

1. **Natural, correct Korean.** Every sentence is hand-written or assembled
   with the morphology rules of :mod:`explorer.morphology`
   (particle allomorphs via :func:`~explorer.morphology.attach`, past
   stems via :func:`~explorer.morphology.past_stem`), so a swapped value
   never leaves a wrong particle behind (which would also give the label away).
2. **Learnable by a tiny model in seconds.** Each task has a lexical route to
   the answer that a 3-layer encoder can find: WiC senses are signalled by
   context words near the target, a COPA distractor always comes from an
   unrelated topic, and a false BoolQ question names a value that does not
   occur in the passage. ``tests/test_task_data.py`` checks this with
   bag-of-words logistic regressions.
3. **No shortcuts in the wrong place.** Labels (and COPA questions) are
   exactly balanced, every value is as likely in a true as in a false BoolQ
   question, and a COPA distractor has the same shape (with or without the
   person) as the right answer.

WiC targets follow NIKL's rule: ``Target`` is the literal string found at the
span in *both* sentences (``sentence[span[0]:span[1]] == target`` always).
For verbs that is the stem when the ending leaves it intact (묻 in 묻었다,
묻고, 묻자), and NIKL files an irregular or contracted surface under its own
target (ㄷ-irregular 묻다 "ask" → 물었다 appears under target ``물``; 썼다
under ``썼``). The lexicon below does the same: 묻 only with endings that keep
묻, and a separate target 물 mixing 물 "water", 물었다 "asked" (irregular 묻다)
and 물었다 "bit" (물다).

Example:
    >>> from explorer.defaults.task_data import generate_wic, generate_copa, generate_boolq
    >>> item = generate_wic(2, seed=0)[0]
    >>> item.sentence1[item.span1[0]:item.span1[1]] == item.target
    True
    >>> sorted(i.label for i in generate_copa(4))
    [0, 0, 1, 1]
"""

from __future__ import annotations

import functools
import random
import re
from dataclasses import dataclass
from typing import Callable, Iterable, TypeVar

from explorer.defaults.korean import NAMES, PEOPLE
from explorer.morphology import attach, compose, decompose, past_stem
from explorer.tasks.boolq import BoolqItem
from explorer.tasks.copa import CopaItem
from explorer.tasks.wic import WicItem, unbracket

__all__ = [
    "BOOLQ_PASSAGE_CHARS",
    "BOOLQ_PASSAGE_SENTENCES",
    "COPA_PAIRS",
    "WIC_LEXICON",
    "CausalPair",
    "WicTarget",
    "fill",
    "generate_boolq",
    "generate_copa",
    "generate_wic",
]

T = TypeVar("T")

# =============================================================================
# Shared helpers
# =============================================================================

# "{A}" → a value; "{A:은/는}" → the value with the right particle allomorph;
# "{A:이다}" → the value with the copula. Slot names are letters/digits.
_SLOT = re.compile(r"\{(\w+)(?::([^{}]+))?\}")


def fill(template: str, values: dict[str, str]) -> str:
    """Fills ``{slot}`` and ``{slot:particle}`` markers of a template.

    Particles go through :func:`explorer.morphology.attach`, so
    ``{A:은/는}`` gives 민수는 / 서연은 and ``{A:(으)로}`` gives 교사로 / 약사로
    / 경찰관으로 whatever value is filled in. ``{A:이다}`` appends the copula
    in the written register (교사이다, 요리사이다), which is correct after any
    noun, and ``{A:이고}`` its connective form.

    Args:
        template: Text with markers; ``[`` and ``]`` are left alone.
        values: Slot name → text.

    Returns:
        The filled text.

    Raises:
        KeyError: For a slot missing from ``values``.
    """

    def one(match: re.Match[str]) -> str:
        value = values[match.group(1)]
        particle = match.group(2)
        if not particle:
            return value
        if particle in ("이다", "이고"):  # copula, written register: 교사이다, 요리사이고
            return value + particle
        return attach(value, particle)

    return _SLOT.sub(one, template)


def _bracketed(text: str) -> tuple[str, tuple[int, int]]:
    """Removes the one ``[...]`` marker and returns (text, span of its content)."""
    plain, spans = unbracket(text)
    if len(spans) != 1:  # a template bug, not user input
        raise ValueError(f"expected exactly one [target] mark in {text!r}, found {len(spans)}")
    return plain, spans[0]


def _drop_rieul(stem: str) -> str:
    """ㄹ-final stems lose the ㄹ before ㄴ/ㅅ-initial endings: 살 → 사(나요), 열 → 여(는가)."""
    cho, jung, jong = decompose(stem[-1])
    return stem[:-1] + compose(cho, jung, "") if jong == "ㄹ" else stem


def _draw_unique(
    n: int,
    rng: random.Random,
    plan: list[T],
    draw: Callable[[random.Random, T], tuple[tuple[str, ...], object] | None],
    what: str,
) -> list[object]:
    """Draws one item per plan entry, skipping repeats of an already drawn key.

    The plan fixes labels (and COPA questions) in advance so that they are
    exactly balanced whatever the rejections; ``draw`` returns (key, item) or
    None when a draw is unusable.
    """
    seen: set[tuple[str, ...]] = set()
    out: list[object] = []
    for entry in plan[:n]:
        for _ in range(2000):
            got = draw(rng, entry)
            if got is None or got[0] in seen:
                continue
            seen.add(got[0])
            out.append(got[1])
            break
        else:
            raise RuntimeError(f"could not draw {n} distinct {what} items; the template space is too small")
    return out


def _balanced_plan(n: int, kinds: Iterable[T], rng: random.Random) -> list[T]:
    """``n`` entries cycling through ``kinds`` (so each is equally frequent), shuffled."""
    kinds = list(kinds)
    plan = [kinds[i % len(kinds)] for i in range(n)]
    rng.shuffle(plan)
    return plan


# People who fill the {A}/{B} slots: the CoLA lexicon's given names and kin
# terms, none of them honoured (so no -(으)시- agreement is needed).
_PERSONS: tuple[str, ...] = NAMES + PEOPLE
# WiC sentences also take pronouns and groups (우리는, 그는, 아이들이), as typed sentences often do.
_WIC_PERSONS: tuple[str, ...] = _PERSONS + ("우리", "그", "그녀", "아이들", "사람들", "학생들")

# =============================================================================
# WiC
# =============================================================================


@dataclass(frozen=True)
class WicTarget:
    """A target string and its senses, each with context templates.

    Attributes:
        target: The literal string marked in every template (a noun, or a
            verb stem as it appears before the ending).
        senses: Sense gloss → templates. Each template marks the target
            once with ``[...]`` and may use person slots ``{A}``/``{A:은/는}``.
    """

    target: str
    senses: dict[str, tuple[str, ...]]


# Context words next to the target carry the sense (배를 타고 vs 배를 깎아),
# so a small model can learn each target's senses from a few templates.
WIC_LEXICON: tuple[WicTarget, ...] = (
    WicTarget("배", {
        "ship": ("[배]가 항구를 떠났다.", "{A:은/는} [배]를 타고 섬에 갔다.", "큰 [배] 한 척이 바다 위에 떠 있다.",
                 "태풍 때문에 {A:이/가} 탈 [배]가 출항하지 못했다.", "어부들이 [배] 위에서 그물을 던졌다."),
        "pear": ("{A:은/는} 시장에서 [배]를 두 개 샀다.", "가을 [배]는 달고 시원하다.", "어머니가 {A:에게} [배]를 깎아 주셨다.",
                 "{A:은/는} [배]를 갈아서 고기 양념에 넣었다.", "{A:은/는} 추석 선물로 [배] 한 상자를 받았다."),
        "belly": ("{A:은/는} 점심을 걸러서 [배]가 고팠다.", "{A:은/는} 찬 우유를 마셨더니 [배]가 아팠다.",
                  "{A:은/는} 저녁을 많이 먹어서 [배]가 불렀다.", "아기가 [배]를 내밀고 웃었다.", "{A:은/는} [배]가 고파서 라면을 끓였다."),
    }),
    WicTarget("눈", {
        "eye": ("{A:은/는} 졸려서 [눈]을 비볐다.", "{A:은/는} [눈]이 나빠서 안경을 새로 맞췄다.", "아기가 [눈]을 크게 뜨고 엄마를 보았다.",
                "{A:은/는} 먼지가 들어가서 [눈]이 따가웠다.", "{A:은/는} [눈]을 감고 음악을 들었다."),
        "snow": ("밤새 [눈]이 많이 내렸다.", "{A:은/는} 마당에서 [눈]을 뭉쳐 던졌다.", "[눈]이 쌓여서 길이 하얗다.",
                 "올겨울에는 [눈]이 자주 온다.", "{A:은/는} [눈]을 치우느라 아침 내내 바빴다."),
    }),
    WicTarget("말", {
        "horse": ("[말]이 들판을 힘차게 달린다.", "{A:은/는} 제주도에서 [말]을 탔다.", "{A:은/는} [말]에게 당근을 주었다.",
                  "목장에는 [말] 열 마리가 있다.", "[말]의 갈기가 바람에 날렸다."),
        "speech": ("{A:은/는} 친구의 [말]을 끝까지 들었다.", "{A:은/는} 그 [말]을 듣고 마음이 놓였다.", "{A:은/는} [말]이 너무 빨라서 알아듣기 어렵다.",
                   "선생님의 [말]에 모두 고개를 끄덕였다.", "화가 나도 [말]을 함부로 하면 안 된다."),
    }),
    WicTarget("차", {
        "car": ("{A:은/는} 새 [차]를 샀다.", "[차]가 막혀서 {A:은/는} 회사에 늦었다.", "{A:은/는} 주차장에 [차]를 세웠다.",
                "{A:은/는} 주말마다 [차]를 몰고 바다에 간다.", "[차] 문이 잠겨서 열리지 않았다."),
        "tea": ("{A:은/는} 따뜻한 [차]를 한 잔 마셨다.", "{A:은/는} 손님에게 [차]를 대접했다.", "식기 전에 [차]를 드세요.",
                "{A:은/는} [차]에 꿀을 조금 넣었다.", "{A:은/는} 오후에 친구와 [차]를 마시며 이야기했다."),
        "kick": ("{A:은/는} 운동장에서 공을 [차]고 놀았다.", "축구 선수가 공을 힘껏 [차]는 순간 관중이 일어섰다.",
                 "{A:은/는} 자면서 이불을 발로 [차]곤 한다.", "문을 발로 [차]지 마라."),
    }),
    WicTarget("다리", {
        "leg": ("{A:은/는} 오래 걸어서 [다리]가 아팠다.", "{A:은/는} 축구를 하다가 [다리]를 다쳤다.", "{A:은/는} [다리]를 쭉 펴고 앉았다.",
                "{A:은/는} [다리]가 길어서 바지가 짧다.", "{A:은/는} 운동을 마치고 [다리]를 주물렀다."),
        "bridge": ("강 위에 새 [다리]가 놓였다.", "[다리]를 건너면 바로 시장이다.", "홍수로 [다리]가 무너졌다.",
                   "{A:은/는} 자전거를 타고 [다리]를 건넜다.", "해가 지자 [다리]에 불이 켜졌다."),
    }),
    WicTarget("밤", {
        "night": ("[밤]이 되자 별이 보였다.", "{A:은/는} [밤]에 잠이 오지 않아 산책을 했다.", "여름 [밤]에는 모기가 많다.",
                  "{A:은/는} [밤] 열한 시에 집에 도착했다.", "긴 [밤]이 지나고 아침이 왔다."),
        "chestnut": ("{A:은/는} 가을 산에서 [밤]을 주웠다.", "{A:은/는} [밤]을 삶아 껍질을 벗겼다.", "다람쥐가 [밤]을 입에 물고 갔다.",
                     "{A:은/는} [밤] 가시에 손을 찔렸다.", "구운 [밤]이 고소하다."),
    }),
    WicTarget("사과", {
        "apple": ("{A:은/는} 빨간 [사과]를 한 입 베어 물었다.", "{A:은/는} [사과]를 깎아 접시에 담았다.", "{A:은/는} 시장에서 [사과] 한 봉지를 샀다.",
                  "과수원에 [사과]가 주렁주렁 열렸다.", "{A:은/는} 아침마다 [사과]를 한 개씩 먹는다."),
        "apology": ("{A:은/는} 친구에게 진심으로 [사과]를 했다.", "늦게 온 사람이 먼저 [사과]의 말을 전했다.",
                    "{A:은/는} 끝내 [사과]하지 않았다.", "회사가 고객들에게 공식적으로 [사과]했다.", "{A:은/는} 동생의 [사과]를 받아 주었다."),
    }),
    WicTarget("병", {
        "bottle": ("{A:은/는} 빈 [병]에 물을 채웠다.", "[병] 뚜껑이 잘 열리지 않는다.", "{A:은/는} 우유 한 [병]을 다 마셨다.",
                   "{A:은/는} 깨진 [병] 조각을 조심해서 치웠다.", "{A:은/는} [병]에 담긴 주스를 컵에 따랐다."),
        "illness": ("{A:은/는} 큰 [병]에 걸려 입원했다.", "할아버지의 [병]이 많이 나았다.", "{A:은/는} [병]을 일찍 발견해서 다행이었다.",
                    "의사가 [병]의 원인을 찾아냈다.", "쉬지 않고 일하면 [병]이 난다."),
    }),
    WicTarget("김", {
        "laver": ("{A:은/는} 밥을 [김]에 싸서 먹었다.", "{A:은/는} 구운 [김]을 반찬으로 먹었다.", "{A:은/는} [김]에 참기름을 발라 구웠다.",
                  "{A:은/는} 도시락에 [김]과 달걀말이를 넣었다.", "바닷가 마을에서 [김]을 말리고 있다."),
        "steam": ("냄비에서 [김]이 모락모락 난다.", "추운 날 유리창에 [김]이 서렸다.", "갓 지은 밥에서 [김]이 올라왔다.",
                  "{A:의} 안경에 [김]이 서려 앞이 보이지 않았다.", "주전자에서 하얀 [김]이 뿜어져 나왔다."),
    }),
    WicTarget("벌", {
        "bee": ("꽃밭에 [벌]이 날아다닌다.", "{A:은/는} [벌]에 쏘여 팔이 부었다.", "[벌]이 꽃에서 꿀을 모으고 있다.",
                "{A:은/는} 양봉장에서 [벌]을 키운다.", "[벌] 한 마리가 창문으로 들어왔다."),
        "punishment": ("{A:은/는} 숙제를 안 해서 [벌]을 받았다.", "{A:은/는} 거짓말을 한 [벌]로 청소를 했다.",
                       "선생님이 [벌]로 운동장을 돌게 했다.", "잘못을 했으면 [벌]을 받아야 한다.",
                       "죄를 지은 사람에게 무거운 [벌]이 내려졌다."),
    }),
    WicTarget("절", {
        "temple": ("산속에 오래된 [절]이 있다.", "{A:은/는} 주말에 [절]에 가서 기도했다.", "{A:은/는} [절]에서 스님을 만났다.",
                   "[절] 마당에 연등이 걸려 있다.", "이 [절]은 천 년 전에 지어졌다."),
        "bow": ("설날에 {A:은/는} 할머니께 [절]을 했다.", "{A:은/는} 부모님께 공손하게 [절]을 올렸다.",
                "아이들이 어른들께 차례로 [절]을 했다.", "{A:은/는} [절]을 하고 나서 덕담을 들었다."),
    }),
    WicTarget("굴", {
        "oyster": ("[굴]에는 영양이 풍부하다.", "{A:은/는} [굴]을 넣고 국을 끓였다.", "{A:은/는} 싱싱한 [굴]에 초장을 찍어 먹었다.",
                   "{A:은/는} [굴]을 잘못 먹고 배탈이 났다.", "{A:은/는} 겨울이 제철인 [굴]을 한 봉지 샀다."),
        "cave": ("곰이 [굴] 속에서 겨울잠을 잔다.", "탐험대가 어두운 [굴]로 들어갔다.", "산 중턱에 깊은 [굴]이 있다.",
                 "박쥐들이 [굴] 천장에 매달려 있다.", "[굴] 입구가 바위로 막혀 있었다."),
    }),
    WicTarget("달", {
        "moon": ("오늘은 [달]이 유난히 밝다.", "구름 사이로 [달]이 떴다.", "우주 비행사가 [달]에 착륙했다.",
                 "[달]이 지구 주위를 돈다.", "{A:은/는} 창밖의 [달]을 한참 바라보았다."),
        "month": ("{A:은/는} 다음 [달]에 이사를 간다.", "{A:은/는} 한 [달]에 책을 두 권 읽는다.", "{A:은/는} [달]마다 관리비를 낸다.",
                  "{A:은/는} 두 [달] 전부터 수영을 배운다.", "{A:은/는} 여행을 이번 [달] 말로 미뤘다."),
        "sweet": ("이 케이크는 너무 [달]다.", "잘 익은 수박이 [달]고 시원하다.", "{A:은/는} [달]지 않은 빵을 좋아한다.",
                  "복숭아가 [달]아서 {A:은/는} 금방 다 먹었다."),
    }),
    WicTarget("바람", {
        "wind": ("{A:이/가} 창문을 여니 시원한 [바람]이 들어왔다.", "[바람]이 세게 불어 우산이 뒤집혔다.", "바닷가에는 [바람]이 많이 분다.",
                 "{A:은/는} [바람]에 날아간 모자를 주우러 뛰어갔다.", "차가운 [바람] 때문에 귀가 시렸다."),
        "wish": ("우리의 [바람]은 가족 모두가 건강한 것이다.", "{A:은/는} 어릴 때의 [바람]대로 선생님이 되었다.",
                 "부모님의 [바람]과 달리 그는 화가가 되었다.", "{A:은/는} 새해에는 작은 [바람]이 모두 이루어지길 빌었다.",
                 "많은 사람의 [바람]이 마침내 이루어졌다."),
    }),
    WicTarget("배우", {
        "actor": ("그 [배우]는 연기를 정말 잘한다.", "{A:은/는} 좋아하는 [배우]의 사인을 받았다.", "영화가 끝나자 [배우]들이 무대에 올랐다.",
                  "신인 [배우]가 주인공을 맡았다."),
        "learn": ("{A:은/는} 요즘 기타를 [배우]고 있다.", "외국어를 [배우]는 일은 즐겁다.", "{A:은/는} 수영을 [배우]러 수영장에 다닌다.",
                  "아이들은 놀면서 [배우]기도 한다."),
    }),
    WicTarget("길", {
        "road": ("[길]이 막혀서 {A:은/는} 약속에 늦었다.", "{A:은/는} 좁은 [길]을 따라 걸었다.", "눈이 와서 [길]이 미끄럽다.",
                 "이 [길]로 쭉 가면 학교가 나온다.", "{A:은/는} 넓은 [길]을 건너 공원에 갔다."),
        "way": ("이 문제를 해결할 [길]이 보이지 않는다.", "{A:은/는} 돈을 아낄 [길]을 찾고 있다.", "두 나라가 협력할 [길]이 열렸다.",
                "{A:은/는} 살아남을 [길]을 궁리했다."),
    }),
    WicTarget("쓰", {
        "write": ("{A:은/는} 친구에게 편지를 [쓰]고 있다.", "{A:은/는} 일기를 [쓰]는 습관을 들였다.", "{A:은/는} 소설을 [쓰]기 시작했다.",
                  "공책에 이름을 또박또박 [쓰]세요.", "{A:은/는} 보고서를 [쓰]느라 잠을 못 잤다."),
        "use": ("돈을 아껴 [쓰]는 습관이 필요하다.", "{A:은/는} 컴퓨터를 [쓰]고 나서 전원을 껐다.", "이 가위는 천을 자를 때 [쓰]는 것이다.",
                "물을 너무 많이 [쓰]지 마세요.", "{A:은/는} 용돈을 책 사는 데 [쓰]기로 했다."),
        "wear": ("{A:은/는} 햇볕이 강해서 모자를 [쓰]고 나갔다.", "눈이 나빠서 안경을 [쓰]는 사람이 많다.",
                 "공사장에서는 안전모를 [쓰]고 일해야 한다.", "아이가 가면을 [쓰]고 춤을 췄다."),
        "bitter": ("이 약은 맛이 너무 [쓰]다.", "커피가 [쓰]지만 향이 좋다.", "한약은 [쓰]고 냄새가 강하다.",
                   "어린이용 감기약은 [쓰]지 않고 달다."),
    }),
    WicTarget("묻", {
        "bury": ("{A:은/는} 마당에 보물 상자를 [묻]었다.", "강아지가 뼈다귀를 땅에 [묻]고 있다.", "{A:은/는} 씨앗을 흙에 [묻]고 물을 주었다.",
                 "{A:은/는} 김치를 항아리에 담아 땅에 [묻]었다."),
        "ask": ("{A:은/는} 지나가는 사람에게 길을 [묻]고 있었다.", "궁금한 점이 있으면 언제든지 [묻]기 바란다.",
                "기자가 감독에게 다음 경기 계획을 [묻]자 감독이 웃었다.", "{A:은/는} 선생님께 숙제를 [묻]는 문자를 보냈다."),
        "stain": ("{A:은/는} 옷에 커피가 [묻]어서 빨았다.", "{A:은/는} 손에 잉크가 [묻]은 줄도 몰랐다.", "신발에 진흙이 잔뜩 [묻]었다.",
                  "입가에 케이크 크림이 [묻]어 있다."),
    }),
    # 물: the noun, irregular 묻다 "ask" (물어, 물었다) and 물다 "bite": NIKL files
    # such irregular surfaces under the literal string, not under 묻.
    WicTarget("물", {
        "water": ("{A:은/는} 목이 말라서 [물]을 마셨다.", "{A:은/는} 화분에 [물]을 주었다.", "[물]이 끓으면 라면을 넣으세요.",
                  "수영장 [물]이 차갑다.", "{A:은/는} 컵에 [물]을 가득 따랐다."),
        "ask": ("{A:은/는} 역무원에게 길을 [물]었다.", "{A:은/는} 모르는 것이 있어서 선생님께 [물]어보았다.",
                "{A:은/는} 친구에게 시험 날짜를 [물]었다.", "손님이 가격을 [물]어서 {A:이/가} 알려 주었다."),
        "bite": ("개가 {A:의} 손을 [물]었다.", "모기가 팔을 [물]어서 가렵다.", "강아지가 신발을 입에 [물]고 달아났다.",
                 "아기가 엄마 손가락을 [물]고 놓지 않았다."),
    }),
    WicTarget("들", {
        "hold": ("{A:은/는} 무거운 가방을 [들]고 계단을 올랐다.", "{A:은/는} 손을 [들]고 질문했다.",
                 "{A:은/는} 꽃다발을 [들]고 서 있었다.", "이 상자는 혼자 [들]기에 너무 무겁다."),
        "like": ("{A:은/는} 새로 산 옷이 마음에 [들]었다.", "{A:은/는} 그 식당이 마음에 [들]어서 자주 간다.",
                 "선물이 마음에 [들]지 않으면 바꿔도 된다.", "{A:은/는} 그 영화가 마음에 [들]었다고 했다."),
        "cost": ("{A:은/는} 집을 고치는 데 돈이 많이 [들]었다.", "이 일은 시간이 오래 [들]지 않는다.", "유학에는 비용이 꽤 [들]기 마련이다.",
                 "결혼식 준비에 생각보다 돈이 [들]었다."),
        "sleep": ("{A:은/는} 피곤해서 일찍 잠이 [들]었다.", "아기가 엄마 품에서 잠이 [들]었다.", "{A:은/는} 잠자리에 [들]기 전에 이를 닦았다.",
                  "{A:은/는} 음악을 듣다가 어느새 잠이 [들]고 말았다."),
    }),
    WicTarget("맞", {
        "correct": ("네 말이 [맞]다.", "{A:의} 대답이 [맞]았다.", "이 계산이 [맞]는지 다시 확인해 보자.", "지도가 [맞]으면 이 길로 가야 한다."),
        "hit": ("{A:은/는} 날아온 공에 머리를 [맞]았다.", "창문이 돌에 [맞]아 깨졌다.", "{A:은/는} 친구에게 등을 세게 [맞]고 깜짝 놀랐다.",
                "강아지가 우박에 [맞]을까 봐 안으로 들였다."),
        "fit": ("새로 산 신발이 발에 꼭 [맞]는다.", "이 옷은 {A:에게} 잘 [맞]지 않는다.", "뚜껑이 병에 딱 [맞]았다.",
                "{A:은/는} 몸에 [맞]는 정장을 골랐다."),
        "welcome": ("{A:은/는} 현관에서 손님을 [맞]았다.", "새해를 [맞]아 가족이 모두 모였다.", "학교가 개교 50주년을 [맞]았다.",
                    "주민들이 박수로 선수들을 [맞]았다."),
    }),
    WicTarget("타", {
        "ride": ("{A:은/는} 버스를 [타]고 학교에 간다.", "아이들이 놀이터에서 그네를 [타]고 논다.", "{A:은/는} 자전거를 [타]는 것을 좋아한다.",
                 "{A:은/는} 비행기를 [타]기 전에 짐을 부쳤다."),
        "burn": ("불이 나서 창고가 모두 [타] 버렸다.", "{A:은/는} 빵이 [타]지 않도록 불을 줄였다.", "장작이 [타]는 소리가 들린다.",
                 "{A:은/는} 햇볕에 피부가 [타]서 따가웠다."),
        "mix": ("{A:은/는} 커피에 설탕을 [타]서 마셨다.", "물에 꿀을 [타] 마시면 목에 좋다.", "{A:은/는} 우유에 코코아 가루를 [타]고 저었다."),
        "receive": ("{A:은/는} 글짓기 대회에서 상을 [타]게 되었다.", "{A:은/는} 매달 부모님께 용돈을 [타] 쓴다.",
                    "{A:은/는} 회사에서 보너스를 [타]서 기뻤다."),
    }),
    WicTarget("감", {
        "persimmon": ("가을이 되자 [감]이 붉게 익었다.", "{A:은/는} 할머니 댁에서 [감]을 따 왔다.", "{A:은/는} [감]을 깎아 처마 밑에 매달았다.",
                      "말랑말랑하게 익은 [감]이 달다."),
        "close_eyes": ("{A:은/는} 눈을 [감]고 소원을 빌었다.", "{A:은/는} 피곤해서 잠시 눈을 [감]았다.", "사진을 찍을 때 눈을 [감]지 마세요."),
        "wash_hair": ("{A:은/는} 아침마다 머리를 [감]는다.", "{A:은/는} 머리를 [감]고 나서 드라이기로 말렸다.", "{A:은/는} 열이 나서 오늘은 머리를 [감]지 않았다."),
    }),
    WicTarget("풀", {
        "grass": ("소가 들판에서 [풀]을 뜯는다.", "마당에 [풀]이 무성하게 자랐다.", "{A:은/는} 주말에 밭의 [풀]을 뽑았다.",
                  "비가 온 뒤 [풀] 냄새가 난다."),
        "glue": ("{A:은/는} 색종이를 [풀]로 붙였다.", "{A:은/는} 봉투에 [풀]을 발라 붙였다.", "[풀]이 말라서 잘 붙지 않는다.",
                 "{A:은/는} 미술 시간에 가위와 [풀]을 준비했다."),
        "solve": ("{A:은/는} 어려운 수학 문제를 [풀]었다.", "퀴즈를 [풀]면 상품을 준다.", "{A:은/는} 시험 문제를 다 [풀]지 못했다."),
        "untie": ("{A:은/는} 신발 끈을 [풀]고 잠시 쉬었다.", "꽉 묶인 매듭을 [풀]기가 어려웠다.", "{A:이/가} 선물 포장을 [풀]어 보니 시계가 있었다."),
    }),
)  # fmt: skip


def _wic_sentence(template: str, rng: random.Random) -> tuple[str, tuple[int, int]]:
    """Fills a WiC template's person slots and locates the target.

    A sentence-initial subject ``{A:은/는}`` is sometimes dropped (새로 산 옷이 마음에 들었다) or takes
    이/가 (아이들이 마당에서 …), as Korean sentences do, so the sense is read from the words around the
    target rather than from a template's exact opening.
    """
    if template.startswith("{A:은/는} "):
        r = rng.random()
        if r < 0.25:
            template = template.removeprefix("{A:은/는} ")
        elif r < 0.45:
            template = "{A:이/가}" + template.removeprefix("{A:은/는}")
    a, b = rng.sample(_WIC_PERSONS, 2)
    return _bracketed(fill(template, {"A": a, "B": b}))


def generate_wic(n: int, seed: int = 0) -> list[WicItem]:
    """Generates WiC pairs from :data:`WIC_LEXICON`.

    A same-sense pair (label 1) uses two *different* templates of one sense,
    so identical wording never gives the answer away; a different-sense pair
    (label 0) takes one template from each of two senses. Targets are drawn
    uniformly for either label, so no target predicts the label.

    Args:
        n: Number of pairs; exactly ``n // 2`` (or ``(n + 1) // 2``) are label 1.
        seed: Same ``(n, seed)``, same list.

    Returns:
        ``n`` distinct :class:`~explorer.tasks.wic.WicItem` (no sentence
        pair repeated in either order), ids ``gen-wic-00001`` ..., ``row`` =
        the line the item would have in a file with a header row.

    Raises:
        ValueError: If ``n`` is negative.
        RuntimeError: If ``n`` exceeds what the templates can produce.
    """
    if n < 0:
        raise ValueError("n must be >= 0")
    rng = random.Random(f"task_data.wic:{seed}")
    plan = _balanced_plan(n, (1, 0), rng)

    def draw(rng: random.Random, label: int) -> tuple[tuple[str, ...], object]:
        entry = rng.choice(WIC_LEXICON)
        senses = list(entry.senses.values())
        if label:
            t1, t2 = rng.sample(rng.choice(senses), 2)
        else:
            s1, s2 = rng.sample(senses, 2)
            t1, t2 = rng.choice(s1), rng.choice(s2)
        (x1, sp1), (x2, sp2) = _wic_sentence(t1, rng), _wic_sentence(t2, rng)
        key = (entry.target,) + tuple(sorted((x1, x2)))
        return key, (entry.target, x1, x2, sp1, sp2, label)

    raw = _draw_unique(n, rng, plan, draw, "WiC")
    return [
        WicItem(f"gen-wic-{i + 1:05d}", t, x1, x2, sp1, sp2, label, row=i + 2)
        for i, (t, x1, x2, sp1, sp2, label) in enumerate(raw)  # type: ignore[misc]
    ]


# =============================================================================
# COPA
# =============================================================================


@dataclass(frozen=True)
class CausalPair:
    """A cause and its effect, each with one or more paraphrases.

    Attributes:
        topics: Coarse topics. Distractors come from pairs sharing no topic,
            so a wrong alternative is never also a plausible answer (a topic
            groups events that could explain each other: oversleeping, being
            late and missing the bus are one; a sleepless night belongs to
            both "health" and "time").
        causes: Paraphrases of the cause (past-tense sentences).
        effects: Paraphrases of the effect.
    """

    topics: tuple[str, ...]
    causes: tuple[str, ...]
    effects: tuple[str, ...]


def _pair(topics: str, cause: str, effect: str) -> CausalPair:
    """A pair from compact notation: topics joined by "+", paraphrases by "|"."""
    return CausalPair(tuple(topics.split("+")), tuple(cause.split("|")), tuple(effect.split("|")))


# {A} is one person, the same in the premise and both alternatives.
COPA_PAIRS: tuple[CausalPair, ...] = (
    # weather and nature, by kind of weather: snow and spring flowers are no answer for each other,
    # while rain, dark clouds and a drought may explain one another's effects, so they share "rain"
    _pair("rain", "밤새 비가 많이 내렸다.|하루 종일 비가 많이 왔다.", "강물이 불어났다.|마당에 물웅덩이가 생겼다."),
    _pair("cold", "밤새 눈이 많이 내렸다.|폭설이 내렸다.", "길이 미끄러웠다.|도로가 하얗게 덮였다."),
    _pair("warm", "햇볕이 뜨겁게 내리쬐었다.", "{A:은/는} 모자를 썼다.|{A:은/는} 그늘로 들어갔다."),
    _pair("rain", "{A:은/는} 우산 없이 비를 맞았다.", "{A:의} 옷이 비에 흠뻑 젖었다."),
    _pair("wind+cold", "바람이 세게 불었다.|태풍이 불었다.", "나뭇잎이 우수수 떨어졌다.|간판이 바닥에 떨어졌다."),
    _pair("cold", "기온이 영하로 떨어졌다.|날씨가 몹시 추워졌다.", "호수가 꽁꽁 얼었다.|수도관이 얼어 터졌다."),
    _pair("rain", "하늘에 먹구름이 잔뜩 끼었다.", "{A:은/는} 우산을 챙겼다.|{A:은/는} 빨래를 서둘러 걷었다."),
    _pair("warm", "봄이 되어 날씨가 따뜻해졌다.", "공원에 꽃이 피었다.|개나리가 피기 시작했다."),
    _pair("rain+warm", "가뭄이 오래 계속되었다.|몇 달 동안 비가 오지 않았다.", "논바닥이 갈라졌다.|저수지의 물이 말랐다."),
    _pair("fire+warm", "산에 큰불이 났다.", "나무들이 모두 타 버렸다.|산이 잿더미가 되었다."),
    _pair("night", "해가 졌다.|날이 저물었다.", "가로등이 하나둘 켜졌다."),
    # health and body
    _pair("health+time", "{A:은/는} 밤새 잠을 자지 못했다.", "{A:은/는} 하루 종일 졸렸다.|{A:은/는} 수업 시간에 꾸벅꾸벅 졸았다."),
    _pair("health", "{A:은/는} 감기에 걸렸다.", "{A:은/는} 기침을 계속했다.|{A:은/는} 콧물이 났다."),
    _pair("health", "{A:은/는} 상한 음식을 먹었다.", "{A:은/는} 배탈이 났다."),
    _pair("health", "{A:은/는} 계단에서 넘어졌다.", "{A:은/는} 무릎에 멍이 들었다.|{A:은/는} 발목을 다쳤다."),
    _pair("health", "{A:은/는} 하루 종일 컴퓨터 화면을 보았다.", "{A:은/는} 눈이 뻑뻑했다."),
    _pair("health", "{A:은/는} 매일 꾸준히 운동했다.", "{A:은/는} 체력이 좋아졌다.|{A:은/는} 몸이 튼튼해졌다."),
    _pair("health", "{A:은/는} 뜨거운 냄비를 맨손으로 잡았다.", "{A:은/는} 손을 데었다."),
    _pair("health", "{A:은/는} 열이 많이 났다.", "{A:은/는} 해열제를 먹었다."),
    _pair("health", "{A:은/는} 하루 종일 아무것도 먹지 못했다.", "{A:은/는} 배가 몹시 고팠다."),
    _pair("health", "{A:은/는} 마라톤을 완주했다.", "{A:은/는} 다리가 몹시 아팠다."),
    _pair("health", "{A:은/는} 축구를 하다가 공에 얼굴을 맞았다.", "{A:은/는} 코피가 났다."),
    _pair("health", "{A:은/는} 줄넘기를 천 번 했다.", "{A:은/는} 숨이 턱까지 찼다."),
    _pair("health", "{A:은/는} 벌에 쏘였다.", "{A:의} 팔이 빨갛게 부었다."),
    # food and cooking
    _pair("food", "{A:은/는} 국에 소금을 너무 많이 넣었다.", "국이 너무 짰다."),
    _pair("food", "{A:은/는} 커피에 설탕을 듬뿍 넣었다.", "커피가 아주 달았다."),
    _pair("food", "{A:은/는} 라면을 너무 오래 끓였다.", "면이 퉁퉁 불었다."),
    _pair("food", "{A:은/는} 우유를 냉장고 밖에 오래 두었다.", "우유가 상했다.|우유에서 시큼한 냄새가 났다."),
    _pair("food", "{A:은/는} 빵을 오븐에 너무 오래 구웠다.", "빵이 새까맣게 탔다."),
    _pair("food", "{A:은/는} 매운 떡볶이를 먹었다.", "{A:은/는} 물을 연거푸 마셨다.|{A:의} 입안이 얼얼했다."),
    _pair("food", "{A:은/는} 주스에 얼음을 가득 넣었다.", "주스가 시원해졌다."),
    _pair("food+health", "{A:은/는} 양파를 썰었다.", "{A:은/는} 눈이 매워 눈물을 흘렸다."),
    _pair("food", "{A:은/는} 밥솥의 취소 버튼을 잘못 눌렀다.", "밥이 설익었다."),
    # home and devices
    _pair("home+cold+wind", "{A:은/는} 창문을 활짝 열어 두었다.", "방 안에 찬 바람이 들어왔다."),
    _pair("home+night", "{A:은/는} 전등 스위치를 껐다.", "방 안이 어두워졌다."),
    _pair("home", "{A:은/는} 화분에 한 달 동안 물을 주지 않았다.", "화분의 꽃이 시들었다."),
    _pair("home", "{A:은/는} 유리컵을 바닥에 떨어뜨렸다.", "유리컵이 산산조각 났다.|유리컵이 깨졌다."),
    _pair("home", "{A:은/는} 욕조에 물을 틀어 놓고 잊어버렸다.", "욕실 바닥에 물이 넘쳤다."),
    _pair("home", "{A:은/는} 방을 구석구석 청소했다.", "방이 깔끔해졌다."),
    _pair("home", "{A:은/는} 에어컨을 켰다.", "방이 시원해졌다."),
    _pair("home", "{A:은/는} 휴대폰을 물에 빠뜨렸다.", "휴대폰이 켜지지 않았다.|휴대폰이 고장 났다."),
    _pair("home", "{A:은/는} 휴대폰을 충전하지 않고 하루 종일 썼다.", "휴대폰 배터리가 다 닳았다."),
    _pair("home", "아파트 전체가 정전되었다.", "엘리베이터가 멈췄다.|냉장고가 멈췄다."),
    _pair("home", "{A:은/는} 현관 열쇠를 잃어버렸다.", "{A:은/는} 열쇠 수리공을 불렀다."),
    _pair("home+warm", "{A:은/는} 빨래를 햇볕에 널었다.", "빨래가 바싹 말랐다."),
    # school, work and being late
    _pair("time", "{A:은/는} 시험 범위를 꼼꼼히 복습했다.", "{A:은/는} 시험에서 좋은 점수를 받았다."),
    _pair("time", "{A:은/는} 숙제를 집에 두고 왔다.", "{A:은/는} 선생님께 꾸중을 들었다."),
    _pair("time", "{A:은/는} 늦잠을 잤다.", "{A:은/는} 학교에 지각했다.|{A:은/는} 아침을 거르고 뛰어나갔다."),
    _pair("time", "{A:은/는} 발표 준비를 전혀 하지 못했다.", "{A:은/는} 발표 시간에 크게 당황했다."),
    _pair("time+money", "{A:은/는} 회사에서 승진했다.", "{A:의} 월급이 올랐다."),
    _pair("time", "{A:은/는} 마감 전에 일을 끝내지 못했다.", "{A:은/는} 밤늦게까지 야근했다."),
    _pair("time", "{A:은/는} 외국어를 꾸준히 공부했다.", "{A:은/는} 외국인과 자유롭게 대화할 수 있게 되었다."),
    _pair("time", "{A:은/는} 버스를 놓쳤다.", "{A:은/는} 택시를 탔다.|{A:은/는} 약속 시간에 늦었다."),
    _pair("time", "출근 시간이라 도로가 꽉 막혔다.", "{A:은/는} 회의에 늦었다."),
    _pair("time", "{A:은/는} 지하철에서 졸다가 내릴 역을 지나쳤다.", "{A:은/는} 반대 방향 열차를 다시 탔다."),
    _pair("time", "{A:의} 차에 기름이 떨어졌다.", "{A:은/는} 주유소에 들렀다."),
    _pair("time", "자전거 바퀴에 못이 박혔다.", "자전거 바퀴에 바람이 빠졌다."),
    # money and shopping
    _pair("money", "{A:은/는} 지갑을 잃어버렸다.", "{A:은/는} 카드 사용을 정지시켰다.|{A:은/는} 경찰서에 분실 신고를 했다."),
    _pair("money", "가게에서 반값 할인 행사를 했다.", "가게 앞에 손님들이 길게 줄을 섰다."),
    _pair("money", "{A:은/는} 용돈을 모두 써 버렸다.", "{A:은/는} 사고 싶던 책을 사지 못했다."),
    _pair("money", "{A:은/는} 복권에 당첨되었다.", "{A:은/는} 가족에게 한턱냈다."),
    _pair("money", "{A:은/는} 할인 쿠폰을 사용했다.", "{A:은/는} 물건을 싸게 샀다."),
    _pair("money", "{A:은/는} 월급을 받았다.", "{A:은/는} 부모님께 선물을 사 드렸다."),
    # people and feelings
    _pair("social", "{A:은/는} 친구와 크게 다투었다.", "{A:은/는} 친구와 한동안 말도 하지 않았다."),
    _pair("social", "{A:은/는} 생일 선물을 받았다.", "{A:은/는} 선물을 준 친구에게 고맙다고 말했다."),
    _pair("social", "{A:은/는} 무서운 영화를 보았다.", "{A:은/는} 그날 밤 불을 켜 놓고 잤다."),
    _pair("social", "{A:은/는} 오랜만에 고향 친구를 만났다.", "{A:은/는} 친구와 옛날이야기를 나누었다."),
    _pair("social", "{A:은/는} 친구의 비밀을 다른 사람에게 말했다.", "친구가 {A:에게} 크게 실망했다."),
    _pair("social", "{A:은/는} 길에서 주운 지갑을 주인에게 돌려주었다.", "주인이 {A:에게} 고맙다고 인사했다."),
    _pair("social", "{A:의} 강아지가 집을 나가 돌아오지 않았다.", "{A:은/는} 동네에 강아지를 찾는 전단지를 붙였다."),
    _pair("social", "우리 팀이 결승전에서 이겼다.", "선수들이 서로 얼싸안고 기뻐했다."),
    _pair("social", "아기가 배가 고파서 울었다.", "엄마가 아기에게 우유를 먹였다."),
    _pair("social", "고양이가 꼬리를 밟혔다.", "고양이가 날카롭게 울었다."),
)  # fmt: skip

_COPA_SUBJECTS: tuple[str, ...] = NAMES + ("남자", "여자", "아이", "학생")


def _has_person(text: str) -> bool:
    return "{A" in text


def _copa_distractors(question: str) -> list[list[tuple[int, str]]]:
    """For each pair, the candidate wrong alternatives: (pair index, text).

    Same role as the right answer (causes for "cause"), no shared topic, and the
    same shape (with or without the person), so neither the topic nor the
    presence of a subject is a cue to the answer.
    """
    role = "causes" if question == "cause" else "effects"
    out: list[list[tuple[int, str]]] = []
    for pair in COPA_PAIRS:
        cands = [
            (j, text)
            for j, other in enumerate(COPA_PAIRS)
            if not set(other.topics) & set(pair.topics)
            for text in getattr(other, role)
        ]
        out.append(cands)
    return out


_COPA_WRONG = {q: _copa_distractors(q) for q in ("cause", "effect")}


def generate_copa(n: int, seed: int = 0) -> list[CopaItem]:
    """Generates COPA questions from :data:`COPA_PAIRS`.

    For an "effect" question the premise is a cause and the right alternative
    its effect; for "cause" the other way round. The wrong alternative is an
    event of the same role from a pair of another topic, with the same shape
    (person or not); one person fills every ``{A}`` of an item.

    Args:
        n: Number of items; questions and answer positions are exactly
            balanced (each of the four (question, label) combinations occurs
            ``n // 4`` or ``n // 4 + 1`` times).
        seed: Same ``(n, seed)``, same list.

    Returns:
        ``n`` distinct :class:`~explorer.tasks.copa.CopaItem` with 0-based
        labels, ids ``gen-copa-00001`` ...

    Raises:
        ValueError: If ``n`` is negative.
        RuntimeError: If ``n`` exceeds what the pairs can produce.
    """
    if n < 0:
        raise ValueError("n must be >= 0")
    rng = random.Random(f"task_data.copa:{seed}")
    plan = _balanced_plan(n, [("cause", 0), ("cause", 1), ("effect", 0), ("effect", 1)], rng)

    def draw(rng: random.Random, entry: tuple[str, int]) -> tuple[tuple[str, ...], object] | None:
        question, label = entry
        i = rng.randrange(len(COPA_PAIRS))
        pair = COPA_PAIRS[i]
        premise, right = (pair.effects, pair.causes) if question == "cause" else (pair.causes, pair.effects)
        premise_t, right_t = rng.choice(premise), rng.choice(right)
        shaped = [t for _, t in _COPA_WRONG[question][i] if _has_person(t) == _has_person(right_t)]
        if not shaped:
            return None
        wrong_t = rng.choice(shaped)
        if rng.random() < 0.3:  # 아이가 … as well as 아이는 …: the subject takes either particle, in every sentence
            premise_t, right_t, wrong_t = (t.replace("{A:은/는}", "{A:이/가}") for t in (premise_t, right_t, wrong_t))
        values = {"A": rng.choice(_COPA_SUBJECTS)}
        p, r, w = (fill(t, values) for t in (premise_t, right_t, wrong_t))
        alts = (r, w) if label == 0 else (w, r)
        return (p, question) + alts, (p, question, alts, label)

    raw = _draw_unique(n, rng, plan, draw, "COPA")
    return [
        CopaItem(f"gen-copa-{i + 1:05d}", p, q, alts, label, row=i + 2)
        for i, (p, q, alts, label) in enumerate(raw)  # type: ignore[misc]
    ]


# =============================================================================
# BoolQ
# =============================================================================

BOOLQ_PASSAGE_CHARS = (80, 200)
"""Inclusive bounds on a generated passage's length in characters."""
BOOLQ_PASSAGE_SENTENCES = (2, 4)
"""Inclusive bounds on the number of sentences in a passage."""


@dataclass(frozen=True)
class _Attribute:
    """One fact slot of a frame.

    Attributes:
        values: The pool values are drawn from; a false question uses
            another value of the same pool that does not occur in the passage.
        questions: Question templates, ``{v}`` being the asked value and
            ``{e}`` the entity (with ``?``, or declarative with ``.`` as often
            in NIKL BoolQ).
    """

    values: tuple[str, ...]
    questions: tuple[str, ...]


@dataclass(frozen=True)
class _Frame:
    """An entity type: its names, passage sentences and attributes.

    Attributes:
        kind: Short name (person, shop ...).
        names: Pool of entity names (the ``{e}`` slot).
        openings: First sentences; each names ``{e}`` and states one or two
            attributes (a slot named after the attribute).
        sentences: Further sentences, each stating one or two attributes
            with some context around them (so passages read like prose).
        attributes: Attribute name → pool and questions.
        distinct: Groups of attributes sharing a pool that must get
            different values (born in one city, living in another).
    """

    kind: str
    names: tuple[str, ...]
    openings: tuple[str, ...]
    sentences: tuple[str, ...]
    attributes: dict[str, _Attribute]
    distinct: tuple[tuple[str, ...], ...] = ()


def _ask(stem: str, tense: str, style: str) -> str:
    """A yes/no question or statement ending on a regular verb stem.

    ``style`` is ``"나요"`` (태어났나요? / 사나요?), ``"는가"`` (태어났는가? /
    사는가?) or ``"다"`` (a declarative statement: 태어났다. / 산다.).
    """
    if tense == "past":
        return past_stem(stem) + {"나요": "나요?", "는가": "는가?", "다": "다."}[style]
    if style == "다":
        cho, jung, jong = decompose(stem[-1])
        if not jong or jong == "ㄹ":  # 산다, 일한다
            return stem[:-1] + compose(cho, jung, "ㄴ") + "다."
        return stem + "는다."
    return _drop_rieul(stem) + {"나요": "나요?", "는가": "는가?"}[style]


def _verb_questions(prefix: str, stem: str, tense: str = "present") -> tuple[str, ...]:
    """The three question styles for ``prefix`` + a regular verb stem."""
    return tuple(f"{prefix} {_ask(stem, tense, style)}" for style in ("나요", "는가", "다"))


def _adjective_questions(prefix: str, stem: str) -> tuple[str, ...]:
    """Questions on a 하-adjective: "...유명한가?" / "...유명한가요?" / "...유명하다."."""
    cho, jung, _ = decompose(stem[-1])
    modifier = stem[:-1] + compose(cho, jung, "ㄴ")
    return (f"{prefix} {modifier}가?", f"{prefix} {modifier}가요?", f"{prefix} {stem}다.")


def _noun_questions(prefix: str) -> tuple[str, ...]:
    """Copula questions: "X의 직업은 교사인가?" / "...인가요?" / "...이다."."""
    return (prefix + " {v}인가?", prefix + " {v}인가요?", prefix + " {v:이다}.")


def _where_questions(prefix: str) -> tuple[str, ...]:
    """있다 questions (있다 has no -는다 statement form): "...에 있나요?" / "...있는가?" / "...있다."."""
    return (prefix + "에 있나요?", prefix + "에 있는가?", prefix + "에 있다.")


_FAMILY = ("김", "이", "박", "최", "정", "강", "조", "윤", "장", "임")
_CITIES = ("부산", "대구", "광주", "대전", "인천", "울산", "수원", "춘천", "강릉", "전주", "청주", "포항", "목포", "여수", "제주")
_FULL_NAMES = tuple(f + g for f in _FAMILY for g in NAMES)

_PERSON = _Frame(
    "person",
    names=_FULL_NAMES,
    openings=(
        "{e:은/는} {home}에서 태어나 고등학교까지 그곳에서 다녔다.",
        "{home}에서 태어난 {e:은/는} 대학을 졸업한 뒤 {lives:(으)로} 이사했다.",
        "{e:은/는} {home} 출신으로, 지금은 {lives}에 살고 있다.",
        "{e:은/는} {job:(으)로} 일하는 서른 살 직장인이다.",
    ),
    sentences=(
        "현재 {lives}에서 {job:(으)로} 일하고 있다.",
        "직업은 {job:이고}, 일을 시작한 지 올해로 오 년이 되었다.",
        "쉬는 날에는 {hobby:을/를} 즐기며 스트레스를 푼다.",
        "취미는 {hobby:이고}, 주말이면 친구들과 함께 시간을 보낸다.",
        "집에서는 {pet:을/를} 한 마리 키우는데, 퇴근하면 가장 먼저 밥을 챙겨 준다.",
        "가장 좋아하는 음식은 {food:이고}, 일주일에 한 번은 꼭 먹는다.",
        "음식 중에서는 {food:을/를} 가장 좋아해서 맛집을 찾아다니기도 한다.",
        "주말마다 {hobby:을/를} 하고, 저녁에는 {pet:와/과} 함께 시간을 보낸다.",
    ),
    # Questions are worded so that another value makes them false: "the
    # favourite food is X", not "likes X" (one can like several things).
    attributes={
        "home": _Attribute(_CITIES, _verb_questions("{e:은/는} {v}에서", "태어나", "past") + _noun_questions("{e:의} 고향은")),
        "lives": _Attribute(_CITIES, _verb_questions("{e:은/는} 지금 {v}에", "살")),
        "job": _Attribute(
            ("교사", "간호사", "요리사", "소방관", "경찰관", "기자", "변호사", "약사", "건축가", "사진작가", "은행원",
             "회계사", "수의사", "번역가", "제빵사"),
            _verb_questions("{e:은/는} {v:(으)로}", "일하") + _noun_questions("{e:의} 직업은")),
        "hobby": _Attribute(
            ("등산", "낚시", "테니스", "수영", "바둑", "캠핑", "볼링", "배드민턴", "탁구", "뜨개질", "서예", "요리"),
            _noun_questions("{e:의} 취미는")),
        "food": _Attribute(
            ("냉면", "김치찌개", "비빔밥", "떡볶이", "불고기", "삼계탕", "칼국수", "잡채", "된장찌개", "갈비탕", "짜장면",
             "김밥", "콩국수"),
            _verb_questions("{e:은/는} {v:을/를} 가장", "좋아하")
            + _noun_questions("{e:이/가} 가장 좋아하는 음식은")),
        "pet": _Attribute(("강아지", "고양이", "앵무새", "토끼", "햄스터", "거북이", "금붕어", "고슴도치"),
                          _verb_questions("{e:은/는} 집에서 {v:을/를}", "키우")),
    },
    distinct=(("home", "lives"),),
)  # fmt: skip

_SHOP = _Frame(
    "shop",
    names=tuple(f"{a} {b}" for a in ("해오름", "달빛", "소나무", "푸른숲", "한울", "다온", "봄날", "미소", "별빛", "가람",
                                     "늘봄", "온누리", "새벽", "노을") for b in ("식당", "분식집", "국숫집")),
    openings=(
        "{e:은/는} {city}에 있는 작은 음식점으로, {year}에 처음 문을 열었다.",
        "{e:은/는} {owner:이/가} {year}에 {city}에서 문을 연 가게이다.",
        "{city} 시내에 자리한 {e:은/는} {owner:이/가} 혼자 운영한다.",
    ),
    sentences=(
        "대표 메뉴는 {menu:이고}, 점심시간이면 근처 직장인들로 늘 붐빈다.",
        "이 집은 {menu:(으)로} 유명해서 멀리서 찾아오는 손님도 많다.",
        "가게는 매주 {closed}에 쉬고, 나머지 날에는 밤 아홉 시까지 영업한다.",
        "{closed}마다 문을 닫기 때문에 그날 찾아가면 헛걸음을 하게 된다.",
        "주인 {owner:은/는} 이십 년 넘게 음식을 만들어 온 요리사이다.",
        "{owner:이/가} 직접 가게를 운영하며, 재료는 매일 아침 시장에서 사 온다.",
        "{year}에 문을 연 뒤로 한 번도 자리를 옮기지 않았다.",
    ),
    attributes={
        "owner": _Attribute(_FULL_NAMES, _verb_questions("{e:은/는} {v:이/가}", "운영하")),
        "city": _Attribute(_CITIES, _where_questions("{e:은/는} {v}")),
        "year": _Attribute(tuple(f"{y}년" for y in range(1988, 2022)), _verb_questions("{e:은/는} {v}에 문을", "열", "past")),
        "menu": _Attribute(
            ("칼국수", "수제비", "비빔국수", "김치볶음밥", "돈가스", "제육볶음", "순두부찌개", "떡만둣국", "쫄면", "잔치국수",
             "콩나물국밥"),
            _noun_questions("{e:의} 대표 메뉴는") + _adjective_questions("{e:은/는} {v:(으)로}", "유명하")[:2]),
        "closed": _Attribute(("월요일", "화요일", "수요일", "목요일", "금요일", "토요일", "일요일"),
                             _verb_questions("{e:은/는} 매주 {v}에", "쉬")),
    },
)  # fmt: skip

_PET = _Frame(
    "pet",
    names=("초코", "콩이", "보리", "두부", "호두", "구름", "마루", "하루", "뭉치", "까미", "단비", "별이"),
    openings=(
        "{e:은/는} {owner:이/가} 키우는 {breed:(으)로}, 올해 {age:이다}.",
        "{owner:이/가} 키우는 {e:은/는} {color} 털을 가진 {breed:이다}.",
        "{e:은/는} {owner:의} 집에서 사는 {age} 된 {breed:이다}.",
    ),
    sentences=(
        "털은 {color:이고}, 사람을 잘 따라서 동네에서 인기가 많다.",
        "올해 {age:이/가} 되었지만 아직도 장난이 무척 심하다.",
        "간식 중에서는 {snack:을/를} 가장 좋아해서, 주기만 하면 집 안을 뛰어다닌다.",
        "가장 좋아하는 간식은 {snack:이고}, 간식 봉지 소리만 들려도 달려온다.",
        "매일 저녁 {walk}에서 산책을 하며 다른 강아지들과 어울린다.",
        "산책은 주로 {walk}에서 하는데, 한 번 나가면 한 시간은 걷는다.",
    ),
    attributes={
        "owner": _Attribute(NAMES, _verb_questions("{v:이/가} {e:을/를}", "키우")),
        "breed": _Attribute(("진돗개", "푸들", "비글", "말티즈", "웰시코기", "시바견", "포메라니안", "치와와", "닥스훈트"),
                            _noun_questions("{e:은/는}")),
        "color": _Attribute(("흰색", "검은색", "갈색", "회색", "황금색", "크림색"), _noun_questions("{e:의} 털 색깔은")),
        "age": _Attribute(("한 살", "두 살", "세 살", "네 살", "다섯 살", "여섯 살", "일곱 살", "여덟 살"),
                          _noun_questions("{e:은/는} 올해")),
        "snack": _Attribute(("닭가슴살", "고구마", "당근", "치즈", "연어", "단호박", "소고기", "사과"),
                            _noun_questions("{e:이/가} 가장 좋아하는 간식은")),
        "walk": _Attribute(("공원", "강변", "뒷산", "바닷가", "학교 운동장", "동네 골목"),
                           _verb_questions("{e:은/는} {v}에서", "산책하")),
    },
)  # fmt: skip

_ISLAND = _Frame(
    "island",
    names=("솔섬", "달섬", "매화섬", "갈매기섬", "봉황섬", "바람섬", "동백섬", "소라섬", "연꽃섬", "고래섬"),
    openings=(
        "{e:은/는} {sea}에 있는 작은 섬으로, 약 {people:이} 살고 있다.",
        "{sea}에 자리한 {e:은/는} 육지에서 배로 {ferry} 정도 걸리는 작은 섬이다.",
        "{e:은/는} {sea}의 작은 섬으로, 주민 대부분이 바다에서 일한다.",
    ),
    sentences=(
        "섬의 특산물은 {product:이고}, 철이 되면 이를 사러 오는 사람들로 항구가 북적인다.",
        "{e:은/는} 예로부터 {product:(으)로} 유명해서 전국에서 주문이 들어온다.",
        "육지에서 {e:까지}는 배로 {ferry} 정도 걸린다.",
        "섬에는 약 {people:이} 살며, 대부분 고기잡이를 한다.",
        "해마다 {festival}에는 섬 축제가 열려 관광객이 많이 찾아온다.",
    ),
    attributes={
        "sea": _Attribute(("동해", "서해", "남해"), _where_questions("{e:은/는} {v}")),
        "people": _Attribute(tuple(f"{k}명" for k in range(150, 1000, 50)),
                             ("{e:에는} 약 {v:이} 사나요?", "{e:의} 인구는 약 {v}인가?", "{e:에는} 약 {v:이} 산다.")),
        "product": _Attribute(("멸치", "미역", "전복", "다시마", "고구마", "마늘", "유자", "꽃게"),
                              _noun_questions("{e:의} 특산물은") + _adjective_questions("{e:은/는} {v:(으)로}", "유명하")[:2]),
        "ferry": _Attribute(tuple(f"{k}분" for k in range(20, 100, 10)),
                            ("육지에서 {e:까지} 배로 {v} 정도 걸리나요?", "육지에서 {e:까지} 배로 {v} 정도 걸린다.")),
        "festival": _Attribute(("봄", "여름", "가을", "겨울"), _verb_questions("{e:은/는} 해마다 {v}에 축제를", "열")),
    },
)  # fmt: skip

_FRAMES: tuple[_Frame, ...] = (_PERSON, _SHOP, _PET, _ISLAND)


@functools.lru_cache(maxsize=None)
def _slots(template: str) -> frozenset[str]:
    """Attribute slots a template states (every slot but the entity ``e``)."""
    return frozenset(m.group(1) for m in _SLOT.finditer(template)) - {"e"}


def _passage(frame: _Frame, rng: random.Random) -> tuple[str, dict[str, str], list[str]] | None:
    """Draws an entity, its facts and a passage stating some of them.

    Returns:
        (passage, slot values, names of the stated attributes), or None when
        the drawn passage falls outside the length bounds.
    """
    values = {"e": rng.choice(frame.names)}
    for name, attr in frame.attributes.items():
        values[name] = rng.choice(attr.values)
    for group in frame.distinct:  # e.g. born in one city, living in another
        chosen = rng.sample(frame.attributes[group[0]].values, len(group))
        values.update(zip(group, chosen))
    opening = rng.choice(frame.openings)
    stated = set(_slots(opening))
    sentences = [opening]
    lo_n, hi_n = BOOLQ_PASSAGE_SENTENCES
    want = rng.randint(lo_n, hi_n)
    body = list(frame.sentences)
    rng.shuffle(body)
    for template in body:
        if len(sentences) >= want:
            break
        if _slots(template) & stated:
            continue  # each fact is stated once
        sentences.append(template)
        stated |= _slots(template)
    text = " ".join(fill(t, values) for t in sentences)
    lo, hi = BOOLQ_PASSAGE_CHARS
    if len(sentences) < lo_n or not lo <= len(text) <= hi:
        return None
    return text, values, sorted(stated)


def generate_boolq(n: int, seed: int = 0) -> list[BoolqItem]:
    """Generates BoolQ items: short fact passages and yes/no questions.

    Four frames (a person, a small restaurant, a pet dog, an island) state
    several facts in 2-4 sentences. The question asks about one stated fact;
    when the label is 0 the value is swapped for another value of the same
    slot that does not occur anywhere in the passage, with particles re-chosen
    for it. Each value is therefore as likely in a true as in a false
    question: the answer is found by checking the passage, not the question
    alone. About a third of the questions are declarative statements ending
    in "." as often in NIKL BoolQ; the rest end in "?".

    Args:
        n: Number of items; ``n // 2`` (or ``(n + 1) // 2``) are label 1.
        seed: Same ``(n, seed)``, same list.

    Returns:
        ``n`` distinct :class:`~explorer.tasks.boolq.BoolqItem`, passages
        within :data:`BOOLQ_PASSAGE_CHARS`, ids ``gen-boolq-00001`` ...

    Raises:
        ValueError: If ``n`` is negative.
        RuntimeError: If ``n`` exceeds what the frames can produce.
    """
    if n < 0:
        raise ValueError("n must be >= 0")
    rng = random.Random(f"task_data.boolq:{seed}")
    plan = _balanced_plan(n, (1, 0), rng)

    def draw(rng: random.Random, label: int) -> tuple[tuple[str, ...], object] | None:
        frame = rng.choice(_FRAMES)
        got = _passage(frame, rng)
        if got is None:
            return None
        text, values, stated = got
        name = rng.choice(stated)
        attr = frame.attributes[name]
        value = values[name]
        if not label:
            others = [v for v in attr.values if v not in text]
            if not others:
                return None
            value = rng.choice(others)
        question = fill(rng.choice(attr.questions), {**values, "v": value})
        return (text, question), (text, question, label)

    raw = _draw_unique(n, rng, plan, draw, "BoolQ")
    return [
        BoolqItem(f"gen-boolq-{i + 1:05d}", text, q, label, row=i + 2)
        for i, (text, q, label) in enumerate(raw)  # type: ignore[misc]
    ]
