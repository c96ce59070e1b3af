"""The views of one video (clips x crops) and how their scores merge: the paper's test protocol.

Each video is decoded once for all its clips; every clip is resized (short side) and cut into
``crops`` spatial views spanning the longer side, then normalised. A classifier's views merge by
averaging their softmax (``prob_mean``; averaging logits is worse and kept for comparison).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import torch

from videomae.errors import InputError
from videomae.limits import (
    MAX_CLIPS,
    MAX_IMAGE_SIDE,
    MAX_NUM_FRAMES,
    Range,
    check_choice,
    check_range,
)
from videomae.processing.ops import normalize, resize_short_side, spatial_crops
from videomae.video.decode import read_clips
from videomae.video.sampling import clip_indices

__all__ = [
    "MERGE_METHODS",
    "Preprocessing",
    "ViewSpec",
    "check_sizes",
    "check_view_options",
    "frames_views",
    "merge_views",
    "square_size",
    "video_views",
]

MERGE_METHODS = ("prob_mean", "logit_mean")


def merge_views(view_logits: torch.Tensor, method: str = "prob_mean") -> torch.Tensor:
    """Merge the (V, K) logits of one video's views into (K,) scores.

    ``prob_mean`` (default, the paper's protocol): softmax per view, then the mean — a sum of
    probabilities. ``logit_mean``: mean of raw logits (for comparison only).
    """
    if view_logits.ndim != 2 or view_logits.shape[0] == 0:
        raise ValueError(f"view_logits must be (V, K) with V >= 1, got {tuple(view_logits.shape)}")
    x = view_logits.float()
    if method == "prob_mean":
        return x.softmax(dim=-1).mean(dim=0)  # (K,)
    if method == "logit_mean":
        return x.mean(dim=0)  # (K,)
    raise ValueError(f"unknown merge method {method!r}; expected one of {MERGE_METHODS}")


def square_size(value: Any, name: str, fix: str) -> int:
    """A size given as an int or a square (h, w) pair -> the int; ``fix`` says what to do else."""
    if isinstance(value, (list, tuple)):
        if len(set(int(v) for v in value)) != 1:
            raise ValueError(f"{name}={value} is not square; {fix}")
        value = value[0]
    return int(value)


def check_view_options(
    clips: int,
    crops: int,
    sampling_rate: int,
    strategy: str,
    mean: Sequence[float],
    std: Sequence[float],
) -> None:
    """Raise :class:`~videomae.errors.InputError` naming the bad view option and the fix."""
    check_range("clips", clips, Range(1, MAX_CLIPS, integer=True), InputError)
    if crops not in (1, 3):
        raise InputError(f"crops must be 1 (centre) or 3 (spanning the longer side), got {crops}")
    check_range("sampling_rate", sampling_rate, Range(1, 1024, integer=True), InputError)
    check_choice("strategy", strategy, ("dense", "uniform"), InputError)
    if len(mean) != len(std):
        raise InputError(f"mean has {len(mean)} values but std has {len(std)}")
    check_range("std", min(std, default=1.0), Range(0.0, lo_open=True), InputError)


def check_sizes(num_frames: Any, crop_size: Any, short_side: Any) -> None:
    """Raise :class:`~videomae.errors.InputError` unless the clip sizes are within their bounds
    (:mod:`videomae.limits`): ``num_frames`` frames, ``crop_size`` / ``short_side`` pixels
    (None: the model's, resolved later)."""
    frames = Range(1, MAX_NUM_FRAMES, integer=True, optional=True)
    check_range("num_frames", num_frames, frames, InputError)
    side = Range(1, MAX_IMAGE_SIDE, integer=True, optional=True)
    check_range("crop_size", crop_size, side, InputError)
    check_range("short_side", short_side, side, InputError)


class ViewSpec(Protocol):
    """What building views needs (both :class:`Preprocessing` and ``EvalConfig`` have it)."""

    clips: int
    crops: int
    sampling_rate: int
    strategy: str
    short_side: int | None
    mean: tuple[float, ...]
    std: tuple[float, ...]


@dataclass(frozen=True)
class Preprocessing:
    """How a checkpoint wants its videos: sampling, resize, crops and normalisation.

    ``short_side``: the short side is resized to this; ``crop_size`` x ``crop_size`` crops
    (``crops`` of them spanning the longer side, 1 = centre); frames in [0, 1] are normalised
    with ``mean``/``std``. ``source`` says where size and statistics came from.
    """

    num_frames: int
    crop_size: int
    short_side: int
    mean: tuple[float, ...]
    std: tuple[float, ...]
    sampling_rate: int = 4
    strategy: str = "dense"
    clips: int = 1
    crops: int = 1
    source: str = "config.json"

    @property
    def views_per_video(self) -> int:
        return self.clips * self.crops

    def validate(self) -> None:
        """Raise InputError naming the bad field and the fix."""
        check_view_options(
            self.clips, self.crops, self.sampling_rate, self.strategy, self.mean, self.std
        )
        check_sizes(self.num_frames, self.crop_size, self.short_side)


def _crop_views(clip: torch.Tensor, spec: ViewSpec, crop_size: int) -> list[torch.Tensor]:
    """(T, C, H, W) uint8 clip -> its ``crops`` normalised views, each (T, C, S, S) float."""
    frames = resize_short_side(clip, spec.short_side or crop_size)
    return [normalize(c, spec.mean, spec.std) for c in spatial_crops(frames, crop_size, spec.crops)]


def video_views(path: str | Path, cfg: ViewSpec, num_frames: int, crop_size: int) -> torch.Tensor:
    """Decode ``path`` once and return its normalised views, (clips*crops, T, C, S, S) float.

    Views are ordered clip-major (all crops of clip 0, then clip 1, ...).
    """
    clips = read_clips(
        path,
        num_frames,
        strategy=cfg.strategy,
        sampling_rate=cfg.sampling_rate,
        num_clips=cfg.clips,
        train=False,
    )
    if len(clips) != cfg.clips:
        raise ValueError(f"read_clips returned {len(clips)} clips, expected {cfg.clips}")
    views: list[torch.Tensor] = []
    for clip in clips:
        views.extend(_crop_views(clip.frames.permute(0, 3, 1, 2), cfg, crop_size))
    out = torch.stack(views)  # (V, T, C, S, S)
    if out.shape[1] != num_frames or out.shape[-2:] != (crop_size, crop_size):
        raise ValueError(
            f"views have shape {tuple(out.shape[1:])}, expected ({num_frames}, C, {crop_size}, {crop_size})"
        )
    return out


def _frames_tchw(frames: np.ndarray | torch.Tensor, channels: int) -> torch.Tensor:
    """uint8 (T, H, W, C) or (T, C, H, W) frames -> (T, C, H, W), grey expanded to ``channels``."""
    x = torch.from_numpy(np.ascontiguousarray(frames)) if isinstance(frames, np.ndarray) else frames
    if not isinstance(x, torch.Tensor):
        raise TypeError(
            f"frames must be a numpy array or torch tensor, got {type(frames).__name__}"
        )
    if x.dtype != torch.uint8 or x.ndim != 4:
        raise ValueError(
            f"frames must be uint8 (T, H, W, C), got dtype {x.dtype} and shape {tuple(x.shape)}; "
            "convert float frames in [0, 1] with (x * 255).round().to(torch.uint8)"
        )
    if x.shape[-1] in (1, 3):
        tchw = x.permute(0, 3, 1, 2)
    elif x.shape[1] in (1, 3):
        tchw = x
    else:
        raise ValueError(
            f"cannot find the channel dim of frames with shape {tuple(x.shape)}: expected "
            "(T, H, W, C) with C = 3 (RGB) or 1"
        )
    if tchw.shape[1] == 1 and channels == 3:
        tchw = tchw.expand(-1, 3, -1, -1)
    if tchw.shape[0] < 1:
        raise ValueError("frames has zero frames")
    return tchw


def frames_views(frames: np.ndarray | torch.Tensor, pre: Preprocessing) -> torch.Tensor:
    """In-memory uint8 frames (T, H, W, C) (or (T, C, H, W)) -> views (V, T', C, S, S) float.

    The same steps as :func:`video_views` on a decoded file: ``clips`` clips sampled from the T
    frames (dense or uniform, as for files; a clip past the end repeats the last frame), short
    side resized, ``crops`` crops, normalised. Views are clip-major. Exactly ``num_frames``
    frames are taken as an already sampled clip and used as given.
    """
    tchw = _frames_tchw(frames, len(pre.mean))
    t = int(tchw.shape[0])
    if t == pre.num_frames:  # already a clip: used as given (by every clip view)
        groups = [np.arange(t)] * pre.clips
    else:
        groups = clip_indices(
            t,
            pre.num_frames,
            strategy=pre.strategy,
            sampling_rate=pre.sampling_rate,
            num_clips=pre.clips,
            train=False,
        )
    views: list[torch.Tensor] = []
    for idx in groups:
        views.extend(_crop_views(tchw[torch.from_numpy(idx)], pre, pre.crop_size))
    return torch.stack(views)  # (V, T', C, S, S)
