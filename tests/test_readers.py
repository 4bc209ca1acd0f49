"""Readers for the published task files: every quirk on small files written here,
then the real files from ``../shared/data`` when that folder exists."""

from __future__ import annotations

import dataclasses
import io
from pathlib import Path

import pytest

from explorer.data.readers import DatasetError
from explorer.tasks.boolq import BoolqItem
from explorer.tasks.cola import ColaItem
from explorer.tasks.copa import CopaItem
from explorer.tasks.registry import FORMATS, read_dataset, supported_headers
from explorer.tasks.wic import WicItem

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"

COLA_HEADER = "source\tacceptability_label\tsource_annotation\tsentence"
COLA_TEST_HEADER = "index\tsentence\tacceptability_label"
WIC_HEADER = "ID\tTarget\tSENTENCE1\tSENTENCE2\tANSWER\tstart_s1\tend_s1\tstart_s2\tend_s2"
KOBEST_WIC_HEADER = "ID\tTarget\tSENTENCE1\tDictionary 1\tLink 1\tSENTENCE2\tDictionary 2\tLink2\tANSWER"
COPA_HEADER = "ID\tsentence\tquestion\t1\t2\tAnswer"
BOOLQ_HEADER = "ID\tText\tQuestion\tAnswer(FALSE = 0, TRUE = 1)"
KOBEST_BOOLQ_HEADER = "ID\tText\tQuestion\tAnswer"


def write(tmp_path: Path, lines: list[str], name: str = "data.tsv", newline: str = "\r\n", encoding: str = "utf-8",
          final_newline: bool = True) -> Path:
    """Writes lines as the published files are: CRLF by default."""
    path = tmp_path / name
    text = newline.join(lines) + (newline if final_newline else "")
    path.write_bytes(text.encode(encoding))
    return path


def error_for(path_or_bytes, **kwargs) -> str:
    with pytest.raises(DatasetError) as info:
        read_dataset(path_or_bytes, **kwargs)
    return str(info.value)


# --------------------------------------------------------------------------- CoLA


def test_cola_train_crlf_bom_and_no_annotation(tmp_path):
    path = write(tmp_path, [
        COLA_HEADER,
        "T00001\t1\t\t높은 달이 떴다.",
        "T00001\t0\t*\t달이 뜸이 높았다.",
        "T00002\t0\t??\t실없는 사람이 까불한다.  ",
    ], encoding="utf-8-sig")
    ds = read_dataset(path)
    assert (ds.task, ds.format, ds.n_rows, ds.labelled, ds.encoding) == ("cola", "nikl2021_cola", 3, True, "utf-8")
    assert ds.path == str(path) and ds.warnings == []
    assert ds.items == [
        ColaItem("T00001#1", "높은 달이 떴다.", 1, "T00001", 2),
        ColaItem("T00001#2", "달이 뜸이 높았다.", 0, "T00001", 3),
        ColaItem("T00002#1", "실없는 사람이 까불한다.", 0, "T00002", 4),
    ]
    # The annotation restates the label: it must not exist on the item at all.
    assert "source_annotation" not in {f.name for f in dataclasses.fields(ColaItem)}
    for item in ds.items:
        assert not {"*", "??"} & {str(v) for v in dataclasses.astuple(item)}


def test_cola_test_rows_without_label_field(tmp_path):
    # The published test file has a 3-name header but 2-field rows.
    path = write(tmp_path, [COLA_TEST_HEADER, "0\t나는 철수에게 공을 던져다 주었다.   ", "1\t먹은 것을 다 소화시켜야 한다."])
    ds = read_dataset(path, task="cola")
    assert ds.format == "nikl2021_cola_test" and not ds.labelled
    assert [(i.id, i.sentence, i.label) for i in ds.items] == [
        ("0", "나는 철수에게 공을 던져다 주었다.", None),
        ("1", "먹은 것을 다 소화시켜야 한다.", None),
    ]


def test_cola_label_error_names_row_and_column(tmp_path):
    lines = [COLA_HEADER] + [f"T{i:05d}\t1\t\t문장 {i}." for i in range(15)] + ["T00099\tyes\t\t나쁜 줄."]
    path = write(tmp_path, lines, name="cola.tsv")
    message = error_for(path)
    assert message == 'cola.tsv: row 17, column "acceptability_label": expected 0 or 1, got "yes"'


def test_mixed_case_binary_labels(tmp_path):
    rows = ["A\tTrue\t\t가.", "B\tFALSE\t*\t나.", "C\ttrue\t\t다.", "D\t0\t*\t라.", "E\t1.0\t\t마."]
    path = write(tmp_path, [COLA_HEADER, *rows])
    assert [i.label for i in read_dataset(path).items] == [1, 0, 1, 0, 1]


def test_blank_lines_are_skipped_but_still_counted(tmp_path):
    path = write(tmp_path, [COLA_HEADER, "A\t1\t\t가.", "", "B\t1\t\t나.", "C\tmaybe\t\t다."], name="c.tsv")
    assert 'row 5, column "acceptability_label"' in error_for(path)
    path = write(tmp_path, [COLA_HEADER, "A\t1\t\t가.", "", "B\t1\t\t나.", "", ""])
    assert read_dataset(path).n_rows == 2


def test_lf_and_cr_line_endings(tmp_path):
    for newline in ("\n", "\r"):
        path = write(tmp_path, [COLA_HEADER, "A\t1\t\t가.", "B\t0\t*\t나."], newline=newline)
        assert [i.sentence for i in read_dataset(path).items] == ["가.", "나."]


def test_reads_a_cola_train_sized_file(tmp_path):
    # Speed is not asserted here (a loaded machine would fail it); it belongs in benchmarks/.
    lines = [COLA_HEADER] + [
        f"T{i // 2:05d}\t{i % 2}\t{'' if i % 2 else '*'}\t철수가 영희에게 책을 {i}권 주었다." for i in range(15876)
    ]
    ds = read_dataset(write(tmp_path, lines))
    assert ds.n_rows == 15876 and ds.items[-1].sentence == "철수가 영희에게 책을 15875권 주었다."


# --------------------------------------------------------------------------- WiC


def test_nikl_wic_doubled_quotes_and_literal_leading_quotes(tmp_path):
    quoted = '"한 참모는 ""위기를 맞았을 때 드러나곤 했다""고 했다."'  # proper CSV quoting
    plain = '한 참모는 "위기를 맞았을 때 드러나곤 했다"고 했다.'
    literal = '"경찰 아저씨한테 혼났지?"하고 묻자 아이들은 "응"하고 고개를 끄덕였다.'  # quotes are text
    wrapped = '"정규직 취업은 불가능할지 모른다는 생각이 자꾸 들어요."'  # quotes are text, offsets count them
    path = write(tmp_path, [
        WIC_HEADER,
        f"1\t맞\t{quoted}\t비를 맞다.\tTrue\t{plain.index('맞')}\t{plain.index('맞') + 1}\t3\t4",
        f"2\t묻\t땅에 묻다.\t{literal}\tfalse\t3\t4\t{literal.index('묻')}\t{literal.index('묻') + 1}",
        f"3\t들\t힘이 들다.\t{wrapped}\tTRUE\t3\t4\t{wrapped.index('들어')}\t{wrapped.index('들어') + 1}",
    ])
    ds = read_dataset(path)
    assert ds.format == "nikl2021_wic" and ds.labelled and ds.warnings == []
    one, two, three = ds.items
    assert one.sentence1 == plain and one.label == 1
    assert two.sentence2 == literal and two.label == 0
    assert three.sentence2 == wrapped and three.label == 1
    for item in ds.items:
        assert item.sentence1[slice(*item.span1)] == item.target
        assert item.sentence2[slice(*item.span2)] == item.target


def test_nikl_wic_test_file_unlabelled(tmp_path):
    path = write(tmp_path, [WIC_HEADER, "1\t양분\t토양에 양분이 많다.\t태아는 양분을 받는다.\t\t4\t6\t4\t6"])
    ds = read_dataset(path)
    assert not ds.labelled
    assert ds.items[0] == WicItem("1", "양분", "토양에 양분이 많다.", "태아는 양분을 받는다.", (4, 6), (4, 6), None, 2)


def test_nikl_wic_bad_spans_warn_not_fail(tmp_path):
    path = write(tmp_path, [
        WIC_HEADER,
        "1\t배\t배가 아프다.\t배를 타다.\tFalse\t1\t2\t0\t1",  # span 1 covers "가"
        "2\t배\t배가 아프다.\t배를 타다.\tFalse\t0\t1\t0\t99",  # span 2 outside the sentence
        "3\t배\t  배가 아프다.\t배를 타다. \tFalse\t2\t3\t0\t1",  # leading spaces: offsets shift with the strip
    ])
    ds = read_dataset(path)
    assert [i.span1 for i in ds.items] == [(1, 2), (0, 1), (0, 1)]
    assert [i.span2 for i in ds.items] == [(0, 1), None, (0, 1)]
    assert ds.items[2].sentence1 == "배가 아프다."
    assert any(w.startswith('row 2: SENTENCE1[1:2] is "가", not the Target "배"') for w in ds.warnings)
    assert any(w.startswith("row 3: SENTENCE2 span 0:99 is outside the sentence") for w in ds.warnings)
    assert len(ds.warnings) == 2


def test_nikl_wic_offset_must_be_a_number(tmp_path):
    path = write(tmp_path, [WIC_HEADER, "1\t배\t배가 아프다.\t배를 타다.\tFalse\t0\tone\t0\t1"], name="wic.tsv")
    assert error_for(path) == 'wic.tsv: row 2, column "end_s1": expected a character offset (a whole number), got "one"'


def test_kobest_wic_brackets_become_spans(tmp_path):
    link = "https://stdict.korean.go.kr/x"
    path = write(tmp_path, [
        KOBEST_WIC_HEADER,
        f"1\t실정\t백제는 방탕과 [실정]으로 패망했다.\t1\t{link}\t[실정]이다.\t4\t{link}\tTRUE",
        f"2\t단\t바짓[단]이 뜯어져 [단]이 내려왔다.\t1\t{link}\t[단]을 쌓다.\t2\t{link}\tfalse",
        f"3\t방\t[방]이 춥다.\t1\t{link}\t방바닥이 냉랭하다.\t2\t{link}\tFalse",
        f"4\t불\t[불]을 켜다.\t1\t{link}\t[불이] 꺼진 학교.\t2\t{link}\tTrue",
    ])
    ds = read_dataset(path, task="wic")
    assert ds.format == "kobest_wic" and ds.labelled
    first, two_marks, no_mark, longer = ds.items
    assert first == WicItem("1", "실정", "백제는 방탕과 실정으로 패망했다.", "실정이다.", (8, 10), (0, 2), 1, 2)
    assert two_marks.sentence1 == "바짓단이 뜯어져 단이 내려왔다." and two_marks.span1 == (2, 3)
    assert no_mark.sentence2 == "방바닥이 냉랭하다." and no_mark.span2 is None
    assert longer.sentence2 == "불이 꺼진 학교." and longer.span2 == (0, 2)
    assert [i.label for i in ds.items] == [1, 0, 0, 1]
    assert ds.warnings == [
        'row 3: SENTENCE1 has 2 [bracketed] marks; using "단" at 2:3.',
        'row 4: SENTENCE2 has no [bracketed] target "방"; span left empty.',
        'row 5: SENTENCE2[0:2] is "불이", not the Target "불".',
    ]


# --------------------------------------------------------------------------- COPA


def test_copa_cp949_trailing_space_and_zero_based_labels(tmp_path):
    path = write(tmp_path, [
        COPA_HEADER,
        "1\t전쟁이 시작되었다.\t결과\t병사들이 집으로 돌아왔다.\t병사들이 전투에 파견되었다.\t2",
        "2\t영화를 보고 눈물을 흘렸다.\t원인 \t재밌는 영화를 봤다.\t슬픈 영화를 봤다.\t1",
    ], encoding="cp949")
    ds = read_dataset(path)
    assert ds.encoding == "cp949" and ds.task == "copa" and ds.format == "copa"
    assert ds.items == [
        CopaItem("1", "전쟁이 시작되었다.", "effect", ("병사들이 집으로 돌아왔다.", "병사들이 전투에 파견되었다."), 1, 2),
        CopaItem("2", "영화를 보고 눈물을 흘렸다.", "cause", ("재밌는 영화를 봤다.", "슬픈 영화를 봤다."), 0, 3),
    ]
    assert "Read as CP949" in ds.warnings[0]


def test_copa_unlabelled_and_bad_values(tmp_path):
    ds = read_dataset(write(tmp_path, [COPA_HEADER, "1\t바지가 헐렁하다.\t결과\t밑단을 잘랐다\t벨트를 맸다.\t"]))
    assert not ds.labelled and ds.items[0].label is None
    bad_question = write(tmp_path, [COPA_HEADER, "1\t바지가 헐렁하다.\t이유\t밑단을 잘랐다\t벨트를 맸다.\t1"], name="q.tsv")
    assert error_for(bad_question) == 'q.tsv: row 2, column "question": expected 원인 (cause) or 결과 (effect), got "이유"'
    bad_answer = write(tmp_path, [COPA_HEADER, "1\t바지가 헐렁하다.\t결과\t밑단을 잘랐다\t벨트를 맸다.\t3"], name="a.tsv")
    assert error_for(bad_answer) == 'a.tsv: row 2, column "Answer": expected 1 or 2, got "3"'
    empty_choice = write(tmp_path, [COPA_HEADER, "1\t바지가 헐렁하다.\t결과\t \t벨트를 맸다.\t1"], name="e.tsv")
    assert error_for(empty_choice) == 'e.tsv: row 2, column "1": expected text, got an empty value'


# --------------------------------------------------------------------------- BoolQ


def test_boolq_nikl_and_kobest_labels_and_stripped_question(tmp_path):
    nikl = read_dataset(write(tmp_path, [
        BOOLQ_HEADER,
        '1\t"The Boys"는 소녀시대의 음반이다. \t"The Boys"는 2011년에 나왔는가?  \t1',
        "2\t파리 협정은 조약이다.\t 파리협정은 조약인가?\t0",
    ]))
    assert nikl.format == "nikl2021_boolq"
    # A leading quote mark that is not CSV quoting stays in the text (pandas would drop it).
    assert nikl.items[0] == BoolqItem("1", '"The Boys"는 소녀시대의 음반이다.', '"The Boys"는 2011년에 나왔는가?', 1, 2)
    assert nikl.items[1].question == "파리협정은 조약인가?" and nikl.items[1].label == 0
    kobest = read_dataset(write(tmp_path, [KOBEST_BOOLQ_HEADER, "1\t가.\t가?\tTRUE", "2\t나.\t나?\tFalse"], name="k.tsv"))
    assert kobest.format == "kobest_boolq" and [i.label for i in kobest.items] == [1, 0]
    bad = write(tmp_path, [KOBEST_BOOLQ_HEADER, "1\t가.\t가?\tyes"], name="b.tsv")
    assert error_for(bad) == 'b.tsv: row 2, column "Answer": expected TRUE/FALSE or 1/0, got "yes"'


def test_boolq_unlabelled_test_file(tmp_path):
    ds = read_dataset(write(tmp_path, [BOOLQ_HEADER, "1\t가.\t가?\t", "2\t나.\t나?\t"]))
    assert not ds.labelled and [i.label for i in ds.items] == [None, None]


# --------------------------------------------------------------------------- inputs and encodings


def test_bytes_upload_and_file_like(tmp_path):
    data = ("\ufeff" + "\r\n".join([KOBEST_BOOLQ_HEADER, "1\t가.\t가?\ttrue"])).encode("utf-8")
    ds = read_dataset(data, name="upload.tsv")
    assert ds.path == "upload.tsv" and ds.items[0].label == 1
    upload = io.BytesIO(data)
    upload.name = "from_browser.tsv"
    assert read_dataset(upload).path == "from_browser.tsv"
    assert error_for(b"ID\tComment\n", name="x.tsv").startswith("x.tsv: line 1: unrecognised header")


def test_utf16_excel_export(tmp_path):
    path = write(tmp_path, [COLA_TEST_HEADER, "0\t가나다.\t"], encoding="utf-16")
    ds = read_dataset(path)
    assert ds.encoding == "utf-16" and ds.items[0].sentence == "가나다."


def test_comma_separated_with_quoted_header(tmp_path):
    path = write(tmp_path, [
        'ID,Text,Question,"Answer(FALSE = 0, TRUE = 1)"',
        '1,"서울, 부산은 도시다.",서울은 도시인가?,1',
    ], name="boolq.csv")
    ds = read_dataset(path)
    assert ds.format == "nikl2021_boolq" and ds.items[0].passage == "서울, 부산은 도시다."


def test_multiline_quoted_field_and_quote_all_file(tmp_path):
    path = write(tmp_path, [KOBEST_BOOLQ_HEADER, '1\t"첫 줄', '둘째 줄"\t질문?\tTrue', "2\t본문.\t질문?\tFalse"])
    ds = read_dataset(path)
    assert ds.items[0].passage == "첫 줄\n둘째 줄" and ds.items[1].row == 4
    quote_all = write(tmp_path, ['"ID"\t"Text"\t"Question"\t"Answer"', '"1"\t"본문."\t"질문?"\t"True"'], name="qa.tsv")
    assert read_dataset(quote_all).items[0] == BoolqItem("1", "본문.", "질문?", 1, 2)


def test_trailing_empty_fields_and_extra_columns(tmp_path):
    ds = read_dataset(write(tmp_path, [KOBEST_BOOLQ_HEADER + "\tnote", "1\t가.\t가?\tTrue\tmine\t\t"]))
    assert ds.items[0].label == 1
    assert ds.warnings == ["Ignored column(s) not used for boolq: note (read: ID, Text, Question, Answer)."]


def test_repeated_ids_warn(tmp_path):
    ds = read_dataset(write(tmp_path, [KOBEST_BOOLQ_HEADER, "1\t가.\t가?\tTrue", "1\t나.\t나?\tFalse"]))
    assert ds.warnings == ['row 3: ID "1" appears more than once.']


# --------------------------------------------------------------------------- malformed files


def test_wrong_number_of_fields(tmp_path):
    path = write(tmp_path, [KOBEST_BOOLQ_HEADER, "1\t가.\t가?\tTrue", "2\t나.\tFalse"], name="short.tsv")
    message = error_for(path)
    assert message.startswith("short.tsv: row 3: expected 4 fields (ID, Text, Question, Answer), found 3.")
    path = write(tmp_path, [KOBEST_BOOLQ_HEADER, "1\t가.\t가?\tTrue\textra"], name="long.tsv")
    assert "row 2: expected 4 fields" in error_for(path) and "found 5" in error_for(path)


def test_unknown_header_lists_supported_ones(tmp_path):
    # KorNLI's layout: a Korean benchmark file no registered task reads.
    path = write(tmp_path, ["sentence1\tsentence2\tgold_label", "a\tb\tentailment"], name="hs.tsv")
    message = error_for(path)
    header = "sentence1, sentence2, gold_label"
    assert message.startswith(f"hs.tsv: line 1: unrecognised header ({header})")
    for line in supported_headers():
        assert line in message
    assert len(supported_headers()) == len(FORMATS)


def test_task_mismatch(tmp_path):
    path = write(tmp_path, [COPA_HEADER, "1\t가.\t결과\t나.\t다.\t1"], name="copa.tsv")
    message = error_for(path, task="wic")
    assert message.startswith("copa.tsv: the header is a NIKL 2021 / KoBEST v1 COPA file (copa), not wic.")
    assert "NIKL 2021 WiC: ID, Target" in message and "CoLA" not in message


def test_half_labelled_file_is_an_error(tmp_path):
    path = write(tmp_path, [COLA_HEADER, "A\t1\t\t가.", "B\t\t\t나.", "C\t0\t*\t다."], name="half.tsv")
    message = error_for(path)
    assert message.startswith('half.tsv: row 3, column "acceptability_label": expected a label, got an empty value')


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"", "the file is empty"),
        (b"\r\n\r\n", "the file is empty"),
        (COLA_HEADER.encode() + b"\r\n", "has a header but no data rows"),
        (b"PK\x03\x04rest-of-zip", "looks like an Excel/zip file"),
        (b"ID\tText\x00", "NUL byte"),
        (b"ID\tText\r\n\xff\xfe\xff", "line 2 is neither UTF-8 nor CP949"),
    ],
)
def test_unreadable_inputs(data, expected):
    assert expected in error_for(data, name="bad.tsv")


def test_missing_path_is_a_dataset_error(tmp_path):
    message = error_for(tmp_path / "nope.tsv")
    assert message.startswith("nope.tsv: cannot read")


# --------------------------------------------------------------------------- real data

needs_real_data = pytest.mark.skipif(not SHARED_DATA.is_dir(), reason="../shared/data is not present")

# From ../shared/data/README.md (NIKL) and counted once by hand (KoBEST; the README gives no counts).
REAL_FILES = {
    "nikl2021/cola/NIKL_CoLA_train.tsv": ("cola", "nikl2021_cola", 15876, True),
    "nikl2021/cola/NIKL_CoLA_dev.tsv": ("cola", "nikl2021_cola", 2032, True),
    "nikl2021/cola/NIKL_CoLA_test.tsv": ("cola", "nikl2021_cola_test", 1060, False),
    "nikl2021/wic/NIKL_SKT_WiC_Train.tsv": ("wic", "nikl2021_wic", 7748, True),
    "nikl2021/wic/NIKL_SKT_WiC_Dev.tsv": ("wic", "nikl2021_wic", 1166, True),
    "nikl2021/wic/NIKL_SKT_WiC_Test.tsv": ("wic", "nikl2021_wic", 1246, False),
    "nikl2021/copa/SKT_COPA_Train.tsv": ("copa", "copa", 3080, True),
    "nikl2021/copa/SKT_COPA_Dev.tsv": ("copa", "copa", 500, True),
    "nikl2021/copa/SKT_COPA_Test.tsv": ("copa", "copa", 500, False),
    "nikl2021/boolq/SKT_BoolQ_Train.tsv": ("boolq", "nikl2021_boolq", 3665, True),
    "nikl2021/boolq/SKT_BoolQ_Dev.tsv": ("boolq", "nikl2021_boolq", 700, True),
    "nikl2021/boolq/SKT_BoolQ_Test.tsv": ("boolq", "nikl2021_boolq", 704, False),
    "kobest_v1/boolq/train.tsv": ("boolq", "kobest_boolq", 3665, True),
    "kobest_v1/boolq/dev.tsv": ("boolq", "kobest_boolq", 700, True),
    "kobest_v1/copa/train.tsv": ("copa", "copa", 3076, True),
    "kobest_v1/copa/dev.tsv": ("copa", "copa", 500, True),
    "kobest_v1/wic/train.tsv": ("wic", "kobest_wic", 3318, True),
    "kobest_v1/wic/dev.tsv": ("wic", "kobest_wic", 610, True),
}


@pytest.fixture(scope="module")
def real():
    cache: dict[str, object] = {}

    def load(rel: str):
        if rel not in cache:
            cache[rel] = read_dataset(SHARED_DATA / rel)
        return cache[rel]

    return load


@needs_real_data
@pytest.mark.parametrize("rel", sorted(REAL_FILES))
def test_real_file_row_counts(rel, real):
    task, fmt, rows, labelled = REAL_FILES[rel]
    ds = real(rel)
    assert (ds.task, ds.format, ds.n_rows, len(ds.items), ds.labelled) == (task, fmt, rows, rows, labelled)
    # No field spans lines in these files, so data rows = non-blank lines - header.
    lines = (SHARED_DATA / rel).read_bytes().decode("utf-8-sig").splitlines()
    assert ds.n_rows == sum(1 for line in lines if line.strip()) - 1
    assert len({item.id for item in ds.items}) == rows


@needs_real_data
@pytest.mark.parametrize("rel", [r for r in REAL_FILES if r.startswith("nikl2021/wic/")])
def test_real_nikl_wic_spans_match_targets(rel, real):
    ds = real(rel)
    assert ds.warnings == []
    for item in ds.items:
        assert item.sentence1[slice(*item.span1)] == item.target, item
        assert item.sentence2[slice(*item.span2)] == item.target, item


@needs_real_data
def test_real_nikl_wic_test_keeps_leading_quote_marks(real):
    # Five test rows start with a quote mark that is text; their offsets count it.
    ds = real("nikl2021/wic/NIKL_SKT_WiC_Test.tsv")
    item = next(i for i in ds.items if i.row == 1245)
    assert item.sentence2.startswith('"경찰 아저씨한테') and item.sentence2[slice(*item.span2)] == "묻"


@needs_real_data
def test_real_kobest_wic_quirks(real):
    train, dev = real("kobest_v1/wic/train.tsv"), real("kobest_v1/wic/dev.tsv")
    assert dev.warnings == ['row 571: SENTENCE2[2:4] is "술집", not the Target "주류".']
    assert len(train.warnings) == 6 and sum("2 [bracketed] marks" in w for w in train.warnings) == 4
    for ds in (train, dev):
        for item in ds.items:
            for sentence, span in ((item.sentence1, item.span1), (item.sentence2, item.span2)):
                assert "[" not in sentence and "]" not in sentence
                if span and f"row {item.row}:" not in " ".join(ds.warnings):
                    assert sentence[slice(*span)] == item.target


@needs_real_data
@pytest.mark.parametrize("rel", [r for r in REAL_FILES if "/copa/" in r])
def test_real_copa_labels_and_questions(rel, real):
    ds = real(rel)
    assert {item.question for item in ds.items} == {"cause", "effect"}
    labels = {item.label for item in ds.items}
    assert labels == ({0, 1} if ds.labelled else {None})


@needs_real_data
@pytest.mark.parametrize("rel", [r for r in REAL_FILES if "/cola/" in r])
def test_real_cola_items_carry_no_annotation(rel, real):
    ds = real(rel)
    marks = {"*", "?", "??", "#"}
    for item in ds.items:
        assert isinstance(item, ColaItem)
        assert not marks & {str(v) for v in dataclasses.astuple(item)}
        assert item.sentence and item.sentence == item.sentence.strip()


@needs_real_data
def test_real_boolq_keeps_quotes_that_are_text(real):
    ds = real("nikl2021/boolq/SKT_BoolQ_Train.tsv")
    assert sum(item.question.startswith('"') or item.passage.startswith('"') for item in ds.items) >= 10
    assert all(item.label in (0, 1) for item in ds.items)


@needs_real_data
@pytest.mark.parametrize(("rel", "task", "n"), [("kobest_v1/sentineg/train.tsv", "sentineg", 3649),
                                                ("kobest_v1/sentineg/dev.tsv", "sentineg", 400)])
def test_real_kobest_files_of_added_tasks_are_read_by_their_task(rel, task, n):
    ds = read_dataset(SHARED_DATA / rel)
    assert (ds.task, len(ds.items), ds.labelled, ds.warnings) == (task, n, True, [])


@pytest.mark.parametrize("header", [WIC_HEADER, KOBEST_WIC_HEADER, COPA_HEADER, COLA_HEADER, BOOLQ_HEADER])
def test_mangled_files_raise_only_dataset_errors(header):
    """Random edits (stray tabs, quotes, line breaks, junk values) never leak another exception."""
    rows = {
        WIC_HEADER: "1\t배\t배가 아프다.\t배를 타다.\tFalse\t0\t1\t0\t1",
        KOBEST_WIC_HEADER: "1\t배\t[배]가 아프다.\t1\thttp://x\t[배]를 타다.\t2\thttp://y\tTrue",
        COPA_HEADER: "1\t바지가 헐렁하다.\t결과\t밑단을 잘랐다\t벨트를 맸다.\t1",
        COLA_HEADER: "T1\t1\t\t높은 달이 떴다.",
        BOOLQ_HEADER: "1\t본문이다.\t질문인가?\t0",
    }
    text = "\r\n".join([header] + [rows[header]] * 4)
    rng = __import__("random").Random(header)
    for _ in range(300):
        chars = list(text)
        for _ in range(rng.randint(1, 4)):
            where = rng.randrange(1, len(chars))
            edit = rng.choice(["\t", '"', "\r\n", "", "[", "]", "x", "1e400", "nan", "-1", "9"])
            chars[where:where + rng.randint(0, 2)] = [edit]
        try:
            read_dataset("".join(chars).encode("utf-8"), name="mangled.tsv")
        except DatasetError as exc:
            assert str(exc).startswith("mangled.tsv: ")


def test_damaged_utf8_is_not_mistaken_for_cp949():
    good = "\r\n".join([COLA_TEST_HEADER, "0\t나는 철수에게 공을 던졌다.", "1\t먹은 것을 다 소화시켜야 한다."]).encode("utf-8")
    damaged = good.replace("먹".encode("utf-8"), "먹".encode("utf-8")[:2])  # a truncated character on line 3
    assert "line 3 is not valid UTF-8" in error_for(damaged, name="d.tsv")


# --------------------------------------------------------------------------- bounded reads


def test_fifos_devices_and_folders_are_refused_without_reading(tmp_path):
    import os

    os.mkfifo(tmp_path / "fifo.tsv")  # reading a FIFO with no writer would block forever
    for path, kind in (("/dev/zero", "a character device"), (tmp_path / "fifo.tsv", "a FIFO"), (tmp_path, "a folder")):
        with pytest.raises(DatasetError, match=f"not a regular file \\({kind}\\)"):
            read_dataset(path)


def test_uploads_and_files_over_the_data_limit_are_refused(tmp_path, monkeypatch):
    import io

    import explorer.data.readers as readers

    monkeypatch.setattr(readers, "DATA_LIMIT", 64)
    header = b"index\tsentence\tacceptability_label\n"
    small = header + b"1\t\xec\xb1\x85\xec\x9d\xb4 \xec\x9e\x88\xeb\x8b\xa4.\t\n"
    assert len(read_dataset(small, "ok.tsv").items) == 1
    big = small + b"2\t" + b"x" * 64 + b"\t\n"
    for upload in (big, io.BytesIO(big)):
        with pytest.raises(DatasetError, match="over 64 bytes"):
            read_dataset(upload, "big.tsv")
    (tmp_path / "big.tsv").write_bytes(big)
    with pytest.raises(DatasetError, match="may be at most 64 bytes"):
        read_dataset(tmp_path / "big.tsv")


def test_the_dataset_carries_the_hash_of_the_bytes_read():
    import hashlib

    data = "index\tsentence\tacceptability_label\n1\t책이 있다.\t\n".encode()
    assert read_dataset(data, "t.tsv").sha256 == hashlib.sha256(data).hexdigest()[:12]
