"""Loading checkpoints safely, whatever shape users saved them in.

Handled: Hugging Face folders (safetensors preferred), folders holding only a
pickled ``pytorch_model.bin``, and raw ``torch.save(model.state_dict())`` files
from custom training loops (``module.`` prefixes from DataParallel/DDP,
``_orig_mod.`` from torch.compile, fp16 tensors saved on a GPU).

Safety: ``trust_remote_code`` is never enabled, and pickles are only opened
with ``torch.load(weights_only=True)``, which refuses to run code.
"""

from __future__ import annotations

import pickle
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

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
from explorer.registry import ModelEntry, positive_label_from

# Per-file "Loading weights" bars from transformers flood logs and the app's
# terminal; our own progress reporting says what is happening.
hf_logging.disable_progress_bar()

_TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "vocab.txt", "sentencepiece.bpe.model", "spiece.model")
_STRIP_PREFIXES = ("module.", "_orig_mod.")


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
    for name in ("model.safetensors", "pytorch_model.bin"):
        if (folder / name).is_file():
            return folder / name
    for suffix in (".safetensors", ".bin", ".pt", ".pth"):
        found = sorted(folder.glob(f"*{suffix}"))
        if found:
            return found[0]
    return None


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
        if path.is_dir() and not any((path / f).exists() for f in _TOKENIZER_FILES):
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
    if entry.task == "copa" and head == "multiple_choice":
        return head
    if head == "multiple_choice":
        raise CheckpointError(f"{entry.name} has a multiple-choice head (a COPA model), not one for {entry.task}.")
    if entry.task in {"cola", "wic", "boolq"} and config.num_labels != 2:
        raise CheckpointError(
            f"{entry.name} has a {config.num_labels}-class head; {entry.task} needs a 2-class head. "
            "It looks like a checkpoint for another task."
        )
    return head


def load_model(entry: ModelEntry, device: str = "auto") -> LoadedModel:
    """Loads a registry entry into memory.

    Args:
        entry: What to load.
        device: ``auto`` or an explicit device.

    Raises:
        CheckpointError: with a message for the user, for every known failure:
            missing files, corrupt or unsafe weights, a head for another task.
    """
    if entry.kind != "transformer":
        raise CheckpointError(f"{entry.name} is not a transformer checkpoint.")
    if entry.problems:
        raise CheckpointError(entry.problems[0])
    source = Path(entry.source)
    raw_file = source.is_file()
    if raw_file and not entry.base:
        raise CheckpointError(f"{source.name} is a raw weights file; its models.toml entry needs `base`.")
    if source.is_dir() and not (source / "config.json").is_file() and not entry.base:
        raise CheckpointError(f"{source} has no config.json.")

    has_config = source.is_dir() and (source / "config.json").is_file()
    config_source = entry.source if has_config or not entry.base else entry.base
    config = _load_config(config_source)
    head = _head_for(config)
    if head is None and entry.base and entry.task:
        # A base config for a state dict trained with a task head: build that head.
        head = "multiple_choice" if entry.task == "copa" else "sequence"
        if head == "sequence":
            config.num_labels = 2
    head = _check_head(entry, config, head)

    dev = pick_device(device)
    dtype = pick_dtype(dev)
    notes: list[str] = []
    weights = source if raw_file else (_weights_file(source) if source.is_dir() else None)
    try:
        if weights is None:
            model = _model_class(head).from_pretrained(entry.source, dtype=dtype, trust_remote_code=False)
        elif weights.suffix == ".safetensors" and weights.name == "model.safetensors" and not raw_file:
            # Validate first: a corrupt file gives a clear message instead of a deep traceback.
            read_state_dict(weights)
            model = _model_class(head).from_pretrained(
                str(source), dtype=dtype, use_safetensors=True, trust_remote_code=False
            )
        else:
            state = read_state_dict(weights)
            model = _model_class(head).from_config(config)
            state, notes = normalise_keys(state, set(model.state_dict()))
            _load_state(model, state, weights.name)
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


def _load_state(model: PreTrainedModel, state: dict[str, torch.Tensor], name: str) -> None:
    expected = model.state_dict()
    missing = [k for k in expected if k not in state and not k.endswith("position_ids")]
    unexpected = [k for k in state if k not in expected]
    head_missing = [k for k in missing if k.startswith(("classifier", "score", "pre_classifier", "sequence_summary"))]
    if head_missing and len(missing) == len(head_missing):
        raise CheckpointError(
            f"{name} has no classification-head weights ({', '.join(head_missing[:3])} missing): "
            "it looks like a base model or one saved without its head."
        )
    if missing:
        raise CheckpointError(
            f"{name} does not match the base config: {len(missing)} weights missing "
            f"(e.g. {', '.join(missing[:3])}) and {len(unexpected)} unexpected (e.g. {', '.join(unexpected[:3])})."
        )
    shapes = [k for k in state if k in expected and state[k].shape != expected[k].shape]
    if shapes:
        k = shapes[0]
        raise CheckpointError(
            f"{name}: weight {k} has shape {tuple(state[k].shape)} but the base config expects "
            f"{tuple(expected[k].shape)}; is `base` the model it was trained from?"
        )
    model.load_state_dict({k: v for k, v in state.items() if k in expected}, strict=False)
