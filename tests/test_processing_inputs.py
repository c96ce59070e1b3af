"""split_videos: one video or a batch, paths, arrays and lists of frames."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from videomae.processing.inputs import frames_of, split_videos


def test_split_videos_paths():
    assert split_videos("a.mp4", paths=True) == (["a.mp4"], True)
    videos, single = split_videos([Path("a.mp4"), "b.mp4"], paths=True)
    assert videos == [Path("a.mp4"), "b.mp4"] and not single
    with pytest.raises(TypeError, match="videos must be a"):
        split_videos("a.mp4")  # paths not allowed
    with pytest.raises(TypeError, match="each video must be a"):
        split_videos([np.zeros((2, 4, 4, 3)), "a.mp4"])


def test_split_videos_arrays():
    video = np.zeros((2, 4, 4, 3), np.uint8)
    videos, single = split_videos(video)
    assert single and len(videos) == 1 and videos[0] is video
    batch = torch.zeros(3, 2, 4, 4, 3)
    videos, single = split_videos(batch, paths=True, frame_lists=False)
    assert not single and len(videos) == 3 and videos[0].shape == (2, 4, 4, 3)
    assert split_videos(video[0])[1]  # one frame is a one-frame video
    with pytest.raises(ValueError, match=r"\(T, H, W, C\)"):
        split_videos(video[0], frame_lists=False)
    with pytest.raises(ValueError, match=r"\(T, H, W, C\)"):
        split_videos(np.zeros((1, 1, 2, 4, 4, 3)))


def test_split_videos_lists():
    video = np.zeros((2, 4, 4, 3), np.uint8)
    frames = [Image.fromarray(f) for f in video]
    videos, single = split_videos(frames)  # a list of frames is one video
    assert single and videos == [frames] and frames_of(videos[0]) == frames
    videos, single = split_videos([video, list(video), frames])
    assert not single and len(videos) == 3
    assert [len(frames_of(v)) for v in videos] == [2, 2, 2]
    # without frame lists, every item of a list is a video of its own
    with pytest.raises(ValueError, match=r"\(T, H, W, C\)"):
        split_videos(list(video), paths=True, frame_lists=False)
    with pytest.raises(TypeError, match="each video must be a path, a"):
        split_videos([frames], paths=True, frame_lists=False)
    with pytest.raises(TypeError, match="each frame must be"):
        split_videos([video, [video]])
    with pytest.raises(ValueError, match="empty list"):
        split_videos([])
    assert split_videos([], paths=True, frame_lists=False, allow_empty=True) == ([], False)
    with pytest.raises(TypeError, match="path, a"):
        split_videos(3, paths=True)
