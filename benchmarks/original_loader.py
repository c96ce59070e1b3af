"""An ORIGINAL-STYLE data loader: the per-sample algorithm of the original VideoMAE release.

Written for this benchmark from a reading of MCG-NJU/VideoMAE (``kinetics.py``, ``ssv2.py``,
``datasets.py``, ``transforms.py``, ``masking_generator.py``, ``rand_augment.py``,
``video_transforms.py``); no code is taken from it. It reproduces, per item:

Pre-training (:class:`OriginalPretrainDataset`, the release's ``VideoMAE`` dataset with
``DataAugmentationForVideoMAE``):
  1. a new ``decord.VideoReader(path, num_threads=1)`` per item; ``len(vr)`` frames;
  2. index sampling: Kinetics-style one segment, a random start and ``num_frames`` frames
     ``sampling_rate`` apart, clamped at the end (``strategy="dense"``), or the SSv2-style
     one-random-frame-per-segment sampling (``strategy="uniform"``);
  3. ``vr.get_batch(indices).asnumpy()``, then one PIL RGB image per frame;
  4. GroupMultiScaleCrop: crop sides ``int(short * s)`` for s in (1, .875, .75, .66) (snapped to
     224 within 3 px), a (w, h) pair at most one scale step apart, one of 13 fixed offsets,
     every frame cropped and resized to 224 x 224 with PIL bilinear;
  5. Stack + ToTorchFormatTensor (H x W x 3T uint8 -> 3T x H x W float / 255), GroupNormalize
     (one in-place subtract and divide per channel plane), reshaped to (C, T, H, W);
  6. TubeMaskingGenerator: one shuffled per-frame mask (int(ratio * patches) ones) tiled over
     the T / 2 time steps (numpy float array).
  No flip (the release's pre-training transform has none).

Fine-tuning (:class:`OriginalFinetuneDataset`, ``VideoClsDataset`` / ``SSVideoClsDataset``
in training mode):
  1-3 as above, with the fine-tuning samplers: Kinetics-style ``linspace`` over a random window
  of ``num_frames * sampling_rate`` frames, or SSv2-style segments;
  4. RandAugment ``rand-m7-n4-mstd0.5-inc1`` on the full-size PIL frames (4 ops drawn from 15,
     each applied with probability 0.5 at a magnitude ~ N(7, 0.5), the same on every frame);
  5. ToTensor per frame, stack, normalise, random resized crop (scale (0.08, 1), ratio
     (3/4, 4/3)) to 224 with ``F.interpolate`` bilinear, horizontal flip with probability 0.5,
     random erasing with probability 0.25 (one box of normal noise per frame).
The ``OriginalFinetuneDataset`` reproduces the work, not timm's exact random draws.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image, ImageEnhance, ImageOps
from torch.utils.data import Dataset

try:
    import decord
except ImportError:  # the benchmark reports the original-style rows as "not installed"
    decord = None

MEAN = (0.485, 0.456, 0.406)
STD = (0.229, 0.224, 0.225)
SCALES = (1.0, 0.875, 0.75, 0.66)


# ----------------------------------------------------------------------------- index sampling
def dense_pretrain_indices(n: int, num_frames: int, rate: int) -> list[int]:
    """One segment, random start, ``num_frames`` frames ``rate`` apart (the VideoMAE dataset)."""
    span = num_frames * rate
    avg = n - span + 1
    start = random.randrange(avg) if avg > 0 else 0
    out, pos = [], start
    for _ in range(num_frames):
        out.append(min(pos, n - 1))
        if pos + rate < n:
            pos += rate
    return out


def dense_finetune_indices(n: int, num_frames: int, rate: int) -> list[int]:
    """Kinetics fine-tuning: ``num_frames`` points of a linspace over a random window."""
    span = num_frames * rate
    if n <= span:
        idx = np.linspace(0, n, num=max(n // rate, 1))
        idx = np.concatenate([idx, np.full(max(num_frames - len(idx), 0), n)])[:num_frames]
        return np.clip(idx, 0, n - 1).astype(np.int64).tolist()
    end = random.randrange(span, n)
    idx = np.linspace(end - span, end, num=num_frames)
    return np.clip(idx, end - span, end - 1).astype(np.int64).tolist()


def segment_indices(n: int, num_frames: int) -> list[int]:
    """SSv2: one random frame in each of ``num_frames`` equal segments."""
    avg = n // num_frames
    if avg > 0:
        return [k * avg + random.randrange(avg) for k in range(num_frames)]
    return sorted(random.randrange(n) for _ in range(num_frames))


# ----------------------------------------------------------------------------- pre-training parts
def fixed_offsets(image_w: int, image_h: int, crop_w: int, crop_h: int) -> list[tuple[int, int]]:
    """The 13 fixed crop positions (corners, centre, edge middles, quarter points)."""
    sw, sh = (image_w - crop_w) // 4, (image_h - crop_h) // 4
    grid = [(0, 0), (4, 0), (0, 4), (4, 4), (2, 2), (0, 2), (4, 2), (2, 4), (2, 0)]
    grid += [(1, 1), (3, 1), (1, 3), (3, 3)]
    return [(a * sw, b * sh) for a, b in grid]


def multi_scale_crop_pil(images: list[Image.Image], size: int) -> list[Image.Image]:
    """GroupMultiScaleCrop with fixed offsets, then a PIL bilinear resize to ``size``."""
    w, h = images[0].size
    sides = [int(min(w, h) * s) for s in SCALES]
    snapped = [size if abs(x - size) < 3 else x for x in sides]
    pairs = [
        (cw, ch) for i, ch in enumerate(snapped) for j, cw in enumerate(snapped) if abs(i - j) <= 1
    ]
    cw, ch = random.choice(pairs)
    x, y = random.choice(fixed_offsets(w, h, cw, ch))
    return [im.crop((x, y, x + cw, y + ch)).resize((size, size), Image.BILINEAR) for im in images]


def to_normalised_tensor(images: list[Image.Image]) -> torch.Tensor:
    """Stack + ToTorchFormatTensor + GroupNormalize: (3T, H, W) float, one plane at a time."""
    stacked = np.concatenate([np.asarray(im) for im in images], axis=2)  # (H, W, 3T)
    x = torch.from_numpy(stacked).permute(2, 0, 1).contiguous().float().div(255.0)
    for c, plane in enumerate(x):
        plane.sub_(MEAN[c % 3]).div_(STD[c % 3])
    return x


def tube_mask(frames: int, patches: int, ratio: float) -> np.ndarray:
    """TubeMaskingGenerator: one shuffled per-frame mask repeated over ``frames`` time steps."""
    k = int(ratio * patches)
    per_frame = np.hstack([np.zeros(patches - k), np.ones(k)])
    np.random.shuffle(per_frame)
    return np.tile(per_frame, (frames, 1)).flatten()


# ----------------------------------------------------------------------------- RandAugment (PIL)
def _signed(v: float) -> float:
    return -v if random.random() < 0.5 else v


def _affine(im: Image.Image, coeffs: tuple[float, ...]) -> Image.Image:
    return im.transform(
        im.size, Image.AFFINE, coeffs, resample=Image.BILINEAR, fillcolor=(128,) * 3
    )


# name -> f(image, magnitude in [0, 10]); the magnitude arguments follow the increasing variant
_OPS: dict[str, Callable[..., Image.Image]] = {
    "AutoContrast": lambda im, m, s: ImageOps.autocontrast(im),
    "Equalize": lambda im, m, s: ImageOps.equalize(im),
    "Invert": lambda im, m, s: ImageOps.invert(im),
    "Rotate": lambda im, m, s: im.rotate(s * 3 * m, resample=Image.BILINEAR, fillcolor=(128,) * 3),
    "Posterize": lambda im, m, s: ImageOps.posterize(im, 4 - int(m * 4 / 10)),
    "Solarize": lambda im, m, s: ImageOps.solarize(im, 256 - int(m * 25.6)),
    "SolarizeAdd": lambda im, m, s: Image.eval(im, lambda p: min(255, p + int(m * 11))),
    "Color": lambda im, m, s: ImageEnhance.Color(im).enhance(1 + s * 0.09 * m),
    "Contrast": lambda im, m, s: ImageEnhance.Contrast(im).enhance(1 + s * 0.09 * m),
    "Brightness": lambda im, m, s: ImageEnhance.Brightness(im).enhance(1 + s * 0.09 * m),
    "Sharpness": lambda im, m, s: ImageEnhance.Sharpness(im).enhance(1 + s * 0.09 * m),
    "ShearX": lambda im, m, s: _affine(im, (1, s * 0.03 * m, 0, 0, 1, 0)),
    "ShearY": lambda im, m, s: _affine(im, (1, 0, 0, s * 0.03 * m, 1, 0)),
    "TranslateXRel": lambda im, m, s: _affine(im, (1, 0, s * 0.045 * m * im.size[0], 0, 1, 0)),
    "TranslateYRel": lambda im, m, s: _affine(im, (1, 0, 0, 0, 1, s * 0.045 * m * im.size[1])),
}


def rand_augment_pil(images: list[Image.Image], num_ops: int = 4, magnitude: float = 7.0):
    """``num_ops`` ops, each with probability 0.5, identical parameters on every frame."""
    for name in random.choices(list(_OPS), k=num_ops):
        if random.random() > 0.5:
            continue
        m = min(10.0, max(0.0, random.gauss(magnitude, 0.5)))
        sign = _signed(1.0)
        images = [_OPS[name](im, m, sign) for im in images]
    return images


# ----------------------------------------------------------------------------- fine-tuning parts
def random_resized_crop_box(h: int, w: int) -> tuple[int, int, int, int]:
    """Inception-style box (top, left, height, width): area in (0.08, 1), ratio in (3/4, 4/3)."""
    for _ in range(10):
        area = h * w * random.uniform(0.08, 1.0)
        ratio = math.exp(random.uniform(math.log(3 / 4), math.log(4 / 3)))
        cw, ch = round(math.sqrt(area * ratio)), round(math.sqrt(area / ratio))
        if 0 < cw <= w and 0 < ch <= h:
            return random.randint(0, h - ch), random.randint(0, w - cw), ch, cw
    side = min(h, w)
    return (h - side) // 2, (w - side) // 2, side, side


def erase(x: torch.Tensor, prob: float = 0.25) -> torch.Tensor:
    """Random erasing of a (T, C, H, W) clip: per frame, one box of normal noise."""
    if random.random() >= prob:
        return x
    t, c, h, w = x.shape
    for f in range(t):
        top, left, eh, ew = random_resized_crop_box(h, w)
        eh, ew = max(1, eh // 3), max(1, ew // 3)
        x[f, :, top : top + eh, left : left + ew] = torch.randn(c, eh, ew)
    return x


# ----------------------------------------------------------------------------- datasets
class _OriginalBase(Dataset):
    def __init__(self, paths: Sequence[str], num_frames: int, sampling_rate: int, strategy: str):
        if decord is None:
            raise RuntimeError("decord is not installed (pip install decord)")
        self.paths, self.num_frames, self.rate = list(paths), num_frames, sampling_rate
        self.strategy = strategy

    def __len__(self) -> int:
        return len(self.paths)

    def _frames(self, path: str, dense: Callable[[int, int, int], list[int]]) -> list[Image.Image]:
        vr = decord.VideoReader(path, num_threads=1, ctx=decord.cpu(0))
        n = len(vr)
        if self.strategy == "uniform":
            idx = segment_indices(n, self.num_frames)
        else:
            idx = dense(n, self.num_frames, self.rate)
        vr.seek(0)
        batch = vr.get_batch(idx).asnumpy()  # (T, H, W, 3) uint8
        return [Image.fromarray(batch[i]).convert("RGB") for i in range(len(idx))]


class OriginalPretrainDataset(_OriginalBase):
    """Items ``(pixels (C, T, 224, 224) float, mask (N,) float)`` as the release makes them."""

    def __init__(self, paths, num_frames=16, sampling_rate=4, strategy="dense", size=224,
                 patch=16, tubelet=2, mask_ratio=0.9):  # fmt: skip
        super().__init__(paths, num_frames, sampling_rate, strategy)
        self.size, self.mask_ratio = size, mask_ratio
        self.tokens = (num_frames // tubelet, (size // patch) ** 2)

    def __getitem__(self, index: int):
        images = self._frames(self.paths[index % len(self.paths)], dense_pretrain_indices)
        x = to_normalised_tensor(multi_scale_crop_pil(images, self.size))
        x = x.view(self.num_frames, 3, self.size, self.size).transpose(0, 1)  # (C, T, H, W)
        return x, tube_mask(*self.tokens, self.mask_ratio)


class OriginalFinetuneDataset(_OriginalBase):
    """Items ``(pixels (C, T, 224, 224) float, label)`` as the release's training mode."""

    def __init__(self, paths, num_frames=16, sampling_rate=4, strategy="dense", size=224):  # fmt: skip
        super().__init__(paths, num_frames, sampling_rate, strategy)
        self.size = size
        self.flip = strategy != "uniform"  # SSv2 fine-tuning does not flip

    def __getitem__(self, index: int):
        images = self._frames(self.paths[index % len(self.paths)], dense_finetune_indices)
        images = rand_augment_pil(images)
        x = torch.stack([torch.from_numpy(np.array(im)).permute(2, 0, 1) for im in images])
        x = x.float().div(255.0)  # ToTensor per frame, stacked: (T, C, H, W)
        mean, std = torch.tensor(MEAN).view(1, 3, 1, 1), torch.tensor(STD).view(1, 3, 1, 1)
        x = (x - mean) / std
        top, left, h, w = random_resized_crop_box(x.shape[-2], x.shape[-1])
        x = F.interpolate(
            x[..., top : top + h, left : left + w], size=(self.size, self.size),
            mode="bilinear", align_corners=False,
        )  # fmt: skip
        if self.flip and random.random() < 0.5:
            x = x.flip(-1)
        x = erase(x)
        return x.transpose(0, 1), 0  # (C, T, H, W)
