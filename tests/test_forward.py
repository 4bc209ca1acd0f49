"""Peers scoring one model at the same moment share its forward passes (explorer/forward.py).

The tests hold the first caller's forward pass until the others have queued, so
sharing is certain rather than a matter of timing, and compare every shared
answer with the one the same caller gets alone.
"""

from __future__ import annotations

import threading
import time

import pytest

from explorer.forward import MAX_ROWS, queue_for, token_batches
from explorer.registry import folder_entry
from explorer.service import Explorer
from explorer.settings import Settings
from explorer.tasks.common import classify

PEERS = 8
SENTENCES = ["나는 학교에 갔다.", "책이 책상 위에 있다.", "비가 온다.", "Hello 👋 world", "어제 친구와 도서관에 갔다.",
             "그는 밥을 먹었다.", "고양이가 잔다.", "바람이 분다 🌬️"]


def wait_for(condition, what: str, limit: float = 60.0) -> None:
    """Wait until ``condition()`` holds (a generous limit only guards against a hang)."""
    end = time.monotonic() + limit
    while not condition():
        if time.monotonic() > end:
            raise AssertionError(f"still waiting for {what}")
        time.sleep(0.005)


@pytest.fixture()
def model(make_checkpoint, tmp_path):
    folder = make_checkpoint("bert", name="forward-cola", finetuning_task="cola", seed=3)
    explorer = Explorer(Settings(checkpoints_dir=tmp_path, models_toml=tmp_path / "models.toml",
                                 cache_dir=tmp_path / "cache", device="cpu", include_defaults=False))
    return explorer.load(folder_entry(folder, "test"))


def hold_first_pass(loaded):
    """Make the model's first forward pass wait for ``release``; returns (release, entered)."""
    release, entered = threading.Event(), threading.Event()

    def pre_hook(module, args, kwargs):
        if not entered.is_set():
            entered.set()
            assert release.wait(60), "the test never released the first pass"

    handle = loaded.model.register_forward_pre_hook(pre_hook, with_kwargs=True)
    return release, entered, handle


def test_token_batches_keep_every_row_once_within_the_budget():
    lengths = [5, 40, 3, 3, 200, 17, 9, 9, 9, 1]
    batches = token_batches(lengths, budget=60)
    assert sorted(i for b in batches for i in b) == list(range(len(lengths)))
    flat = [lengths[i] for b in batches for i in b]
    assert flat == sorted(flat)  # length order: rows of like length share a batch
    for b in batches:
        assert len(b) * max(lengths[i] for i in b) <= 60 or len(b) == 1  # a row over budget runs alone
    assert [4] in batches  # the 200-token row
    assert max(len(b) for b in token_batches([1] * 2000, budget=10**6)) == MAX_ROWS


def test_peers_at_once_share_passes_and_get_their_own_answers(model):
    alone = {s: classify(model, [s, s + " 정말"])[0].probs for s in SENTENCES}
    queue = queue_for(model)
    release, entered, handle = hold_first_pass(model)
    results: dict[str, list] = {}
    progress_threads: dict[str, set] = {s: set() for s in SENTENCES}

    def peer(sentence: str) -> None:
        results[sentence] = classify(model, [sentence, sentence + " 정말"],
                                     progress=lambda done, total: progress_threads[sentence].add(threading.get_ident()))

    threads = [threading.Thread(target=peer, args=(SENTENCES[0],))]
    threads[0].start()
    assert entered.wait(60)
    rounds_before = queue.rounds
    threads += [threading.Thread(target=peer, args=(s,)) for s in SENTENCES[1:]]
    for t in threads[1:]:
        t.start()
    wait_for(lambda: len(queue._pending) == PEERS - 1, "the other peers to queue")
    release.set()
    for t in threads:
        t.join(60)
    handle.remove()
    assert not any(t.is_alive() for t in threads)
    assert queue.rounds - rounds_before == 1  # the seven who queued shared one round
    assert queue.shared >= 1
    for s in SENTENCES:
        assert results[s][0].probs == pytest.approx(alone[s], abs=1e-6)
        assert results[s][0].n_tokens == classify(model, [s])[0].n_tokens
        assert progress_threads[s] <= {t.ident for t in threads}  # each peer hears progress in its own thread
        assert len(progress_threads[s]) == 1


def test_a_peer_whose_page_stops_does_not_stop_the_others(model):
    """Streamlit stops a rerun script by raising from its next call, e.g. a progress bar's update."""

    class Stopped(BaseException):
        pass

    def stop(done, total):
        raise Stopped()

    queue = queue_for(model)
    release, entered, handle = hold_first_pass(model)
    answers, raised = {}, []

    def leader():
        try:
            classify(model, SENTENCES[:2], progress=stop)
        except Stopped:
            raised.append(True)

    def follower():
        answers["f"] = classify(model, SENTENCES[2:4])

    a, b = threading.Thread(target=leader), threading.Thread(target=follower)
    a.start()
    assert entered.wait(60)
    b.start()
    wait_for(lambda: len(queue._pending) == 1, "the follower to queue")
    release.set()
    a.join(60), b.join(60)
    handle.remove()
    assert raised == [True]
    assert [p for s in answers["f"] for p in s.probs] == pytest.approx(
        [p for s in classify(model, SENTENCES[2:4]) for p in s.probs], abs=1e-6)
    assert classify(model, SENTENCES[:1])  # the queue still serves afterwards


def test_a_faulty_request_fails_alone(model):
    """A shared round that fails is rerun caller by caller: only the faulty caller gets the error."""
    queue = queue_for(model)
    good = [{"input_ids": model.tokenizer(s)["input_ids"]} for s in SENTENCES[:2]]
    bad = [{"input_ids": [10**7, 10**7]}]  # an id beyond the vocabulary
    release, entered, handle = hold_first_pass(model)
    outcome = {}

    def ask(name, rows):
        try:
            outcome[name] = queue.run(rows)
        except Exception as exc:  # noqa: BLE001 - the assertion names it
            outcome[name] = exc

    first = threading.Thread(target=ask, args=("first", good[:1]))
    first.start()
    assert entered.wait(60)
    peers = [threading.Thread(target=ask, args=("good", good)), threading.Thread(target=ask, args=("bad", bad))]
    for t in peers:
        t.start()
    wait_for(lambda: len(queue._pending) == 2, "both peers to queue")
    release.set()
    for t in [first, *peers]:
        t.join(60)
    handle.remove()
    assert isinstance(outcome["bad"], IndexError)
    assert outcome["good"].shape == (2, 2) and outcome["first"].shape == (1, 2)


def test_a_model_dropped_from_the_cache_is_freed_after_scoring(make_checkpoint, tmp_path):
    """The cache's memory bound needs the queue to let go of an evicted model's weights."""
    import gc
    import weakref

    folder = make_checkpoint("bert", name="forward-freed", finetuning_task="cola", seed=4)
    explorer = Explorer(Settings(checkpoints_dir=tmp_path, models_toml=tmp_path / "models.toml",
                                 cache_dir=tmp_path / "cache", device="cpu", include_defaults=False, max_models=1))
    entry = folder_entry(folder, "test")
    loaded = explorer.load(entry)
    classify(loaded, SENTENCES[:3])
    weights = weakref.ref(loaded.model)
    del loaded
    other = make_checkpoint("bert", name="forward-other", finetuning_task="cola", seed=5)
    explorer.load(folder_entry(other, "test"))  # evicts the first (a bound of one model)
    gc.collect()
    assert weights() is None


def test_multiple_choice_peers_share_passes_too(make_checkpoint, tmp_path):
    """COPA/HellaSwag heads score blocks of endings; peers' blocks of one size share a pass."""
    from explorer.tasks.common import choose

    folder = make_checkpoint("bert", name="forward-copa", head="multiple_choice", finetuning_task="copa", seed=6)
    explorer = Explorer(Settings(checkpoints_dir=tmp_path, models_toml=tmp_path / "models.toml",
                                 cache_dir=tmp_path / "cache", device="cpu", include_defaults=False))
    loaded = explorer.load(folder_entry(folder, "test"))
    asks = [(SENTENCES[k], [SENTENCES[k + 1], SENTENCES[k + 2]]) for k in range(4)]
    alone = [choose(loaded, [first], [endings])[0] for first, endings in asks]
    queue = queue_for(loaded)
    release, entered, handle = hold_first_pass(loaded)
    got = {}

    def peer(k):
        got[k] = choose(loaded, [asks[k][0]], [asks[k][1]])[0]

    threads = [threading.Thread(target=peer, args=(k,)) for k in range(len(asks))]
    threads[0].start()
    assert entered.wait(60)
    rounds = queue.rounds
    for t in threads[1:]:
        t.start()
    wait_for(lambda: len(queue._pending) == len(asks) - 1, "the other peers to queue")
    release.set()
    for t in threads:
        t.join(60)
    handle.remove()
    assert queue.rounds - rounds == 1
    for k, a in enumerate(alone):
        assert got[k].probs == pytest.approx(a.probs, abs=1e-6) and got[k].n_tokens == a.n_tokens


def test_peers_in_different_precisions_never_share_a_pass(model):
    """A bf16 peer and an fp32 peer at once: each gets the answer of its own precision."""
    from explorer.device import cpu_has_bf16

    if not cpu_has_bf16():
        pytest.skip("this CPU has no bf16 matmul (AMX/AVX512-BF16)")
    alone = {p: classify(model, SENTENCES[:2], precision=p) for p in ("fp32", "bf16")}
    queue = queue_for(model)
    release, entered, handle = hold_first_pass(model)
    got = {}

    def peer(precision):
        got[precision] = classify(model, SENTENCES[:2], precision=precision)

    first = threading.Thread(target=peer, args=("fp32",))
    first.start()
    assert entered.wait(60)
    rounds = queue.rounds
    others = [threading.Thread(target=peer, args=(p,)) for p in ("bf16", "fp32")]
    others[0].start()
    wait_for(lambda: len(queue._pending) == 1, "the bf16 peer to queue")
    got_second = {}
    others[1] = threading.Thread(target=lambda: got_second.setdefault("fp32", classify(model, SENTENCES[:2])))
    others[1].start()
    wait_for(lambda: len(queue._pending) == 2, "the second fp32 peer to queue")
    release.set()
    for t in [first, *others]:
        t.join(60)
    handle.remove()
    assert queue.rounds - rounds == 2  # fp32 and bf16 each had a round of their own
    for p in ("fp32", "bf16"):
        assert [x for s in got[p] for x in s.probs] == pytest.approx([x for s in alone[p] for x in s.probs], abs=1e-6)
    assert [x for s in got_second["fp32"] for x in s.probs] == pytest.approx(
        [x for s in alone["fp32"] for x in s.probs], abs=1e-6)
