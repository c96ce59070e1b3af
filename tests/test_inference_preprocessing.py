"""A checkpoint's preprocessing: from config.json or preprocessor_config.json."""

from __future__ import annotations

import json

import pytest
from _inference_helper import _classifier_dir, _frames, make_assets

from videomae.inference.classifier import VideoClassifier
from videomae.runtime import IMAGENET_DEFAULT_MEAN, IMAGENET_DEFAULT_STD


@pytest.fixture(scope="module")
def assets(tmp_path_factory) -> dict:
    return make_assets(tmp_path_factory)


def test_preprocessing_from_config_or_preprocessor_file(assets, tmp_path) -> None:
    clf = VideoClassifier.from_pretrained(assets["clf"])
    pre = clf.preprocessing
    assert pre.source == "config.json"
    assert (pre.crop_size, pre.short_side, pre.num_frames) == (32, 32, 4)
    assert pre.mean == pytest.approx(IMAGENET_DEFAULT_MEAN) and pre.std == pytest.approx(
        IMAGENET_DEFAULT_STD
    )

    folder = _classifier_dir(tmp_path)
    (folder / "preprocessor_config.json").write_text(
        json.dumps(
            {
                "size": {"shortest_edge": 36},
                "crop_size": {"height": 32, "width": 32},
                "image_mean": [0.5, 0.5, 0.5],
                "image_std": [0.25, 0.25, 0.25],
                "image_processor_type": "VideoMAEImageProcessor",
            }
        )
    )
    pre = VideoClassifier.from_pretrained(folder).preprocessing
    assert pre.source == "preprocessor_config.json"
    assert (pre.short_side, pre.crop_size) == (36, 32)
    assert pre.mean == (0.5, 0.5, 0.5) and pre.std == (0.25, 0.25, 0.25)

    longer = VideoClassifier.from_pretrained(folder, num_frames=8, sampling_rate=1)
    assert longer.preprocessing.num_frames == longer.model.config.num_frames == 8
    assert len(longer(_frames(10, 40, 40), top_k=2)) == 2  # position table resized to 8 frames

    (folder / "preprocessor_config.json").write_text(json.dumps({"crop_size": 224}))
    with pytest.raises(ValueError, match="image_size=32"):
        VideoClassifier.from_pretrained(folder)
