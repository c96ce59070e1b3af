"""videomae.data.transforms: shapes, dtypes, frame consistency, seeding, PIL agreement."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image, ImageEnhance, ImageOps

from videomae.data.transforms import (
    RAND_INCREASING_OPS,
    RAND_OPS,
    _apply_op,
    horizontal_flip,
    multi_scale_crop,
    rand_augment,
    random_erasing,
    random_resized_crop,
    random_resized_crop_params,
)


def _gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _same_frames_clip(t: int = 4, h: int = 36, w: int = 44, dtype=torch.uint8) -> torch.Tensor:
    frame = torch.randint(0, 256, (1, 3, h, w), generator=_gen(99), dtype=torch.uint8)
    clip = frame.expand(t, -1, -1, -1).contiguous()
    return clip if dtype == torch.uint8 else (clip.float() / 255 - 0.45) / 0.225


def _gradient_image() -> torch.Tensor:
    yy, xx = torch.meshgrid(torch.arange(48.0), torch.arange(64.0), indexing="ij")
    return torch.stack([xx * 3, yy * 5, xx + yy * 2]).clamp(0, 255).to(torch.uint8)  # (3, H, W)


def _assert_frames_equal(out: torch.Tensor) -> None:
    for i in range(1, out.shape[0]):
        assert torch.equal(out[0], out[i])


# ------------------------------------------------------------------------------- crops / flip


@pytest.mark.parametrize("dtype", [torch.uint8, torch.float32])
def test_multi_scale_crop(dtype: torch.dtype) -> None:
    clip = _same_frames_clip(dtype=dtype)
    for seed in range(8):
        out = multi_scale_crop(clip, 24, generator=_gen(seed))
        assert out.shape == (4, 3, 24, 24) and out.dtype == dtype
        _assert_frames_equal(out)
    a = multi_scale_crop(clip, (20, 28), fix_crop=False, generator=_gen(3))
    b = multi_scale_crop(clip, (20, 28), fix_crop=False, generator=_gen(3))
    assert a.shape == (4, 3, 20, 28) and torch.equal(a, b)


def test_multi_scale_crop_uses_the_fixed_offsets() -> None:
    # a clip whose pixel value encodes its column: the crop's left edge reveals the offset
    w, h = 40, 24
    clip = torch.arange(w, dtype=torch.float32).expand(1, 1, h, w).clone()
    lefts = set()
    for seed in range(200):
        out = multi_scale_crop(clip, h, scales=(0.75,), generator=_gen(seed))  # crop 18 -> 24
        lefts.add(round(float(out[0, 0, 0, 0])))
    # crop width int(24 * .75) = 18, w_step = (40 - 18) // 4 = 5: offsets 0, 5, 10, 15, 20
    assert lefts <= {0, 5, 10, 15, 20} and len(lefts) == 5


def test_random_resized_crop() -> None:
    clip = _same_frames_clip()
    out = random_resized_crop(clip, (16, 20), generator=_gen(1))
    assert out.shape == (4, 3, 16, 20) and out.dtype == torch.uint8
    _assert_frames_equal(out)
    assert torch.equal(out, random_resized_crop(clip, (16, 20), generator=_gen(1)))
    for seed in range(50):
        top, left, h, w = random_resized_crop_params(36, 44, generator=_gen(seed))
        assert 0 <= top <= 36 - h and 0 <= left <= 44 - w
        assert 0.08 * 36 * 44 * 0.8 <= h * w <= 36 * 44
    # impossible ratio: falls back to the centred box with the nearest allowed aspect
    assert random_resized_crop_params(10, 100, scale=(0.9, 1.0), ratio=(1.0, 1.0)) == (
        0,
        45,
        10,
        10,
    )


def test_horizontal_flip() -> None:
    clip = torch.arange(2 * 3 * 2 * 5, dtype=torch.float32).reshape(2, 3, 2, 5)
    assert torch.equal(horizontal_flip(clip, p=1.0), clip[..., torch.arange(4, -1, -1)])
    assert horizontal_flip(clip, p=0.0) is clip
    flips = sum(
        not torch.equal(horizontal_flip(clip, 0.5, generator=_gen(s)), clip) for s in range(400)
    )
    assert 150 < flips < 250


# ------------------------------------------------------------------------------- erasing


def test_random_erasing_same_box_every_frame() -> None:
    clip = _same_frames_clip(dtype=torch.float32)
    out = random_erasing(clip, p=1.0, generator=_gen(0))
    assert out.shape == clip.shape and out.dtype == clip.dtype
    changed = out != clip  # (T, C, H, W)
    assert changed.any()
    box = changed.any(dim=1)  # (T, H, W)
    for i in range(1, box.shape[0]):
        assert torch.equal(box[0], box[i])
    # per-frame noise as the original; same_noise gives identical frames
    assert not torch.equal(out[0], out[1])
    same = random_erasing(clip, p=1.0, same_noise=True, generator=_gen(0))
    _assert_frames_equal(same)
    area = box[0].float().mean()
    assert 0.0 < area <= 1 / 3 + 0.05
    assert torch.equal(out, random_erasing(clip, p=1.0, generator=_gen(0)))


def test_random_erasing_modes_and_checks() -> None:
    clip = torch.ones(2, 3, 20, 20)
    const = random_erasing(clip, p=1.0, mode="const", generator=_gen(1))
    assert (const == 0).any() and set(const.unique().tolist()) <= {0.0, 1.0}
    assert random_erasing(clip, p=0.0) is clip
    with pytest.raises(ValueError, match="float"):
        random_erasing(torch.zeros(2, 3, 8, 8, dtype=torch.uint8))
    with pytest.raises(ValueError, match="mode"):
        random_erasing(clip, mode="noise")
    with pytest.raises(ValueError, match=r"\(T, C, H, W\)"):
        random_erasing(torch.zeros(3, 8, 8))


# ------------------------------------------------------------------------------- RandAugment


def test_rand_augment_frame_consistent_and_seeded() -> None:
    clip = _same_frames_clip()
    outs = []
    for seed in range(6):
        out = rand_augment(clip, generator=_gen(seed))
        assert out.shape == clip.shape and out.dtype == torch.uint8
        _assert_frames_equal(out)
        outs.append(out)
    assert torch.equal(outs[0], rand_augment(clip, generator=_gen(0)))
    assert any(not torch.equal(o, clip) for o in outs)
    assert len({o.sum().item() for o in outs}) > 1


@pytest.mark.parametrize("name", sorted({*RAND_OPS, *RAND_INCREASING_OPS, "identity"}))
def test_every_op_is_frame_consistent(name: str) -> None:
    clip = _same_frames_clip(t=3)
    out = _apply_op(name, clip, 7.0, fill=128.0, interpolation="bicubic", generator=_gen(0))
    assert out.shape == clip.shape and out.dtype == torch.uint8
    _assert_frames_equal(out)


def test_rand_augment_checks() -> None:
    with pytest.raises(ValueError, match="uint8"):
        rand_augment(torch.zeros(2, 3, 8, 8))
    with pytest.raises(ValueError, match="unknown RandAugment op"):
        rand_augment(torch.zeros(2, 3, 8, 8, dtype=torch.uint8), ops=["blur"], prob=1.0)


def _pil_diff(name: str, ref: Image.Image, level: float, seeds=range(4)) -> float:
    x = _gradient_image()[None]
    best = []
    for seed in seeds:
        y = _apply_op(name, x, level, fill=128.0, interpolation="bilinear", generator=_gen(seed))
        best.append(np.abs(y[0].permute(1, 2, 0).numpy().astype(int) - np.asarray(ref).astype(int)))
    return min(float(b.mean()) for b in best)


def test_ops_agree_with_pil() -> None:
    img = _gradient_image()
    pil = Image.fromarray(img.permute(1, 2, 0).numpy())
    # lookup-table ops: exact
    assert _pil_diff("equalize", ImageOps.equalize(pil), 5) == 0
    assert _pil_diff("invert", ImageOps.invert(pil), 5) == 0
    assert _pil_diff("posterize", ImageOps.posterize(pil, 4), 10) == 0
    assert _pil_diff("solarize", ImageOps.solarize(pil, 128), 5) == 0
    # blends: within rounding
    assert _pil_diff("contrast", ImageEnhance.Contrast(pil).enhance(1.9), 10) < 1.0
    assert _pil_diff("color", ImageEnhance.Color(pil).enhance(1.9), 10) < 1.0
    assert _pil_diff("sharpness", ImageEnhance.Sharpness(pil).enhance(1.9), 10) < 1.0
    # geometry, either sign of the random direction: a wrong convention is off by tens
    kw = {"resample": Image.BILINEAR, "fillcolor": (128, 128, 128)}
    rot = [pil.rotate(a, **kw) for a in (30, -30)]
    assert min(_pil_diff("rotate", r, 10, seeds=range(8)) for r in rot) < 2.0
    for s in (0.3, -0.3):
        ref = pil.transform(pil.size, Image.AFFINE, (1, s, 0, 0, 1, 0), **kw)
        assert _pil_diff("shear_x", ref, 10, seeds=range(8)) < 2.0
        ref = pil.transform(pil.size, Image.AFFINE, (1, 0, 0.45 * 48 * (s / 0.3), 0, 1, 0), **kw)
        # translate_x moves by 0.45 of the width (64), not 48: must NOT match this reference
        assert _pil_diff("translate_x", ref, 10, seeds=range(8)) > 2.0
        ref = pil.transform(pil.size, Image.AFFINE, (1, 0, 0.45 * 64 * (s / 0.3), 0, 1, 0), **kw)
        assert _pil_diff("translate_x", ref, 10, seeds=range(8)) < 2.0
