"""Functional ops: resize_short_side, center_crop, spatial_crops, normalize."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from _processing_helper import _max_diff, _video
from PIL import Image

from videomae.processing.ops import center_crop, normalize, resize_short_side, spatial_crops
from videomae.runtime import IMAGENET_DEFAULT_MEAN, IMAGENET_DEFAULT_STD


def test_resize_short_side_shapes_and_dtype():
    frames = torch.from_numpy(_video((3, 240, 320, 3))).permute(0, 3, 1, 2)
    out = resize_short_side(frames, 224)
    assert out.shape == (3, 3, 224, 298) and out.dtype == torch.uint8
    portrait = resize_short_side(frames.transpose(-1, -2).float(), 112)
    assert portrait.shape == (3, 3, 149, 112) and portrait.dtype == torch.float32
    pil = np.asarray(
        Image.fromarray(frames[0].permute(1, 2, 0).numpy()).resize((298, 224), Image.BILINEAR)
    )
    assert _max_diff(out[0].permute(1, 2, 0), pil) <= 1  # PIL's algorithm: within one step
    with pytest.raises(ValueError, match="channels first"):
        resize_short_side(torch.zeros(4, 4), 2)


def test_center_crop_offsets_and_padding():
    x = torch.arange(6 * 7).view(1, 6, 7)
    torch.testing.assert_close(center_crop(x, (3, 4)), x[:, 1:4, 1:5])
    assert center_crop(x, 2).shape == (1, 2, 2)
    padded = center_crop(x, (8, 7))  # one zero row above and below
    assert padded.shape == (1, 8, 7) and padded[0, 0].sum() == 0 and padded[0, -1].sum() == 0
    torch.testing.assert_close(padded[:, 1:7], x)
    np.testing.assert_array_equal(center_crop(x.numpy(), (3, 4)), x[:, 1:4, 1:5].numpy())


@pytest.mark.parametrize("portrait", [False, True])
def test_spatial_crops_span_long_side(portrait):
    frames = torch.from_numpy(_video((2, 60, 100, 3))).permute(0, 3, 1, 2)
    if portrait:
        frames = frames.transpose(-1, -2)
    crops = spatial_crops(frames, 30, 3)
    resized = resize_short_side(frames, 30)  # (.., 30, 50) or (.., 50, 30)
    assert len(crops) == 3 and all(c.shape == (2, 3, 30, 30) for c in crops)
    starts = [0, 10, 20]
    for crop, start in zip(crops, starts):
        expected = (
            resized[..., start : start + 30, :] if portrait else resized[..., start : start + 30]
        )
        torch.testing.assert_close(crop, expected)
    torch.testing.assert_close(crops[1], center_crop(resized, 30))
    (single,) = spatial_crops(frames, 30, 1)
    torch.testing.assert_close(single, center_crop(resized, 30))
    # already at the short-side size: no resize
    torch.testing.assert_close(
        spatial_crops(resized, 30, 2)[1],
        resized[..., 20:50, :] if portrait else resized[..., 20:50],
    )
    with pytest.raises(ValueError, match="num_crops"):
        spatial_crops(frames, 30, 0)


def test_normalize_formula():
    x = torch.from_numpy(_video((2, 3, 4, 5)))
    out = normalize(x, IMAGENET_DEFAULT_MEAN, IMAGENET_DEFAULT_STD)
    mean = torch.tensor(IMAGENET_DEFAULT_MEAN).view(3, 1, 1)
    std = torch.tensor(IMAGENET_DEFAULT_STD).view(3, 1, 1)
    torch.testing.assert_close(out, (x.float() / 255 - mean) / std, atol=1e-6, rtol=0)
    y = x.float() / 255
    torch.testing.assert_close(normalize(y, rescale_factor=1.0), (y - 0.5) / 0.5)
    assert y.max() <= 1  # input untouched
    with pytest.raises(ValueError, match="channels"):
        normalize(x, (0.5, 0.5), (0.5, 0.5))
