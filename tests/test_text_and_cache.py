import threading
import time
import unicodedata

from explorer.cache import ModelCache
from explorer.text import split_sentences


def test_split_cleans_control_characters_and_blank_lines():
    out = split_sentences("  나는\x00 학교에\t갔다.  \n\n   \n😀 이모지 문장\u200b\n")
    assert out.sentences == ["나는 학교에 갔다.", "😀 이모지 문장"]
    assert "control" in out.notes[0]


def test_decomposed_hangul_is_composed():
    nfd = unicodedata.normalize("NFD", "책이 있다")
    assert split_sentences(nfd).sentences == ["책이 있다"]


def test_empty_input_gives_no_sentences():
    assert split_sentences("   \n \t ").sentences == []
    assert split_sentences("").sentences == []


def test_too_many_lines_are_capped_with_a_note():
    out = split_sentences("\n".join(f"문장 {i}" for i in range(620)), max_lines=500)
    assert len(out.sentences) == 500 and "500 of 620" in out.notes[-1]


def test_cache_evicts_least_recently_used():
    cache: ModelCache[str] = ModelCache(max_items=2, size=len)
    cache.get("a", lambda: "A")
    cache.get("b", lambda: "B")
    cache.get("a", lambda: "A2")  # touch a
    cache.get("c", lambda: "C")
    assert cache.keys() == ["a", "c"]


def test_cache_is_bounded_by_bytes_least_recently_used_first():
    cache: ModelCache[str] = ModelCache(max_bytes=10, max_items=9, size=len)
    cache.get("a", lambda: "x" * 4)
    cache.get("b", lambda: "x" * 4)
    cache.get("a", lambda: "unused")  # touch a: b is now the least recently used
    assert cache.bytes_used() == 8
    cache.get("c", lambda: "x" * 3)  # 11 > 10: b goes, not a
    assert cache.keys() == ["a", "c"] and cache.bytes_used() == 7


def test_a_model_larger_than_the_budget_is_kept_alone():
    """Still usable, but everything else goes for it; values sized None (Kiwi) stay outside the bound."""
    cache: ModelCache[str] = ModelCache(max_bytes=10, max_items=9, size=lambda v: None if v == "kiwi" else len(v))
    cache.get("kiwi", lambda: "kiwi")
    cache.get("a", lambda: "x" * 4)
    cache.get("b", lambda: "x" * 5)
    cache.get("big", lambda: "x" * 25)
    assert cache.keys() == ["kiwi", "big"] and cache.bytes_used() == 25


def test_the_item_bound_counts_models_only():
    cache: ModelCache[str] = ModelCache(max_bytes=None, max_items=2, size=lambda v: None if v == "kiwi" else len(v))
    for key in ("kiwi", "a", "b", "c"):
        cache.get(key, lambda key=key: key)
    assert cache.keys() == ["kiwi", "b", "c"]


def test_weight_bytes_counts_parameters_and_buffers_once():
    import torch

    from explorer.cache import weight_bytes

    class Tied(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.emb = torch.nn.Embedding(10, 4)
            self.out = torch.nn.Linear(4, 10, bias=False)
            self.out.weight = self.emb.weight  # tied: one tensor
            self.register_buffer("ids", torch.arange(6))  # int64

    class Loaded:
        model = Tied().half()

    assert weight_bytes(Tied()) == 40 * 4 + 6 * 8
    assert weight_bytes(Loaded()) == 40 * 2 + 6 * 8  # a LoadedModel is sized by its .model
    assert weight_bytes("a Kiwi scorer") is None


def test_concurrent_requests_load_once():
    cache: ModelCache[int] = ModelCache(max_items=2, size=lambda v: 1)
    calls = []

    def slow_load() -> int:
        calls.append(1)
        time.sleep(0.2)
        return 42

    results = []
    threads = [threading.Thread(target=lambda: results.append(cache.get("m", slow_load))) for _ in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [42] * 5 and len(calls) == 1


def test_failed_load_is_not_cached():
    cache: ModelCache[int] = ModelCache(max_items=2)

    def boom() -> int:
        raise RuntimeError("broken")

    try:
        cache.get("m", boom)
    except RuntimeError:
        pass
    assert cache.get("m", lambda: 7) == 7


# --- is it Korean? -------------------------------------------------------------------------------

def test_hangul_share_counts_letters_only():
    from explorer.text import hangul_share

    assert hangul_share("나는 학교에 갔다.") == 1.0
    assert hangul_share("2024년 3월에 갔다!") == 1.0  # digits and punctuation are not letters
    assert hangul_share(unicodedata.normalize("NFD", "책이 있다")) == 1.0  # decomposed jamo are Hangul
    assert hangul_share("ㅋㅋㅋ") == 1.0
    assert hangul_share("hello") == 0.0
    assert hangul_share("iPhone을 샀다.") == 3 / 9
    for nothing_korean in ("😀", "12345", "?!", "", "<script>alert(1)</script>", "日本語"):
        assert hangul_share(nothing_korean) == 0.0


def test_script_note_names_each_text_with_little_or_no_korean():
    from explorer.text import HANGUL_MIN_SHARE, script_note

    assert script_note({"the question": "김민수는 간호사인가?", "the passage": "BTS의 노래를 들었다."}) == ""
    assert script_note({"the question": "😀"}).startswith("The question has no Korean: the models were trained on Korean")
    both = script_note({"sentence 1": "hello", "sentence 2": "<b>x</b>", "the target": "배"})
    assert both.startswith("Sentence 1 and sentence 2 have no Korean")
    little = script_note({"this input": "I love 김치"})  # 2 of 7 letters are Hangul
    assert 2 / 7 < HANGUL_MIN_SHARE and little.startswith("This input has little Korean (under 30% of the letters")
    assert script_note({"this input": "iPhone을 샀다."}) == ""  # a Korean sentence with a foreign name
