"""Loading checkpoints safely, whatever shape users saved them in.

Handled: Hugging Face folders (safetensors preferred), folders holding only a
pickled ``pytorch_model.bin``, and raw ``torch.save(model.state_dict())`` files
from custom training loops (``module.`` prefixes from DataParallel/DDP,
``_orig_mod.`` from torch.compile, fp16 tensors saved on a GPU).

Safety: ``trust_remote_code`` is never enabled, and pickles are only opened
with ``torch.load(weights_only=True)``, which refuses to run code.

Honesty: a model is only returned when every weight its config describes came
from the checkpoint. transformers fills missing or wrongly shaped weights with
random numbers and carries on, which would answer with a random probability
that changes on every load; here any missing, unexpected or mis-shaped tensor
refuses the model and names the keys. Before anything is allocated, the size
the config asks for is estimated and compared with what the weights hold and
with the memory available, so a config.json edited to 10,000 layers or a
20-million-word vocabulary is refused at once, not after minutes and gigabytes.
"""

from __future__ import annotations

import json
import math
import os
import pickle
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil
import torch
from safetensors import SafetensorError
from safetensors.torch import load_file as load_safetensors
from transformers import (
    AutoConfig,
    AutoModelForMultipleChoice,
    AutoModelForSequenceClassification,
    AutoTokenizer,
    PretrainedConfig,
    PreTrainedModel,
)

from transformers.utils import logging as hf_logging

from explorer.device import pick_device, pick_dtype
from explorer.registry import (
    LOADABLE_WEIGHT_SUFFIXES,
    OTHER_WEIGHT_SUFFIXES,
    TOKENIZER_FILES,
    ModelEntry,
    folder_file_problems,
    is_training_state,
    positive_label_from,
)
from explorer.safeio import CONFIG_LIMIT, is_regular_file, read_limited_text, size_text
from explorer.scorers import capabilities
from explorer.tasks import registry as task_registry
from explorer.tasks.base import Task

# Per-file "Loading weights" bars from transformers flood logs and the app's
# terminal; our own progress reporting says what is happening.
hf_logging.disable_progress_bar()

_STRIP_PREFIXES = ("module.", "_orig_mod.")
_SAFETENSORS_INDEX = "model.safetensors.index.json"
_BIN_INDEX = "pytorch_model.bin.index.json"
# Buffers rebuilt when a model is built, which older checkpoints may or may not carry.
_BUFFER_SUFFIXES = ("position_ids", "token_type_ids")
_HEAD_PREFIXES = ("classifier", "score", "pre_classifier", "sequence_summary")

# safetensors itself refuses headers over 100 MB; the header of a
# ten-billion-parameter model is well under 1 MB, so a larger one is damage.
MAX_HEADER_BYTES = 100_000_000
_DTYPE_BYTES = {
    "BOOL": 1, "U8": 1, "I8": 1, "F8_E4M3": 1, "F8_E5M2": 1, "I16": 2, "U16": 2, "F16": 2, "BF16": 2,
    "I32": 4, "U32": 4, "F32": 4, "I64": 8, "U64": 8, "F64": 8,
}

# The estimate leaves out biases, LayerNorms and the task head, so it runs a few
# percent under real models (and further under tiny ones, where those dominate).
# A config is refused before allocating only when it asks for more than 1.5x what
# the weights hold plus a million parameters: real configs of every family stay
# under that (tests/test_loading_refusals.py), while one asking for many times the
# layers or vocabulary is refused at once. Smaller differences are caught key by
# key after loading (_check_keys).
_MATCH_FACTOR = 1.5
_MATCH_SLACK = 1_000_000
# At its peak a load holds the model being filled and the tensors read from disk
# (a state dict, or the safetensors pages mapped in): about twice the model's bytes.
_LOAD_PEAK = 2


class CheckpointError(Exception):
    """A checkpoint cannot be used; the message is written for the user."""


@dataclass
class LoadedModel:
    """A ready-to-run transformer with what pages need to know about it.

    Attributes:
        entry: The registry entry it came from.
        model: The torch module, in eval mode, on ``device``.
        tokenizer: Its tokenizer.
        head: ``sequence`` (pair/single classification) or ``multiple_choice``.
        positive_label: Class id of the positive answer (acceptable, same sense, yes).
        positive_how: Where that id came from.
        max_length: Longest input in tokens the model accepts.
        notes: Remarks from loading (key prefixes stripped, dtype cast).
    """

    entry: ModelEntry
    model: PreTrainedModel
    tokenizer: Any
    device: torch.device
    dtype: torch.dtype
    head: str
    positive_label: int
    positive_how: str
    max_length: int
    notes: list[str] = field(default_factory=list)

    @property
    def n_params(self) -> int:
        return sum(p.numel() for p in self.model.parameters())

    @property
    def num_labels(self) -> int:
        return int(self.model.config.num_labels)


def _head_for(config: PretrainedConfig) -> str | None:
    archs = config.architectures or []
    if any(a.endswith("ForMultipleChoice") for a in archs):
        return "multiple_choice"
    if any(a.endswith("ForSequenceClassification") for a in archs):
        return "sequence"
    return None


def _model_class(head: str):
    return AutoModelForMultipleChoice if head == "multiple_choice" else AutoModelForSequenceClassification


def max_input_length(config: PretrainedConfig, tokenizer: Any) -> int:
    """The longest input the model can embed.

    RoBERTa/XLM-R reserve ``padding_idx + 1`` position slots, so 514 positions
    hold 512 tokens; the tokenizer's ``model_max_length`` is often a huge
    sentinel when unset, so the position table is the real limit.
    """
    limit = int(getattr(config, "max_position_embeddings", 512) or 512)
    if getattr(config, "model_type", "") in {"roberta", "xlm-roberta", "camembert"}:
        pad = getattr(config, "pad_token_id", None)
        limit -= (1 if pad is None else int(pad)) + 1
    tok_max = getattr(tokenizer, "model_max_length", None)
    if isinstance(tok_max, int) and 0 < tok_max < 1_000_000:
        limit = min(limit, tok_max)
    return max(8, limit)


def read_safetensors_header(path: Path) -> dict[str, dict[str, Any]]:
    """The tensor table of a safetensors file, checked, without reading any tensor.

    Reads the 8-byte length and the JSON header only, and checks that every tensor's
    bytes lie inside the file and match its dtype and shape, so a truncated or
    edited file is caught before anything is loaded.

    Returns:
        ``{name: {"dtype", "shape", "data_offsets"}}`` (``__metadata__`` left out).

    Raises:
        CheckpointError: for a non-regular file, a truncated file, a header over
            ``MAX_HEADER_BYTES`` or larger than the file, or a malformed entry.
    """

    def invalid(reason: str) -> CheckpointError:
        return CheckpointError(f"{path.name} is not a valid safetensors file ({reason}).")

    if not is_regular_file(path):
        raise invalid("not a regular file")
    try:
        with open(path, "rb") as fh:
            file_size = os.fstat(fh.fileno()).st_size
            prefix = fh.read(8)
            if len(prefix) < 8:
                raise invalid(f"only {len(prefix)} bytes long")
            (size,) = struct.unpack("<Q", prefix)
            if size > MAX_HEADER_BYTES:
                raise invalid(f"its header claims {size:,} bytes; at most {MAX_HEADER_BYTES:,} are accepted")
            if size > file_size - 8:
                raise invalid(f"its header claims {size:,} bytes but the file holds {file_size - 8:,}; it is truncated")
            header = json.loads(fh.read(size))
    except OSError as exc:
        raise invalid(str(exc)) from exc
    except ValueError as exc:  # JSON and UTF-8 errors
        raise invalid(f"its header is not JSON: {exc}") from exc
    if not isinstance(header, dict):
        raise invalid("its header is not a JSON object")
    data_size = file_size - 8 - size
    tensors = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        shape = info.get("shape") if isinstance(info, dict) else None
        offsets = info.get("data_offsets") if isinstance(info, dict) else None
        if not (isinstance(shape, list) and all(_is_count(d) for d in shape)):
            raise invalid(f"tensor {name!r} has no valid shape")
        if not (isinstance(offsets, list) and len(offsets) == 2 and all(_is_count(o) for o in offsets)):
            raise invalid(f"tensor {name!r} has no valid data_offsets")
        start, end = offsets
        if not start <= end <= data_size:
            raise invalid(f"tensor {name!r} lies past the end of the file; it is truncated")
        width = _DTYPE_BYTES.get(info.get("dtype"))
        if width is not None and math.prod(shape) * width != end - start:
            raise invalid(f"tensor {name!r} has shape {shape} but {end - start:,} bytes")
        tensors[name] = info
    return tensors


def _is_count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def safetensors_parameters(folder: Path) -> int | None:
    """Parameters in a folder's safetensors files, from their headers (no tensor is read).

    Returns:
        The count, or None when ``folder`` is not a folder or holds no safetensors file.

    Raises:
        CheckpointError: when one of the files is broken (see ``read_safetensors_header``).
    """
    files = [f for f in sorted(folder.glob("*.safetensors")) if is_regular_file(f)] if folder.is_dir() else []
    if not files:
        return None
    return sum(_parameters_in(read_safetensors_header(f)) for f in files)


def count_parameters(folder: Path) -> int | None:
    """Counts parameters from safetensors headers without loading weights.

    Returns None when the folder has no safetensors file or one is broken
    (truncated, oversized header): the size column is left blank and loading
    the model says what is wrong.
    """
    try:
        return safetensors_parameters(folder)
    except CheckpointError:
        return None


def _parameters_in(tensors: dict[str, dict[str, Any]]) -> int:
    return sum(math.prod(info["shape"]) for info in tensors.values())


def _sharded_parameters(folder: Path) -> int:
    """Parameters in the shards a ``model.safetensors.index.json`` names, from their headers."""
    index_path = folder / _SAFETENSORS_INDEX
    try:
        index = json.loads(read_limited_text(index_path, CONFIG_LIMIT, "weights index"))
        shards = set(index["weight_map"].values())
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise CheckpointError(f"{index_path.name} in {folder.name} could not be read: {exc}") from exc
    for shard in shards:
        # A shard name is a file beside the index, never a path elsewhere on disk.
        if not isinstance(shard, str) or Path(shard).name != shard:
            raise CheckpointError(f"{index_path.name} in {folder.name} names {shard!r}, which is not a file beside it.")
    return sum(_parameters_in(read_safetensors_header(folder / shard)) for shard in sorted(shards))


def _config_int(config: PretrainedConfig, *names: str, default: int = 0) -> int:
    """The first of ``names`` the config holds as a non-negative int; ``default`` otherwise."""
    for name in names:
        try:
            value = getattr(config, name, None)
        except Exception:  # a computed alias over malformed values (Funnel's block_sizes)
            value = None
        if _is_count(value):
            return value
    return default


def estimate_parameters(config: PretrainedConfig) -> int:
    """Roughly how many parameters a model built from ``config`` holds, without building it.

    Embeddings: (vocabulary + positions + token types) x embedding width, plus the
    projection to the hidden size when they differ (ELECTRA, ALBERT). Each layer:
    the four attention projections (4·h²) and the feed-forward pair (2·h·intermediate).
    Biases, LayerNorms and the task head are left out, so real models come out a
    little under (BERT-base: 108 M estimated, 110 M real; multilingual-e5-small:
    117 M, 118 M). ALBERT counts its shared layers once. Any family works through
    the ``hidden_size``/``num_hidden_layers`` aliases configs map (GPT-2's
    ``n_embd``, DistilBERT's ``dim``). A missing or malformed value counts as 0, so
    this never raises; building such a model fails later with its own message.
    """
    model_type = getattr(config, "model_type", "")
    hidden = _config_int(config, "hidden_size")
    embedding = _config_int(config, "embedding_size", default=hidden)
    ffn_names = ("intermediate_size", "n_inner", "ffn_dim") + (("hidden_dim",) if model_type == "distilbert" else ())
    intermediate = _config_int(config, *ffn_names, default=4 * hidden)
    layers = _config_int(config, "num_hidden_layers")
    if model_type == "albert":
        layers = _config_int(config, "num_hidden_groups", default=1) * _config_int(config, "inner_group_num", default=1)
    rows = sum(_config_int(config, name) for name in ("vocab_size", "max_position_embeddings", "type_vocab_size"))
    projection = embedding * hidden if embedding != hidden else 0
    return rows * embedding + projection + layers * (4 * hidden * hidden + 2 * hidden * intermediate)


def estimate_bytes(config: PretrainedConfig, dtype: torch.dtype) -> int:
    """Bytes the weights of a model built from ``config`` take in ``dtype`` (see ``estimate_parameters``)."""
    return estimate_parameters(config) * dtype.itemsize


def available_memory() -> int:
    """Bytes of RAM the system can give without swapping."""
    return int(psutil.virtual_memory().available)


def _bytes_text(n: int) -> str:
    return f"{n / 1024 ** 3:.1f} GB" if n >= 1024 ** 3 else size_text(n)


def _check_config_matches(config: PretrainedConfig, held: int, name: str) -> None:
    """Refuses a config that describes far more parameters than the weights hold."""
    wanted = estimate_parameters(config)
    if wanted > held * _MATCH_FACTOR + _MATCH_SLACK:
        sizes = ", ".join(
            f"{key} = {getattr(config, key, None)}" for key in ("num_hidden_layers", "hidden_size", "vocab_size")
        )
        raise CheckpointError(
            f"{name}: config.json does not match the weights. It describes a model of about {wanted:,} parameters "
            f"({sizes}), but the weights hold {held:,}. Is config.json the one saved with these weights?"
        )


def _check_memory(config: PretrainedConfig, dtype: torch.dtype, name: str) -> None:
    """Refuses a model whose estimated size does not fit in the memory available now."""
    need = estimate_bytes(config, dtype) * _LOAD_PEAK
    have = available_memory()
    if need > have:
        raise CheckpointError(
            f"{name} needs about {_bytes_text(need)} of memory to load (about {estimate_parameters(config):,} "
            f"parameters as {str(dtype).removeprefix('torch.')}, estimated from its config, held twice while loading), "
            f"but only {_bytes_text(have)} is available. Close other models or use a machine with more memory."
        )


def _check_keys(
    name: str,
    missing: list[str],
    unexpected: list[str],
    mismatched: list[tuple[str, tuple, tuple]],
    hint: str,
) -> None:
    """Refuses weights that do not fill the model exactly, naming the keys.

    Anything missing or mis-shaped would be left at random initial values (a
    random answer that changes on every load); anything unexpected means the
    config describes a different model than the one trained.
    """
    missing = sorted(k for k in missing if not k.endswith(_BUFFER_SUFFIXES))
    unexpected = sorted(k for k in unexpected if not k.endswith(_BUFFER_SUFFIXES))
    head_missing = [k for k in missing if k.startswith(_HEAD_PREFIXES)]
    if head_missing and len(missing) == len(head_missing):
        raise CheckpointError(
            f"{name} has no classification-head weights ({_some(head_missing)} missing): "
            "it looks like a base model or one saved without its head."
        )
    if missing or unexpected:
        found = [f"{len(missing)} weights missing ({_some(missing)})"] if missing else []
        found += [f"{len(unexpected)} unexpected ({_some(unexpected)})"] if unexpected else []
        raise CheckpointError(
            f"{name} does not match its config: {' and '.join(found)}. It was refused rather than run with "
            f"weights the checkpoint does not hold. {hint}"
        )
    if mismatched:
        key, got, want = sorted(mismatched)[0]
        raise CheckpointError(
            f"{name}: weight {key} has shape {tuple(got)} but the config expects {tuple(want)} "
            f"({len(mismatched)} weights differ in shape). {hint}"
        )


def _some(keys: list[str], shown: int = 4) -> str:
    more = f" and {len(keys) - shown} more" if len(keys) > shown else ""
    return ", ".join(keys[:shown]) + more


def read_state_dict(path: Path) -> dict[str, torch.Tensor]:
    """Reads weights from safetensors or, safely, from a pickle.

    Raises:
        CheckpointError: for corrupt files and for pickles that would execute
            code (refused by ``weights_only=True`` before anything runs).
    """
    if path.suffix == ".safetensors":
        try:
            return load_safetensors(str(path), device="cpu")
        except (SafetensorError, OSError, ValueError, RuntimeError) as exc:
            raise CheckpointError(f"{path.name} is not a valid safetensors file ({exc}).") from exc
    try:
        data = torch.load(str(path), map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        raise CheckpointError(
            f"Refused to load {path.name}: the pickle contains objects other than tensors "
            "(it could run code when unpickled). Re-save it with safetensors or as a plain state_dict."
        ) from exc
    except (RuntimeError, OSError, EOFError, ValueError) as exc:
        raise CheckpointError(f"{path.name} could not be read as PyTorch weights ({exc}).") from exc
    if isinstance(data, dict) and isinstance(data.get("state_dict"), dict):
        data = data["state_dict"]  # Lightning-style wrappers
    if isinstance(data, dict) and isinstance(data.get("model"), dict):
        data = data["model"]
    if not isinstance(data, dict) or not all(isinstance(v, torch.Tensor) for v in data.values()):
        raise CheckpointError(f"{path.name} does not hold a state dict (a mapping of names to tensors).")
    return data


def normalise_keys(state: dict[str, torch.Tensor], expected: set[str]) -> tuple[dict[str, torch.Tensor], list[str]]:
    """Strips wrapper prefixes so keys match the model's own names.

    Returns:
        The renamed state dict and notes describing what was stripped.
    """
    notes = []
    for prefix in _STRIP_PREFIXES:
        if state and all(k.startswith(prefix) for k in state):
            state = {k[len(prefix):]: v for k, v in state.items()}
            notes.append(f"stripped the {prefix!r} prefix (DataParallel/DDP or torch.compile)")
    if expected and not (set(state) & expected):
        # A custom nn.Module holding the HF model as an attribute, e.g. self.model.
        heads = {k.split(".", 1)[0] for k in state if "." in k}
        for head in heads:
            trimmed = {k[len(head) + 1:]: v for k, v in state.items() if k.startswith(head + ".")}
            if set(trimmed) & expected:
                notes.append(f"stripped the {head + '.'!r} prefix of a wrapper module")
                state = trimmed
                break
    return state, notes


def _weights_file(folder: Path) -> Path | None:
    """The single weights file of a folder; None for a sharded folder (from_pretrained reads its index).

    Raises:
        CheckpointError: when the folder holds no weights at all.
    """
    for name in ("model.safetensors", "pytorch_model.bin"):
        if is_regular_file(folder / name):
            return folder / name
    if (folder / _SAFETENSORS_INDEX).exists() or (folder / _BIN_INDEX).exists():
        return None
    for suffix in LOADABLE_WEIGHT_SUFFIXES:
        # A Trainer's optimizer.pt or training_args.bin is not a model, whatever its suffix.
        found = [f for f in sorted(folder.glob(f"*{suffix}")) if is_regular_file(f) and not is_training_state(f.name)]
        if found:
            return found[0]
    # TensorFlow/Flax weights are recognised only to say why the folder does not load.
    others = sorted(f.name for f in folder.iterdir() if f.name.endswith(OTHER_WEIGHT_SUFFIXES))
    unloadable = f" ({others[0]} holds TensorFlow or Flax weights, which cannot be loaded here)" if others else ""
    raise CheckpointError(
        f"{folder.name} holds no weights this app can load{unloadable}: expected model.safetensors, "
        f"{_SAFETENSORS_INDEX} with its shards, pytorch_model.bin, or a {'/'.join(LOADABLE_WEIGHT_SUFFIXES)} file."
    )


def _load_config(source: str) -> PretrainedConfig:
    try:
        return AutoConfig.from_pretrained(source, trust_remote_code=False)
    except Exception as exc:  # transformers raises OSError/ValueError/KeyError variants
        hint = "" if Path(source).exists() else " (not a local folder; is the hub reachable and the id right?)"
        raise CheckpointError(f"Could not read the config of {source}{hint}: {exc}") from exc


def _load_tokenizer(sources: list[str]) -> Any:
    errors = []
    for source in sources:
        path = Path(source)
        if path.is_dir() and not any((path / f).exists() for f in TOKENIZER_FILES):
            errors.append(f"{source}: no tokenizer files")
            continue
        try:
            return AutoTokenizer.from_pretrained(source, trust_remote_code=False)
        except Exception as exc:
            errors.append(f"{source}: {exc}")
    raise CheckpointError("No usable tokenizer found. Tried " + "; ".join(errors))


def _check_head(entry: ModelEntry, config: PretrainedConfig, head: str | None) -> str:
    if head is None:
        raise CheckpointError(
            f"{entry.name} has no classification head (architectures = {config.architectures}). "
            "It is a base or pre-training model: fine-tune it first (python -m explorer finetune)."
        )
    task = _registered_task(entry.task)
    if head == "multiple_choice":
        if task is not None and task.head == "multiple_choice":
            return head
        raise CheckpointError(
            f"{entry.name} has a multiple-choice head (it picks one of several endings), not one for {entry.task}."
        )
    # A sequence head on a multiple-choice task is a pair classifier: it scores each ending as right or not.
    if task is not None and task.head == "sequence" and config.num_labels != task.num_labels:
        raise CheckpointError(
            f"{entry.name} has a {config.num_labels}-class head; {entry.task} needs a {task.num_labels}-class head. "
            "It looks like a checkpoint for another task."
        )
    return head


def _registered_task(task_id: str | None) -> Task | None:
    """The registered task of an entry, or None (no task, or one this app does not know)."""
    return task_registry.TASKS.get(task_id) if task_id else None


def load_model(entry: ModelEntry, device: str = "auto") -> LoadedModel:
    """Loads a registry entry into memory.

    Args:
        entry: What to load.
        device: ``auto`` or an explicit device.

    Raises:
        CheckpointError: with a message for the user, for every known failure:
            missing files, corrupt or unsafe weights, a head for another task.
    """
    if not capabilities(entry).checkpoint:
        raise CheckpointError(f"{entry.name} is not a transformer checkpoint.")
    if entry.problems:
        raise CheckpointError(entry.problems[0])
    source = Path(entry.source)
    raw_file = source.is_file()
    if raw_file and not entry.base:
        raise CheckpointError(f"{source.name} is a raw weights file; its models.toml entry needs `base`.")
    # AutoConfig and AutoTokenizer read their files to the end: a FIFO or /dev/zero would hang or fill memory.
    for folder in dict.fromkeys(Path(s) for s in (entry.source, entry.base) if s and Path(s).is_dir()):
        if problems := folder_file_problems(folder):
            raise CheckpointError(problems[0])
    if source.is_dir() and not (source / "config.json").is_file() and not entry.base:
        raise CheckpointError(f"{source} has no config.json.")

    has_config = source.is_dir() and (source / "config.json").is_file()
    config_source = entry.source if has_config or not entry.base else entry.base
    config = _load_config(config_source)
    head = _head_for(config)
    if head is None and entry.base and _registered_task(entry.task):
        # A base config for a state dict trained with a task head: build that head.
        task = _registered_task(entry.task)
        head = task.head
        if head == "sequence":
            config.num_labels = task.num_labels
    head = _check_head(entry, config, head)

    dev = pick_device(device)
    dtype = pick_dtype(dev)
    notes: list[str] = []
    weights = source if raw_file else (_weights_file(source) if source.is_dir() else None)
    try:
        if weights is None or (weights.name == "model.safetensors" and not raw_file):
            model = _from_pretrained(entry, weights, config, head, dtype)
        else:
            state = read_state_dict(weights)
            _check_config_matches(config, sum(v.numel() for v in state.values()), entry.name)
            _check_memory(config, torch.get_default_dtype(), entry.name)  # from_config builds before the cast
            model = _model_class(head).from_config(config)
            state, notes = normalise_keys(state, set(model.state_dict()))
            hint = "Is `base` the model it was trained from?" if raw_file else "Is config.json the one saved with these weights?"
            _load_state(model, state, weights.name, hint)
            if any(v.dtype == torch.float16 for v in state.values()):
                notes.append("fp16 weights upcast for this device" if dtype == torch.float32 else "fp16 weights")
            model = model.to(dtype)
    except CheckpointError:
        raise
    except Exception as exc:  # from_pretrained failure modes are many; keep the app alive
        raise CheckpointError(f"Could not load the weights of {entry.name}: {exc}") from exc

    tokenizer_sources = [s for s in (entry.source if source.is_dir() or not raw_file else None, entry.base) if s]
    tokenizer = _load_tokenizer(tokenizer_sources)
    notes.extend(pad_with_eos(model.config, tokenizer))
    model.to(dev).eval()
    positive, how = positive_label_from(config.to_dict(), entry.positive_label)
    return LoadedModel(
        entry=entry,
        model=model,
        tokenizer=tokenizer,
        device=dev,
        dtype=dtype,
        head=head,
        positive_label=positive,
        positive_how=how,
        max_length=max_input_length(config, tokenizer),
        notes=notes,
    )


def _from_pretrained(
    entry: ModelEntry, weights: Path | None, config: PretrainedConfig, head: str, dtype: torch.dtype
) -> PreTrainedModel:
    """Loads a folder (one safetensors file or shards) or hub id, refusing anything left random.

    ``weights`` is the folder's model.safetensors, or None for shards and hub ids.
    """
    source = Path(entry.source)
    if weights is not None:
        held = _parameters_in(read_safetensors_header(weights))
    elif (source / _SAFETENSORS_INDEX).exists():
        held = _sharded_parameters(source)
    else:
        held = None  # pickled shards (read only by from_pretrained, safely) or a hub id: nothing to compare
    if held is not None:
        _check_config_matches(config, held, entry.name)
    _check_memory(config, dtype, entry.name)
    # ignore_mismatched_sizes: report wrongly shaped weights in the info (refused below)
    # instead of an exception whose message points at a log table.
    model, info = _model_class(head).from_pretrained(
        entry.source,
        dtype=dtype,
        trust_remote_code=False,
        output_loading_info=True,
        ignore_mismatched_sizes=True,
        **({"use_safetensors": True} if weights is not None else {}),
    )
    if info.get("error_msgs"):
        raise CheckpointError(f"Could not load the weights of {entry.name}: {info['error_msgs'][0]}")
    _check_keys(
        entry.name,
        list(info.get("missing_keys", ())),
        list(info.get("unexpected_keys", ())),
        [(k, tuple(got), tuple(want)) for k, got, want in info.get("mismatched_keys", ())],
        hint="Is config.json the one saved with these weights?",
    )
    return model


def load_encoder(entry: ModelEntry) -> PreTrainedModel:
    """A base encoder (no task head) on CPU in fp32, for parameter anatomy and position tables.

    Held to the same rules as task models: bounded config reads, the config's size
    checked against the weights and the free memory before anything is allocated,
    and every encoder weight must come from the checkpoint (a missing one would be
    shown as random numbers). Unexpected weights are fine here: a pre-training
    checkpoint carries heads (ELECTRA's discriminator, BERT's MLM) an encoder drops.

    Raises:
        CheckpointError: with a message for the user.
    """
    from transformers import AutoModel

    source = Path(entry.source)
    if source.is_dir() and (problems := folder_file_problems(source)):
        raise CheckpointError(problems[0])
    config = _load_config(entry.source)
    if source.is_dir():
        weights = _weights_file(source)
        if weights is not None and weights.suffix == ".safetensors":
            _check_config_matches(config, _parameters_in(read_safetensors_header(weights)), entry.name)
        elif (source / _SAFETENSORS_INDEX).exists():
            _check_config_matches(config, _sharded_parameters(source), entry.name)
    _check_memory(config, torch.float32, entry.name)
    try:
        model, info = AutoModel.from_pretrained(
            entry.source, config=config, trust_remote_code=False, output_loading_info=True, ignore_mismatched_sizes=True
        )
    except Exception as exc:  # many failure modes; the page shows the message
        raise CheckpointError(f"Could not load {entry.name}: {exc}") from exc
    _check_keys(
        entry.name,
        list(info.get("missing_keys", ())),
        [],
        [(k, tuple(got), tuple(want)) for k, got, want in info.get("mismatched_keys", ())],
        hint="Is config.json the one saved with these weights?",
    )
    return model.eval()


def pad_with_eos(config: PretrainedConfig, tokenizer: Any) -> list[str]:
    """Gives a GPT-2-style checkpoint without a pad token the EOS token to pad with.

    Batches need a pad token, and GPT-2's classifier finds each row's last real token
    through ``config.pad_token_id`` (without it, it refuses batches of more than one).
    EOS is what Hugging Face recommends; the attention mask keeps it out of the
    computation. Done at load time (before the model is cached and shared) and
    before fine-tuning.
    """
    notes = []
    if getattr(tokenizer, "pad_token_id", None) is None and getattr(tokenizer, "eos_token", None) is not None:
        tokenizer.pad_token = tokenizer.eos_token
        notes.append(f"no pad token: padding with EOS {tokenizer.eos_token!r}")
    if config.pad_token_id is None and getattr(tokenizer, "pad_token_id", None) is not None:
        config.pad_token_id = tokenizer.pad_token_id
        notes.append(f"config.pad_token_id set to {tokenizer.pad_token_id} (the tokenizer's pad token)")
    return notes


def _load_state(model: PreTrainedModel, state: dict[str, torch.Tensor], name: str, hint: str) -> None:
    """Fills ``model`` from a state dict that must match it exactly (see ``_check_keys``)."""
    expected = model.state_dict()
    # A tied weight (an output layer sharing the embedding matrix) is filled from its source.
    tied = set(getattr(model, "all_tied_weights_keys", None) or ())
    missing = [k for k in expected if k not in state and k not in tied]
    unexpected = [k for k in state if k not in expected]
    mismatched = [
        (k, tuple(state[k].shape), tuple(expected[k].shape))
        for k in state
        if k in expected and state[k].shape != expected[k].shape
    ]
    _check_keys(name, missing, unexpected, mismatched, hint)
    model.load_state_dict({k: v for k, v in state.items() if k in expected}, strict=False)
