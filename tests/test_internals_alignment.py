"""Tokens lined up with eojeol and Kiwi morphemes (explorer.internals.alignment, explorer.ui.token_grid).

Three tokenizers: the conftest WordPiece one, a tiny SentencePiece-style Unigram one
trained here (so the ``▁`` path is tested offline), and the app's multilingual-e5
tokenizer when it is cached. A fake ``morphemes_fn`` keeps the hand-checked numbers
independent of Kiwi's model; one test runs the real Kiwi.
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest
from transformers import AutoTokenizer, PreTrainedTokenizerFast

from explorer.internals.alignment import (
    CONTRACTED,
    FUSED,
    NO_OFFSETS_NOTE,
    ONE_TO_ONE,
    SPLIT,
    TANGLED,
    align_row,
    align_rows,
    batch_stats,
    stats_table,
)
from explorer.internals.padding import token_grid
from explorer.ui.token_grid import LEGEND, aligned_grid_html

SENTENCE = "나는 어제 학교에 갔다."
E5_DIR = Path.home() / ".cache" / "ko-model-explorer" / "multilingual-e5-small"


def _m(form: str, tag: str, start: int, end: int) -> SimpleNamespace:
    return SimpleNamespace(form=form, tag=tag, start=start, end=end)


# Kiwi-like analyses, fixed so the numbers below can be checked by hand.
FAKE = {
    SENTENCE: [_m("나", "NP", 0, 1), _m("는", "JX", 1, 2), _m("어제", "MAG", 3, 5), _m("학교", "NNG", 6, 8),
               _m("에", "JKB", 8, 9), _m("가", "VV", 10, 11), _m("었", "EP", 10, 11), _m("다", "EF", 11, 12),
               _m(".", "SF", 12, 13)],
    "책가 있다.": [_m("책", "NNG", 0, 1), _m("가", "JKS", 1, 2), _m("있", "VA", 3, 4), _m("다", "EF", 4, 5),
                _m(".", "SF", 5, 6)],
    "철수가 왔다.": [_m("철수", "NNP", 0, 2), _m("가", "JKS", 2, 3), _m("오", "VV", 4, 5), _m("었", "EP", 4, 5),
                 _m("다", "EF", 5, 6), _m(".", "SF", 6, 7)],
}


def fake_morphemes(text: str) -> list[SimpleNamespace]:
    return FAKE.get(text, [])


# --------------------------------------------------------------------------- tokenizers


@pytest.fixture(scope="module")
def wordpiece(tokenizer_dir):
    return AutoTokenizer.from_pretrained(tokenizer_dir)


@pytest.fixture(scope="module")
def sentencepiece(korean_texts):
    """A tiny Unigram tokenizer with SentencePiece's ``▁`` pre-tokenizer, trained offline."""
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers

    tok = Tokenizer(models.Unigram())
    tok.normalizer = normalizers.NFKC()
    tok.pre_tokenizer = pre_tokenizers.Metaspace()
    tok.decoder = decoders.Metaspace()
    specials = ["<pad>", "<unk>", "<s>", "</s>"]
    tok.train_from_iterator(korean_texts, trainers.UnigramTrainer(vocab_size=400, special_tokens=specials,
                                                                   unk_token="<unk>", show_progress=False))
    bos, eos = tok.token_to_id("<s>"), tok.token_to_id("</s>")
    tok.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>", pair="<s> $A </s> $B:1 </s>:1", special_tokens=[("<s>", bos), ("</s>", eos)]
    )
    return PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="<unk>", pad_token="<pad>", bos_token="<s>",
                                   eos_token="</s>", model_max_length=64)


@pytest.fixture(scope="module", params=["wordpiece", "sentencepiece", "e5"])
def any_tokenizer(request):
    if request.param == "e5":
        if not (E5_DIR / "tokenizer.json").exists():
            pytest.skip("multilingual-e5-small is not cached here")
        return AutoTokenizer.from_pretrained(E5_DIR)
    return request.getfixturevalue(request.param)


@pytest.fixture(scope="module")
def kiwi():
    pytest.importorskip("kiwipiepy")
    from explorer.kiwi_lm import KiwiLM

    return KiwiLM()


def _text_cols(row) -> list[int]:
    return [i for i, c in enumerate(row) if not c["pad"] and c["sequence"] is not None]


# --------------------------------------------------------------------------- every token, every tokenizer

TEXTS = [SENTENCE, "책가 있다.", "ABC 123개 😀를 3.5kg 샀다!", "  앞뒤 공백  "]
PAIRS = ["철수가 왔다.", "a b", "이모지 🙂 끝", "x"]


def test_every_text_token_maps_to_exactly_one_eojeol(any_tokenizer, kiwi):
    rows = token_grid(any_tokenizer, TEXTS, PAIRS)
    alignments = align_rows(rows, TEXTS, PAIRS, kiwi.morphemes)
    for row, a, first, second in zip(rows, alignments, TEXTS, PAIRS):
        assert a.available and len(a.tokens) == len(row)
        for col, (cell, t) in enumerate(zip(row, a.tokens)):
            if cell["pad"] or cell["sequence"] is None:
                assert t.eojeol is None and t.morphemes == ()
                continue
            text = first if cell["sequence"] == 0 else second
            words = text.split()
            assert t.sequence == cell["sequence"] and t.eojeol is not None
            assert t.eojeol_text == words[t.eojeol]
            # The token's first non-space character is in its eojeol (a bare "▁" goes to the next one).
            s, e, _ = a.eojeols[t.sequence][t.eojeol]
            first_char = next((i for i in range(cell["start"], cell["end"]) if not text[i].isspace()), None)
            if first_char is not None and cell["token"].strip("▁ "):
                assert s <= first_char < e, (cell, t)
            # Every text token is in exactly one eojeol group.
            assert sum(g.start_col <= col < g.end_col for g in a.eojeol_groups) == 1


def test_groups_tile_their_columns_without_overlap(any_tokenizer, kiwi):
    rows = token_grid(any_tokenizer, TEXTS, PAIRS)
    for row, a in zip(rows, align_rows(rows, TEXTS, PAIRS, kiwi.morphemes)):
        text_cols = set(_text_cols(row))
        for groups in (a.eojeol_groups, a.morpheme_groups):
            col = 0
            for g in groups:
                assert g.start_col >= col and g.end_col > g.start_col, groups
                covered = set(range(g.start_col, g.end_col))
                assert covered <= text_cols  # never over [CLS], [SEP] or [PAD]
                assert {row[c]["sequence"] for c in covered} == {g.sequence}
                col = g.end_col
        eojeol_cols = {c for g in a.eojeol_groups for c in range(g.start_col, g.end_col)}
        assert eojeol_cols == text_cols
        # Every token that overlaps a morpheme sits under that morpheme's group.
        morpheme_cols = {c for g in a.morpheme_groups for c in range(g.start_col, g.end_col)}
        assert {t.col for t in a.tokens if t.morphemes} <= morpheme_cols


# --------------------------------------------------------------------------- particles, pairs, hand-checked numbers


def test_particle_gets_its_own_column_under_its_eojeol(wordpiece):
    row = token_grid(wordpiece, ["책가 있다."])[0]
    a = align_row(row, "책가 있다.", None, fake_morphemes)
    assert [c["token"] for c in row[1:3]] == ["책", "##가"]
    particle = a.tokens[2]
    assert particle.eojeol == 0 and particle.eojeol_text == "책가"
    assert particle.morpheme_labels == ("가/JKS",)
    assert any(g.label == "가/JKS" and (g.start_col, g.end_col) == (2, 3) and g.kind == ONE_TO_ONE
               for g in a.morpheme_groups)
    boundary = next(b for b in a.stats.details if b.right == "가/JKS")
    assert boundary.matched and boundary.marked == "책|가"


def test_pair_second_sentence_aligns_to_the_second_text(wordpiece):
    row = token_grid(wordpiece, [SENTENCE], ["철수가 왔다."])[0]
    a = align_row(row, SENTENCE, "철수가 왔다.", fake_morphemes)
    second = [t for t in a.tokens if t.sequence == 1]
    assert second and {t.eojeol_text for t in second} == {"철수가", "왔다."}
    assert {lab for t in second for lab in t.morpheme_labels} >= {"철수/NNP", "가/JKS", "다/EF"}
    assert all(g.sequence == 1 for g in a.eojeol_groups if g.label in ("철수가", "왔다."))
    first_sep = next(i for i, c in enumerate(row) if c["special"] and i > 0)
    assert all(g.start_col > first_sep for g in a.morpheme_groups if g.sequence == 1)


def _cell(token: str, start: int | None, end: int | None, sequence: int | None = 0, pad: bool = False) -> dict:
    special = start is None and not pad
    return {"token": token, "id": 0, "attention_mask": 0 if pad else 1, "token_type_id": 0, "special": special,
            "pad": pad, "sequence": None if special or pad else sequence, "start": start, "end": end}


# A SentencePiece-style cut of SENTENCE, chosen to hit every case: ▁나는 fuses 나+는,
# 교에 cuts 학교 and fuses it with 에, ▁갔 holds the contracted 가+었, 다 and . agree.
HAND_ROW = [_cell("<s>", None, None), _cell("▁나는", 0, 2), _cell("▁어제", 2, 5), _cell("▁학", 5, 7),
            _cell("교에", 7, 9), _cell("▁갔", 9, 11), _cell("다", 11, 12), _cell(".", 12, 13),
            _cell("</s>", None, None), _cell("<pad>", None, None, pad=True)]


def test_boundary_statistics_on_a_hand_checked_row():
    a = align_row(HAND_ROW, SENTENCE, None, fake_morphemes)
    groups = [(g.start_col, g.end_col, g.label, g.kind) for g in a.morpheme_groups]
    assert groups == [
        (1, 2, "나/NP+는/JX", FUSED),
        (2, 3, "어제/MAG", ONE_TO_ONE),
        (3, 5, "학교/NNG+에/JKB", TANGLED),
        (5, 6, "가/VV+었/EP", CONTRACTED),
        (6, 7, "다/EF", ONE_TO_ONE),
        (7, 8, "./SF", ONE_TO_ONE),
    ]
    assert [(g.start_col, g.end_col, g.label) for g in a.eojeol_groups] == [
        (1, 2, "나는"), (2, 3, "어제"), (3, 5, "학교에"), (5, 8, "갔다.")
    ]
    s = a.stats
    # Boundaries inside eojeol: 나|는, 학교|에, 갔|다, 다|. -> the last two are token cuts.
    assert (s.boundaries, s.matched, s.agreement, s.within_syllable) == (4, 2, 0.5, 1)
    assert [b.marked for b in s.missed()] == ["나|는", "학교|에"]
    assert [(m.label, m.tokens) for m in s.split_morphemes] == [("학교/NNG", ("▁학", "교에"))]
    assert [(t.token, t.avoidable) for t in s.fusing_tokens] == [("▁나는", True), ("교에", True), ("▁갔", False)]
    assert a.tokens[0].eojeol is None and a.tokens[9].morphemes == ()
    table = stats_table([a, a])
    assert table[1]["input"] == 2 and table[0]["missed"] == "나|는 학교|에" and table[0]["fusing_tokens"].count("=") == 2
    total = batch_stats([a, a])
    assert (total.boundaries, total.matched, len(total.split_morphemes)) == (8, 4, 2)


def test_split_morpheme_spans_its_token_columns(wordpiece):
    row = token_grid(wordpiece, [SENTENCE])[0]
    a = align_row(row, SENTENCE, None, fake_morphemes)
    school = next(g for g in a.morpheme_groups if "학교/NNG" in g.parts)
    tokens = [row[c]["token"] for c in range(school.start_col, school.end_col)]
    assert "".join(t.removeprefix("##") for t in tokens) == "학교"
    assert school.kind == (SPLIT if len(tokens) > 1 else ONE_TO_ONE)


def test_real_kiwi_boundaries_on_the_study_sentence(wordpiece, kiwi):
    row = token_grid(wordpiece, [SENTENCE])[0]
    a = align_row(row, SENTENCE, None, kiwi.morphemes)
    labels = {lab for t in a.tokens for lab in t.morpheme_labels}
    assert {"학교/NNG", "에/JKB"} <= labels
    assert a.stats.boundaries == 4  # 나|는 학교|에 갔|다 다|.
    assert {b.marked for b in a.stats.details} == {"나|는", "학교|에", "갔|다.", "갔다|."}
    assert a.stats.within_syllable == 1  # 가+었 inside 갔


# --------------------------------------------------------------------------- edge cases


def test_leading_sentencepiece_marker_claims_no_morpheme(sentencepiece):
    row = token_grid(sentencepiece, [SENTENCE])[0]
    a = align_row(row, SENTENCE, None, fake_morphemes)
    for col, cell in enumerate(row):
        if cell["token"] == "▁":
            assert a.tokens[col].morphemes == () and a.tokens[col].eojeol is not None
    assert not any(m.label == "나/NP" for m in a.stats.split_morphemes)


def test_truncation_aligns_the_covered_part_and_says_so(wordpiece):
    text = SENTENCE + " " + " ".join(["학교에"] * 30)
    row = token_grid(wordpiece, [text], max_length=8)[0]
    a = align_row(row, text, None, fake_morphemes)
    covered = max(c["end"] for c in row if c["end"] is not None)
    assert any("truncated" in n for n in a.notes)
    assert all(b.position < covered for b in a.stats.details)
    assert all(g.end_col <= len(row) for g in a.eojeol_groups + a.morpheme_groups)


def test_no_morphemes_leaves_the_eojeol_line(wordpiece):
    row = token_grid(wordpiece, ["형태소 없음"])[0]
    a = align_row(row, "형태소 없음", None, lambda text: ())
    assert a.morpheme_groups == [] and [g.label for g in a.eojeol_groups] == ["형태소", "없음"]
    assert a.stats.boundaries == 0 and a.stats.agreement is None
    assert any("no morphemes" in n for n in a.notes)
    assert align_row(row, "형태소 없음").morpheme_groups == []


def test_empty_text_and_mismatched_lengths(wordpiece):
    row = token_grid(wordpiece, [""])[0]
    a = align_row(row, "", None, fake_morphemes)
    assert a.available and a.eojeol_groups == [] and a.morpheme_groups == []
    with pytest.raises(ValueError):
        align_rows([row], ["a", "b"])


def _slow_bert(wordpiece, tmp_path):
    """The conftest vocabulary in a pure-Python BERT tokenizer (no offsets), where one exists."""
    try:  # transformers 5 keeps the slow one as a legacy class; 4.x's BertTokenizer is slow
        from transformers.models.bert.tokenization_bert_legacy import BertTokenizerLegacy as Slow
    except ImportError:
        from transformers import BertTokenizer as Slow
    vocab = tmp_path / "vocab.txt"
    vocab.write_text("\n".join(t for t, _ in sorted(wordpiece.get_vocab().items(), key=lambda kv: kv[1])), encoding="utf-8")
    slow = Slow(str(vocab), do_lower_case=False)
    if getattr(slow, "is_fast", False):
        pytest.skip("no slow BERT tokenizer in this transformers")
    return slow


def test_slow_tokenizer_gives_a_note_not_an_exception(wordpiece, tmp_path):
    rows = token_grid(_slow_bert(wordpiece, tmp_path), [SENTENCE, "책가 있다."])
    alignments = align_rows(rows, [SENTENCE, "책가 있다."], None, fake_morphemes)
    assert all(not a.available and a.notes == [NO_OFFSETS_NOTE] for a in alignments)
    assert batch_stats(alignments).boundaries == 0
    out = aligned_grid_html(rows, alignments)
    assert "slow tokenizer" in out and "[CLS]" in out and "<table" not in out


def test_rows_without_offsets_are_recognised():
    row = [{**c, "sequence": None, "start": None, "end": None} for c in HAND_ROW]
    row[1]["special"] = False
    a = align_row(row, SENTENCE, None, fake_morphemes)
    assert not a.available and a.notes == [NO_OFFSETS_NOTE] and len(a.tokens) == len(row)


# --------------------------------------------------------------------------- HTML


@pytest.fixture(scope="module")
def handmade():
    """A WordPiece tokenizer whose vocabulary is written out, so which morpheme it splits is known (학 + ##교)
    whatever the generated training text holds."""
    from tokenizers import Tokenizer, models, pre_tokenizers, processors

    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "나", "##는", "어제", "학", "##교", "##에", "갔다", ".",
             "책", "##가", "<", ">", "/", "(", ")", "1"]
    tok = Tokenizer(models.WordPiece({t: i for i, t in enumerate(vocab)}, unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.post_processor = processors.TemplateProcessing(single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B:1 [SEP]:1",
                                                       special_tokens=[("[CLS]", 2), ("[SEP]", 3)])
    return PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="[UNK]", pad_token="[PAD]", cls_token="[CLS]",
                                   sep_token="[SEP]", mask_token="[MASK]")


def test_html_escapes_text_and_shows_the_three_lines(handmade):
    texts = ["<script>alert(1)</script> 책가", SENTENCE]
    rows = token_grid(handmade, texts)
    alignments = align_rows(rows, texts, None, fake_morphemes)
    out = aligned_grid_html(rows, alignments)
    assert "<script>" not in out and "&lt;script&gt;" in out
    assert "학교" in out and "/NNG" in out and 'title="학교/NNG' in out
    assert "overflow-x:auto" in out and out.count("<table") == 2
    assert "background:#eee" in out  # the shorter row is padded
    assert "font-weight:700" in out  # [CLS]/[SEP]
    assert "dashed" in out  # 학 + ##교 is a split morpheme
    assert "갔다." in out and "eojeol" in out and "morphemes" in out
    assert out.count('colspan="') >= 3
    assert "which no tokenizer can separate" in out and LEGEND.startswith("Line 1")
    assert ">morphemes</th>" in out
    assert ">morphemes</th>" not in aligned_grid_html(rows, alignments, show_morphemes=False, legend=False)


def test_html_falls_back_without_alignment(wordpiece):
    rows = token_grid(wordpiece, [SENTENCE, "책가 있다."], ["철수가 왔다.", "a"])
    out = aligned_grid_html(rows, labels=["first <b>", "second"])
    assert "first &lt;b&gt;" in out and "<table" not in out and "[PAD]" in out and "#fdf0e0" in out  # segment 1 tint kept
    with pytest.raises(ValueError):
        aligned_grid_html(rows, [])
