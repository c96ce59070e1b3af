"""Functional ops on ``(..., C, H, W)`` frames: resize, crop, multi-crop views, normalise.

The training, evaluation and inference code call ``resize_short_side``, ``center_crop``,
``spatial_crops`` and ``normalize`` directly; the processors are built from the same steps.
Resizes are antialiased like PIL's (uint8 on CPU stays uint8, split across threads by
:mod:`videomae.processing.parallel`). Rescale and normalise are one fused multiply-add whose
per-channel tensors are cached per setting in :func:`scale_shift_cached` (clear it with
``scale_shift_cached.cache_clear()``).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from videomae.errors import InputError, InputTypeError
from videomae.processing.parallel import map_split, num_workers
from videomae.runtime import IMAGENET_STANDARD_MEAN, IMAGENET_STANDARD_STD

__all__ = ["center_crop", "normalize", "resize_short_side", "spatial_crops"]

# PIL resampling filter ids (PIL.Image.Resampling values)
PIL_NEAREST, PIL_LANCZOS, PIL_BILINEAR, PIL_BICUBIC, PIL_BOX, PIL_HAMMING = 0, 1, 2, 3, 4, 5
_TORCH_MODES = {PIL_BILINEAR: "bilinear", PIL_BICUBIC: "bicubic"}


# --------------------------------------------------------------------------------------------
# Argument checks
# --------------------------------------------------------------------------------------------


def check_resample(resample: Any) -> int:
    """``resample`` as a PIL filter id (int)."""
    try:
        value = int(resample)
    except (TypeError, ValueError, OverflowError):
        value = None
    if value is None or value != resample or not 0 <= value <= 5:
        raise InputTypeError(
            "resample must be a PIL filter id 0..5 such as 2 (BILINEAR) or 3 (BICUBIC), got "
            f"{resample!r}"
        )
    return value


def torch_mode(resample: Any) -> str:
    """The ``F.interpolate`` mode of a PIL filter id; only bilinear and bicubic have one."""
    resample = check_resample(resample)
    mode = _TORCH_MODES.get(resample)
    if mode is None:
        raise InputError(
            f"the torch path supports resample=2 (BILINEAR) or 3 (BICUBIC), got {resample}; "
            "use VideoMAEImageProcessor (PIL) for other filters"
        )
    return mode


def as_channel_tuple(values: Any, name: str) -> tuple[float, ...]:
    """A number, sequence or tensor of per-channel values -> a non-empty tuple of floats."""
    if isinstance(values, (int, float)):
        values = [values]
    if isinstance(values, torch.Tensor):
        values = values.reshape(-1).tolist()
    try:
        out = tuple(float(v) for v in values)
    except (TypeError, ValueError):
        raise InputTypeError(
            f"{name} must be a number or a sequence of numbers, got {values!r}"
        ) from None
    if not out or not all(math.isfinite(v) for v in out) or len(out) > 64:
        raise InputError(f"{name} must be 1 to 64 finite numbers, got {values!r}")
    return out


def broadcast_channels(values: Sequence[float], num_channels: int, name: str) -> list[float]:
    """Per-channel values for ``num_channels`` channels (one value is repeated)."""
    values = list(as_channel_tuple(values, name))
    if len(values) == 1:
        return values * num_channels
    if len(values) != num_channels:
        raise InputError(
            f"{name} has {len(values)} values but the frames have {num_channels} channels; "
            f"pass one value per channel"
        )
    return values


def check_frames(frames: torch.Tensor, name: str = "frames") -> None:
    """Raise unless ``frames`` is a tensor with at least (C, H, W) dims."""
    if not isinstance(frames, torch.Tensor):
        raise InputTypeError(
            f"{name} must be a torch.Tensor (T, C, H, W), got {type(frames).__name__}"
        )
    if frames.ndim < 3:
        raise InputError(
            f"{name} must be (..., C, H, W) with channels first, got shape {tuple(frames.shape)}; "
            "for (T, H, W, C) frames use frames.permute(0, 3, 1, 2)"
        )


# --------------------------------------------------------------------------------------------
# Output sizes (transformers' rules)
# --------------------------------------------------------------------------------------------


def short_side_output(height: int, width: int, size: int) -> tuple[int, int]:
    """(h, w) after resizing the short side to ``size``; long side int(size * long / short)."""
    if width <= height:
        return int(size * height / width), size
    return size, int(size * width / height)


def resize_output(height: int, width: int, size: dict[str, int]) -> tuple[int, int]:
    """Output (h, w) of the resize step for a size dict (``shortest_edge`` or height/width)."""
    if "shortest_edge" in size:
        return short_side_output(height, width, size["shortest_edge"])
    return size["height"], size["width"]


# --------------------------------------------------------------------------------------------
# Crop and resize
# --------------------------------------------------------------------------------------------


def center_crop_any(x: Any, crop_h: int, crop_w: int) -> Any:
    """Center crop of the last two dims (numpy or torch); zero pads when the crop is larger.

    Offsets are ``(H - h) // 2`` and ``(W - w) // 2``; padding puts ``ceil`` of the missing
    pixels before the image, as transformers does.
    """
    h, w = x.shape[-2], x.shape[-1]
    top, left = (h - crop_h) // 2, (w - crop_w) // 2
    if top >= 0 and left >= 0:
        return x[..., top : top + crop_h, left : left + crop_w]
    new_h, new_w = max(crop_h, h), max(crop_w, w)
    pad_top, pad_left = math.ceil((new_h - h) / 2), math.ceil((new_w - w) / 2)
    shape = tuple(x.shape[:-2]) + (new_h, new_w)
    if isinstance(x, torch.Tensor):
        canvas = torch.zeros(shape, dtype=x.dtype, device=x.device)
    else:
        canvas = np.zeros(shape, dtype=x.dtype)
    canvas[..., pad_top : pad_top + h, pad_left : pad_left + w] = x
    top, left = top + pad_top, left + pad_left
    return canvas[..., max(0, top) : top + crop_h, max(0, left) : left + crop_w]


def interpolate(x: torch.Tensor, out_hw: tuple[int, int], mode: str) -> torch.Tensor:
    """Antialiased resize of (N, C, H, W); uint8 on CPU stays uint8 (PIL's algorithm, AVX2).

    Elsewhere (CUDA, float input) it works in float32; a uint8 input comes back as uint8.
    """
    if tuple(x.shape[-2:]) == tuple(out_hw):
        return x
    if x.dtype == torch.uint8 and x.device.type == "cpu":
        return F.interpolate(x, size=out_hw, mode=mode, antialias=True, align_corners=False)
    y = F.interpolate(x.float(), size=out_hw, mode=mode, antialias=True, align_corners=False)
    if x.dtype == torch.uint8:
        return y.round_().clamp_(0, 255).to(torch.uint8)
    if x.is_floating_point():
        return y.to(x.dtype)
    return y


def _resize_frames(frames: torch.Tensor, out_hw: tuple[int, int], mode: str) -> torch.Tensor:
    """Resize (T, C, H, W) frames, splitting the frames across threads for CPU uint8."""
    if tuple(frames.shape[-2:]) == tuple(out_hw):
        return frames  # nothing to do: no thread hand-off (it costs more than a small clip)
    t = frames.shape[0]
    workers = num_workers(t, frames.device) if frames.dtype == torch.uint8 else 1
    if workers == 1:
        return interpolate(frames, out_hw, mode)  # no torch.cat copy of a single part
    return torch.cat(map_split(lambda s: interpolate(frames[s], out_hw, mode), t, workers))


def resize_short_side(
    frames: torch.Tensor, size: int, *, resample: int = PIL_BILINEAR
) -> torch.Tensor:
    """Resize ``(T, C, H, W)`` frames so the short side is ``size`` (long side int(size*L/S)).

    Antialiased bilinear (or bicubic with ``resample=3``) like PIL; keeps the dtype (uint8 in,
    uint8 out) and the device. Channels-last memory (a permuted (T, H, W, C) array) is fastest.
    """
    check_frames(frames)
    mode = torch_mode(resample)
    h, w = frames.shape[-2:]
    out_hw = short_side_output(h, w, int(size))
    lead = frames.shape[:-3]
    flat = frames.reshape(-1, *frames.shape[-3:])
    return _resize_frames(flat, out_hw, mode).reshape(*lead, *flat.shape[1:2], *out_hw)


def center_crop(frames: Any, size: int | tuple[int, int]) -> Any:
    """Center crop the last two dims of ``(..., H, W)`` frames (torch or numpy) to ``size``.

    ``size`` is an int (square) or (height, width). Offsets ``(H - h) // 2, (W - w) // 2``
    (transformers' rule); frames smaller than the crop are zero padded around the image.
    """
    crop_h, crop_w = (size, size) if isinstance(size, int) else (int(size[0]), int(size[1]))
    if frames.ndim < 2:
        raise InputError(f"frames must be (..., H, W), got shape {tuple(frames.shape)}")
    return center_crop_any(frames, crop_h, crop_w)


def spatial_crops(
    frames: torch.Tensor, size: int, num_crops: int = 3, *, resample: int = PIL_BILINEAR
) -> list[torch.Tensor]:
    """Multi-crop testing views: ``num_crops`` crops of ``size x size`` from ``(T, C, H, W)``.

    The short side is first resized to ``size`` (skipped when it already is). The crops then
    span the longer side evenly: with ``num_crops=3`` they sit at its start, middle
    (``(L - size) // 2``, the center crop) and end; ``num_crops=1`` is the center crop.
    """
    check_frames(frames)
    if num_crops < 1:
        raise InputError(f"num_crops must be >= 1, got {num_crops}")
    if min(frames.shape[-2:]) != size:
        frames = resize_short_side(frames, size, resample=resample)
    h, w = frames.shape[-2:]
    if num_crops == 1:
        return [center_crop(frames, size)]
    long_is_h = h > w
    span = (h if long_is_h else w) - size
    crops = []
    for i in range(num_crops):
        start = i * span // (num_crops - 1)
        if long_is_h:
            view = frames[..., start : start + size, :]
            view = center_crop_any(view, size, size)
        else:
            view = frames[..., :, start : start + size]
            view = center_crop_any(view, size, size)
        crops.append(view)
    return crops


# --------------------------------------------------------------------------------------------
# Rescale + normalise
# --------------------------------------------------------------------------------------------


def scale_shift(
    num_channels: int,
    mean: Sequence[float] | None,
    std: Sequence[float] | None,
    rescale_factor: float | None,
) -> tuple[torch.Tensor | None, torch.Tensor | None]:
    """Fused per-channel scale and shift: x * scale + shift == (x * rescale - mean) / std.

    ``mean``/``std`` of None: rescale only (shift None); a scale of None means 1.
    """
    return scale_shift_cached(
        num_channels,
        None if mean is None else tuple(mean),
        None if std is None else tuple(std),
        rescale_factor,
    )


@functools.lru_cache(maxsize=64)
def scale_shift_cached(
    num_channels: int,
    mean: tuple[float, ...] | None,
    std: tuple[float, ...] | None,
    rescale_factor: float | None,
) -> tuple[torch.Tensor | None, torch.Tensor | None]:
    """:func:`scale_shift` on hashable arguments, cached per setting (``cache_clear()`` resets).

    Building the small tensors costs more than normalising a small clip, so they are kept.
    """
    r = 1.0 if rescale_factor is None else float(rescale_factor)
    if mean is None or std is None:
        return (None if r == 1.0 else torch.full((num_channels, 1, 1), r)), None
    mean_t = torch.tensor(broadcast_channels(mean, num_channels, "image_mean"), dtype=torch.float64)
    std_t = torch.tensor(broadcast_channels(std, num_channels, "image_std"), dtype=torch.float64)
    if (std_t == 0).any():
        raise InputError(f"image_std must be non-zero, got {std_t.tolist()}")
    scale = (r / std_t).float().view(-1, 1, 1)
    shift = (-mean_t / std_t).float().view(-1, 1, 1)
    return scale, shift


def normalize(
    frames: torch.Tensor,
    mean: Sequence[float] = IMAGENET_STANDARD_MEAN,
    std: Sequence[float] = IMAGENET_STANDARD_STD,
    *,
    rescale_factor: float = 1 / 255,
) -> torch.Tensor:
    """uint8 (or float 0..255) frames ``(..., C, H, W)`` -> float32 ``(x * rescale - mean) / std``.

    One fused multiply-add per element. Pass ``rescale_factor=1.0`` for frames already in [0, 1].
    """
    check_frames(frames)
    scale, shift = scale_shift(frames.shape[-3], mean, std, rescale_factor)
    out = frames.to(torch.float32)
    if out.data_ptr() == frames.data_ptr():
        out = out.clone()
    return out.mul_(scale.to(out.device)).add_(shift.to(out.device))
