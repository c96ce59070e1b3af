"""Tests for videomae.video.sampling: the dense and uniform clip samplers."""

from __future__ import annotations

import numpy as np
import pytest

from videomae.video.sampling import clip_indices, dense_indices, uniform_indices


def test_dense_indices_length_bounds_and_stride() -> None:
    rng = np.random.default_rng(0)
    for _ in range(50):
        idx = dense_indices(300, 16, 4, rng=rng)
        assert idx.shape == (16,) and idx.dtype == np.int64
        assert idx.min() >= 0 and idx.max() <= 299
        assert np.all(np.diff(idx) == 4)


def test_dense_indices_evenly_spaced_clips_cover_the_video() -> None:
    starts = [dense_indices(200, 8, 4, clip_idx=k, num_clips=5)[0] for k in range(5)]
    assert starts[0] == 0
    assert dense_indices(200, 8, 4, clip_idx=4, num_clips=5)[-1] == 200 - 4  # window ends at end
    assert np.ptp(np.diff(starts)) <= 1  # equal spacing up to rounding
    single = dense_indices(200, 8, 4, clip_idx=0, num_clips=1)
    assert single[0] == (200 - 32) // 2  # one clip is centred


def test_dense_indices_short_video_repeats_last_frame() -> None:
    idx = dense_indices(10, 8, 4, clip_idx=0)
    assert idx.tolist() == [0, 4, 8, 9, 9, 9, 9, 9]
    idx = dense_indices(10, 8, 4, rng=np.random.default_rng(1))
    assert idx[0] == 0 and idx.max() == 9


def test_dense_indices_seeded_rng_is_deterministic() -> None:
    a = [dense_indices(500, 16, 2, rng=np.random.default_rng(7)) for _ in range(2)]
    assert np.array_equal(a[0], a[1])
    many = {int(dense_indices(500, 16, 2, rng=np.random.default_rng(s))[0]) for s in range(20)}
    assert len(many) > 5  # actually random across seeds


def test_uniform_indices_train_one_per_segment() -> None:
    rng = np.random.default_rng(0)
    for _ in range(50):
        idx = uniform_indices(100, 8, train=True, rng=rng)
        seg = 100 // 8
        assert idx.shape == (8,)
        assert all(k * seg <= i < (k + 1) * seg for k, i in enumerate(idx))
    a = uniform_indices(100, 8, train=True, rng=np.random.default_rng(3))
    b = uniform_indices(100, 8, train=True, rng=np.random.default_rng(3))
    assert np.array_equal(a, b)


def test_uniform_indices_eval_middle_and_two_clip_shift() -> None:
    assert uniform_indices(80, 8).tolist() == [5, 15, 25, 35, 45, 55, 65, 75]
    starts = uniform_indices(80, 8, clip_idx=0, num_clips=2)
    middles = uniform_indices(80, 8, clip_idx=1, num_clips=2)
    assert starts.tolist() == list(range(0, 80, 10))
    assert middles.tolist() == [5, 15, 25, 35, 45, 55, 65, 75]


def test_uniform_indices_short_video() -> None:
    for train in (False, True):
        idx = uniform_indices(5, 8, train=train, rng=np.random.default_rng(0))
        assert idx.shape == (8,) and idx.max() <= 4 and np.all(np.diff(idx) >= 0)
        assert set(idx.tolist()) <= set(range(5))


def test_clip_indices_strategies_and_errors() -> None:
    clips = clip_indices(120, 8, strategy="dense", sampling_rate=2, num_clips=3)
    assert len(clips) == 3 and all(c.shape == (8,) for c in clips)
    assert clips[0][0] < clips[1][0] < clips[2][0]
    u = clip_indices(120, 8, strategy="uniform", num_clips=2)
    assert [c.tolist() for c in u] == [
        uniform_indices(120, 8, clip_idx=k, num_clips=2).tolist() for k in range(2)
    ]
    t1 = clip_indices(120, 8, num_clips=2, train=True, rng=np.random.default_rng(5))
    t2 = clip_indices(120, 8, num_clips=2, train=True, rng=np.random.default_rng(5))
    assert all(np.array_equal(a, b) for a, b in zip(t1, t2))
    with pytest.raises(ValueError, match="strategy"):
        clip_indices(120, 8, strategy="nope")
    with pytest.raises(ValueError, match="num_video_frames"):
        dense_indices(0, 8, 2, clip_idx=0)
    with pytest.raises(ValueError, match="clip_idx"):
        dense_indices(100, 8, 2, clip_idx=3, num_clips=3)
