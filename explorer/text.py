"""Cleaning what users type before it reaches a tokenizer.

Korean text pasted from macOS or PDFs often arrives in decomposed jamo (NFD);
tokenizers trained on NFC text then see unknown characters, so we normalise.
Control characters are dropped because they are invisible in the table yet
change tokenisation.
"""

from __future__ import annotations

import html
import re
import unicodedata
from dataclasses import dataclass, field

MAX_LINES = 500
_SPACE = re.compile(r"\s+")


@dataclass
class CleanedInput:
    """Sentences ready for scoring plus notes for the user.

    Attributes:
        sentences: Non-empty, cleaned sentences in input order.
        notes: Human-readable remarks (dropped lines, removed characters).
    """

    sentences: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def clean_sentence(text: str) -> tuple[str, int]:
    """Normalises one sentence.

    Returns:
        The NFC-normalised sentence with control characters removed and
        whitespace collapsed, and how many control characters were removed.
    """
    text = unicodedata.normalize("NFC", text)
    kept = []
    removed = 0
    for ch in text:
        if ch in "\t\n\r":
            kept.append(" ")
        elif unicodedata.category(ch) in {"Cc", "Cf", "Cs", "Co"} and ch != "\u200d":
            # Zero-width joiner stays: emoji sequences need it.
            removed += 1
        else:
            kept.append(ch)
    return _SPACE.sub(" ", "".join(kept)).strip(), removed


def split_sentences(text: str, max_lines: int = MAX_LINES) -> CleanedInput:
    """Splits pasted text into one sentence per line and cleans each.

    Args:
        text: What the user typed or pasted.
        max_lines: Lines beyond this are dropped with a note.
    """
    out = CleanedInput()
    lines = (text or "").splitlines()
    removed_total = 0
    blank: list[int] = []
    last = 0  # the line number of the last sentence
    for number, line in enumerate(lines, start=1):
        cleaned, removed = clean_sentence(line)
        removed_total += removed
        if cleaned:
            out.sentences.append(cleaned)
            last = number
        else:
            blank.append(number)
    # Blank lines after the last sentence are just the end of the text; any other
    # skipped line is said, so a line that was only spaces or invisible characters
    # never disappears without a word.
    if removed_total:
        out.notes.append(f"Removed {removed_total} invisible control character(s).")
    inner = [n for n in blank if n < last]
    if inner:
        shown = ", ".join(str(n) for n in inner[:10]) + (" …" if len(inner) > 10 else "")
        out.notes.append(f"Skipped {len(inner)} empty line(s) (line {shown}).")
    if len(out.sentences) > max_lines:
        out.notes.append(f"Only the first {max_lines} of {len(out.sentences)} lines are scored.")
        out.sentences = out.sentences[:max_lines]
    return out


_MARKDOWN_SPECIAL = re.compile(r"""[\\`*_\[\](){}#$~|:"']""")


def escape_markdown(text: str) -> str:
    """Text a user or a checkpoint named, safe inside Streamlit markdown (with or without HTML allowed).

    Every markdown or HTML special character becomes a numeric character
    reference, which markdown shows as the character itself and never reads as
    syntax: a model named ``**x**`` or ``<img ...>`` is shown as typed.
    """
    # Quotes go through the same numeric references: html.escape's &#x27; would have its # escaped again and
    # show on screen as "&#x27;" (Kiwi's → Kiwi&#x27;s).
    return _MARKDOWN_SPECIAL.sub(lambda m: f"&#{ord(m.group())};", html.escape(str(text), quote=False))


# --- is it Korean? ----------------------------------------------------------------------------------
# Every model here was trained on Korean, so an answer to English, code or emoji means little; the pages
# and the CLI say so beside the answer instead of judging it as if it were Korean.

# Below this share of Hangul among a text's letters, the text is "little or no Korean". Measured on
# what users type: a Korean sentence with a foreign name keeps most letters Hangul ("iPhone을 샀다."
# 33%, "BTS의 노래를 들었다." 70%), while English with one Korean word falls under it ("I love 김치" 29%).
HANGUL_MIN_SHARE = 0.3

_HANGUL_RANGES = (
    (0xAC00, 0xD7A3),  # syllables
    (0x1100, 0x11FF),  # jamo (decomposed text pasted from macOS or PDFs)
    (0x3130, 0x318F),  # compatibility jamo (ㅋㅋ, ㅎㅎ)
    (0xA960, 0xA97F),  # jamo extended-A
    (0xD7B0, 0xD7FF),  # jamo extended-B
)


def is_hangul(ch: str) -> bool:
    """Whether one character is a Hangul syllable or jamo."""
    code = ord(ch)
    return any(low <= code <= high for low, high in _HANGUL_RANGES)


def hangul_share(text: str) -> float:
    """The share of the text's letters that are Hangul, from 0 to 1.

    Letters only (Unicode categories L*; Hangul syllables are letters): digits, punctuation,
    spaces and emoji are not letters, so they never make a text look Korean, and a text with
    no letters at all (``😀``, ``12345``, ``?!``) has no Hangul: 0.
    """
    letters = [ch for ch in text if unicodedata.category(ch).startswith("L")]
    if not letters:
        return 0.0
    return sum(1 for ch in letters if is_hangul(ch)) / len(letters)


def join_words(words: list[str]) -> str:
    """``a``, ``a and b``, ``a, b and c``."""
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def script_note(texts: dict[str, str]) -> str:
    """One sentence naming the texts with little or no Hangul (see ``HANGUL_MIN_SHARE``); "" when none.

    Args:
        texts: Each text by how a sentence names it (``the question``, ``sentence 1``, ``line 3``).
    """
    shares = {name: hangul_share(text) for name, text in texts.items()}
    flagged = [name for name, share in shares.items() if share < HANGUL_MIN_SHARE]
    if not flagged:
        return ""
    names = join_words(flagged)
    verb = "has" if len(flagged) == 1 else "have"
    if all(shares[name] == 0 for name in flagged):
        amount = "no Korean"
    else:
        amount = f"little Korean (under {HANGUL_MIN_SHARE:.0%} of the letters are Hangul)"
    return (f"{names[0].upper()}{names[1:]} {verb} {amount}: the models were trained on Korean, "
            "so their answers mean little.")
