"""preprocessor_config.json: both directions with transformers, loading and its errors."""

from __future__ import annotations

import json
import logging

import pytest
from _processing_helper import _hf

from videomae.processing.image_processor import VideoMAEImageProcessor, VideoMAEImageProcessorPil
from videomae.processing.video_processor import VideoMAEVideoProcessor
from videomae.runtime import IMAGENET_DEFAULT_MEAN, IMAGENET_DEFAULT_STD

transformers = pytest.importorskip("transformers")
logging.getLogger("transformers").setLevel(logging.ERROR)  # torchvision fallback notice


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


def test_clip_keys_round_trip_and_transformers_keeps_them(tmp_path):
    from transformers import VideoMAEImageProcessor as HFImageProcessor

    proc = VideoMAEImageProcessor(
        num_frames=8, frame_sampling_rate=2, frame_sampling_strategy="dense"
    )
    proc.save_pretrained(tmp_path)
    again = VideoMAEImageProcessor.from_pretrained(tmp_path)
    assert (again.num_frames, again.frame_sampling_rate, again.frame_sampling_strategy) == (
        8,
        2,
        "dense",
    )
    hf = HFImageProcessor.from_pretrained(tmp_path)  # extra keys tolerated, kept as attributes
    assert (hf.num_frames, hf.frame_sampling_rate) == (8, 2)
    assert "num_frames" not in VideoMAEImageProcessor().to_dict()  # unknown: not written


def test_video_processor_config_file_order(tmp_path):
    """transformers' AutoVideoProcessor order: video_preprocessor_config.json first; the image
    processor reads preprocessor_config.json first; either falls back to the other file."""
    (tmp_path / "video_preprocessor_config.json").write_text(
        json.dumps({"size": {"shortest_edge": 40}})
    )
    assert VideoMAEVideoProcessor.from_pretrained(tmp_path).size == {"shortest_edge": 40}
    assert VideoMAEImageProcessor.from_pretrained(tmp_path).size == {"shortest_edge": 40}
    (tmp_path / "preprocessor_config.json").write_text(json.dumps({"size": {"shortest_edge": 50}}))
    assert VideoMAEVideoProcessor.from_pretrained(tmp_path).size == {"shortest_edge": 40}
    assert VideoMAEImageProcessor.from_pretrained(tmp_path).size == {"shortest_edge": 50}
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(FileNotFoundError, match="no video_preprocessor_config.json or preproc"):
        VideoMAEVideoProcessor.from_pretrained(empty)
