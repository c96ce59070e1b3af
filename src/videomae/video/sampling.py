"""Clip samplers: pure functions from a video's frame count to the frame indices of a clip.

No I/O happens here; :mod:`videomae.video.decode` decodes the indices these return.
"""

from __future__ import annotations

import numpy as np

from videomae.errors import InputError
from videomae.limits import MAX_NUM_FRAMES

__all__ = ["clip_indices", "dense_indices", "one_clip_indices", "uniform_indices"]


def _check_counts(num_video_frames: int, num_frames: int) -> None:
    if num_video_frames < 1:
        raise InputError(
            f"num_video_frames must be >= 1, got {num_video_frames}; the video has no frames"
        )
    if not 1 <= num_frames <= MAX_NUM_FRAMES:
        raise InputError(
            f"num_frames must be in 1..{MAX_NUM_FRAMES} (videomae.limits.MAX_NUM_FRAMES), "
            f"got {num_frames}"
        )


def _check_clip_idx(clip_idx: int, num_clips: int) -> None:
    if num_clips < 1:
        raise InputError(f"num_clips must be >= 1, got {num_clips}")
    if not 0 <= clip_idx < num_clips:
        raise InputError(
            f"clip_idx must be in [0, {num_clips - 1}] (num_clips={num_clips}), got {clip_idx}"
        )


def _unknown_strategy(strategy: str) -> InputError:
    return InputError(f"strategy must be 'dense' or 'uniform', got {strategy!r}")


def dense_indices(
    num_video_frames: int,
    num_frames: int,
    sampling_rate: int,
    *,
    clip_idx: int | None = None,
    num_clips: int = 1,
    rng: np.random.Generator | None = None,
) -> np.ndarray:
    """Kinetics-style strided clip: ``num_frames`` frames, ``sampling_rate`` apart.

    The clip covers a window of ``num_frames * sampling_rate`` frames. ``clip_idx=None`` puts
    the window at a random start drawn from ``rng`` (a fresh unseeded generator when None);
    otherwise it is the ``clip_idx``-th of ``num_clips`` evenly spaced windows, the first at the
    start and the last at the end of the video (a single clip is centred). A video shorter than
    the window starts at 0 and indices past its end are clamped to the last frame, so the last
    frame repeats. Returns int64 indices of shape (num_frames,).
    """
    _check_counts(num_video_frames, num_frames)
    if sampling_rate < 1:
        raise InputError(f"sampling_rate must be >= 1, got {sampling_rate}")
    delta = max(num_video_frames - num_frames * sampling_rate, 0)  # possible start positions - 1
    if clip_idx is None:
        rng = np.random.default_rng() if rng is None else rng
        start = int(rng.integers(0, delta + 1))
    else:
        _check_clip_idx(clip_idx, num_clips)
        start = delta // 2 if num_clips == 1 else round(delta * clip_idx / (num_clips - 1))
    idx = start + np.arange(num_frames, dtype=np.int64) * sampling_rate
    return np.minimum(idx, num_video_frames - 1)


def uniform_indices(
    num_video_frames: int,
    num_frames: int,
    *,
    train: bool = False,
    rng: np.random.Generator | None = None,
    clip_idx: int = 0,
    num_clips: int = 1,
) -> np.ndarray:
    """Something-Something-style TSN sampling: one frame from each of ``num_frames`` segments.

    Training (as in the original release): segments of ``num_video_frames // num_frames``
    frames and a random frame inside each (from ``rng``). A video with fewer frames than
    ``num_frames`` takes every frame in order, repeated to length (the original returned
    zeros). Evaluation: segments of ``num_video_frames / num_frames`` frames; one clip takes
    each segment's middle frame; with ``num_clips > 1`` clip ``k`` takes the frame at fraction
    ``k / num_clips`` of each segment, so two clips give the segment starts and middles, as the
    original two-clip test does. Returns sorted int64 indices of shape (num_frames,).
    """
    _check_counts(num_video_frames, num_frames)
    seg = np.arange(num_frames, dtype=np.int64)
    if train:
        rng = np.random.default_rng() if rng is None else rng
        avg = num_video_frames // num_frames
        if avg > 0:
            idx = seg * avg + rng.integers(0, avg, size=num_frames)
        else:
            idx = np.floor(seg * (num_video_frames / num_frames)).astype(np.int64)
    else:
        _check_clip_idx(clip_idx, num_clips)
        frac = 0.5 if num_clips == 1 else clip_idx / num_clips
        idx = np.floor((seg + frac) * (num_video_frames / num_frames)).astype(np.int64)
    return np.clip(idx, 0, num_video_frames - 1)


def clip_indices(
    num_video_frames: int,
    num_frames: int,
    *,
    strategy: str = "dense",
    sampling_rate: int = 4,
    num_clips: int = 1,
    train: bool = False,
    rng: np.random.Generator | None = None,
) -> list[np.ndarray]:
    """Indices of ``num_clips`` clips: random ones when ``train``, else evenly spaced ones.

    ``strategy`` is "dense" (:func:`dense_indices`, uses ``sampling_rate``) or "uniform"
    (:func:`uniform_indices`).
    """
    if num_clips < 1:
        raise InputError(f"num_clips must be >= 1, got {num_clips}")
    if train and rng is None:
        rng = np.random.default_rng()
    if strategy == "dense":
        if train:
            return [
                dense_indices(num_video_frames, num_frames, sampling_rate, rng=rng)
                for _ in range(num_clips)
            ]
        return [
            dense_indices(
                num_video_frames, num_frames, sampling_rate, clip_idx=k, num_clips=num_clips
            )
            for k in range(num_clips)
        ]
    if strategy == "uniform":
        return [
            uniform_indices(
                num_video_frames, num_frames, train=train, rng=rng, clip_idx=k, num_clips=num_clips
            )
            for k in range(num_clips)
        ]
    raise _unknown_strategy(strategy)


def one_clip_indices(
    num_video_frames: int,
    num_frames: int,
    *,
    strategy: str = "dense",
    sampling_rate: int = 4,
    clip_idx: int | None = None,
    num_clips: int = 1,
    train: bool = False,
    rng: np.random.Generator | None = None,
) -> np.ndarray:
    """The frame indices :func:`videomae.video.decode.read_clip` decodes, for a video of
    ``num_video_frames`` frames."""
    if strategy == "dense":
        if clip_idx is None and not train:
            clip_idx, num_clips = 0, 1
        return dense_indices(
            num_video_frames, num_frames, sampling_rate, clip_idx=clip_idx, num_clips=num_clips,
            rng=rng,
        )  # fmt: skip
    if strategy == "uniform":
        return uniform_indices(
            num_video_frames, num_frames, train=train, rng=rng,
            clip_idx=0 if clip_idx is None else clip_idx, num_clips=num_clips,
        )  # fmt: skip
    raise _unknown_strategy(strategy)
