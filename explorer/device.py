"""Choosing where models run and in which precision."""

from __future__ import annotations

import contextlib
from functools import lru_cache
from pathlib import Path

import torch

# How a model's forward pass runs. fp32 is the default: exact metrics (evaluate) are computed in it unless
# the user picks bf16. bf16 runs the matmuls in bfloat16 (torch.autocast): about twice as fast on CPUs with
# AMX or AVX512-BF16, where answers agree with fp32 on all but a few borderline items.
PRECISIONS = ("fp32", "bf16")


def pick_device(preference: str = "auto") -> torch.device:
    """Returns the device to use: CUDA, then Apple MPS, then CPU.

    Args:
        preference: ``auto`` or an explicit torch device string. An explicit
            device that is not available falls back to CPU rather than failing,
            so a config written on a GPU box still starts on a laptop.
    """
    preference = (preference or "auto").strip().lower()
    if preference != "auto":
        if preference.startswith("cuda") and not torch.cuda.is_available():
            return torch.device("cpu")
        if preference == "mps" and not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()):
            return torch.device("cpu")
        return torch.device(preference)
    if torch.cuda.is_available():
        return torch.device("cuda")
    if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def pick_dtype(device: torch.device) -> torch.dtype:
    """Half precision on CUDA (bf16 where the card supports it), fp32 elsewhere.

    CPU kernels for fp16 are slow or missing, so checkpoints saved in fp16 on a
    GPU are upcast to fp32 when they load on CPU.
    """
    if device.type == "cuda":
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    return torch.float32


def available_devices() -> list[str]:
    """Device choices for the sidebar."""
    devices = ["auto", "cpu"]
    if torch.cuda.is_available():
        devices += [f"cuda:{i}" for i in range(torch.cuda.device_count())]
    if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
        devices.append("mps")
    return devices


@lru_cache(maxsize=1)
def cpu_has_bf16() -> bool:
    """True when this CPU multiplies bfloat16 in hardware (AMX or AVX512-BF16), read from /proc/cpuinfo."""
    try:
        text = Path("/proc/cpuinfo").read_text(errors="replace")
    except OSError:
        return False
    flags = next((line.split(":", 1)[-1].split() for line in text.splitlines() if line.startswith("flags")), [])
    return bool({"amx_bf16", "avx512_bf16"} & set(flags))


def precision_problem(precision: str, device: torch.device) -> str | None:
    """Why ``precision`` cannot be used on ``device``, or None when it can."""
    if precision not in PRECISIONS:
        return f"unknown precision {precision!r}; expected one of {', '.join(PRECISIONS)}"
    if precision == "bf16" and device.type == "cpu" and not cpu_has_bf16():
        return ("bf16 needs a CPU with AMX or AVX512-BF16 (not found in /proc/cpuinfo); without them bfloat16 is "
                "emulated and slower than fp32. Use fp32.")
    if precision == "bf16" and device.type == "cuda" and not torch.cuda.is_bf16_supported():
        return "this GPU does not support bf16; models already run there in fp16."
    return None


def autocast(precision: str, device: torch.device):
    """The context a forward pass runs in: bfloat16 autocast for bf16 on the CPU, nothing otherwise.

    On CUDA models already load in half precision (``pick_dtype``).

    Raises:
        ValueError: a precision this device cannot run (``precision_problem``).
    """
    if problem := precision_problem(precision, device):
        raise ValueError(problem)
    if precision == "bf16" and device.type == "cpu":
        return torch.autocast("cpu", dtype=torch.bfloat16)
    return contextlib.nullcontext()


def available_precisions(device: torch.device) -> list[str]:
    """Precision choices for the sidebar on ``device``."""
    return [p for p in PRECISIONS if precision_problem(p, device) is None]
