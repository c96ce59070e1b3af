"""videomae.data.transforms: shapes, dtypes, frame consistency, seeding."""

from __future__ import annotations

import pytest
import torch
from _clip_helper import _assert_frames_equal, _gen, _same_frames_clip

from videomae.data.transforms import (
    horizontal_flip,
    multi_scale_crop,
    random_erasing,
    random_resized_crop,
    random_resized_crop_params,
)

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
