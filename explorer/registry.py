"""The model registry: what can be loaded, for which task, and how we know.

Entries come from three places: the user's ``models.toml``, every checkpoint
folder found under the checkpoints directory, and the offline defaults built by
``python -m explorer prepare``. Discovery only reads small JSON files, so it is
cheap enough to run on every page load; weights are loaded later, on demand.
"""

from __future__ import annotations

import json
import os
import re
import stat
import tomllib
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from explorer.safeio import CONFIG_LIMIT, MB, TOML_LIMIT, read_limited_text, size_text
from explorer.scorers import TRANSFORMER, capabilities
from explorer.settings import Settings
from explorer.tasks.generic import from_id as generic_task
from explorer.tasks.generic import generic_id
from explorer.tasks.registry import TASKS as _TASK_TABLE

# Views of the task registry (explorer.tasks.registry), kept for the code that reads them.
TASKS = tuple(_TASK_TABLE)
TASK_NAMES = {task_id: task.name for task_id, task in _TASK_TABLE.items()}
# Weight files, by suffix: the one list the registry, the loader and anatomy share.
# Loadable: .safetensors directly; .bin/.pt/.pth (transformers or torch.save) and
# .ckpt (Lightning) through torch.load(weights_only=True), unwrapping a
# "state_dict"/"model" entry. TensorFlow (.h5) and Flax (.msgpack) weights are
# only recognised: they count as weights on disk, and a message can name them,
# but nothing here loads them.
LOADABLE_WEIGHT_SUFFIXES = (".safetensors", ".bin", ".pt", ".pth", ".ckpt")
OTHER_WEIGHT_SUFFIXES = (".h5", ".msgpack")
WEIGHT_SUFFIXES = LOADABLE_WEIGHT_SUFFIXES + OTHER_WEIGHT_SUFFIXES


def is_training_state(name: str) -> bool:
    """True for files a Trainer saves beside the weights with a weight suffix (arguments, optimizer, RNG)."""
    return name in {"training_args.bin", "optimizer.pt", "scheduler.pt", "scaler.pt"} or name.startswith("rng_state")
# Files AutoTokenizer may read from a checkpoint folder.
TOKENIZER_FILES = (
    "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "added_tokens.json", "vocab.txt",
    "vocab.json", "merges.txt", "sentencepiece.bpe.model", "spiece.model", "tokenizer.model",
)
# A tokenizer.json is legitimately large: multilingual-e5's is about 17 MB and
# 256k-entry vocabularies reach about 35 MB. 64 MB admits those with room while
# still refusing a file that would fill memory.
TOKENIZER_LIMIT = 64 * MB

# Label names that say which class is the positive answer (acceptable, same
# sense, yes), lower-cased; NIKL numbers the positive class 1 in every task.
_ACCEPTABLE_NAMES = {"acceptable", "grammatical", "correct", "good", "yes", "true", "same", "same_sense", "허용", "적격", "문법적", "예", "같음", "positive", "긍정"}
_UNACCEPTABLE_NAMES = {"unacceptable", "ungrammatical", "incorrect", "bad", "no", "false", "different", "비문", "부적격", "비문법적", "아니오", "다름", "negative", "부정"}


@dataclass
class ModelEntry:
    """One loadable model as the registry knows it.

    Attributes:
        name: Display name, unique in the registry.
        source: Folder, weights file, or hub id.
        kind: The scorer: a key of ``explorer.scorers.SCORER_KINDS`` (``transformer``, ``kiwi-lm``,
            ``kiwi-overlap``); ``capabilities(entry)`` says what it can do.
        task: A registered task id, a classifier's own (``labels:bad|good``), or None for a base encoder.
        task_how: How the task was decided (shown to users).
        origin: ``models.toml``, ``checkpoints``, or ``default``.
        base: Config/tokenizer source for raw state-dict files.
        input_format: Task-specific input convention (Tasks issue).
        positive_label: Class id of the positive answer (acceptable / same sense /
            yes) when ``id2label`` does not name it; ``acceptable_label`` in models.toml.
        demo: True for models trained on the project's generated demo data.
        description: One line shown in the UI.
        problems: What is already known to be wrong (shown instead of loading).
    """

    name: str
    source: str
    kind: str = TRANSFORMER
    task: str | None = None
    task_how: str = "unknown"
    origin: str = "checkpoints"
    base: str | None = None
    input_format: str | None = None
    positive_label: int | None = None
    demo: bool = False
    description: str = ""
    problems: list[str] = field(default_factory=list)

    @property
    def is_local(self) -> bool:
        return Path(self.source).exists()

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def read_json(path: Path) -> dict[str, Any] | None:
    """Reads a JSON object of at most ``CONFIG_LIMIT``, returning None when missing, refused or unreadable.

    Bounded because a config.json may be a FIFO or a link to /dev/zero, which
    would block or fill memory on every page that lists models.
    """
    try:
        data = json.loads(read_limited_text(path, CONFIG_LIMIT, "config"))
    except (OSError, ValueError):  # FileRefused and UnicodeDecodeError are ValueErrors
        return None
    return data if isinstance(data, dict) else None


def folder_file_problems(folder: Path) -> list[str]:
    """Why the config or tokenizer files transformers would read from ``folder`` are unsafe to read.

    Only looks (``stat``), never reads: a FIFO, device or broken link, or a file
    over its size limit, would hang or exhaust memory inside AutoConfig/AutoTokenizer,
    which read to the end. Missing files are not a problem here.
    """
    checks = [("config.json", CONFIG_LIMIT), *((name, TOKENIZER_LIMIT) for name in TOKENIZER_FILES)]
    problems = []
    for name, limit in checks:
        path = folder / name
        if not os.path.lexists(path):
            continue
        try:
            info = os.stat(path)
        except OSError as exc:
            problems.append(f"{folder.name}/{name} cannot be read ({exc.strerror or exc}); the model was not loaded.")
            continue
        if not stat.S_ISREG(info.st_mode):
            problems.append(f"{folder.name}/{name} is not a regular file (a FIFO, device or folder); the model was not loaded.")
        elif info.st_size > limit:
            problems.append(
                f"{folder.name}/{name} is {size_text(info.st_size)}; it may be at most {size_text(limit)}, "
                "so the model was not loaded."
            )
    return problems


def _task_in(text: str) -> str | None:
    """The first registered task whose id or alias is a word of ``text`` (``nikl_cola`` → cola, not ``chocolate``)."""
    text = text.lower()
    for task in _TASK_TABLE.values():
        for name in (task.id, *task.aliases):
            if re.search(rf"(^|[^a-z]){re.escape(name.lower())}([^a-z]|$)", text):
                return task.id
    return None


# The architecture-name suffix of each kind of head (``ElectraForMultipleChoice``).
_HEAD_SUFFIXES = {"multiple_choice": "ForMultipleChoice", "sequence": "ForSequenceClassification"}


def infer_task(config: dict[str, Any] | None, folder_name: str = "") -> tuple[str | None, str]:
    """Guesses a checkpoint's task from its config and folder name.

    Order: ``finetuning_task`` (a task id or one of its ``aliases``), label names
    (a task's ``label_words``, on a head of the task's size), the folder name, then
    the architecture (a head some task is the default for: a multiple-choice head is
    COPA unless something else says, and the reason says it is a guess); a
    sequence-classification head no task claims becomes a classifier of its own labels.

    Returns:
        ``(task, how)`` where ``how`` explains the evidence, e.g.
        ``"config.finetuning_task = 'cola'"``.
    """
    config = config or {}
    ft = config.get("finetuning_task")
    if isinstance(ft, str) and _task_in(ft):
        return _task_in(ft), f"config.finetuning_task = {ft!r}"
    labels = " ".join(str(v).lower() for v in (config.get("id2label") or {}).values())
    if labels:
        words = set(re.split(r"[^a-z가-힣]+", labels))
        n_labels = len(config.get("id2label") or {})
        for task in _TASK_TABLE.values():
            # A head of another size is not this task's (a 3-way negative/neutral/positive head is not SentiNeg).
            if words & task.label_words and (task.head != "sequence" or n_labels == task.num_labels):
                return task.id, f"config.id2label names ({labels})"
    # The folder name before the head's default task: `roberta-kobest-hellaswag` is HellaSwag, not COPA.
    if folder_name and _task_in(folder_name):
        return _task_in(folder_name), f"folder name {folder_name!r}"
    archs = config.get("architectures") or []
    for task in _TASK_TABLE.values():
        suffix = _HEAD_SUFFIXES.get(task.default_for_head or "")
        if suffix and any(str(a).endswith(suffix) for a in archs):
            head = task.default_for_head.replace("_", "-")
            return task.id, f"config.architectures = {archs} ({head} head; guessed: name its task to be sure)"
    own = _own_classification_task(config)
    if own:
        named = ", ".join(_TASK_TABLE)
        shown = ", ".join(generic_task(own).label_names.values())
        return own, (f"no registered task: a classifier of its own, with labels {shown} "
                     f"(to use it for {named}, set config.finetuning_task or models.toml `task`)")
    return None, "not found in config.finetuning_task, id2label, architectures or folder name"


def _own_classification_task(config: dict[str, Any]) -> str | None:
    """The generic task of a sequence-classification head no registered task claims (its own labels), or None."""
    archs = config.get("architectures") or []
    if not any(str(a).endswith(_HEAD_SUFFIXES["sequence"]) for a in archs):
        return None
    id2label = config.get("id2label") or {}
    try:
        names = {int(k): str(v) for k, v in id2label.items()}
    except (TypeError, ValueError):
        return None
    if not names:
        n = config.get("num_labels", 2)
        names = {k: f"LABEL_{k}" for k in range(n if isinstance(n, int) and 2 <= n <= 1000 else 2)}
    return generic_id(names)


def positive_label_from(config: dict[str, Any] | None, fallback: int | None) -> tuple[int, str]:
    """Decides which class id is the positive answer (acceptable, same sense, yes).

    Named labels win (``id2label`` saying ``acceptable``); otherwise the entry's
    setting; otherwise 1, the NIKL convention.
    """
    id2label = (config or {}).get("id2label") or {}
    names = {int(k): str(v).strip().lower() for k, v in id2label.items() if str(k).lstrip("-").isdigit()}
    for idx, name in names.items():
        if name in _ACCEPTABLE_NAMES:
            return idx, f"id2label[{idx}] = {id2label.get(str(idx), id2label.get(idx))!r}"
    bad = [idx for idx, name in names.items() if name in _UNACCEPTABLE_NAMES]
    if len(bad) == 1 and len(names) == 2:
        other = next(i for i in names if i != bad[0])
        return other, f"id2label[{bad[0]}] names the unacceptable class"
    if fallback is not None:
        return int(fallback), "models.toml positive_label"
    return 1, "default 1 (NIKL convention: label 1 = acceptable / same / yes)"


def folder_entry(folder: Path, origin: str) -> ModelEntry:
    entry = ModelEntry(name=folder.name, source=str(folder), origin=origin)
    entry.problems.extend(folder_file_problems(folder))
    config = None if entry.problems else read_json(folder / "config.json")
    if config is None and not entry.problems:
        entry.problems.append(
            f"{folder} has no readable config.json. A checkpoint folder needs config.json and weights "
            "(save it with model.save_pretrained), or add a models.toml entry with `base = ...` for a raw state dict."
        )
    entry.task, entry.task_how = infer_task(config, folder.name)
    if config and isinstance(config.get("explorer_input_format"), str):
        entry.input_format = config["explorer_input_format"]  # written by `explorer finetune` and the demos
    return entry


def _latest_checkpoint(folder: Path) -> Path | None:
    subs = [p for p in folder.glob("checkpoint-*") if (p / "config.json").is_file()]
    numbered = [(int(p.name.split("-")[-1]), p) for p in subs if p.name.split("-")[-1].isdigit()]
    return max(numbered)[1] if numbered else None


def scan_checkpoints(directory: Path) -> list[ModelEntry]:
    """Lists checkpoint folders and loose weight files under ``directory``."""
    if not directory.is_dir():
        return []
    entries = []
    for path in sorted(directory.iterdir()):
        if path.name.startswith("."):
            continue
        if path.is_dir():
            if not (path / "config.json").is_file() and (latest := _latest_checkpoint(path)):
                entry = folder_entry(latest, "checkpoints")
                entry.name = f"{path.name}/{latest.name}"
                entries.append(entry)
            else:
                entries.append(folder_entry(path, "checkpoints"))
        elif path.suffix in LOADABLE_WEIGHT_SUFFIXES:
            entry = ModelEntry(name=path.stem, source=str(path), origin="checkpoints")
            entry.task, entry.task_how = infer_task(None, path.stem)
            entry.problems.append(
                f"{path.name} is a raw weights file: add an entry to models.toml with `path` and `base` "
                "(the hub id or folder whose config and tokenizer it was trained from)."
            )
            entries.append(entry)
    return entries


def read_models_toml(path: Path) -> tuple[list[ModelEntry], list[str]]:
    """Parses the user's registry file.

    Returns:
        The entries and a list of problems (bad TOML, missing keys) to show.
    """
    if not path.exists():
        return [], []
    try:
        data = tomllib.loads(read_limited_text(path, TOML_LIMIT, "models.toml"))
    except (OSError, ValueError) as exc:  # FileRefused, UnicodeDecodeError and TOMLDecodeError are ValueErrors
        return [], [f"{path.name} could not be read: {exc}"]
    entries, problems = [], []
    for i, item in enumerate(data.get("model", []), start=1):
        if not isinstance(item, dict) or not (item.get("path") or item.get("hub")):
            problems.append(f"{path.name}: [[model]] #{i} needs `path` or `hub`.")
            continue
        if item.get("base") is not None and not isinstance(item.get("base"), str):
            problems.append(f"{path.name}: [[model]] #{i} has a `base` that is not a string.")
            continue
        source = str(item.get("path") or item.get("hub"))
        if item.get("path") and not Path(source).is_absolute():
            source = str((path.parent / source).resolve())
        name = str(item.get("name") or Path(source).name)
        task = item.get("task")
        entry = ModelEntry(
            name=name,
            source=source,
            origin="models.toml",
            base=item.get("base"),
            input_format=item.get("input_format"),
            positive_label=item.get("positive_label", item.get("acceptable_label")),
            description=str(item.get("description", "")),
        )
        if entry.base and not Path(entry.base).is_absolute() and (path.parent / entry.base).exists():
            entry.base = str((path.parent / entry.base).resolve())
        if task:
            if task not in _TASK_TABLE:
                problems.append(f"{path.name}: model {name!r} has task {task!r}; expected one of {', '.join(_TASK_TABLE)}.")
                continue
            entry.task, entry.task_how = task, "models.toml"
        for folder in dict.fromkeys(Path(p) for p in (source, entry.base) if p and Path(p).is_dir()):
            entry.problems.extend(folder_file_problems(folder))
        config = read_json(Path(source) / "config.json") if Path(source).is_dir() and not entry.problems else None
        if not task:
            entry.task, entry.task_how = infer_task(config, Path(source).name)
        if not entry.input_format and config and isinstance(config.get("explorer_input_format"), str):
            entry.input_format = config["explorer_input_format"]
        entries.append(entry)
    return entries, problems


def discover(settings: Settings, defaults: list[ModelEntry] | None = None) -> tuple[list[ModelEntry], list[str]]:
    """Builds the full registry.

    Args:
        settings: Where to look.
        defaults: Offline default entries (from ``explorer.defaults``), listed first.

    Returns:
        Entries with unique names, and registry-level problems to show.
    """
    toml_entries, problems = read_models_toml(settings.models_toml)
    listed = {str(Path(e.source).resolve()) for e in toml_entries if Path(e.source).exists()}
    scanned = [e for e in scan_checkpoints(settings.checkpoints_dir) if str(Path(e.source).resolve()) not in listed]
    entries: list[ModelEntry] = []
    seen: set[str] = set()
    for entry in [*(defaults or []), *toml_entries, *scanned]:
        name, n = entry.name, 2
        while name in seen:
            name, n = f"{entry.name} ({n})", n + 1
        entry.name = name
        seen.add(name)
        # Baselines describe their own input in input_format; only checkpoints encode with it.
        problem = input_format_problem(entry.task, entry.input_format) if capabilities(entry).checkpoint else None
        if problem and problem not in entry.problems:
            entry.problems.append(problem)
        entries.append(entry)
    return entries, problems


def input_format_problem(task: str | None, input_format: str | None) -> str | None:
    """Why ``input_format`` cannot be used for ``task``, or None when it can (or none is set).

    Checked when the registry is built, so a typo in models.toml shows on the Home
    page and in the model pickers instead of failing inside a page.
    """
    if not input_format or task not in _TASK_TABLE:
        return None
    return _TASK_TABLE[task].format_problem(input_format)


def find(entries: list[ModelEntry], name_or_path: str) -> ModelEntry | None:
    """Finds an entry by name or source path."""
    for entry in entries:
        if entry.name == name_or_path:
            return entry
    target = Path(name_or_path)
    for entry in entries:
        if target.exists() and Path(entry.source).exists() and Path(entry.source).resolve() == target.resolve():
            return entry
    return None
