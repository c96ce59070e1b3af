"""Facts every part of the package shares, each defined once: dtype names, devices, and the
normalisation statistics. A leaf module: it imports nothing of this package but its errors."""

from __future__ import annotations

from typing import Any

import torch

from videomae.errors import InputError

__all__ = [
    "DTYPES",
    "DTYPE_NAMES",
    "IMAGENET_DEFAULT_MEAN",
    "IMAGENET_DEFAULT_STD",
    "IMAGENET_STANDARD_MEAN",
    "IMAGENET_STANDARD_STD",
    "parse_dtype",
    "resolve_device",
]

#: the statistics every VideoMAE recipe normalises with (the original release, our recipes)
IMAGENET_DEFAULT_MEAN: tuple[float, float, float] = (0.485, 0.456, 0.406)
IMAGENET_DEFAULT_STD: tuple[float, float, float] = (0.229, 0.224, 0.225)
#: the default of transformers' ``VideoMAEImageProcessor`` (maps [0, 1] to [-1, 1])
IMAGENET_STANDARD_MEAN: tuple[float, float, float] = (0.5, 0.5, 0.5)
IMAGENET_STANDARD_STD: tuple[float, float, float] = (0.5, 0.5, 0.5)

#: the short names flags and configs use, in the order help texts list them
DTYPE_NAMES: tuple[str, ...] = ("fp32", "bf16", "fp16")

#: accepted dtype names -> torch dtypes
DTYPES: dict[str, torch.dtype] = {
    "fp32": torch.float32,
    "float32": torch.float32,
    "bf16": torch.bfloat16,
    "bfloat16": torch.bfloat16,
    "fp16": torch.float16,
    "float16": torch.float16,
    "half": torch.float16,
}


def parse_dtype(dtype: Any) -> torch.dtype:
    """``"fp32"``/``"bf16"``/``"fp16"`` (or the long names, ``"torch.bfloat16"``, or a floating
    torch dtype) -> the torch dtype. Anything else raises :class:`InputError`."""
    if isinstance(dtype, torch.dtype):
        if dtype not in DTYPES.values():
            raise InputError(f"dtype must be float32, bfloat16 or float16, got {dtype}")
        return dtype
    name = str(dtype).replace("torch.", "").lower()
    if name not in DTYPES:
        raise InputError(f"dtype must be one of fp32, bf16, fp16, got {dtype!r}")
    return DTYPES[name]


def dtype_name(dtype: torch.dtype) -> str:
    """The short name of a floating dtype (``torch.bfloat16`` -> ``"bf16"``)."""
    parsed = parse_dtype(dtype)
    return next(name for name in DTYPE_NAMES if DTYPES[name] == parsed)


def resolve_device(device: str | torch.device | None) -> torch.device:
    """``None``/"auto" -> CUDA when available, else CPU; anything else as torch reads it, checked
    to exist here (an unknown name, CUDA without a GPU or ``cuda:3`` on a 1-GPU machine raise
    :class:`InputError`)."""
    if device is None or str(device) == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError, ValueError):
        raise InputError(
            f"device {device!r} is not a device name; use cpu, cuda, cuda:N or auto"
        ) from None
    if dev.type == "cuda":
        count = torch.cuda.device_count() if torch.cuda.is_available() else 0
        if count == 0:
            raise InputError(f"device {device!r}: CUDA is not available here; use --device cpu")
        if dev.index is not None and dev.index >= count:
            raise InputError(
                f"device {device!r}: this machine has {count} CUDA device(s), "
                f"cuda:0..cuda:{count - 1}"
            )
    elif dev.type == "mps" and not torch.backends.mps.is_available():
        raise InputError(f"device {device!r}: MPS is not available here; use --device cpu")
    elif dev.type not in ("cpu", "cuda", "mps"):
        raise InputError(f"device {device!r} is not supported; use cpu, cuda, cuda:N or auto")
    return dev
