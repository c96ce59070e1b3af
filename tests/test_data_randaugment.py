"""videomae.data.randaugment: frame consistency, seeding, PIL agreement."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from _clip_helper import _assert_frames_equal, _gen, _gradient_image, _same_frames_clip
from PIL import Image, ImageEnhance, ImageOps

from videomae.data.randaugment import RAND_INCREASING_OPS, RAND_OPS, _apply_op, rand_augment


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


def test_lookup_table_ops_agree_with_pil() -> None:
    img = _gradient_image()
    img[:, :4] = 40  # a range that auto-contrast must stretch
    pil = Image.fromarray(img.permute(1, 2, 0).numpy())
    x = img[None]

    def ours(name: str, level: float) -> np.ndarray:
        out = _apply_op(name, x, level, fill=128.0, interpolation="bilinear", generator=_gen(0))
        return out[0].permute(1, 2, 0).numpy().astype(int)

    assert np.array_equal(ours("auto_contrast", 5), np.asarray(ImageOps.autocontrast(pil)))
    ref = np.asarray(ImageEnhance.Brightness(pil).enhance(1.9)).astype(int)
    assert np.abs(ours("brightness", 10) - ref).max() <= 1
    add = np.where(np.asarray(pil) < 128, np.minimum(np.asarray(pil).astype(int) + 110, 255), pil)
    assert np.array_equal(ours("solarize_add", 10), add)
    # threshold 256 solarizes nothing (PIL); a uint8 comparison would wrap it to 0
    plain = np.asarray(pil).astype(int)
    assert np.array_equal(ours("solarize", 10), plain)
    assert np.array_equal(ours("solarize_increasing", 0), plain)
    assert np.array_equal(ours("solarize", 5), np.asarray(ImageOps.solarize(pil, 128)))


@pytest.mark.parametrize("name", ["rotate", "shear_x", "shear_y", "translate_x", "translate_y"])
def test_geometric_ops_scale_with_the_image(name: str) -> None:
    """The same op on a small crop and on a 4x larger frame fills the same fraction with grey:
    strengths are relative to the image, so augmenting after the crop keeps them comparable."""
    fractions = []
    for h, w in ((24, 32), (96, 128)):
        x = torch.full((2, 3, h, w), 30, dtype=torch.uint8)
        out = _apply_op(name, x, 10.0, fill=128.0, interpolation="nearest", generator=_gen(3))
        _assert_frames_equal(out)
        fractions.append(float((out == 128).float().mean()))
    assert fractions[1] > 0.05
    assert abs(fractions[0] - fractions[1]) < 0.05
