"""VideoMAEImageProcessor: parity with transformers' VideoMAEImageProcessor (numpy + PIL)."""

from __future__ import annotations

import logging

import numpy as np
import pytest
import torch
from _processing_helper import PARITY_TOL, _hf, _max_diff, _video
from PIL import Image

from videomae.processing.batch import BatchFeature
from videomae.processing.image_processor import VideoMAEImageProcessor
from videomae.runtime import IMAGENET_DEFAULT_MEAN, IMAGENET_DEFAULT_STD

transformers = pytest.importorskip("transformers")
logging.getLogger("transformers").setLevel(logging.ERROR)  # torchvision fallback notice


@pytest.fixture(scope="module")
def spec_video() -> np.ndarray:
    return _video((16, 240, 320, 3))


def test_spec_reference_stats(spec_video):
    out = VideoMAEImageProcessor()(spec_video, return_tensors="np").pixel_values
    assert out.shape == (1, 16, 3, 224, 224) and out.dtype == np.float32
    assert abs(out.mean() - -0.00033895) < 1e-6
    assert abs(out.std() - 0.36009893) < 1e-6
    np.testing.assert_allclose(
        out.ravel()[:5], [0.29411769, 0.54509807, 0.85098040, 0.00392163, -0.38823527], atol=1e-6
    )
    ref = _hf()(list(spec_video), return_tensors="np").pixel_values
    assert _max_diff(out, ref) <= PARITY_TOL


PARITY_CASES = {
    "shortest_edge_160": (
        dict(size={"shortest_edge": 160}, crop_size={"height": 160, "width": 160}),
        (4, 90, 120, 3),
    ),
    "upscale": ({}, (3, 100, 150, 3)),
    "height_width": (dict(size={"height": 200, "width": 180}), (3, 90, 120, 3)),
    "no_crop": (dict(do_center_crop=False, size={"shortest_edge": 64}), (3, 90, 120, 3)),
    "portrait": (
        dict(size={"shortest_edge": 64}, crop_size={"height": 64, "width": 48}),
        (3, 130, 70, 3),
    ),
    "crop_larger_pads": (
        dict(do_resize=False, crop_size={"height": 100, "width": 90}),
        (2, 80, 70, 3),
    ),
    "imagenet_mean_std": (
        dict(image_mean=IMAGENET_DEFAULT_MEAN, image_std=IMAGENET_DEFAULT_STD),
        (3, 90, 120, 3),
    ),
    "bicubic_no_rescale": (
        dict(resample=3, do_rescale=False, size={"shortest_edge": 32}, crop_size=32),
        (2, 40, 60, 3),
    ),
}


@pytest.mark.parametrize("case", sorted(PARITY_CASES))
def test_parity_settings(case):
    kwargs, shape = PARITY_CASES[case]
    video = _video(shape, seed=1)
    ours = VideoMAEImageProcessor(**kwargs)(list(video), return_tensors="pt").pixel_values
    ref = _hf(**kwargs)(list(video), return_tensors="pt").pixel_values
    assert ours.shape == ref.shape and ours.dtype == torch.float32
    assert _max_diff(ours, ref) <= PARITY_TOL


@pytest.mark.parametrize(
    "layout", ["chw_arrays", "pil", "thwc_array", "tchw_tensor", "hwc_tensors"]
)
def test_parity_input_layouts(layout):
    video = _video((3, 90, 120, 3), seed=2)
    inputs = {
        "chw_arrays": [f.transpose(2, 0, 1) for f in video],
        "pil": [Image.fromarray(f) for f in video],
        "thwc_array": video,
        "tchw_tensor": torch.from_numpy(video).permute(0, 3, 1, 2),
        "hwc_tensors": list(torch.from_numpy(video)),
    }[layout]
    kwargs = dict(size={"shortest_edge": 64}, crop_size=64)
    ours = VideoMAEImageProcessor(**kwargs)(inputs, return_tensors="np").pixel_values
    ref = _hf(**kwargs)(inputs, return_tensors="np").pixel_values
    assert ours.shape == (1, 3, 3, 64, 64)
    assert _max_diff(ours, ref) <= PARITY_TOL


def test_parity_batch_of_two_videos_and_overrides():
    a, b = _video((3, 90, 120, 3), seed=3), _video((3, 100, 80, 3), seed=4)
    over = dict(size={"shortest_edge": 48}, crop_size={"height": 40, "width": 44}, image_mean=0.3)
    ours = VideoMAEImageProcessor()([list(a), list(b)], return_tensors="pt", **over).pixel_values
    ref = _hf()([list(a), list(b)], return_tensors="pt", **over).pixel_values
    assert ours.shape == (2, 3, 3, 40, 44)
    assert _max_diff(ours, ref) <= PARITY_TOL
    # a list of 4-D videos and a 5-D array are batches too
    stacked = np.stack([a, a])
    five_d = VideoMAEImageProcessor()(stacked, return_tensors="np", **over).pixel_values
    listed = VideoMAEImageProcessor()([a, a], return_tensors="np", **over).pixel_values
    np.testing.assert_array_equal(five_d, listed)


def test_return_tensors_none_nested_lists_like_transformers():
    video = _video((2, 40, 50, 3))
    out = VideoMAEImageProcessor(size=32, crop_size=32)(video)
    ref = _hf(size={"shortest_edge": 32}, crop_size=32)(video)
    assert isinstance(out, BatchFeature) and isinstance(out["pixel_values"], list)
    assert len(out.pixel_values) == 1 and len(out.pixel_values[0]) == 2
    assert out.pixel_values[0][0].shape == (3, 32, 32)
    assert _max_diff(np.array(out.pixel_values), np.array(ref.pixel_values)) <= PARITY_TOL


def test_float_frames_in_unit_range_like_transformers():
    video = _video((2, 40, 50, 3)).astype(np.float32) / 255
    kwargs = dict(size={"shortest_edge": 32}, crop_size=32, do_rescale=False)
    ours = VideoMAEImageProcessor(**kwargs)(list(video), return_tensors="np").pixel_values
    ref = _hf(**kwargs)(list(video), return_tensors="np").pixel_values
    assert _max_diff(ours, ref) <= PARITY_TOL


def test_image_processor_bad_input_errors():
    proc = VideoMAEImageProcessor()
    with pytest.raises(ValueError, match="channel dim"):
        proc(np.zeros((2, 20, 20, 4), np.uint8))
    with pytest.raises(TypeError, match="unexpected arguments"):
        proc(np.zeros((2, 20, 20, 3), np.uint8), sise=3)
    with pytest.raises(ValueError, match="empty list"):
        proc([])
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        proc(np.full((1, 20, 20, 3), 3.5, np.float32))
    with pytest.raises(ValueError, match="shortest_edge"):
        VideoMAEImageProcessor(size={"longest_edge": 3})


def test_grayscale_frames_repeat_to_rgb():
    gray = _video((2, 40, 50), seed=5)
    out = VideoMAEImageProcessor(size=32, crop_size=32)(
        list(gray), return_tensors="np"
    ).pixel_values
    assert out.shape == (1, 2, 3, 32, 32)
    np.testing.assert_array_equal(out[:, :, 0], out[:, :, 2])
