"""Choosing where models run and in which precision."""

from __future__ import annotations

import torch


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
