"""BatchFeature: attribute access and .to()."""

from __future__ import annotations

import pytest
import torch
from _processing_helper import _video

from videomae.processing.video_processor import VideoMAEVideoProcessor


def test_batch_feature_access_and_to():
    out = VideoMAEVideoProcessor(size=16, crop_size=16)(_video((2, 20, 20, 3)))
    assert out.pixel_values is out["pixel_values"]
    assert out.to(torch.float16).pixel_values.dtype == torch.float16
    with pytest.raises(AttributeError, match="no key"):
        _ = out.labels
