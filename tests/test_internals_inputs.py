"""The Inside-a-model page's inputs: one line per item, encoded per checkpoint."""

from explorer.internals.inputs import EXAMPLES, MAX_INPUTS, item_text, parse


def test_examples_parse_for_every_task():
    for task, text in EXAMPLES.items():
        parsed = parse(task, text)
        assert parsed.items and not parsed.problems, task
        assert all(item_text(i, task) for i in parsed.items)


def test_cola_single_sentences_and_generic_pairs():
    pairs = parse("cola", "책이 있다. | 비가 왔다.\n나는 갔다. | 눈이 왔다.")
    assert pairs.firsts == ["책이 있다.", "나는 갔다."] and pairs.seconds == ["비가 왔다.", "눈이 왔다."]
    assert parse("cola", "책이 있다.").seconds is None
    mixed = parse("cola", "책이 있다.\n나는 갔다. | 비가 왔다.")
    assert mixed.firsts == ["책이 있다.", "나는 갔다."] and mixed.seconds is None
    assert any("mixed" in n for n in mixed.notes)


def test_wic_rows_follow_the_checkpoint_input_format():
    line = "배 | 배가 아프다. | 배를 탔다."
    plain = parse("wic", line)
    marked = parse("wic", line, input_format="marked")
    assert (plain.rows[0].first, plain.rows[0].second) == ("배가 아프다.", "배를 탔다.")
    assert (marked.rows[0].first, marked.rows[0].second) == ("[배]가 아프다.", "[배]를 탔다.")


def test_wic_target_not_found_is_a_note_not_a_skip():
    parsed = parse("wic", "사과 | 배가 아프다. | 배를 탔다.", input_format="marked")
    assert len(parsed.rows) == 1 and parsed.rows[0].first == "배가 아프다."
    assert any("line 1" in n and "not found" in n for n in parsed.notes)


def test_copa_gives_one_row_per_alternative():
    parsed = parse("copa", "비가 왔다. | 결과 | 길이 젖었다. | 해가 떴다.")
    assert [r.choice for r in parsed.rows] == [0, 1]
    assert parsed.rows[0].first == parsed.rows[1].first == "비가 왔다."
    assert parsed.rows[0].second.endswith("길이 젖었다.") and parsed.rows[1].label == "1·alt 2"
    assert parsed.rows_of(0) == parsed.rows


def test_bad_lines_name_their_line_and_keep_the_rest():
    parsed = parse("copa", "비가 왔다. | 결과 | 길이 젖었다. | 해가 떴다.\n한 필드만\n비가 왔다. | 왜 | a | b")
    assert len(parsed.items) == 1
    assert parsed.problems[0].startswith("line 2:") and "PREMISE" in parsed.problems[0]
    assert parsed.problems[1].startswith("line 3:") and "원인" in parsed.problems[1]


def test_inputs_are_capped():
    parsed = parse("cola", "\n".join(f"문장 {i}." for i in range(MAX_INPUTS + 3)))
    assert len(parsed.items) == MAX_INPUTS and any(str(MAX_INPUTS) in n for n in parsed.notes)


def test_an_unknown_input_format_is_a_problem_not_a_crash():
    parsed = parse("wic", "배 | 배가 아프다. | 배를 탔다.", input_format="bracketed")
    assert not parsed.rows and "bracketed" in parsed.problems[0]
