"""Processors: parity with transformers' VideoMAEImageProcessor, the fast torch path, helpers."""

from __future__ import annotations

import json
import logging
import sys
import time
import types

import numpy as np
import pytest
import torch
from PIL import Image

from videomae.processing import (
    BatchFeature,
    VideoMAEImageProcessor,
    VideoMAEImageProcessorPil,
    VideoMAEVideoProcessor,
    center_crop,
    normalize,
    resize_short_side,
    spatial_crops,
)
from videomae.runtime import IMAGENET_DEFAULT_MEAN, IMAGENET_DEFAULT_STD

PARITY_TOL = 1e-4  # max abs diff vs transformers (issue 3)
FAST_TOL = 2 / 255  # torch path vs PIL path, before normalisation (issue 3)

transformers = pytest.importorskip("transformers")
logging.getLogger("transformers").setLevel(logging.ERROR)  # torchvision fallback notice


def _hf(**kwargs):
    from transformers import VideoMAEImageProcessor as HFImageProcessor

    return HFImageProcessor(**kwargs)


def _video(shape, seed=0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, shape, dtype=np.uint8)


@pytest.fixture(scope="module")
def spec_video() -> np.ndarray:
    return _video((16, 240, 320, 3))


def _max_diff(a, b) -> float:
    return float(np.abs(np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64)).max())


# ------------------------------------------------------------------------------------------
# Image processor: parity with transformers
# ------------------------------------------------------------------------------------------


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


# ------------------------------------------------------------------------------------------
# Config files: both directions with transformers
# ------------------------------------------------------------------------------------------


def test_to_dict_matches_transformers():
    ours = VideoMAEImageProcessor().to_dict()
    assert ours == json.loads(_hf().to_json_string())
    assert VideoMAEImageProcessorPil().to_dict()["image_processor_type"] == "VideoMAEImageProcessor"
    assert json.loads(VideoMAEImageProcessor().to_json_string()) == ours


@pytest.mark.parametrize("cls", [VideoMAEImageProcessor, VideoMAEVideoProcessor])
def test_save_pretrained_read_by_transformers(tmp_path, cls):
    from transformers import VideoMAEImageProcessor as HFImageProcessor

    kwargs = dict(
        size={"shortest_edge": 256},
        crop_size={"height": 240, "width": 220},
        image_mean=list(IMAGENET_DEFAULT_MEAN),
        image_std=list(IMAGENET_DEFAULT_STD),
        resample=3,
        do_normalize=False,
    )
    path = cls(**kwargs).save_pretrained(tmp_path / "proc")
    assert path.endswith("preprocessor_config.json")
    hf = HFImageProcessor.from_pretrained(tmp_path / "proc")
    for key, value in kwargs.items():
        got = getattr(hf, key)
        got = dict(got) if isinstance(got, dict) else list(got) if isinstance(got, tuple) else got
        assert got == value, key
    assert cls.from_pretrained(tmp_path / "proc") == cls(**kwargs)


@pytest.mark.parametrize("cls", [VideoMAEImageProcessor, VideoMAEVideoProcessor])
def test_from_pretrained_reads_transformers_file(tmp_path, cls):
    hf = _hf(size={"height": 160, "width": 192}, crop_size=128, image_mean=[0.4, 0.45, 0.5])
    hf.save_pretrained(tmp_path)
    ours = cls.from_pretrained(tmp_path)
    assert ours.size == {"height": 160, "width": 192}
    assert ours.crop_size == {"height": 128, "width": 128}
    assert ours.image_mean == [0.4, 0.45, 0.5] and ours.resample == 2
    assert ours.to_dict() == json.loads(hf.to_json_string())
    # overrides and the json file path work too
    assert cls.from_pretrained(tmp_path / "preprocessor_config.json", crop_size=96).crop_size == {
        "height": 96,
        "width": 96,
    }


def test_from_pretrained_old_style_config(tmp_path):
    old = {"feature_extractor_type": "VideoMAEFeatureExtractor", "size": 224, "crop_size": 224}
    (tmp_path / "preprocessor_config.json").write_text(json.dumps(old))
    proc = VideoMAEImageProcessor.from_pretrained(tmp_path)
    assert proc.size == {"shortest_edge": 224} and proc.crop_size == {"height": 224, "width": 224}


def test_from_pretrained_errors(tmp_path, monkeypatch):
    import huggingface_hub

    def offline(*args, **kwargs):
        raise ConnectionError("offline\nsecond line")

    monkeypatch.setattr(huggingface_hub, "hf_hub_download", offline)
    with pytest.raises(
        OSError, match="could not fetch preprocessor_config.json for org/name.*local folder"
    ):
        VideoMAEVideoProcessor.from_pretrained("org/name")
    with pytest.raises(FileNotFoundError, match="has no preprocessor_config.json"):
        VideoMAEImageProcessor.from_pretrained(tmp_path)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        VideoMAEImageProcessor.from_pretrained(tmp_path / "missing" / "dir")


# ------------------------------------------------------------------------------------------
# Fast video processor
# ------------------------------------------------------------------------------------------


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

    fake = types.ModuleType("videomae.video.decode")
    fake.read_clip = read_clip
    monkeypatch.setitem(sys.modules, "videomae.video.decode", fake)
    proc = VideoMAEVideoProcessor(size=32, crop_size=32)
    out = proc(
        [tmp_path / "a.mp4", str(tmp_path / "b.mp4")], num_frames=4, clip_kwargs={"clip_idx": 1}
    )
    assert out.pixel_values.shape == (2, 4, 3, 32, 32)
    assert calls[0] == (str(tmp_path / "a.mp4"), 4, {"clip_idx": 1})
    torch.testing.assert_close(out.pixel_values[0], proc(frames[:4]).pixel_values[0])
    assert proc(str(tmp_path / "c.mp4"), num_frames=5).pixel_values.shape == (1, 5, 3, 32, 32)


def test_batch_feature_access_and_to():
    out = VideoMAEVideoProcessor(size=16, crop_size=16)(_video((2, 20, 20, 3)))
    assert out.pixel_values is out["pixel_values"]
    assert out.to(torch.float16).pixel_values.dtype == torch.float16
    with pytest.raises(AttributeError, match="no key"):
        _ = out.labels


# ------------------------------------------------------------------------------------------
# Pure helpers
# ------------------------------------------------------------------------------------------


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


def test_frame_split_across_threads_is_exact_and_ordered():
    frames = torch.from_numpy(_video((7, 48, 64, 3))).permute(0, 3, 1, 2)  # channels-last
    processor = VideoMAEVideoProcessor(size={"shortest_edge": 24}, crop_size=24)
    threads = torch.get_num_threads()
    try:
        torch.set_num_threads(1)  # one part, on the calling thread
        want = processor(frames, return_tensors="pt").pixel_values
        want_resized = resize_short_side(frames, 24)
        torch.set_num_threads(3)  # three parts: one here, two on the pool
        got = processor(frames, return_tensors="pt").pixel_values
        got_resized = resize_short_side(frames, 24)
    finally:
        torch.set_num_threads(threads)
    assert torch.equal(got, want) and torch.equal(got_resized, want_resized)


def test_map_split_order_and_errors():
    from videomae.processing import _map_split

    assert _map_split(lambda s: (s.start, s.stop), 10, 3) == [(0, 3), (3, 7), (7, 10)]
    assert _map_split(lambda s: (s.start, s.stop), 10, 1) == [(0, 10)]
    assert _map_split(lambda s: (s.start, s.stop), 0, 2) == [(0, 0)]
    finished: list[int] = []

    def fail_first(s: slice) -> int:
        if s.start == 0:
            raise ValueError("part 0")
        time.sleep(0.05)
        finished.append(s.start)
        return s.start

    with pytest.raises(ValueError, match="part 0"):
        _map_split(fail_first, 10, 3)
    assert sorted(finished) == [3, 7]  # the pool's parts had finished before the error left

    def fail_later(s: slice) -> int:
        if s.start == 7:
            raise RuntimeError("part 2")
        return s.start

    with pytest.raises(RuntimeError, match="part 2"):
        _map_split(fail_later, 10, 3)
