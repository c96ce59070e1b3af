"""The frame split across threads: exact, ordered, errors raised."""

from __future__ import annotations

import time

import pytest
import torch
from _processing_helper import _video

from videomae.processing.ops import resize_short_side
from videomae.processing.parallel import FramePool
from videomae.processing.parallel import map_split as _map_split
from videomae.processing.video_processor import VideoMAEVideoProcessor


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


def test_frame_pool_starts_lazily_and_shuts_down():
    pool = FramePool(thread_name_prefix="test-pool")
    assert pool._pool is None  # nothing started on construction
    assert pool.map_split(lambda s: s.stop - s.start, 6, 2) == [3, 3]
    assert pool._pool is not None and pool._fork_hook_registered
    pool.shutdown()
    assert pool._pool is None
    assert pool.map_split(lambda s: s.start, 4, 2) == [0, 2]  # a fresh pool after shutdown
    pool.shutdown()
