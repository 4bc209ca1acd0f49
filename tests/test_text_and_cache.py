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
    cache: ModelCache[str] = ModelCache(2)
    cache.get("a", lambda: "A")
    cache.get("b", lambda: "B")
    cache.get("a", lambda: "A2")  # touch a
    cache.get("c", lambda: "C")
    assert cache.keys() == ["a", "c"]


def test_concurrent_requests_load_once():
    cache: ModelCache[int] = ModelCache(2)
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
    cache: ModelCache[int] = ModelCache(2)

    def boom() -> int:
        raise RuntimeError("broken")

    try:
        cache.get("m", boom)
    except RuntimeError:
        pass
    assert cache.get("m", lambda: 7) == 7
