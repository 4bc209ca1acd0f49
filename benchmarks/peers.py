"""The live path: typed sentences × 3 models, for one peer and for eight at the same moment.

Three models (the two CoLA demos and multilingual-e5-small with a fresh head),
each asked through `Explorer.predict`, the call every task page makes.

- **Interactive:** one peer's request (3 new sentences × 3 models) against the raw
  forward passes it needs (per model: tokenize the 3 sentences, one padded forward
  pass), alternating; and a rerun with the same inputs, which must run no forward
  pass at all (counted with forward hooks).
- **Peers at once:** eight threads (Streamlit serves each browser session in a
  thread of one process) each send their own 3 sentences × 3 models at the same
  moment; the time until all have answers, against one peer alone. Beside it the
  old way, every thread running its own forward passes side by side ("racing"),
  and whether the shared answers equal serial ones.

    PYTHONPATH=. .venv/bin/python benchmarks/peers.py [REPEATS]
"""

from __future__ import annotations

import sys
import threading
import time
from pathlib import Path

import torch

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))
from common import cola_sentences, e5_classifier, spread, target, write  # noqa: E402

from explorer.registry import folder_entry  # noqa: E402
from explorer.service import Explorer  # noqa: E402
from explorer.settings import load_settings  # noqa: E402
from explorer.tasks.cola import ColaItem  # noqa: E402

PEERS = 8
PER_PEER = 3  # sentences a peer types
REPEATS = 5


class Sentences:
    """Never-seen sentences on every call, so no answer comes from the memo."""

    def __init__(self) -> None:
        self.pool, _ = cola_sentences(2000)
        self.next = 0

    def take(self, n: int) -> list[ColaItem]:
        out = [ColaItem(f"s{self.next + k}", self.pool[(self.next + k) % len(self.pool)] + f" ({self.next + k})", None)
               for k in range(n)]
        self.next += n
        return out


def models(explorer: Explorer):
    entries, _ = explorer.registry()
    chosen = [e for e in entries if e.name in ("demo-electra-cola", "demo-bert-cola")]
    chosen.append(folder_entry(e5_classifier(), "benchmark"))
    return chosen


@torch.inference_mode()
def raw(loaded_models, items) -> None:
    """What the request needs at the least: one padded forward pass per model."""
    texts = [i.sentence for i in items]
    for m in loaded_models:
        enc = m.tokenizer(texts, padding=True, truncation=True, max_length=m.max_length, return_tensors="pt")
        m.model(**enc)


def count_forwards(loaded_models) -> tuple[list[int], list]:
    counter = [0]
    hooks = [m.model.register_forward_hook(lambda *_: counter.__setitem__(0, counter[0] + 1)) for m in loaded_models]
    return counter, hooks


def at_once(n: int, work) -> float:
    """Seconds until ``n`` threads, released together, have all run ``work(k)``."""
    start = threading.Barrier(n + 1)
    errors: list[BaseException] = []

    def run(k: int) -> None:
        start.wait()
        try:
            work(k)
        except BaseException as exc:  # noqa: BLE001 - reported after the run
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(k,)) for k in range(n)]
    for t in threads:
        t.start()
    start.wait()
    t0 = time.perf_counter()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]
    return time.perf_counter() - t0


def main(repeats: int) -> dict:
    explorer = Explorer(load_settings([]))
    entries = models(explorer)
    loaded = [explorer.load(e) for e in entries]
    fresh = Sentences()
    explorer.predict(entries, "cola", fresh.take(PER_PEER))  # warm-up: lazy imports, allocator growth
    raw(loaded, fresh.take(PER_PEER))

    page, bare, rerun, rerun_forwards = [], [], [], []
    for _ in range(repeats):  # alternate the page's path and the raw passes
        items = fresh.take(PER_PEER)
        t = time.perf_counter()
        explorer.predict(entries, "cola", items)
        page.append(time.perf_counter() - t)
        t = time.perf_counter()
        raw(loaded, fresh.take(PER_PEER))
        bare.append(time.perf_counter() - t)
        counter, hooks = count_forwards(loaded)
        t = time.perf_counter()
        explorer.predict(entries, "cola", items)  # the rerun: same sentences, same models
        rerun.append(time.perf_counter() - t)
        rerun_forwards.append(counter[0])
        for h in hooks:
            h.remove()

    one, one_raw, shared, racing, dp, same = [], [], [], [], 0.0, True
    for _ in range(repeats):
        alone_items = fresh.take(PER_PEER)
        one.append(at_once(1, lambda k: explorer.predict(entries, "cola", alone_items)))
        batches = [fresh.take(PER_PEER) for _ in range(PEERS)]
        answers: dict[int, list] = {}
        shared.append(at_once(PEERS, lambda k: answers.__setitem__(k, explorer.predict(entries, "cola", batches[k]))))
        racing.append(at_once(PEERS, lambda k: raw(loaded, batches[k])))
        one_raw.append(at_once(1, lambda k: raw(loaded, alone_items)))
        explorer.memo = type(explorer.memo)()  # forget, so the serial answers below are computed again
        for k in range(PEERS):
            serial = explorer.predict(entries, "cola", batches[k])
            for a, b in zip(answers[k], serial):
                for pa, pb in zip(a.predictions, b.predictions):
                    dp = max(dp, abs(pa.p1 - pb.p1))
                    same &= pa.label == pb.label

    med = lambda xs: spread(xs)["median"]  # noqa: E731
    report = {
        "models": [e.name for e in entries], "sentences_per_peer": PER_PEER, "peers": PEERS, "repeats": repeats,
        "seconds": {"page path": spread(page), "raw forwards": spread(bare), "rerun": spread(rerun),
                    "one peer": spread(one), f"{PEERS} peers shared": spread(shared),
                    f"{PEERS} peers racing": spread(racing), "one peer raw": spread(one_raw)},
        "page_over_raw": med(page) / med(bare), "rerun_forward_passes": max(rerun_forwards),
        "rerun_over_raw": med(rerun) / med(bare),
        "peers_over_one": med(shared) / med(one), "racing_over_one": med(racing) / med(one_raw),
        "max_dp_shared_vs_serial": dp, "labels_equal_serial": same,
    }
    report["targets"] = [
        target("interactive: page path / raw forward passes (3 sentences × 3 models)", report["page_over_raw"], 1.2,
               better="lower"),
        target("interactive: forward passes on an unchanged rerun", float(report["rerun_forward_passes"]), 0.0,
               better="lower", unit=""),
        target(f"{PEERS} peers at once / one peer (shared passes)", report["peers_over_one"], 2.0, better="lower"),
        target(f"{PEERS} peers: max |ΔP| shared vs serial", dp, 1e-5, better="lower", unit=""),
    ]
    for name, s in report["seconds"].items():
        print(f"{name:<22}{s['min']:>8.3f}{s['median']:>8.3f}{s['max']:>8.3f} s")
    print(f"page/raw {report['page_over_raw']:.2f}× · rerun: {report['rerun_forward_passes']} forward passes, "
          f"{report['rerun_over_raw']:.2f}× raw · {PEERS} peers: shared {report['peers_over_one']:.2f}× one peer, "
          f"racing {report['racing_over_one']:.2f}× · max |ΔP| vs serial {dp:.1e}, labels equal: {same}")
    return report


if __name__ == "__main__":
    write("peers", main(int(sys.argv[1]) if len(sys.argv) > 1 else REPEATS))
