"""pixel_values checks (issue #14): integer pixels, NaN/Inf and wrong shapes are InputErrors that
say what was expected and how to fix the input, never silently wrong logits."""

import pytest
import torch
from conftest import TINY

from videomae import (
    VideoMAEConfig,
    VideoMAEForPreTraining,
    VideoMAEForVideoClassification,
    VideoMAEModel,
)
from videomae.errors import InputError
from videomae.masking import tube_mask
from videomae.modeling.inputs import check_pixels


@pytest.fixture(scope="module")
def models():
    config = VideoMAEConfig(**TINY)
    return [cls(config).eval() for cls in (VideoMAEModel, VideoMAEForVideoClassification)]


def _clip(dtype=torch.float32):
    return torch.randn(2, 4, 3, 32, 32).to(dtype)


@pytest.mark.parametrize("dtype", [torch.uint8, torch.int64, torch.bool])
def test_integer_pixels_are_refused_with_the_fix(models, dtype):
    raw = (torch.rand(2, 4, 3, 32, 32) * 255).to(dtype)
    for model in models:
        with pytest.raises(InputError, match=r"dtype .*expected floating point.*fix: prepare"):
            model(raw)


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), float("-inf")])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float16, torch.bfloat16, torch.float64])
def test_non_finite_pixels_are_refused(bad, dtype):
    x = _clip(dtype)
    x[1, 2, 0, 5, 7] = bad
    with pytest.raises(InputError, match="contains NaN or Inf"):
        check_pixels(x)


def test_non_finite_pixels_refused_by_every_model(models):
    x = _clip()
    x[0, 0, 0, 0, 0] = float("nan")
    for model in models:
        with pytest.raises(InputError, match="NaN or Inf"):
            model(x)


def test_large_finite_values_are_not_mistaken_for_inf():
    x = torch.full((1, 2, 3, 8, 8), 60000.0, dtype=torch.float16)  # fp16 sum overflows
    check_pixels(x)
    y = torch.full((1, 2, 3, 8, 8), 3e38)  # the float32 sum overflows; elements are finite
    check_pixels(y)


@pytest.mark.parametrize(
    "shape, expected",
    [
        ((4, 3, 32, 32), r"\(B, T, C, H, W\)"),
        ((1, 2, 4, 3, 32, 32), r"\(B, T, C, H, W\)"),
        ((2, 3, 4, 32, 32), r"channels-first"),
        ((2, 4, 3, 32, 31), "not divisible by patch_size"),
        ((2, 3, 3, 32, 32), "not divisible by tubelet_size"),
        ((2, 0, 3, 32, 32), "empty dimension"),
        ((2, 8, 3, 32, 32), "configured for 4 frames"),
    ],
)
def test_wrong_shapes_name_the_expected_layout(models, shape, expected):
    for model in models:
        with pytest.raises(InputError, match=expected):
            model(torch.zeros(shape))


def test_not_a_tensor(models):
    with pytest.raises(InputError, match=r"torch.Tensor of shape \(B, T, C, H, W\)"):
        models[0]([[0.0]])


def test_pretraining_checks_pixels_too():
    model = VideoMAEForPreTraining(VideoMAEConfig(**TINY)).eval()
    mask = tube_mask(2, (2, 4, 4), 0.75)
    with pytest.raises(InputError, match="expected floating point"):
        model(torch.zeros(2, 4, 3, 32, 32, dtype=torch.uint8), bool_masked_pos=mask)
    x = _clip()
    x[0, 0, 0, 0, 0] = float("inf")
    with pytest.raises(InputError, match="NaN or Inf"):
        model(x, bool_masked_pos=mask)
    assert torch.isfinite(model(_clip(), bool_masked_pos=mask).loss)
