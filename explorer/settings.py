"""Where things live: checkpoints, the user's models.toml, the cache of built defaults.

Settings come from (highest first) command-line flags given after ``--`` on the
``streamlit run`` line, environment variables, and defaults relative to the repo.
"""

from __future__ import annotations

import argparse
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Sequence

REPO_ROOT = Path(__file__).resolve().parent.parent
# How a user points the app at another folder of task files: the flag (after ``--``, or ``make run ARGS=...``)
# and the environment variable. The Evaluate page says so when it finds no file.
DATA_FLAG, DATA_ENV = "--data", "EXPLORER_DATA"
# Share of this machine's RAM the model cache may fill when no --cache-mb is given:
# the rest is left for Python, Streamlit sessions, uploads and a model being loaded.
DEFAULT_CACHE_SHARE = 0.4


@dataclass(frozen=True)
class Settings:
    """Resolved paths and limits shared by the CLI and the app.

    Attributes:
        checkpoints_dir: Folder scanned for checkpoint folders dropped in by users.
        models_toml: The user-edited registry file.
        cache_dir: Where offline default models are built (never inside git).
        max_models: How many loaded models the in-memory cache keeps at most.
        cache_mb: Megabytes of weights the model cache may hold; None: 40% of RAM.
        device: ``auto``, ``cpu``, ``cuda``, ``cuda:1``, ``mps``.
        include_defaults: Whether the offline default models are registered.
        data_dir: Folder whose task files the Evaluate page offers.
        results_dir: Where evaluation results are kept across restarts.
        from_data_dir: Where ``prepare --data`` writes the models it trains and the app finds them
            (``EXPLORER_FROM_DATA``); None: ``from_data`` in the cache folder.
        db_url: The peer room's database (``EXPLORER_DB_URL``: ``postgresql://...`` for a cohort on one server);
            None: an SQLite file in the cache folder.
    """

    checkpoints_dir: Path
    models_toml: Path
    cache_dir: Path
    max_models: int = 6
    device: str = "auto"
    include_defaults: bool = True
    data_dir: Path = REPO_ROOT / "data"
    results_dir: Path | None = None
    cache_mb: int | None = None
    db_url: str | None = None
    from_data_dir: Path | None = None

    @property
    def results(self) -> Path:
        return self.results_dir or self.cache_dir / "results"

    @property
    def from_data(self) -> Path:
        return self.from_data_dir or self.cache_dir / "from_data"

    @property
    def room_db(self) -> str:
        return self.db_url or f"sqlite:///{self.cache_dir / 'room.db'}"

    @property
    def cache_bytes(self) -> int:
        """The model cache's byte budget."""
        if self.cache_mb is not None:
            return self.cache_mb * 2**20
        import psutil

        return int(psutil.virtual_memory().total * DEFAULT_CACHE_SHARE)


def _positive(value: str | None, source: str, unit: str) -> int | None:
    """Parses a count such as ``--cache-mb`` / ``EXPLORER_MAX_MODELS``; a bad value is refused, never replaced silently."""
    if value is None or not str(value).strip():
        return None
    try:
        number = int(str(value).strip())
    except ValueError:
        number = 0
    if number < 1:
        raise ValueError(f"{source} must be a whole number of {unit}, at least 1 (got {value!r}).")
    return number


def _default_cache_dir(env: Mapping[str, str]) -> Path:
    if env.get("EXPLORER_CACHE"):
        return Path(env["EXPLORER_CACHE"]).expanduser()
    base = env.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "ko-model-explorer"


def load_settings(argv: Sequence[str] | None = None, env: Mapping[str, str] | None = None) -> Settings:
    """Builds settings from flags and environment.

    Args:
        argv: Arguments after ``--`` (``--checkpoints DIR``, ``--models FILE``,
            ``--device cpu``, ``--max-models N``, ``--cache-mb N``, ``--data DIR``). Unknown flags are ignored so
            Streamlit's own arguments never break the app.
        env: Environment; defaults to ``os.environ``.

    Raises:
        ValueError: ``--cache-mb``/``EXPLORER_CACHE_MB`` or ``--max-models``/``EXPLORER_MAX_MODELS``
            is not a positive whole number.
    """
    env = os.environ if env is None else env
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--checkpoints")
    parser.add_argument("--models")
    parser.add_argument("--device")
    parser.add_argument("--max-models")
    parser.add_argument("--cache-mb")
    parser.add_argument(DATA_FLAG, dest="data")
    args, _ = parser.parse_known_args(list(argv or []))

    checkpoints = args.checkpoints or env.get("EXPLORER_CHECKPOINTS") or str(REPO_ROOT / "checkpoints")
    models = args.models or env.get("EXPLORER_MODELS") or str(REPO_ROOT / "models.toml")
    device = args.device or env.get("EXPLORER_DEVICE") or "auto"
    if args.max_models is not None:
        max_models = _positive(args.max_models, "--max-models", "models")
    else:
        max_models = _positive(env.get("EXPLORER_MAX_MODELS"), "EXPLORER_MAX_MODELS", "models") or 6
    if args.cache_mb is not None:
        cache_mb = _positive(args.cache_mb, "--cache-mb", "megabytes")
    else:
        cache_mb = _positive(env.get("EXPLORER_CACHE_MB"), "EXPLORER_CACHE_MB", "megabytes")
    include_defaults = env.get("EXPLORER_DEFAULTS", "1").strip().lower() not in {"0", "false", "no", "off"}
    data = args.data or env.get(DATA_ENV) or str(REPO_ROOT / "data")
    results = env.get("EXPLORER_RESULTS")
    return Settings(
        checkpoints_dir=Path(checkpoints).expanduser(),
        models_toml=Path(models).expanduser(),
        cache_dir=_default_cache_dir(env),
        max_models=max_models,
        device=device,
        include_defaults=include_defaults,
        data_dir=Path(data).expanduser(),
        results_dir=Path(results).expanduser() if results else None,
        cache_mb=cache_mb,
        db_url=env.get("EXPLORER_DB_URL") or None,
        from_data_dir=Path(env["EXPLORER_FROM_DATA"]).expanduser() if env.get("EXPLORER_FROM_DATA") else None,
    )
