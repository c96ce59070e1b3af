"""RandAugment (timm's, as the original fine-tuning recipe uses it) on uint8 (T, C, H, W) clips.

Op and magnitude are drawn ONCE per clip and applied to every frame, so motion is not
disturbed; image statistics (auto-contrast, equalize, contrast mean) are per frame, as PIL
computes them. Each op reproduces its PIL counterpart with torch only (no torchvision).

The ops stay in uint8 where PIL does: per-value ops (auto-contrast, equalize, solarize,
brightness, contrast) are lookup tables applied in one gather, the sharpness filter is an exact
int16 box sum, and a geometric op builds one sampling grid for the clip (frames stacked as
channels). Only colour, sharpness and geometry blend in float. The fine-tuning dataset applies
RandAugment to the cropped ``input_size`` clip, so these costs do not grow with the video size.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F

from videomae.data.transforms import check_clip, draw_int, draw_uniform

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


def _to_uint8(x: torch.Tensor) -> torch.Tensor:
    return x.round().clamp(0, 255).to(torch.uint8)


# ----------------------------------------------------------------------------- lookup tables

_VALUES = torch.arange(256, dtype=torch.float32)  # every uint8 value, for building tables


def _apply_luts(x: torch.Tensor, luts: torch.Tensor) -> torch.Tensor:
    """Map uint8 (T, C, H, W) through uint8 lookup tables: ``luts`` is (256,) for every pixel,
    (T, 1, 256) per frame or (T, C, 256) per frame and channel. One gather over the clip."""
    t, c, h, w = x.shape
    table = luts.to(torch.uint8).expand(t, c, 256).reshape(t * c, 256)
    return table.gather(1, x.reshape(t * c, h * w).long()).view(t, c, h, w)


def _equalize(x: torch.Tensor) -> torch.Tensor:
    """PIL ImageOps.equalize per frame and channel on uint8 (T, C, H, W)."""
    t, c, h, w = x.shape
    flat = x.reshape(t * c, h * w).long()  # (TC, HW)
    rows = torch.arange(t * c, device=x.device).unsqueeze(1) * 256
    hist = torch.bincount((flat + rows).view(-1), minlength=t * c * 256).view(t * c, 256)
    idx = torch.arange(256, device=x.device)
    last_nonzero = torch.where(hist > 0, idx, -1).amax(dim=1, keepdim=True)  # (TC, 1)
    last_count = hist.gather(1, last_nonzero.clamp(min=0))
    step = (h * w - last_count) // 255  # (TC, 1)
    before = hist.cumsum(dim=1) - hist  # pixels strictly below each value
    lut = ((step // 2 + before) // step.clamp(min=1)).clamp(max=255)  # (TC, 256)
    lut = torch.where(step > 0, lut, idx.expand_as(lut)).to(torch.uint8)
    return lut.gather(1, flat).view(t, c, h, w)


def _auto_contrast(x: torch.Tensor) -> torch.Tensor:
    """Stretch each frame's channel to [0, 255] (PIL ImageOps.autocontrast, no cutoff)."""
    lo = x.amin(dim=(2, 3)).float().unsqueeze(-1)  # (T, C, 1)
    hi = x.amax(dim=(2, 3)).float().unsqueeze(-1)
    scale = torch.where(hi > lo, 255.0 / (hi - lo).clamp(min=1), torch.ones_like(hi))
    lo = torch.where(hi > lo, lo, torch.zeros_like(lo))
    return _apply_luts(x, ((_VALUES - lo) * scale).floor().clamp(0, 255))


def _pixel_op(name: str, x: torch.Tensor, frac: float) -> torch.Tensor | None:
    """The ops that map uint8 values directly (no blending, no geometry); None for the others."""
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
        return _apply_luts(x, torch.where(thresh <= _VALUES, 255 - _VALUES, _VALUES))
    if name == "solarize_add":
        add = int(frac * 110)
        return _apply_luts(x, torch.where(_VALUES < 128, (_VALUES + add).clamp(max=255), _VALUES))
    return None


# ----------------------------------------------------------------------------- blends


def _smooth(x: torch.Tensor) -> torch.Tensor:
    """PIL's SMOOTH filter (3x3 ones, centre 5, / 13, rounded) of uint8 (T, C, H, W), borders
    kept, as int16: exact integer sums (at most 13 * 255) and a round-half-up division (a sum
    over 13 never ends in .5, so this equals rounding the float quotient)."""
    xi = x.to(torch.int16)
    rows = xi[..., :, :-2] + xi[..., :, 1:-1] + xi[..., :, 2:]  # 3-wide sums
    box = rows[..., :-2, :] + rows[..., 1:-1, :] + rows[..., 2:, :]  # 3x3 sums
    inner = box + 4 * xi[..., 1:-1, 1:-1]
    out = xi.clone()
    out[..., 1:-1, 1:-1] = torch.div(2 * inner + 13, 26, rounding_mode="floor")
    return out


def _enhance_op(base: str, x: torch.Tensor, factor: float) -> torch.Tensor | None:
    """PIL ImageEnhance-style blends of uint8 (T, C, H, W); None when ``base`` is not one.
    Brightness and contrast are per-value (per frame) lookup tables; colour and sharpness blend
    per pixel in float."""
    if base == "brightness":
        return _apply_luts(x, _to_uint8(_blend(torch.zeros(()), _VALUES, factor)))
    if base == "contrast":
        gray = _gray(x.float()).round()
        mean = gray.mean(dim=(1, 2, 3)).add(0.5).floor().view(-1, 1, 1)  # (T, 1, 1) per frame
        return _apply_luts(x, _to_uint8(_blend(mean, _VALUES, factor)))
    if base == "color":
        xf = x.float()
        return _to_uint8(_blend(_gray(xf).round(), xf, factor))
    if base == "sharpness":
        if x.shape[-1] < 3 or x.shape[-2] < 3:
            return x
        return _to_uint8(_blend(_smooth(x).float(), x.float(), factor))
    return None


# ----------------------------------------------------------------------------- geometry


@functools.lru_cache(maxsize=8)
def _pixel_centres(h: int, w: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(x, y) coordinates of every output pixel centre, (H, W) each; shared by every clip of
    this size (read only)."""
    ys = torch.arange(h, dtype=torch.float32) + 0.5
    xs = torch.arange(w, dtype=torch.float32) + 0.5
    yy, xx = torch.meshgrid(ys, xs, indexing="ij")
    return xx, yy


def _affine(
    x: torch.Tensor,
    matrix: tuple[float, float, float, float, float, float],
    fill: float,
    interpolation: str,
) -> torch.Tensor:
    """Inverse-map each output pixel centre (x, y) to the input (a x + b y + c, d x + e y + f).

    Same convention as PIL's ``Image.transform(AFFINE)``; outside the frame reads ``fill``.
    One grid for the clip: frames and channels are stacked as the channels of one image, so
    the sampling weights are computed once and applied to every frame.
    """
    t, c, h, w = x.shape
    a, b, cx, d, e, f = matrix
    xx, yy = _pixel_centres(h, w)
    x_in = a * xx + b * yy + cx
    y_in = d * xx + e * yy + f
    grid = torch.stack([2 * x_in / w - 1, 2 * y_in / h - 1], dim=-1).unsqueeze(0)  # (1, H, W, 2)
    stacked = x.reshape(1, t * c, h, w).float() - fill
    out = F.grid_sample(
        stacked, grid.to(x.device), mode=interpolation, padding_mode="zeros", align_corners=False
    )
    return _to_uint8(out.add_(fill)).view(t, c, h, w)


def _negate(value: float, generator: torch.Generator | None) -> float:
    return -value if draw_uniform(generator) > 0.5 else value


def _affine_matrix(
    name: str, frac: float, h: int, w: int, generator: torch.Generator | None
) -> tuple[float, float, float, float, float, float] | None:
    """The inverse affine map of a geometric op (sign drawn from ``generator``); None if not one."""
    if name == "rotate":
        theta = math.radians(_negate(frac * 30.0, generator))
        cos, sin = math.cos(theta), math.sin(theta)
        cx, cy = w / 2, h / 2
        # PIL rotate (counter-clockwise): input = R(-theta)(out - centre) + centre
        return (cos, -sin, cx - cos * cx + sin * cy, sin, cos, cy - sin * cx - cos * cy)
    if name == "shear_x":
        return (1.0, _negate(frac * 0.3, generator), 0.0, 0.0, 1.0, 0.0)
    if name == "shear_y":
        return (1.0, 0.0, 0.0, _negate(frac * 0.3, generator), 1.0, 0.0)
    if name == "translate_x":
        return (1.0, 0.0, _negate(frac * 0.45, generator) * w, 0.0, 1.0, 0.0)
    if name == "translate_y":
        return (1.0, 0.0, 0.0, 0.0, 1.0, _negate(frac * 0.45, generator) * h)
    return None


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
    out = _pixel_op(name, x, frac)
    if out is not None:
        return out
    if name.endswith("_increasing"):
        factor = 1.0 + _negate(frac * 0.9, generator)
    else:
        factor = frac * 1.8 + 0.1
    out = _enhance_op(name.removesuffix("_increasing"), x, factor)
    if out is not None:
        return out
    matrix = _affine_matrix(name, frac, x.shape[-2], x.shape[-1], generator)
    if matrix is None:
        known = sorted({*RAND_OPS, *RAND_INCREASING_OPS, "identity"})
        raise ValueError(f"unknown RandAugment op {name!r}; choose from {known}")
    return _affine(x, matrix, fill, interpolation)


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
    check_clip(clip)
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
    out = clip.contiguous()  # the ops reshape (T, C, H, W) to (T * C, H * W) rows
    for _ in range(num_ops):
        name = names[draw_int(generator, 0, len(names) - 1)]
        if prob < 1.0 and draw_uniform(generator) > prob:
            continue
        level = magnitude
        if magnitude_std > 0:
            level = magnitude + magnitude_std * float(torch.randn((), generator=generator).item())
        level = min(_MAX_LEVEL, max(0.0, level))
        out = _apply_op(
            name, out, level, fill=float(fill), interpolation=interpolation, generator=generator
        )
    return out
