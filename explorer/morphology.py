"""Korean morphology rules: 받침, particle allomorphs and regular conjugation.

Pure functions, no lexicon beyond the word-class facts conjugation needs. Two
kinds of callers share them, which is why they live here and not with either:
the demo-data generators (:mod:`explorer.defaults.korean`,
:mod:`explorer.defaults.task_data`) build sentences with them, and
:mod:`explorer.internals.counterfactuals` rebuilds real user input with them,
so an edit of a user's sentence follows exactly the rules the demo data does.

- Hangul jamo arithmetic (:func:`decompose`, :func:`compose`) and the
  final-consonant (받침) test, also for digits and Latin letters.
- Particle allomorph choice: 이/가, 을/를, 은/는, 와/과, 아/야, (으)로, 이나/나,
  이랑/랑 (:func:`attach`) and the wrong form a learner writes
  (:func:`wrong_allomorph`).
- Regular verb/adjective conjugation: past, present, future, propositive,
  honorific -(으)시- (:func:`conjugate`), and the ill-formed endings learners
  typically produce (:func:`ill_formed_endings`).

Example:
    >>> from explorer.morphology import attach, conjugate
    >>> attach("책", "이/가"), attach("물", "(으)로"), conjugate("만들다", "present")
    ('책이', '물로', '만든다')
"""

from __future__ import annotations

from typing import NamedTuple, Union

__all__ = [
    "ADJECTIVES",
    "A_YA",
    "EUL_REUL",
    "EUN_NEUN",
    "EURO_RO",
    "GWA_WA",
    "INA_NA",
    "IRANG_RANG",
    "I_GA",
    "PARTICLES",
    "SUPPLETIVE_SUBJECT",
    "TENSES",
    "Particle",
    "ParticleLike",
    "allomorph",
    "attach",
    "compose",
    "conjugate",
    "decompose",
    "final_consonant",
    "future",
    "has_final_consonant",
    "has_rieul_final",
    "honorific_stem",
    "ill_formed_endings",
    "is_hangul_syllable",
    "past",
    "past_stem",
    "present",
    "propositive",
    "resolve_particle",
    "wrong_allomorph",
]

# A precomposed Hangul syllable is U+AC00 + (initial * 21 + medial) * 28 + final,
# so the 받침 can be read with integer arithmetic instead of a lookup table.
_S_BASE = 0xAC00
_S_LAST = 0xD7A3
_N_MEDIAL = 21
_N_FINAL = 28
CHOSEONG = "ㄱㄲㄴㄷㄸㄹㅁㅂㅃㅅㅆㅇㅈㅉㅊㅋㅌㅍㅎ"
JUNGSEONG = "ㅏㅐㅑㅒㅓㅔㅕㅖㅗㅘㅙㅚㅛㅜㅝㅞㅟㅠㅡㅢㅣ"
JONGSEONG = (
    "", "ㄱ", "ㄲ", "ㄳ", "ㄴ", "ㄵ", "ㄶ", "ㄷ", "ㄹ", "ㄺ", "ㄻ", "ㄼ", "ㄽ", "ㄾ",
    "ㄿ", "ㅀ", "ㅁ", "ㅂ", "ㅄ", "ㅅ", "ㅆ", "ㅇ", "ㅈ", "ㅊ", "ㅋ", "ㅌ", "ㅍ", "ㅎ",
)  # fmt: skip

# Compatibility jamo (U+3131..U+3163) as typed on their own, e.g. "ㅋㅋ".
_COMPAT_FIRST, _COMPAT_LAST = 0x3131, 0x3163
_COMPAT_VOWELS = set(JUNGSEONG)
# A bare consonant letter is read by its name (기역, 니은, 디귿, 리을 ...), and
# every name ends in the letter itself; doubled letters (쌍기역) end in the
# plain one.
_DOUBLE_TO_PLAIN = {"ㄲ": "ㄱ", "ㄸ": "ㄷ", "ㅃ": "ㅂ", "ㅆ": "ㅅ", "ㅉ": "ㅈ"}

# Sino-Korean readings of numbers: 영 일 이 삼 사 오 육 칠 팔 구 (last digit),
# and of the place-value words a round number ends in: 십 백 천 만 억 조 경.
_DIGIT_FINAL = {"0": "ㅇ", "1": "ㄹ", "2": "", "3": "ㅁ", "4": "", "5": "", "6": "ㄱ", "7": "ㄹ", "8": "ㄹ", "9": ""}
# Latin letters spelled out: 엘, 엠, 엔, 알 end in a consonant, the rest
# (에이, 비, 씨, 디, ..., 에스, 엑스, 제트) in a vowel.
_LETTER_FINAL = {"L": "ㄹ", "M": "ㅁ", "N": "ㄴ", "R": "ㄹ"}
_LATIN_VOWELS = set("aeiouy")


def is_hangul_syllable(ch: str) -> bool:
    """Whether ``ch`` is one precomposed Hangul syllable (가..힣)."""
    return len(ch) == 1 and _S_BASE <= ord(ch) <= _S_LAST


def decompose(syllable: str) -> tuple[str, str, str]:
    """Splits a Hangul syllable into (initial, medial, final) compatibility jamo.

    Args:
        syllable: One precomposed Hangul syllable.

    Returns:
        The three jamo; the final is ``""`` when the syllable has no 받침.

    Raises:
        ValueError: If ``syllable`` is not a Hangul syllable.
    """
    if not is_hangul_syllable(syllable):
        raise ValueError(f"not a Hangul syllable: {syllable!r}")
    code = ord(syllable) - _S_BASE
    return (
        CHOSEONG[code // (_N_MEDIAL * _N_FINAL)],
        JUNGSEONG[(code % (_N_MEDIAL * _N_FINAL)) // _N_FINAL],
        JONGSEONG[code % _N_FINAL],
    )


def compose(initial: str, medial: str, final: str = "") -> str:
    """Builds a Hangul syllable from compatibility jamo (inverse of :func:`decompose`)."""
    return chr(
        _S_BASE
        + (CHOSEONG.index(initial) * _N_MEDIAL + JUNGSEONG.index(medial)) * _N_FINAL
        + JONGSEONG.index(final)
    )


def _number_final(digits: str) -> str:
    """Final consonant of a number read in Sino-Korean (1 일, 10 십, 100 백 ...)."""
    digits = digits.lstrip("0") or "0"
    if digits == "0":
        return "ㅇ"  # 영
    if digits[-1] != "0":
        return _DIGIT_FINAL[digits[-1]]
    zeros = len(digits) - len(digits.rstrip("0"))
    if zeros == 1:
        return "ㅂ"  # 십
    if zeros == 2:
        return "ㄱ"  # 백
    if zeros < 8:
        return "ㄴ"  # 천, 만, 십만, 백만, 천만
    if zeros < 12:
        return "ㄱ"  # 억 ...
    if zeros < 16:
        return ""  # 조 ...
    return "ㅇ"  # 경


def _latin_final(word: str) -> str:
    """Approximate final consonant of a Latin-script word as Koreans read it.

    Short all-caps words are read letter by letter (KBS 케이비에스, HTML
    에이치티엠엘, BERT → T 티): only L/M/N/R end in a consonant. Other words
    are read as loanwords, guessed from the spelling: -l/-le → ㄹ (email 이메일,
    table 테이블, Google 구글), -ng → ㅇ, -m → ㅁ, -n → ㄴ (Python 파이썬), -k → ㄱ
    (book 북), -p/-b → ㅂ (web 웹), short-vowel -t → ㅅ (robot 로봇), a silent
    -e is skipped (phone 폰, game 게임); anything else ends in a vowel (computer
    컴퓨터, BERT-like -rt 버트). It is a heuristic: pass a Hangul spelling when
    the exact reading matters.
    """
    if len(word) == 1 or (len(word) <= 4 and word.isupper()):
        return _LETTER_FINAL.get(word[-1].upper(), "")
    w = word.lower()
    if w.endswith(("l", "le")):
        return "ㄹ"
    if w.endswith("ng"):
        return "ㅇ"
    silent_e = len(w) > 2 and w[-1] == "e" and w[-2] not in _LATIN_VOWELS
    if silent_e:
        w = w[:-1]
    last = w[-1]
    if last == "m":
        return "ㅁ"
    if last == "n":
        return "ㄴ"
    if last == "k":
        return "ㄱ"
    if last in "pb":
        return "ㅂ"
    if last == "t" and not silent_e and len(w) >= 3:
        # consonant + one short vowel + t (cat 캣, robot 로봇) keeps ㅅ 받침;
        # clusters and long vowels (test 테스트, light 라이트) get 트.
        if w[-2] in _LATIN_VOWELS and w[-3] not in _LATIN_VOWELS:
            return "ㅅ"
    return ""


def final_consonant(word: str) -> str:
    """The final consonant (받침) with which ``word`` is pronounced, or ``""``.

    Trailing spaces and punctuation (quotes, brackets, periods) are skipped, so
    ``책)`` behaves like ``책``. Non-Hangul endings are read the way Korean
    writers choose particles after them:

    * digits in Sino-Korean: ``1`` 일 → ㄹ, ``2`` 이 → none, ``10`` 십 → ㅂ,
      ``100`` 백 → ㄱ, ``1000`` 천 → ㄴ; commas inside numbers are ignored;
    * Latin letters with the heuristic of :func:`_latin_final`;
    * a bare consonant jamo (ㅋ) by its letter name (키읔 → ㅋ), a bare vowel
      jamo as a vowel;
    * any other script (한자, emoji ...) as vowel-final, the common default.

    Args:
        word: A word or phrase; only its last readable character matters.

    Returns:
        A compatibility jamo such as ``"ㄱ"`` or ``"ㄹ"`` (clusters like
        ``"ㄺ"`` are kept), or ``""`` for a vowel-final word.

    Raises:
        ValueError: If ``word`` has no letter or digit.
    """
    text = word.rstrip()
    end = len(text)
    while end and not text[end - 1].isalnum():
        end -= 1
    if not end:
        raise ValueError(f"no letter or digit to read in {word!r}")
    last = text[end - 1]
    if is_hangul_syllable(last):
        return decompose(last)[2]
    if last.isdigit() and last.isascii():
        start = end
        while start and (text[start - 1].isdigit() and text[start - 1].isascii() or text[start - 1] == ","):
            start -= 1
        return _number_final(text[start:end].replace(",", ""))
    if last.isascii() and last.isalpha():
        start = end
        while start and text[start - 1].isascii() and text[start - 1].isalpha():
            start -= 1
        return _latin_final(text[start:end])
    if _COMPAT_FIRST <= ord(last) <= _COMPAT_LAST:
        return "" if last in _COMPAT_VOWELS else _DOUBLE_TO_PLAIN.get(last, last)
    return ""


def has_final_consonant(syllable_or_word: str) -> bool:
    """Whether the word ends in a consonant (받침), e.g. 책 → True, 사과 → False.

    This is the condition for almost every particle alternation (이/가, 을/를,
    은/는, 와/과, 아/야, 이나/나, 이랑/랑). See :func:`final_consonant` for how
    digits, Latin letters and punctuation are read.
    """
    return final_consonant(syllable_or_word) != ""


def has_rieul_final(word: str) -> bool:
    """Whether the word ends in a plain ㄹ 받침 (물, 서울, 연필).

    (으)로 treats ㄹ like a vowel — 물로, not *물으로 — because the 으 was
    inserted historically to break up consonant clusters and ㄹ+ㄹ needs no
    help. Clusters such as ㄺ (닭) are not plain ㄹ: 닭으로.
    """
    return final_consonant(word) == "ㄹ"


class Particle(NamedTuple):
    """A particle with phonologically conditioned allomorphs.

    Attributes:
        after_consonant: Form after a 받침 (이, 을, 으로 ...).
        after_vowel: Form after a vowel (가, 를, 로 ...).
        after_rieul: Form after a plain ㄹ 받침, where it differs from the
            consonant form; only (으)로 has one (물로).
    """

    after_consonant: str
    after_vowel: str
    after_rieul: str | None = None

    @property
    def name(self) -> str:
        """Conventional dictionary spelling, e.g. ``"이/가"``, ``"와/과"`` or ``"(으)로"``."""
        if self in _CONVENTIONAL_NAMES:
            return _CONVENTIONAL_NAMES[self]
        if self.after_rieul is not None:
            return f"({self.after_consonant[:-len(self.after_vowel)]}){self.after_vowel}"
        return f"{self.after_consonant}/{self.after_vowel}"


I_GA = Particle("이", "가")  # subject
EUN_NEUN = Particle("은", "는")  # topic
EUL_REUL = Particle("을", "를")  # object
GWA_WA = Particle("과", "와")  # "and / with" (written)
A_YA = Particle("아", "야")  # vocative (지민아, 민수야)
EURO_RO = Particle("으로", "로", "로")  # direction / instrument
INA_NA = Particle("이나", "나")  # "or"
IRANG_RANG = Particle("이랑", "랑")  # "and / with" (spoken)
PARTICLES: dict[str, Particle] = {
    "이/가": I_GA, "은/는": EUN_NEUN, "을/를": EUL_REUL, "와/과": GWA_WA,
    "아/야": A_YA, "(으)로": EURO_RO, "이나/나": INA_NA, "이랑/랑": IRANG_RANG,
}  # fmt: skip
_CONVENTIONAL_NAMES = {p: name for name, p in PARTICLES.items()}

# Every spelling a caller might use: the conventional name, either order, and
# each single form (so attach("책", "가") repairs to 책이).
_PARTICLE_BY_FORM: dict[str, Particle] = {}
for _p in PARTICLES.values():
    for _form in (_p.name, f"{_p.after_consonant}/{_p.after_vowel}", f"{_p.after_vowel}/{_p.after_consonant}",
                  _p.after_consonant, _p.after_vowel):  # fmt: skip
        _PARTICLE_BY_FORM.setdefault(_form, _p)
del _p, _form

# 나/저/너 + 가 is 내가/제가/네가 and 누구 + 가 is 누가: the noun itself changes,
# which phonology alone cannot predict.
SUPPLETIVE_SUBJECT = {"나": "내가", "저": "제가", "너": "네가", "누구": "누가"}

ParticleLike = Union[Particle, str]


def resolve_particle(particle: ParticleLike) -> Particle | None:
    """The :class:`Particle` a spelling refers to, or ``None`` for invariant ones.

    Args:
        particle: A :class:`Particle`, a name such as ``"이/가"``, ``"를/을"``
            or ``"(으)로"``, or a single form such as ``"가"``. Particles with
            one form only (에, 에서, 께서, 도, 의, 에게 ...) resolve to ``None``.
    """
    if isinstance(particle, Particle):
        return particle
    return _PARTICLE_BY_FORM.get(particle)


def allomorph(noun: str, particle: ParticleLike) -> str:
    """The correct form of ``particle`` after ``noun`` (책 → 이, 사과 → 가, 물 → 로).

    Invariant particles (에, 에서, 께서 ...) are returned unchanged.
    """
    pair = resolve_particle(particle)
    if pair is None:
        return str(particle)
    fin = final_consonant(noun)
    if not fin:
        return pair.after_vowel
    if fin == "ㄹ" and pair.after_rieul is not None:
        return pair.after_rieul
    return pair.after_consonant


def attach(noun: str, particle_pair: ParticleLike) -> str:
    """Attaches the right allomorph: ``attach("책", "이/가") == "책이"``.

    Handles 이/가, 을/를, 은/는, 와/과, 아/야, (으)로, 이나/나 and 이랑/랑 from the
    noun's final sound (see :func:`final_consonant` for digits and Latin
    letters) and the suppletive subjects 내가/제가/네가/누가. Invariant
    particles are simply appended.

    Args:
        noun: The host word or phrase (spaces allowed: ``"학교 앞"``).
        particle_pair: See :func:`resolve_particle`.

    Returns:
        The noun with its particle, written without a space.
    """
    if resolve_particle(particle_pair) is I_GA and noun in SUPPLETIVE_SUBJECT:
        return SUPPLETIVE_SUBJECT[noun]
    return noun + allomorph(noun, particle_pair)


def wrong_allomorph(noun: str, pair: ParticleLike) -> str:
    """The noun with the *wrong* allomorph: 책가, 사과을, 집로, 물으로, 친구과.

    For (으)로 the wrong form after a vowel or ㄹ is 으로 (학교으로, 물으로) and
    after other consonants 로 (집로). For the suppletive subjects it is the
    over-regularised learner form (나가, 저가, 너가).

    Raises:
        ValueError: If the particle has only one form.
    """
    resolved = resolve_particle(pair)
    if resolved is None:
        raise ValueError(f"particle {pair!r} has no allomorphs")
    if resolved is I_GA and noun in SUPPLETIVE_SUBJECT:
        return noun + "가"
    right = allomorph(noun, resolved)
    wrong = resolved.after_consonant if right != resolved.after_consonant else resolved.after_vowel
    return noun + wrong


# --- Conjugation ---------------------------------------------------------------
# Only regular predicates (plus the suppletive honorifics given explicitly) are
# handled. Irregular ones would silently come out wrong (듣다 → *듣었다), so the
# commonest are refused outright.
_IRREGULAR = frozenset(
    """듣다 걷다 묻다 싣다 깨닫다 춥다 덥다 돕다 굽다 눕다 쉽다 어렵다 맵다 곱다 밉다 가깝다 무겁다 가볍다
    즐겁다 아름답다 고맙다 귀엽다 뜨겁다 차갑다 시끄럽다 반갑다 짓다 낫다 붓다 잇다 긋다 파랗다 빨갛다
    노랗다 하얗다 까맣다 그렇다 어떻다 이렇다 저렇다 부르다 모르다 빠르다 다르다 고르다 자르다 흐르다
    오르다 마르다 기르다 누르다 서두르다 게으르다 이르다 푸르다 푸다""".split()
)
# 르 stems that drop ㅡ regularly (따르다 → 따랐다); all other 르 stems are 르-irregular.
_REGULAR_REU = frozenset({"따르", "치르", "들르", "우러르"})
_BRIGHT = frozenset({"ㅏ", "ㅑ", "ㅗ"})  # 양성 모음: take 아/았
TENSES = ("past", "present", "future", "propositive")


def _check_stem(stem: str) -> None:
    if not stem or not is_hangul_syllable(stem[-1]):
        raise ValueError(f"not a Hangul predicate stem: {stem!r}")
    if stem + "다" in _IRREGULAR or (stem.endswith("르") and stem not in _REGULAR_REU):
        raise ValueError(f"irregular predicate not supported: {stem}다")


def _with_final(stem: str, final: str) -> str:
    """Replaces the last syllable's 받침: (가, ㄹ) → 갈, (만들, ㄴ) → 만든."""
    cho, jung, _ = decompose(stem[-1])
    return stem[:-1] + compose(cho, jung, final)


def past_stem(stem: str) -> str:
    """Stem + past -았/었- with the obligatory contractions.

    Vowel harmony picks 았 after ㅏ/ㅗ and 었 otherwise; 하 → 했; an open
    syllable fuses with the suffix (가 → 갔, 보 → 봤, 배우 → 배웠, 마시 → 마셨,
    보내 → 보냈); ㅡ drops and harmony looks at the syllable before it
    (쓰 → 썼, 바쁘 → 바빴).

    Args:
        stem: A regular stem (lemma without 다), e.g. ``"먹"``.

    Returns:
        E.g. ``"먹었"``, ``"갔"``, ``"했"``.
    """
    _check_stem(stem)
    if stem.endswith("하"):
        return stem[:-1] + "했"
    head = stem[:-1]
    cho, jung, jong = decompose(stem[-1])
    if jong:
        return stem + ("았" if jung in _BRIGHT else "었")
    if jung in ("ㅏ", "ㅓ", "ㅕ", "ㅐ", "ㅔ"):  # 가+았 → 갔, 보내+었 → 보냈
        return head + compose(cho, jung, "ㅆ")
    if jung == "ㅗ":
        return head + compose(cho, "ㅘ", "ㅆ")
    if jung == "ㅜ":
        return head + compose(cho, "ㅝ", "ㅆ")
    if jung == "ㅣ":
        return head + compose(cho, "ㅕ", "ㅆ")
    if jung == "ㅚ":
        return head + compose(cho, "ㅙ", "ㅆ")
    if jung == "ㅡ":
        bright = bool(head) and is_hangul_syllable(head[-1]) and decompose(head[-1])[1] in _BRIGHT
        return head + compose(cho, "ㅏ" if bright else "ㅓ", "ㅆ")
    return stem + ("았" if jung in _BRIGHT else "었")


def past(stem: str) -> str:
    """Plain past declarative: 먹 → 먹었다, 가 → 갔다, 하 → 했다."""
    return past_stem(stem) + "다"


def present(stem: str, adjective: bool = False) -> str:
    """Plain present declarative (해라체).

    Verbs take -ㄴ다 after a vowel (간다), after ㄹ which then drops (만든다)
    and -는다 after other consonants (먹는다); adjectives take bare -다
    (바쁘다, 좋다).
    """
    _check_stem(stem)
    if adjective:
        return stem + "다"
    _, _, jong = decompose(stem[-1])
    if not jong or jong == "ㄹ":
        return _with_final(stem, "ㄴ") + "다"
    return stem + "는다"


def future(stem: str) -> str:
    """Future/conjecture -(으)ㄹ 것이다: 갈 것이다, 만들 것이다, 먹을 것이다."""
    _check_stem(stem)
    _, _, jong = decompose(stem[-1])
    if not jong:
        return _with_final(stem, "ㄹ") + " 것이다"
    if jong == "ㄹ":
        return stem + " 것이다"
    return stem + "을 것이다"


def propositive(stem: str) -> str:
    """Plain propositive -자 ("let's"): 가자, 먹자, 만들자."""
    _check_stem(stem)
    return stem + "자"


def honorific_stem(stem: str) -> str:
    """Stem + subject-honorific -(으)시-: 가시, 읽으시, 만드시 (ㄹ drops before ㅅ)."""
    _check_stem(stem)
    _, _, jong = decompose(stem[-1])
    if not jong:
        return stem + "시"
    if jong == "ㄹ":
        return _with_final(stem, "") + "시"
    return stem + "으시"


def conjugate(
    lemma: str,
    tense: str,
    *,
    adjective: bool = False,
    honorific: bool = False,
    honorific_lemma: str | None = None,
) -> str:
    """Conjugates a regular predicate into a plain (해라체) sentence-final form.

    Args:
        lemma: Dictionary form ending in 다, e.g. ``"먹다"``.
        tense: ``"past"``, ``"present"``, ``"future"`` or ``"propositive"``.
        adjective: Whether the lemma is an adjective (present 바쁘다, not
            *바쁜다). 있다/없다 count as adjectives here.
        honorific: Add subject honorification (-(으)시-).
        honorific_lemma: A suppletive honorific verb used instead of
            stem+시 (먹다 → ``"드시다"``, 자다 → ``"주무시다"``, 있다 →
            ``"계시다"``); these are verbs, so their present is 드신다/계신다.

    Returns:
        E.g. ``"먹었다"``, ``"만든다"``, ``"갈 것이다"``, ``"드셨다"``.

    Raises:
        ValueError: For unknown tenses, non-predicates and known irregulars.
    """
    if not lemma.endswith("다") or len(lemma) < 2:
        raise ValueError(f"not a dictionary-form predicate: {lemma!r}")
    stem = lemma[:-1]
    _check_stem(stem)
    if honorific:
        if tense == "propositive":
            raise ValueError("the plain propositive (-자) takes no subject honorific")
        if honorific_lemma:
            stem, adjective = honorific_lemma[:-1], False
        else:
            stem = honorific_stem(stem)
    if tense == "past":
        return past(stem)
    if tense == "present":
        return present(stem, adjective)
    if tense == "future":
        return future(stem)
    if tense == "propositive":
        return propositive(stem)
    raise ValueError(f"unknown tense {tense!r}; expected one of {TENSES}")


# Present forms that would be real (if unintended) words, so not clear errors:
# 있는다/없는다 ("stay"), 싼다 (싸다 "wrap"), 흐린다 (흐리다 "blur").
_NO_PRESENT_ERROR = frozenset({"있다", "없다", "맛있다", "재미있다", "싸다", "흐리다"})


def ill_formed_endings(
    lemma: str,
    tense: str,
    *,
    adjective: bool = False,
    honorific: bool = False,
    honorific_lemma: str | None = None,
) -> tuple[str, ...]:
    """Realistic learner misconjugations of the form :func:`conjugate` returns.

    Each is a known overgeneralisation rather than noise:

    * past: wrong vowel harmony (먹었다 → *먹았다, 잡았다 → *잡었다,
      봤다 → *보었다, 갔다 → *가었다), a skipped obligatory contraction
      (갔다 → *가았다), a kept ㅡ (썼다 → *쓰었다, 바빴다 → *바쁘었다), 했다 →
      *하았다;
    * present: verb -는다 after a vowel or ㄹ (간다 → *가는다, 만든다 →
      *만들는다), verb endings on adjectives (바쁘다 → *바쁜다, 좋다 → *좋는다);
    * future: 으 where it does not belong (갈 → *가을 것이다, 만들 →
      *만들을 것이다);
    * honorific: a missing 으 (읽으셨다 → *읽셨다), an undeleted ㄹ
      (만드셨다 → *만들으셨다), verb -ㄴ다 on adjectives (바쁘시다 → *바쁘신다).

    Forms with no clear-cut learner error (consonant-stem present 먹는다,
    suppletive honorifics 드셨다 ...) return an empty tuple.

    Args:
        lemma, tense, adjective, honorific, honorific_lemma: As for
            :func:`conjugate`.

    Returns:
        Distinct ill-formed surface forms, none equal to the correct one.
    """
    correct = conjugate(lemma, tense, adjective=adjective, honorific=honorific, honorific_lemma=honorific_lemma)
    stem = lemma[:-1]
    cho, jung, jong = decompose(stem[-1])
    out: list[str] = []
    if tense == "propositive":
        return ()
    if honorific:
        if honorific_lemma:
            return ()
        if jong:
            bad = stem + ("으시" if jong == "ㄹ" else "시")  # 만들으시, 읽시
            out.append({"past": bad[:-1] + "셨다", "future": bad[:-1] + "실 것이다"}.get(tense, ""))
            if tense == "present":
                out.append(bad + "다" if adjective else bad[:-1] + "신다")
        if adjective and tense == "present":
            out.append(honorific_stem(stem)[:-1] + "신다")  # 바쁘시다 → *바쁘신다
    elif tense == "past":
        if stem.endswith("하"):
            out.append(stem + "았다")
        elif jong:
            out.append(stem + ("었다" if jung in _BRIGHT else "았다"))
        elif jung == "ㅏ":
            out += [stem + "었다", stem + "았다"]
        elif jung in ("ㅗ", "ㅡ"):
            out.append(stem + "었다")
    elif tense == "present" and lemma not in _NO_PRESENT_ERROR:
        if adjective:
            if not jong:
                out.append(_with_final(stem, "ㄴ") + "다")
            elif jong != "ㄹ":
                out.append(stem + "는다")
        elif not jong or jong == "ㄹ":
            out.append(stem + "는다")
    elif tense == "future" and not stem.endswith("하") and (not jong or jong == "ㄹ"):
        out.append(stem + "을 것이다")
    seen: list[str] = []
    for form in out:
        if form and form != correct and form not in seen:
            seen.append(form)
    return tuple(seen)


# Predicates that conjugate as adjectives (present 바쁘다, not *바쁜다): every
# adjective of the demo lexicon, and 있다, whose plain present is 있다 (있는다
# means "stay"). Callers pass ``adjective=lemma in ADJECTIVES``.
ADJECTIVES = frozenset(
    """바쁘다 아프다 피곤하다 행복하다 건강하다 좋다 맑다 흐리다 따뜻하다 쌀쌀하다 비싸다 싸다
    조용하다 복잡하다 깨끗하다 있다""".split()
)
