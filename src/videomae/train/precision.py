"""Numeric policy of a training run: which precision (resolved once), its autocast, and the EMA.

"auto" means bf16 autocast where the hardware computes bf16 natively (CUDA with bf16, CPUs with
AVX-512 BF16 or AMX) and fp32 elsewhere; fp16 needs CUDA because it uses a gradient scaler. The
exponential moving average of the weights (:class:`ModelEMA`) is kept in the weights' own dtype.
"""

from __future__ import annotations

import contextlib

import torch

from videomae.runtime import DTYPE_NAMES

PRECISIONS = DTYPE_NAMES


def cpu_has_fast_bf16() -> bool:
    """True when this CPU computes bf16 matmuls natively (AVX-512 BF16 or AMX)."""
    try:
        return bool(torch.cpu._is_avx512_bf16_supported() or torch.cpu._is_amx_tile_supported())
    except AttributeError:  # older torch without the probes
        return False


def resolve_precision(precision: str, device: torch.device) -> str:
    """Validate ``precision``; "auto" means bf16 autocast where the hardware has fast bf16
    (CUDA with bf16 support, CPUs with AVX-512 BF16 / AMX), fp32 otherwise."""
    if precision == "auto":
        if device.type == "cuda" and torch.cuda.is_bf16_supported():
            return "bf16"
        if device.type == "cpu" and cpu_has_fast_bf16():
            return "bf16"
        return "fp32"
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {PRECISIONS} or 'auto', got {precision!r}")
    if precision == "fp16" and device.type != "cuda":
        raise ValueError(
            "precision 'fp16' needs CUDA (it uses a gradient scaler); on CPU use 'bf16' or 'fp32'"
        )
    return precision


def autocast_context(precision: str, device: torch.device) -> contextlib.AbstractContextManager:
    """Autocast to bf16 / fp16 on ``device``, or nothing for fp32 (a resolved precision)."""
    if precision == "fp32":
        return contextlib.nullcontext()
    dtype = torch.bfloat16 if precision == "bf16" else torch.float16
    return torch.autocast(device_type=device.type, dtype=dtype)


class ModelEMA:
    """Exponential moving average of a model's floating-point parameters and buffers."""

    def __init__(self, model: torch.nn.Module, decay: float) -> None:
        if not 0.0 < decay < 1.0:
            raise ValueError(f"ema_decay must be in (0, 1), got {decay}")
        self.decay = float(decay)
        self.state = {k: v.detach().clone() for k, v in model.state_dict().items()}

    @torch.no_grad()
    def update(self, model: torch.nn.Module) -> None:
        for k, v in model.state_dict().items():
            e = self.state[k]
            if e.is_floating_point():
                e.lerp_(v.detach().to(e.dtype), 1.0 - self.decay)
            else:
                e.copy_(v)

    def copy_to(self, model: torch.nn.Module) -> None:
        model.load_state_dict(self.state)
