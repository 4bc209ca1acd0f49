"""Published Korean benchmark figures, shipped with the project as CSV data.

The tables live in ``explorer/reference_data/`` (see its README for what each
holds and where it comes from). They are facts with sources: every row carries
a ``source`` column and every row of scores a ``split`` (the data its numbers were measured on: ``dev`` or
``test``), and cells the sources leave empty stay empty (NaN) so a
chart never shows an invented zero.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

__all__ = ["DATA_DIR", "TABLES", "checkpoint_size_mb", "load_reference", "reference_long"]

DATA_DIR = Path(__file__).resolve().parent / "reference_data"
# Table name -> (file, columns that name a row rather than hold a number).
TABLES: dict[str, tuple[str, tuple[str, ...]]] = {
    "seed_bert_family": ("seed_bert_family.csv", ("model", "note", "split", "source")),
    "koelectra_readme": ("koelectra_readme.csv", ("model", "group", "checkpoint_size", "split", "source")),
    "nikl2021_leaderboard": ("nikl2021_leaderboard.csv", ("team", "split", "source")),
    "parameter_counts": ("parameter_counts.csv", ("model", "source")),
    "single_model_results": ("single_model_results.csv", ("task", "model", "metric", "scale", "split", "source")),
}
# The column that names the row in each table (the leaderboard ranks teams, not models).
_ROW_NAME = {"nikl2021_leaderboard": "team"}
# Columns that are labels, not metrics, even though they are numeric.
_NOT_METRICS = {"rank"}
_SIZE = re.compile(r"^\s*([0-9.]+)\s*([KMG])", re.IGNORECASE)


def checkpoint_size_mb(text: object) -> float:
    """Reads a file size as the KoELECTRA README prints it (``351M``, ``1.03G``) in MiB.

    Sizes there come from ``ls -h`` style output, so ``G`` is taken as 1024 M.
    Anything unreadable gives NaN.

    Args:
        text: The printed size, e.g. ``"614M (includes tokenizer DB)"``.

    Returns:
        The size in MiB, or NaN.
    """
    match = _SIZE.match(str(text)) if isinstance(text, str) else None
    if not match:
        return float("nan")
    value, unit = float(match.group(1)), match.group(2).upper()
    return value * {"K": 1 / 1024, "M": 1.0, "G": 1024.0}[unit]


def _read(table: str, data_dir: Path) -> pd.DataFrame:
    """Reads one table: label columns as strings (empty -> NaN), all others as floats."""
    file, labels = TABLES[table]
    frame = pd.read_csv(data_dir / file, dtype={c: "string" for c in labels}, keep_default_na=False, na_values=[""])
    for column in frame.columns:
        if column in labels:
            frame[column] = frame[column].astype(object).where(frame[column].notna(), None)
        else:
            frame[column] = pd.to_numeric(frame[column], errors="raise").astype(float)
    return frame


def load_reference(data_dir: Path | None = None) -> dict[str, pd.DataFrame]:
    """Loads every reference table.

    Args:
        data_dir: Folder with the CSVs; defaults to the packaged ``reference_data``.

    Returns:
        Table name -> frame. Numeric columns are floats (empty cells NaN);
        ``koelectra_readme`` gains a derived ``checkpoint_size_mb`` column.
    """
    folder = Path(data_dir) if data_dir is not None else DATA_DIR
    tables = {name: _read(name, folder) for name in TABLES}
    koelectra = tables["koelectra_readme"]
    koelectra["checkpoint_size_mb"] = koelectra["checkpoint_size"].map(checkpoint_size_mb)
    return tables


def reference_long(tables: dict[str, pd.DataFrame] | None = None) -> pd.DataFrame:
    """All published numbers in long form for charts.

    Empty cells are dropped (a missing number is not a data point). For
    ``single_model_results`` the metric is ``<task>_<metric>``, e.g.
    ``cola_dev_accuracy``; its values keep their published scale.

    Args:
        tables: Output of :func:`load_reference`; loaded when omitted.

    Returns:
        Columns ``table, model, metric, value, source``.
    """
    tables = tables if tables is not None else load_reference()
    parts: list[pd.DataFrame] = []
    for name, frame in tables.items():
        if name == "single_model_results":
            part = pd.DataFrame(
                {
                    "model": frame["model"],
                    "metric": frame["task"] + "_" + frame["metric"],
                    "value": frame["value"],
                    "source": frame["source"],
                }
            )
        else:
            labels = set(TABLES[name][1]) | _NOT_METRICS
            metrics = [c for c in frame.columns if c not in labels and pd.api.types.is_float_dtype(frame[c])]
            part = frame.melt(
                id_vars=[_ROW_NAME.get(name, "model"), "source"], value_vars=metrics, var_name="metric"
            ).rename(columns={_ROW_NAME.get(name, "model"): "model"})
        part.insert(0, "table", name)
        parts.append(part[["table", "model", "metric", "value", "source"]])
    long = pd.concat(parts, ignore_index=True)
    return long.dropna(subset=["value"]).reset_index(drop=True)
