"""Clip augmentations of the original recipes (crops, flip, erasing) on (T, C, H, W) tensors,
frame-consistent; RandAugment is in :mod:`videomae.data.randaugment`.

Every random choice (crop box, flip, erase box) is drawn ONCE per
clip and applied to every frame, so motion is not disturbed. Randomness comes from a
``torch.Generator`` (CPU) passed as ``generator=``; ``None`` uses torch's global RNG, which the
DataLoader seeds per worker. Only ``torch`` and ``torch.nn.functional`` are used (no torchvision).

dtype is kept: uint8 clips come back uint8, float clips keep their dtype. Crops are views, so a
channels-last uint8 clip (decoded (T, H, W, C) frames permuted) is cropped and resized without
a full-size copy; convert to float and normalise after the resize, on the small clip.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F

Size = int | tuple[int, int]

# modes torch resizes in uint8 on the CPU (with and without antialiasing)
_UINT8_MODES = frozenset({"bilinear", "bicubic"})


# ---------------------------------------------------------------------------------- helpers


def check_clip(clip: torch.Tensor, name: str = "clip") -> None:
    """Raise a ValueError naming the fix unless ``clip`` is a 4-d (T, C, H, W) tensor."""
    if not isinstance(clip, torch.Tensor) or clip.dim() != 4:
        got = tuple(clip.shape) if isinstance(clip, torch.Tensor) else type(clip).__name__
        raise ValueError(
            f"{name} must be a (T, C, H, W) tensor, got {got}; "
            "permute (T, H, W, C) frames with clip.permute(0, 3, 1, 2)"
        )


def _pair(size: Size) -> tuple[int, int]:
    if isinstance(size, int):
        return size, size
    h, w = size
    return int(h), int(w)


def draw_uniform(generator: torch.Generator | None, low: float = 0.0, high: float = 1.0) -> float:
    """Uniform float in [low, high) from ``generator`` (torch's global RNG when None)."""
    u = float(torch.rand((), generator=generator).item())
    return low + (high - low) * u


def draw_int(generator: torch.Generator | None, low: int, high: int) -> int:
    """Uniform integer in [low, high], both ends included (as Python's random.randint)."""
    return int(torch.randint(low, high + 1, (), generator=generator).item())


def _to_float(clip: torch.Tensor) -> torch.Tensor:
    return clip.float() if not clip.is_floating_point() else clip


def _restore(x: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    if dtype == torch.uint8:
        return x.round().clamp(0, 255).to(torch.uint8)
    return x.to(dtype)


def resize(
    clip: torch.Tensor, size: Size, *, mode: str = "bilinear", antialias: bool = True
) -> torch.Tensor:
    """(T, C, H, W) -> (T, C, *size); ``antialias`` mimics PIL when shrinking.

    A uint8 clip on the CPU is resized by torch's uint8 kernels (bilinear or bicubic), which
    read a channels-last view such as ``frames_thwc.permute(0, 3, 1, 2)`` in place: no float
    copy of the full-size crop, and no layout copy of the decoded frames. Their fixed-point
    weights put a pixel at most 1 (of 255) from the float computation rounded (measured in
    tests/test_data_transforms_uint8.py). Other dtypes and devices are resized in float.
    """
    check_clip(clip)
    out_h, out_w = _pair(size)
    if clip.shape[-2:] == (out_h, out_w):
        return clip
    if clip.dtype == torch.uint8 and clip.device.type == "cpu" and mode in _UINT8_MODES:
        return F.interpolate(
            clip, size=(out_h, out_w), mode=mode, align_corners=False, antialias=antialias
        )
    x = F.interpolate(
        _to_float(clip), size=(out_h, out_w), mode=mode, align_corners=False, antialias=antialias
    )
    return _restore(x, clip.dtype)


# ---------------------------------------------------------------------------------- crops


def _fixed_offsets(
    image_w: int, image_h: int, crop_w: int, crop_h: int, more: bool
) -> list[tuple[int, int]]:
    """(left, top) candidates of GroupMultiScaleCrop: corners and centre, plus 8 more."""
    ws, hs = (image_w - crop_w) // 4, (image_h - crop_h) // 4
    grid = [(0, 0), (4, 0), (0, 4), (4, 4), (2, 2)]
    if more:
        grid += [(0, 2), (4, 2), (2, 4), (2, 0), (1, 1), (3, 1), (1, 3), (3, 3)]
    return [(gx * ws, gy * hs) for gx, gy in grid]


def multi_scale_crop(
    clip: torch.Tensor,
    size: Size,
    scales: Sequence[float] = (1.0, 0.875, 0.75, 0.66),
    max_distort: int = 1,
    *,
    fix_crop: bool = True,
    more_fix_crop: bool = True,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """The pre-training crop (GroupMultiScaleCrop): (T, C, H, W) -> (T, C, *size).

    Crop sides are ``int(short_side * s)`` for s in ``scales`` (snapped to the output side when
    within 3 px); a (w, h) pair whose scale indices differ by at most ``max_distort`` is chosen,
    placed at one of 13 fixed offsets (``fix_crop``) or uniformly, then resized (bilinear).
    """
    check_clip(clip)
    out_h, out_w = _pair(size)
    image_h, image_w = clip.shape[-2:]
    base = min(image_h, image_w)
    sides = [int(base * s) for s in scales]
    crop_hs = [out_h if abs(x - out_h) < 3 else x for x in sides]
    crop_ws = [out_w if abs(x - out_w) < 3 else x for x in sides]
    pairs = [
        (w, h)
        for i, h in enumerate(crop_hs)
        for j, w in enumerate(crop_ws)
        if abs(i - j) <= max_distort
    ]
    crop_w, crop_h = pairs[draw_int(generator, 0, len(pairs) - 1)]
    crop_w, crop_h = max(1, min(crop_w, image_w)), max(1, min(crop_h, image_h))
    if fix_crop:
        offsets = _fixed_offsets(image_w, image_h, crop_w, crop_h, more_fix_crop)
        left, top = offsets[draw_int(generator, 0, len(offsets) - 1)]
    else:
        left = draw_int(generator, 0, image_w - crop_w)
        top = draw_int(generator, 0, image_h - crop_h)
    cropped = clip[..., top : top + crop_h, left : left + crop_w]
    return resize(cropped, (out_h, out_w), mode="bilinear", antialias=True)


def random_resized_crop_params(
    height: int,
    width: int,
    scale: tuple[float, float] = (0.08, 1.0),
    ratio: tuple[float, float] = (3 / 4, 4 / 3),
    *,
    generator: torch.Generator | None = None,
    attempts: int = 10,
) -> tuple[int, int, int, int]:
    """(top, left, h, w) of a box with area fraction in ``scale`` and log-uniform aspect ratio.

    After ``attempts`` failures, falls back to the largest centred box within ``ratio``.
    """
    area = height * width
    log_lo, log_hi = math.log(ratio[0]), math.log(ratio[1])
    for _ in range(attempts):
        target = draw_uniform(generator, *scale) * area
        aspect = math.exp(draw_uniform(generator, log_lo, log_hi))
        w = int(round(math.sqrt(target * aspect)))
        h = int(round(math.sqrt(target / aspect)))
        if 0 < w <= width and 0 < h <= height:
            return draw_int(generator, 0, height - h), draw_int(generator, 0, width - w), h, w
    in_ratio = width / height
    if in_ratio < min(ratio):
        w, h = width, int(round(width / min(ratio)))
    elif in_ratio > max(ratio):
        h, w = height, int(round(height * max(ratio)))
    else:
        w, h = width, height
    return (height - h) // 2, (width - w) // 2, h, w


def random_resized_crop(
    clip: torch.Tensor,
    size: Size,
    scale: tuple[float, float] = (0.08, 1.0),
    ratio: tuple[float, float] = (3 / 4, 4 / 3),
    *,
    antialias: bool = False,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """The fine-tuning crop: one random box for the whole clip, resized to ``size`` (bilinear).

    ``antialias=False`` matches the original fine-tuning code (plain ``F.interpolate``).
    """
    check_clip(clip)
    if not (0 < scale[0] <= scale[1]) or not (0 < ratio[0] <= ratio[1]):
        raise ValueError(f"scale and ratio must be increasing positive pairs, got {scale}, {ratio}")
    top, left, h, w = random_resized_crop_params(
        clip.shape[-2], clip.shape[-1], scale, ratio, generator=generator
    )
    return resize(clip[..., top : top + h, left : left + w], size, antialias=antialias)


def horizontal_flip(
    clip: torch.Tensor, p: float = 0.5, *, generator: torch.Generator | None = None
) -> torch.Tensor:
    """Mirror every frame left-right with probability ``p`` (one draw per clip)."""
    check_clip(clip)
    if draw_uniform(generator) < p:
        return clip.flip(-1)
    return clip


# ---------------------------------------------------------------------------------- erasing


def random_erasing(
    clip: torch.Tensor,
    p: float = 0.25,
    mode: str = "pixel",
    *,
    min_area: float = 0.02,
    max_area: float = 1 / 3,
    min_aspect: float = 0.3,
    max_aspect: float | None = None,
    attempts: int = 100,
    same_noise: bool = False,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Erase one box, the same for every frame, of a normalised float clip (the original "cube").

    With probability ``p``: a box of ``area * U(min_area, max_area)`` with log-uniform aspect in
    ``[min_aspect, max_aspect or 1/min_aspect]`` is filled with standard normal noise per pixel
    (``"pixel"``), one normal colour per channel (``"rand"``) or zeros (``"const"``). As in the
    original, noise is drawn per frame unless ``same_noise``. Returns a new tensor.
    """
    check_clip(clip)
    if not clip.is_floating_point():
        raise ValueError(
            f"random_erasing works on normalised float clips, got {clip.dtype}; "
            "convert and normalise first (erasing fills with N(0, 1) noise)"
        )
    if mode not in ("pixel", "rand", "const"):
        raise ValueError(f"mode must be 'pixel', 'rand' or 'const', got {mode!r}")
    if draw_uniform(generator) > p:
        return clip
    img_h, img_w = clip.shape[-2:]
    area = img_h * img_w
    log_lo = math.log(min_aspect)
    log_hi = math.log(max_aspect if max_aspect is not None else 1 / min_aspect)
    for _ in range(attempts):
        target = draw_uniform(generator, min_area, max_area) * area
        aspect = math.exp(draw_uniform(generator, log_lo, log_hi))
        h = int(round(math.sqrt(target * aspect)))
        w = int(round(math.sqrt(target / aspect)))
        if w < img_w and h < img_h:
            top = draw_int(generator, 0, img_h - h)
            left = draw_int(generator, 0, img_w - w)
            return _erase_box(clip, (top, left, h, w), mode, same_noise, generator)
    return clip


def _erase_box(
    clip: torch.Tensor,
    box: tuple[int, int, int, int],
    mode: str,
    same_noise: bool,
    generator: torch.Generator | None,
) -> torch.Tensor:
    """A copy of ``clip`` with the (top, left, h, w) box filled as ``mode`` says, every frame."""
    top, left, h, w = box
    t, c = clip.shape[:2]
    frames = 1 if same_noise else t
    if mode == "pixel":
        shape = (frames, c, h, w)
    elif mode == "rand":
        shape = (frames, c, 1, 1)
    else:
        shape = None
    out = clip.clone()
    if shape is None:
        out[..., top : top + h, left : left + w] = 0
    else:
        noise = torch.randn(shape, generator=generator, dtype=torch.float32)
        out[..., top : top + h, left : left + w] = noise.to(clip.dtype).to(clip.device)
    return out
