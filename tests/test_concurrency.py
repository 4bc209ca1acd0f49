"""Many sessions predicting on one shared model at the same moment.

Streamlit runs every browser session in its own thread of one process, and the
model cache hands all of them the same ``LoadedModel``. A fast tokenizer keeps
its padding/truncation settings in its Rust backend and every call rewrites
them, so unguarded calls from two threads mix each other's settings: ragged
batches ("Unable to create tensor") or wrong token counts.
"""

from __future__ import annotations

import copy
import random
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pytest

from explorer.internals.attributions import attribute
from explorer.internals.padding import token_grid, token_lengths
from explorer.registry import folder_entry
from explorer.service import Explorer
from explorer.settings import Settings
from explorer.tasks.common import choose, classify, thread_safe_tokenizer, tokenizer_lock

THREADS = 8
ROUNDS = 40  # each job runs this often, all jobs shuffled across the threads

SHORT = ["나는 학교에 갔다.", "책이 책상 위에 있다.", "비가 온다."]
# Longer than the tiny models' 64 positions, so truncation drops tokens.
LONG = [" ".join(["어제 친구와 함께 도서관에 가서 책을 많이 읽었다."] * 9), " ".join(["비가 와서 길이 미끄럽다."] * 14)]


@pytest.fixture(scope="module")
def models(make_checkpoint, tmp_path_factory):
    """A sequence classifier and a multiple-choice model, loaded the way the app loads them."""
    seq_dir = make_checkpoint("bert", name="conc-cola", finetuning_task="cola", seed=1)
    mc_dir = make_checkpoint("bert", name="conc-copa", head="multiple_choice", finetuning_task="copa", seed=2)
    root = tmp_path_factory.mktemp("conc")
    explorer = Explorer(Settings(checkpoints_dir=root, models_toml=root / "models.toml", cache_dir=root / "cache",
                                 device="cpu", include_defaults=False))
    return explorer.load(folder_entry(seq_dir, "test")), explorer.load(folder_entry(mc_dir, "test"))


def _scored(rows) -> list[tuple]:
    return [(tuple(s.probs), s.n_tokens, s.n_dropped) for s in rows]


def _jobs(seq, mc) -> dict[str, Callable[[], object]]:
    singles = SHORT + LONG
    firsts, seconds = [LONG[0], SHORT[0], LONG[1]], [SHORT[1], LONG[1], SHORT[2]]
    return {
        "singles": lambda: _scored(classify(seq, singles, batch_size=2)),
        "one text": lambda: _scored(classify(seq, [SHORT[2]])),
        "pairs longest_first": lambda: _scored(classify(seq, firsts, seconds, batch_size=2)),
        "pairs only_first": lambda: _scored(classify(seq, [LONG[0], SHORT[0], LONG[1]], SHORT, truncation="only_first")),
        "choose": lambda: _scored(choose(mc, [SHORT[0], LONG[0]], [[SHORT[1], SHORT[2]], [LONG[1], SHORT[1]]])),
        "attribution": lambda: attribute(seq, LONG[0], SHORT[1], method="saliency").scores,
        "attribution mc": lambda: attribute(mc, SHORT[0], endings=[SHORT[1], LONG[1]], method="saliency").scores,
        "token grid": lambda: [[c["token"] for c in row] for row in token_grid(seq.tokenizer, singles, None, padding="longest")],
        "token lengths": lambda: token_lengths(seq.tokenizer, firsts, seconds),
    }


def _same(a, b) -> bool:
    """Equal structure and counts; floats equal to 1e-5 (threads may split a reduction differently)."""
    if isinstance(a, float) or isinstance(b, float):
        return abs(a - b) <= 1e-5
    if isinstance(a, (list, tuple)):
        return isinstance(b, (list, tuple)) and len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    return a == b


def test_concurrent_predictions_equal_serial_ones(models):
    seq, mc = models
    jobs = _jobs(seq, mc)
    serial = {name: job() for name, job in jobs.items()}
    assert any(n_dropped for _, _, n_dropped in serial["singles"])  # the long texts really are truncated
    order = [name for name in jobs for _ in range(ROUNDS)]
    random.Random(0).shuffle(order)

    def run(name: str):
        try:
            return name, jobs[name](), None
        except Exception as exc:  # collected: the assertion below lists every failure
            return name, None, f"{type(exc).__name__}: {exc}"

    with ThreadPoolExecutor(THREADS) as pool:
        outcomes = list(pool.map(run, order))
    errors = [f"{name}: {error}" for name, _, error in outcomes if error]
    assert errors == []
    wrong = [name for name, result, _ in outcomes if not _same(result, serial[name])]
    assert wrong == []


def test_the_guard_survives_the_copy_internals_make(models):
    """``with_pad_token`` deep-copies a tokenizer: the copy must encode alike and have its own lock."""
    seq, _ = models
    tok = seq.tokenizer
    twin = copy.deepcopy(tok)
    assert tokenizer_lock(twin) is not tokenizer_lock(tok)
    assert twin(SHORT, padding=True)["input_ids"] == tok(SHORT, padding=True)["input_ids"]
    assert thread_safe_tokenizer(tok) is tok and type(thread_safe_tokenizer(tok)) is type(tok)  # idempotent
