"""Clip augmentations of the original recipes, on (T, C, H, W) tensors, frame-consistent.

Every random choice (crop box, flip, erase box, RandAugment op and magnitude) is drawn ONCE per
clip and applied to every frame, so motion is not disturbed. Randomness comes from a
``torch.Generator`` (CPU) passed as ``generator=``; ``None`` uses torch's global RNG, which the
DataLoader seeds per worker. Only ``torch`` and ``torch.nn.functional`` are used (no torchvision).

dtype is kept: uint8 clips come back uint8 (rounded and clamped), float clips keep their dtype.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F

Size = int | tuple[int, int]


# ---------------------------------------------------------------------------------- helpers


def _check_clip(clip: torch.Tensor, name: str = "clip") -> None:
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


def _uniform(generator: torch.Generator | None, low: float = 0.0, high: float = 1.0) -> float:
    u = float(torch.rand((), generator=generator).item())
    return low + (high - low) * u


def _randint(generator: torch.Generator | None, low: int, high: int) -> int:
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
    """(T, C, H, W) -> (T, C, *size); ``antialias`` mimics PIL when shrinking."""
    _check_clip(clip)
    out_h, out_w = _pair(size)
    if clip.shape[-2:] == (out_h, out_w):
        return clip
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
    _check_clip(clip)
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
    crop_w, crop_h = pairs[_randint(generator, 0, len(pairs) - 1)]
    crop_w, crop_h = max(1, min(crop_w, image_w)), max(1, min(crop_h, image_h))
    if fix_crop:
        offsets = _fixed_offsets(image_w, image_h, crop_w, crop_h, more_fix_crop)
        left, top = offsets[_randint(generator, 0, len(offsets) - 1)]
    else:
        left = _randint(generator, 0, image_w - crop_w)
        top = _randint(generator, 0, image_h - crop_h)
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
        target = _uniform(generator, *scale) * area
        aspect = math.exp(_uniform(generator, log_lo, log_hi))
        w = int(round(math.sqrt(target * aspect)))
        h = int(round(math.sqrt(target / aspect)))
        if 0 < w <= width and 0 < h <= height:
            return _randint(generator, 0, height - h), _randint(generator, 0, width - w), h, w
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
    _check_clip(clip)
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
    _check_clip(clip)
    if _uniform(generator) < p:
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
    _check_clip(clip)
    if not clip.is_floating_point():
        raise ValueError(
            f"random_erasing works on normalised float clips, got {clip.dtype}; "
            "convert and normalise first (erasing fills with N(0, 1) noise)"
        )
    if mode not in ("pixel", "rand", "const"):
        raise ValueError(f"mode must be 'pixel', 'rand' or 'const', got {mode!r}")
    if _uniform(generator) > p:
        return clip
    t, c, img_h, img_w = clip.shape
    area = img_h * img_w
    log_lo = math.log(min_aspect)
    log_hi = math.log(max_aspect if max_aspect is not None else 1 / min_aspect)
    for _ in range(attempts):
        target = _uniform(generator, min_area, max_area) * area
        aspect = math.exp(_uniform(generator, log_lo, log_hi))
        h = int(round(math.sqrt(target * aspect)))
        w = int(round(math.sqrt(target / aspect)))
        if w < img_w and h < img_h:
            top = _randint(generator, 0, img_h - h)
            left = _randint(generator, 0, img_w - w)
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
    return clip


# ---------------------------------------------------------------------------------- RandAugment

_MAX_LEVEL = 10.0

# timm's "increasing" RandAugment list (used by 'rand-m7-n4-mstd0.5-inc1')
RAND_INCREASING_OPS: tuple[str, ...] = (
    "auto_contrast",
    "equalize",
    "invert",
    "rotate",
    "posterize_increasing",
    "solarize_increasing",
    "solarize_add",
    "color_increasing",
    "contrast_increasing",
    "brightness_increasing",
    "sharpness_increasing",
    "shear_x",
    "shear_y",
    "translate_x",
    "translate_y",
)
# timm's default list (magnitude decreases the strength of posterize / solarize)
RAND_OPS: tuple[str, ...] = (
    "auto_contrast",
    "equalize",
    "invert",
    "rotate",
    "posterize",
    "solarize",
    "solarize_add",
    "color",
    "contrast",
    "brightness",
    "sharpness",
    "shear_x",
    "shear_y",
    "translate_x",
    "translate_y",
)


def _gray(x: torch.Tensor) -> torch.Tensor:
    """ITU-R 601-2 luma of float RGB (T, 3, H, W) -> (T, 1, H, W); grey clips pass through."""
    if x.shape[1] == 1:
        return x
    r, g, b = x[:, 0:1], x[:, 1:2], x[:, 2:3]
    return (r * 299 + g * 587 + b * 114) / 1000


def _blend(degenerate: torch.Tensor, x: torch.Tensor, factor: float) -> torch.Tensor:
    return (degenerate + factor * (x - degenerate)).clamp(0, 255)


def _affine(
    x: torch.Tensor,
    matrix: tuple[float, float, float, float, float, float],
    fill: float,
    interpolation: str,
) -> torch.Tensor:
    """Inverse-map each output pixel centre (x, y) to the input (a x + b y + c, d x + e y + f).

    Same convention as PIL's ``Image.transform(AFFINE)``; outside the frame reads ``fill``.
    """
    t, _, h, w = x.shape
    a, b, c, d, e, f = matrix
    ys = torch.arange(h, dtype=torch.float32) + 0.5
    xs = torch.arange(w, dtype=torch.float32) + 0.5
    yy, xx = torch.meshgrid(ys, xs, indexing="ij")  # (H, W)
    x_in = a * xx + b * yy + c
    y_in = d * xx + e * yy + f
    grid = torch.stack([2 * x_in / w - 1, 2 * y_in / h - 1], dim=-1)  # (H, W, 2)
    grid = grid.unsqueeze(0).expand(t, h, w, 2).to(x.device)
    out = F.grid_sample(
        x - fill, grid, mode=interpolation, padding_mode="zeros", align_corners=False
    )
    return (out + fill).clamp(0, 255)


def _equalize(x: torch.Tensor) -> torch.Tensor:
    """PIL ImageOps.equalize per frame and channel on uint8 (T, C, H, W)."""
    t, c, h, w = x.shape
    flat = x.reshape(t * c, h * w).long()  # (TC, HW)
    hist = torch.zeros(t * c, 256, dtype=torch.long, device=x.device)
    hist.scatter_add_(1, flat, torch.ones_like(flat))
    idx = torch.arange(256, device=x.device)
    last_nonzero = torch.where(hist > 0, idx, -1).amax(dim=1, keepdim=True)  # (TC, 1)
    last_count = hist.gather(1, last_nonzero.clamp(min=0))
    step = (h * w - last_count) // 255  # (TC, 1)
    before = hist.cumsum(dim=1) - hist  # pixels strictly below each value
    lut = ((step // 2 + before) // step.clamp(min=1)).clamp(max=255)  # (TC, 256)
    lut = torch.where(step > 0, lut, idx.expand_as(lut))
    return lut.gather(1, flat).reshape(t, c, h, w).to(torch.uint8)


def _auto_contrast(x: torch.Tensor) -> torch.Tensor:
    """Stretch each frame's channel to [0, 255] (PIL ImageOps.autocontrast, no cutoff)."""
    xf = x.float()
    lo = xf.amin(dim=(2, 3), keepdim=True)
    hi = xf.amax(dim=(2, 3), keepdim=True)
    scale = torch.where(hi > lo, 255.0 / (hi - lo).clamp(min=1), torch.ones_like(hi))
    lo = torch.where(hi > lo, lo, torch.zeros_like(lo))
    return ((xf - lo) * scale).floor().clamp(0, 255).to(torch.uint8)


def _sharpness(x: torch.Tensor, factor: float) -> torch.Tensor:
    """Blend with PIL's SMOOTH-filtered image (borders kept), on float (T, C, H, W)."""
    t, c, h, w = x.shape
    if h < 3 or w < 3:
        return x
    kernel = torch.ones(3, 3, dtype=x.dtype, device=x.device)
    kernel[1, 1] = 5
    kernel = (kernel / 13).expand(c, 1, 3, 3)
    smooth = F.conv2d(x, kernel, groups=c).round()  # (T, C, H-2, W-2)
    degenerate = x.clone()
    degenerate[..., 1:-1, 1:-1] = smooth
    return _blend(degenerate, x, factor)


def _negate(value: float, generator: torch.Generator | None) -> float:
    return -value if _uniform(generator) > 0.5 else value


def _apply_op(
    name: str,
    x: torch.Tensor,
    level: float,
    *,
    fill: float,
    interpolation: str,
    generator: torch.Generator | None,
) -> torch.Tensor:
    """Apply RandAugment op ``name`` at ``level`` in [0, 10] to uint8 (T, C, H, W)."""
    frac = level / _MAX_LEVEL
    h, w = x.shape[-2:]
    if name == "identity":
        return x
    if name == "auto_contrast":
        return _auto_contrast(x)
    if name == "equalize":
        return _equalize(x)
    if name == "invert":
        return 255 - x
    if name in ("posterize", "posterize_increasing"):
        bits = int(frac * 4)
        bits = 4 - bits if name == "posterize_increasing" else bits
        if bits >= 8:
            return x
        keep = (0xFF << (8 - bits)) & 0xFF
        return x & keep
    if name in ("solarize", "solarize_increasing"):
        thresh = int(frac * 256)
        thresh = 256 - thresh if name == "solarize_increasing" else thresh
        return torch.where(x >= thresh, 255 - x, x)
    if name == "solarize_add":
        add = int(frac * 110)
        return torch.where(x < 128, (x.int() + add).clamp(max=255).to(torch.uint8), x)

    xf = x.float()
    if name.endswith("_increasing"):
        factor = 1.0 + _negate(frac * 0.9, generator)
    else:
        factor = frac * 1.8 + 0.1
    base = name.removesuffix("_increasing")
    if base == "color":
        out = _blend(_gray(xf).round(), xf, factor)
    elif base == "contrast":
        mean = _gray(xf).round().mean(dim=(1, 2, 3), keepdim=True).add(0.5).floor()  # per frame
        out = _blend(mean, xf, factor)
    elif base == "brightness":
        out = _blend(torch.zeros_like(xf), xf, factor)
    elif base == "sharpness":
        out = _sharpness(xf, factor)
    elif name == "rotate":
        theta = math.radians(_negate(frac * 30.0, generator))
        cos, sin = math.cos(theta), math.sin(theta)
        cx, cy = w / 2, h / 2
        # PIL rotate (counter-clockwise): input = R(-theta)(out - centre) + centre
        matrix = (cos, -sin, cx - cos * cx + sin * cy, sin, cos, cy - sin * cx - cos * cy)
        out = _affine(xf, matrix, fill, interpolation)
    elif name == "shear_x":
        s = _negate(frac * 0.3, generator)
        out = _affine(xf, (1.0, s, 0.0, 0.0, 1.0, 0.0), fill, interpolation)
    elif name == "shear_y":
        s = _negate(frac * 0.3, generator)
        out = _affine(xf, (1.0, 0.0, 0.0, s, 1.0, 0.0), fill, interpolation)
    elif name == "translate_x":
        px = _negate(frac * 0.45, generator) * w
        out = _affine(xf, (1.0, 0.0, px, 0.0, 1.0, 0.0), fill, interpolation)
    elif name == "translate_y":
        px = _negate(frac * 0.45, generator) * h
        out = _affine(xf, (1.0, 0.0, 0.0, 0.0, 1.0, px), fill, interpolation)
    else:
        known = sorted({*RAND_OPS, *RAND_INCREASING_OPS, "identity"})
        raise ValueError(f"unknown RandAugment op {name!r}; choose from {known}")
    return out.round().clamp(0, 255).to(torch.uint8)


def rand_augment(
    clip: torch.Tensor,
    num_ops: int = 4,
    magnitude: float = 7,
    *,
    magnitude_std: float = 0.5,
    prob: float = 0.5,
    increasing: bool = True,
    ops: Sequence[str] | None = None,
    fill: int = 128,
    interpolation: str = "bicubic",
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """ImageNet-style RandAugment (timm's), identical on every frame of a uint8 (T, C, H, W) clip.

    Defaults are the original fine-tuning recipe ``rand-m7-n4-mstd0.5-inc1``: ``num_ops`` ops drawn
    uniformly with replacement, each applied with probability ``prob`` at a magnitude drawn from
    N(``magnitude``, ``magnitude_std``) clipped to [0, 10], with a random sign for signed ops;
    geometric ops fill with grey 128 and sample bicubically. Parameters are drawn once per clip;
    image statistics (auto-contrast, equalize, contrast mean) are per frame, as PIL does.
    """
    _check_clip(clip)
    if clip.dtype != torch.uint8:
        raise ValueError(
            f"rand_augment expects a uint8 clip (0..255), got {clip.dtype}; "
            "apply it before converting to float and normalising"
        )
    if clip.shape[1] not in (1, 3):
        raise ValueError(f"rand_augment expects 1 or 3 channels, got {clip.shape[1]}")
    names = tuple(ops) if ops is not None else (RAND_INCREASING_OPS if increasing else RAND_OPS)
    if not names:
        raise ValueError("ops must name at least one RandAugment op")
    out = clip
    for _ in range(num_ops):
        name = names[_randint(generator, 0, len(names) - 1)]
        if prob < 1.0 and _uniform(generator) > prob:
            continue
        level = magnitude
        if magnitude_std > 0:
            level = magnitude + magnitude_std * float(torch.randn((), generator=generator).item())
        level = min(_MAX_LEVEL, max(0.0, level))
        out = _apply_op(
            name, out, level, fill=float(fill), interpolation=interpolation, generator=generator
        )
    return out
