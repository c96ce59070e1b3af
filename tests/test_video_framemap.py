"""Tests for videomae.video.framemap: the per-file cache of frame maps."""

from __future__ import annotations

import numpy as np
import pytest

av = pytest.importorskip("av")

from _video_frames import coded_frames  # noqa: E402

from videomae.video.framemap import FRAME_MAP_CACHE, FrameMapCache  # noqa: E402
from videomae.video.write import write_video  # noqa: E402


def _map_of(cache: FrameMapCache, path: str):
    with av.open(path) as container:
        return cache.get(container, container.streams.video[0], path)


def test_cache_reuses_maps_evicts_least_recent_and_clears(tmp_path) -> None:
    paths = []
    for k, n in enumerate((6, 9)):
        paths.append(str(tmp_path / f"{k}.webm"))
        write_video(paths[-1], coded_frames(n, 16, 16), fps=10)
    cache = FrameMapCache(maxsize=1)
    first = _map_of(cache, paths[0])
    assert first.num_frames == 6 and _map_of(cache, paths[0]) is first and len(cache) == 1
    assert _map_of(cache, paths[1]).num_frames == 9 and len(cache) == 1  # paths[0] evicted
    assert _map_of(cache, paths[0]) is not first
    cache.clear()
    assert len(cache) == 0
    assert FRAME_MAP_CACHE.maxsize == 256
    FRAME_MAP_CACHE.clear()
    assert len(FRAME_MAP_CACHE) == 0 and np.isfinite(first.seconds(first.pts_of(5)))
