"""The explorer as pages and the CLI use it: registry + model cache + scoring.

One ``Explorer`` per process. It holds the bounded model cache, so every
browser session shares loaded weights; a model that fails to load reports a
message and the other models keep working.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

from explorer.cache import ModelCache, PredictionMemo
from explorer.defaults.prepare import calibration_path, default_entries
from explorer.device import pick_device
from explorer.loading import CheckpointError, LoadedModel, load_encoder, load_model
from explorer.registry import ModelEntry, discover, find, folder_entry
from explorer.scorers import KIWI_FEATURES, KIWI_LM, KIWI_OVERLAP, capabilities
from explorer.settings import Settings
from explorer.tasks.common import thread_safe_tokenizer
from explorer.tasks.registry import get as get_task
from explorer.tasks.runs import TaskRun  # re-exported: pages and tests import it from here

if TYPE_CHECKING:
    from explorer.scorers import Scorer


def resolve_device(choice: str) -> str:
    """The device a choice runs on, spelt one way (``auto`` → ``cpu``; ``cuda`` → ``cuda:0``)."""
    import torch

    dev = pick_device(choice)
    if dev.type == "cuda" and dev.index is None:
        dev = torch.device("cuda", torch.cuda.current_device())
    return str(dev)


def _built_in_key(entry: ModelEntry) -> str:
    """A built-in scorer's cache key: its kind when one serves all, kind@file when it is fitted per entry."""
    return f"{entry.kind}@{entry.source}" if capabilities(entry).fitted else entry.kind


def disk_stamp(source: str) -> str:
    """When a local model last changed on disk: the newest modification time of its file, or of its folder's files.

    Part of a loaded model's cache key, so a model retrained or re-saved under the same path (``prepare --data``
    replaces its folder; a classmate copies a new epoch over the old) is loaded anew on the next rerun, not
    answered by the weights read before. Empty for a hub id. A few ``stat`` calls per rerun.
    """
    path = Path(source)
    try:
        if path.is_file():
            return str(path.stat().st_mtime_ns)
        if path.is_dir():
            return str(max((f.stat().st_mtime_ns for f in path.iterdir() if f.is_file()), default=0))
    except OSError:  # vanished between the checks: loading will say so
        pass
    return ""


def _unstamped(key: str) -> str:
    """A cache key without the ``#stamp`` ``Explorer._current_key`` adds (keys of shared scorers have none)."""
    return key.rpartition("#")[0] if "#" in key else key


def _with_task(entry: ModelEntry, task: str) -> ModelEntry:
    from dataclasses import replace

    return replace(entry, task=task, task_how=f"given as {task} on the command line")


class Explorer:
    """Process-wide access to models.

    Args:
        settings: Paths and limits.
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.cache: ModelCache[object] = ModelCache(settings.cache_bytes, settings.max_models)
        self.memo = PredictionMemo()  # answers per loaded model, so unchanged reruns do no model work

    def registry(self) -> tuple[list[ModelEntry], list[str]]:
        """Re-reads the registry; cheap, so new checkpoint folders appear on rerun."""
        return discover(self.settings, default_entries(self.settings))

    def entry(self, name_or_path: str) -> ModelEntry:
        """Finds a registered model, or registers a folder/hub id given directly.

        Raises:
            CheckpointError: when nothing by that name exists.
        """
        entries, _ = self.registry()
        found = find(entries, name_or_path)
        if found:
            return found
        path = Path(name_or_path)
        if path.exists():
            return folder_entry(path, "command line") if path.is_dir() else ModelEntry(
                name=path.name, source=str(path), problems=[f"{path} is a raw weights file: register it in models.toml with `base`."]
            )
        if "/" in name_or_path and not name_or_path.startswith((".", "/")):
            return ModelEntry(name=name_or_path, source=name_or_path, origin="hub id", task_how="from the hub config")
        raise CheckpointError(f"No model named {name_or_path!r}; `python -m explorer models` lists them.")

    def load(self, entry: ModelEntry, device: str | None = None) -> LoadedModel:
        """Loads (or reuses) a transformer checkpoint, shared by every session.

        Keyed by the device the choice resolves to, so ``auto`` and ``cpu`` on a
        CPU-only machine share one copy of the weights.
        """
        dev = resolve_device(device or self.settings.device)

        def build() -> LoadedModel:
            loaded = load_model(entry, dev)
            thread_safe_tokenizer(loaded.tokenizer)  # sessions will encode with it at the same moment
            return loaded

        return self.cache.get(self._current_key(f"{entry.source}@{dev}", disk_stamp(entry.source)), build)  # type: ignore[return-value]

    def _current_key(self, key: str, stamp: str) -> str:
        """``key#stamp``, after dropping the same key with another stamp: a model replaced on disk (``disk_stamp``)."""
        current = f"{key}#{stamp}"
        self.cache.drop(lambda held: held == current or _unstamped(held) != key)
        return current

    def is_loaded(self, entry: ModelEntry) -> bool:
        """Whether the entry's model is in memory now (on any device, as a task model or an encoder)."""
        keys = self.cache.keys()
        if not capabilities(entry).checkpoint:  # built-in scorers are cached under their own key (see built_in())
            return _built_in_key(entry) in {_unstamped(key) for key in keys}
        return any(k.startswith(f"{entry.source}@") for k in keys)

    def load_encoder(self, entry: ModelEntry):
        """Any local transformer as a torch module (task models loaded as usual, base encoders with AutoModel)."""
        if entry.task:
            return self.load(entry, "cpu").model
        key = self._current_key(f"{entry.source}@encoder", disk_stamp(entry.source))
        return self.cache.get(key, lambda: load_encoder(entry))

    def kiwi(self):
        """The shared Kiwi LM scorer with the prepared calibration."""
        from explorer.kiwi_lm import Calibration, KiwiLM

        return self.cache.get(KIWI_LM, lambda: KiwiLM(Calibration.load(calibration_path(self.settings))))

    def kiwi_overlap(self):
        """The BoolQ overlap baseline with its prepared calibration."""
        from explorer.defaults.prepare import overlap_path
        from explorer.kiwi_overlap import KiwiOverlap

        def build() -> KiwiOverlap:
            try:
                fitted = json.loads(overlap_path(self.settings).read_text(encoding="utf-8"))
                return KiwiOverlap(self.kiwi().morphemes, fitted["threshold"], fitted["scale"])
            except (OSError, ValueError, KeyError):
                return KiwiOverlap(self.kiwi().morphemes)

        return self.cache.get(KIWI_OVERLAP, build)

    def kiwi_features(self, entry: ModelEntry):
        """The Kiwi-features scorer fitted in the entry's file, over the shared Kiwi LM.

        Raises:
            CheckpointError: the file is missing or not a model this version reads.
        """
        from explorer.kiwi_features import FeatureModel, KiwiFeatures

        def build() -> KiwiFeatures:
            try:
                return KiwiFeatures(self.kiwi(), FeatureModel.load(Path(entry.source)))
            except ValueError as exc:
                raise CheckpointError(f"{entry.name}: {exc}") from None

        return self.cache.get(self._current_key(_built_in_key(entry), disk_stamp(entry.source)), build)

    def built_in(self, entry: ModelEntry):
        """The scorer of a built-in (not checkpoint) entry, built on first use and cached (``_built_in_key``)."""
        builders = {KIWI_LM: self.kiwi, KIWI_OVERLAP: self.kiwi_overlap, KIWI_FEATURES: lambda: self.kiwi_features(entry)}
        return builders[entry.kind]()

    def task_model(self, entry: ModelEntry, task: str, device: str | None = None):
        """A loaded model (or the Kiwi scorer) checked to fit ``task``.

        Raises:
            CheckpointError: the model cannot be loaded or is for another task.
        """
        caps = capabilities(entry)
        if not caps.answers(task):
            raise CheckpointError(f"{entry.name} {caps.refusal}")
        if not caps.checkpoint:
            return self.built_in(entry)
        if entry.task not in (None, task):
            raise CheckpointError(f"{entry.name} is a {entry.task} model ({entry.task_how}), not a {task} model.")
        if entry.task is None and entry.origin != "hub id" and entry.origin != "command line":
            raise CheckpointError(f"{entry.name} has no task ({entry.task_how}); set `task` in models.toml.")
        if entry.task is None:
            entry = _with_task(entry, task)
        return self.load(entry, device)

    def _remembered(self, scorer: Scorer, task, items: Sequence, input_format: str | None, progress) -> list:
        """``scorer.predict`` for the items it has not answered yet; the others come from the memo.

        The memo is keyed by the scorer's model object (``PredictionMemo``), so a page
        rerun or a peer asking the same thing costs no forward pass.
        """
        from dataclasses import replace

        model = getattr(scorer, "loaded", scorer)  # a checkpoint's wrapper is new each call; its model is cached
        precision = getattr(scorer, "precision", "fp32")
        keys = [(task.id, input_format, precision, item) for item in items]
        try:
            hash(tuple(keys))
        except TypeError:  # an item that cannot be a key (not hashable): no memo
            return scorer.predict(task, items, input_format, progress=progress)
        known = [self.memo.get(model, key) for key in keys]
        missing = [i for i, answer in enumerate(known) if answer is None]
        if missing:
            fresh = scorer.predict(task, [items[i] for i in missing], input_format, progress=progress)
            for i, answer in zip(missing, fresh):
                known[i] = answer
                self.memo.put(model, keys[i], answer)
        elif progress:
            progress(len(items), len(items))
        return [replace(answer) for answer in known]  # callers get their own objects

    def scorer(self, entry: ModelEntry, task: str, device: str | None = None, precision: str = "fp32") -> Scorer:
        """The entry as a ``Scorer`` for ``task``: its loaded checkpoint, or its built-in scorer.

        Raises:
            CheckpointError: the model cannot be loaded or does not answer ``task``.
        """
        model = self.task_model(entry, task, device)
        if not capabilities(entry).checkpoint:  # a built-in scorer is its own Scorer
            return model
        from explorer.tasks.predict import TransformerScorer

        return TransformerScorer(model, precision)

    def predict(
        self, entries: Sequence[ModelEntry], task: str, items: Sequence, device: str | None = None, progress=None,
        precision: str = "fp32",
    ) -> list[TaskRun]:
        """Runs each model on the items; one failing model does not stop the others.

        Every page (CoLA's too) and the CLI's ``predict`` come here.

        Args:
            task: A registered task id; ``items`` are that task's items.
            progress: Called with (model index, done, total): with done 0 as each model starts (before it
                loads, which can take seconds), then as its items finish, so a page can say what is running.
            precision: How checkpoints run, ``fp32`` or ``bf16`` (``explorer.device``).
        """
        spec = get_task(task)
        runs = []
        for k, entry in enumerate(entries):
            run = TaskRun(entry, precision=precision if capabilities(entry).checkpoint else "fp32")
            if progress:
                progress(k, 0, len(items))
            try:
                run.predictions = self._remembered(
                    self.scorer(entry, task, device, precision), spec, items, entry.input_format,
                    (lambda done, total, k=k: progress(k, done, total)) if progress else None,
                )
            except CheckpointError as exc:
                run.error = str(exc)
            except (RuntimeError, ValueError) as exc:  # e.g. out of memory, a head of the wrong size
                run.error = f"{entry.name} failed: {exc}"
            runs.append(run)
        return runs
