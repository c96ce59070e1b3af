"""VideoMAEVideoProcessor: the fast torch path against the image processor, inputs, layouts."""

from __future__ import annotations

import types

import numpy as np
import pytest
import torch
from _processing_helper import FAST_TOL, _max_diff, _video
from PIL import Image

from videomae.processing import video_processor
from videomae.processing.image_processor import VideoMAEImageProcessor
from videomae.processing.video_processor import VideoMAEVideoProcessor
from videomae.runtime import IMAGENET_DEFAULT_MEAN, IMAGENET_DEFAULT_STD


@pytest.fixture(scope="module")
def spec_video() -> np.ndarray:
    return _video((16, 240, 320, 3))


def _unnormalised(cls, video, **kwargs):
    return cls(do_normalize=False, **kwargs)(video, return_tensors="pt").pixel_values


@pytest.mark.parametrize(
    "shape, kwargs",
    [
        ((16, 240, 320, 3), {}),  # downscale (the spec input)
        ((3, 100, 150, 3), {}),  # upscale
        ((3, 130, 70, 3), dict(size=64, crop_size={"height": 80, "width": 60})),  # portrait
        ((3, 90, 120, 3), dict(size={"height": 50, "width": 70}, crop_size=48)),
        ((3, 90, 120, 3), dict(size=64, do_center_crop=False)),
        (
            (3, 60, 80, 3),
            dict(size=60, crop_size={"height": 56, "width": 70}),
        ),  # exact pre-crop path
        ((3, 60, 80, 3), dict(do_resize=False, crop_size=72)),  # crop larger than frame: padding
        ((3, 90, 120, 3), dict(size=48, crop_size=48, resample=3)),  # bicubic
    ],
)
def test_video_processor_close_to_image_processor(shape, kwargs):
    video = _video(shape, seed=6)
    fast = _unnormalised(VideoMAEVideoProcessor, torch.from_numpy(video), **kwargs)
    ref = _unnormalised(VideoMAEImageProcessor, video, **kwargs)
    assert fast.shape == ref.shape and fast.dtype == torch.float32
    assert _max_diff(fast, ref) <= FAST_TOL


def test_video_processor_normalised_output(spec_video):
    fast = VideoMAEVideoProcessor()(spec_video).pixel_values
    ref = VideoMAEImageProcessor()(spec_video, return_tensors="pt").pixel_values
    assert fast.shape == (1, 16, 3, 224, 224) and fast.is_contiguous()
    assert _max_diff(fast, ref) <= FAST_TOL / 0.5  # std 0.5 doubles the uint8 step
    proc = VideoMAEVideoProcessor(image_mean=IMAGENET_DEFAULT_MEAN, image_std=IMAGENET_DEFAULT_STD)
    un = _unnormalised(VideoMAEVideoProcessor, spec_video)
    mean = torch.tensor(IMAGENET_DEFAULT_MEAN).view(3, 1, 1)
    std = torch.tensor(IMAGENET_DEFAULT_STD).view(3, 1, 1)
    assert _max_diff(proc(spec_video).pixel_values, (un - mean) / std) <= 1e-5


def test_video_processor_layouts_and_batches():
    video = _video((4, 60, 80, 3), seed=7)
    proc = VideoMAEVideoProcessor(size=48, crop_size=48)
    ref = proc(video).pixel_values
    assert ref.shape == (1, 4, 3, 48, 48)
    t = torch.from_numpy(video)
    same = [
        proc(t),
        proc(t.permute(0, 3, 1, 2).contiguous()),
        proc(list(video)),
        proc([f.transpose(2, 0, 1) for f in video]),
        proc([Image.fromarray(f) for f in video]),
        proc(video, device="cpu"),
    ]
    for out in same:
        torch.testing.assert_close(out.pixel_values, ref, atol=1e-6, rtol=0)
    batch = proc(np.stack([video, video[::-1]])).pixel_values
    assert batch.shape == (2, 4, 3, 48, 48)
    torch.testing.assert_close(batch[1], ref[0].flip(0), atol=1e-6, rtol=0)
    listed = proc([t, t.flip(0)]).pixel_values
    torch.testing.assert_close(listed, batch, atol=1e-6, rtol=0)
    assert isinstance(proc(video, return_tensors="np").pixel_values, np.ndarray)
    ragged = proc([video, video[:2]], return_tensors=None).pixel_values
    assert [tuple(v.shape) for v in ragged] == [(4, 3, 48, 48), (2, 3, 48, 48)]
    with pytest.raises(ValueError, match="cannot stack"):
        proc([video, video[:2]])


def test_video_processor_layout_rule_and_errors():
    proc = VideoMAEVideoProcessor(size=8, crop_size=8)
    # (T, 3, H, 3): both ends could be channels; channels-first is assumed unless told
    ambiguous = torch.from_numpy(_video((2, 3, 10, 3)))
    assert proc(ambiguous).pixel_values.shape == (1, 2, 3, 8, 8)
    out = proc(ambiguous, input_data_format="channels_last").pixel_values
    assert out.shape == (1, 2, 3, 8, 8)
    with pytest.raises(ValueError, match="channel dim"):
        proc(np.zeros((2, 20, 20, 4), np.uint8))
    with pytest.raises(ValueError, match=r"\(T, H, W, C\)"):
        proc(np.zeros((1, 2, 20, 20, 3, 1), np.uint8))
    with pytest.raises(TypeError, match="path, a"):
        proc(3)
    with pytest.raises(ValueError, match="resample"):
        VideoMAEVideoProcessor(resample=0)
    with pytest.raises(TypeError, match="unexpected arguments"):
        proc(np.zeros((2, 20, 20, 3), np.uint8), crop=3)


def test_video_processor_float_and_gray_inputs():
    video = _video((2, 40, 50, 3), seed=8)
    proc = VideoMAEVideoProcessor(size=32, crop_size=32)
    as_float = proc(torch.from_numpy(video).float()).pixel_values
    assert _max_diff(as_float, proc(video).pixel_values) <= FAST_TOL / 0.5
    gray = proc(torch.from_numpy(video[..., :1])).pixel_values
    assert gray.shape == (1, 2, 3, 32, 32)
    torch.testing.assert_close(gray[:, :, 0], gray[:, :, 1])


def test_video_processor_decodes_paths(monkeypatch, tmp_path):
    calls = []
    frames = torch.from_numpy(_video((5, 40, 60, 3), seed=9))

    def read_clip(path, num_frames=16, **kwargs):
        calls.append((str(path), num_frames, kwargs))
        return types.SimpleNamespace(frames=frames[:num_frames])

    monkeypatch.setattr(video_processor, "read_clip", read_clip)
    proc = VideoMAEVideoProcessor(size=32, crop_size=32)
    out = proc(
        [tmp_path / "a.mp4", str(tmp_path / "b.mp4")], num_frames=4, clip_kwargs={"clip_idx": 1}
    )
    assert out.pixel_values.shape == (2, 4, 3, 32, 32)
    assert calls[0] == (str(tmp_path / "a.mp4"), 4, {"clip_idx": 1})
    torch.testing.assert_close(out.pixel_values[0], proc(frames[:4]).pixel_values[0])
    assert proc(str(tmp_path / "c.mp4"), num_frames=5).pixel_values.shape == (1, 5, 3, 32, 32)
