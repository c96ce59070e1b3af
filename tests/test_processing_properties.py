"""Property-based tests (issue #14): any input to the processors either works or raises the
package's own error type, never an unrelated exception."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from videomae.errors import VideoMAEError
from videomae.processing.image_processor import VideoMAEImageProcessor
from videomae.processing.video_processor import VideoMAEVideoProcessor

_DTYPES = [np.uint8, np.float32, np.float64, np.int64, np.bool_, np.float16]
_SIZE = {"shortest_edge": 16}
_CROP = {"height": 16, "width": 16}


@st.composite
def _arrays(draw):
    ndim = draw(st.integers(min_value=0, max_value=6))
    shape = tuple(draw(st.lists(st.integers(0, 20), min_size=ndim, max_size=ndim)))
    dtype = draw(st.sampled_from(_DTYPES))
    data = np.random.default_rng(draw(st.integers(0, 9))).uniform(-2, 300, size=shape)
    array = data.astype(dtype)
    if draw(st.booleans()) and array.size and np.issubdtype(dtype, np.floating):
        array.flat[0] = draw(st.sampled_from([np.nan, np.inf, -np.inf]))
    return torch.from_numpy(array) if draw(st.booleans()) else array


_INPUTS = st.one_of(
    _arrays(),
    st.lists(_arrays(), max_size=3),
    st.none(),
    st.integers(),
    st.text(max_size=5),
    st.lists(st.none(), max_size=2),
    st.dictionaries(st.text(max_size=2), st.integers(), max_size=2),
)


def _check(processor, videos, **kwargs) -> None:
    try:
        out = processor(videos, return_tensors="pt", **kwargs)
    except VideoMAEError:
        return
    pixels = out["pixel_values"]
    assert pixels.ndim == 5 and pixels.dtype == torch.float32
    assert pixels.shape[-2:] == (16, 16)


@pytest.mark.parametrize("cls", [VideoMAEImageProcessor, VideoMAEVideoProcessor])
@settings(max_examples=50, deadline=None)
@given(videos=_INPUTS)
def test_any_video_input_works_or_raises_our_error(cls, videos):
    _check(cls(size=_SIZE, crop_size=_CROP), videos)


_OPTIONS = st.fixed_dictionaries(
    {},
    optional={
        "size": st.one_of(
            st.fixed_dictionaries({"shortest_edge": st.integers(-5, 40)}),
            st.integers(-5, 40),
            st.none(),
            st.text(max_size=3),
        ),
        "crop_size": st.one_of(
            st.fixed_dictionaries({"height": st.integers(-5, 40), "width": st.integers(-5, 40)}),
            st.integers(-5, 40),
        ),
        "rescale_factor": st.floats(allow_nan=True),
        "image_mean": st.one_of(st.lists(st.floats(-2, 2), max_size=4), st.floats()),
        "image_std": st.one_of(st.lists(st.floats(-2, 2), max_size=4), st.floats()),
        "do_resize": st.booleans(),
        "do_center_crop": st.booleans(),
        "resample": st.integers(-2, 8),
    },
)


@pytest.mark.parametrize("cls", [VideoMAEImageProcessor, VideoMAEVideoProcessor])
@settings(max_examples=50, deadline=None)
@given(options=_OPTIONS)
def test_any_processor_settings_work_or_raise_our_error(cls, options):
    video = np.random.default_rng(0).integers(0, 256, size=(2, 20, 24, 3), dtype=np.uint8)
    try:
        processor = cls(**options)
        out = processor(video, return_tensors="pt")
    except VideoMAEError:
        return
    pixels = out["pixel_values"]
    assert pixels.ndim == 5 and pixels.shape[:3] == (1, 2, 3)
