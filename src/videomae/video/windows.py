"""A long video as consecutive windows, read in ONE forward pass: no seek, bounded memory.

A window is ``num_samples`` frames taken every ``step_s`` seconds from its start; window ``k``
starts at ``k * stride_s`` seconds after the first frame (:class:`WindowPlan`). The frame used
for sample time ``t`` is the frame on screen at ``t``: the last frame whose timestamp is at most
``t`` (within 1 microsecond). For a constant frame rate file whose step and stride are whole
frames this is exactly frame ``round(t * fps)``; for a variable frame rate file it is the frame
a player shows at ``t``.

Windows cover the whole video: they stop after the first window that reaches the end. A
window past the end repeats the last frame (the padding clips longer than a video get in
:mod:`videomae.video.decode`); its ``end_s`` is the video's end, so a video shorter than one
window gives one window.

Frames are decoded once, in order; a frame is converted to RGB only when a window uses it and
is held only until the windows using it are complete, so memory depends on the window's size
and the overlap, not on the video's length.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from videomae.errors import InputError, VideoDecodeError
from videomae.video.backend import av
from videomae.video.decode import open_video
from videomae.video.decoder import rotation_of
from videomae.video.framemap import stream_rate

__all__ = ["VideoWindow", "WindowPlan", "plan_windows", "read_windows"]

_EPS = 1e-6  # seconds: timestamps closer than this are the same instant


@dataclass(frozen=True)
class WindowPlan:
    """When the windows start and which instants each samples (seconds from the first frame)."""

    num_samples: int
    step_s: float
    stride_s: float

    @property
    def span_s(self) -> float:
        """The time one window covers: ``num_samples`` steps."""
        return self.num_samples * self.step_s

    def start(self, k: int) -> float:
        return k * self.stride_s

    def sample_times(self, k: int) -> list[float]:
        return [self.start(k) + j * self.step_s for j in range(self.num_samples)]


def plan_windows(
    fps: float,
    num_samples: int,
    *,
    sampling_rate: int = 4,
    stride_s: float | None = None,
    window_frames: int | None = None,
) -> WindowPlan:
    """The plan for a stream at ``fps``: ``num_samples`` frames every ``sampling_rate`` frames
    (or spread evenly over ``window_frames`` frames); ``stride_s`` defaults to the window's span
    (windows side by side). Raises InputError naming a bad value."""
    if not fps or not math.isfinite(fps) or fps <= 0:
        raise InputError(f"the video's frame rate is unknown ({fps}); cannot place windows in time")
    if num_samples < 1:
        raise InputError(f"num_samples must be >= 1, got {num_samples}")
    if window_frames is not None and window_frames < 1:
        raise InputError(f"window_frames must be >= 1, got {window_frames}")
    step_frames = window_frames / num_samples if window_frames else float(sampling_rate)
    if step_frames <= 0:
        raise InputError(f"sampling_rate must be >= 1, got {sampling_rate}")
    step_s = step_frames / fps
    stride = num_samples * step_s if stride_s is None else float(stride_s)
    if not math.isfinite(stride) or stride <= 0:
        raise InputError(f"stride must be a positive number of seconds, got {stride_s}")
    return WindowPlan(num_samples=num_samples, step_s=step_s, stride_s=stride)


@dataclass
class VideoWindow:
    """One window: its place in time and its frames."""

    index: int
    start_s: float  # the window's start (seconds from the first frame)
    end_s: float  # start + span, or the video's end for the last window
    frames: torch.Tensor  # (T, H, W, C) uint8 RGB, rotation applied
    timestamps: list[float]  # seconds of the frame used for each sample


@dataclass
class _Pending:
    """A window being filled, sample by sample."""

    index: int
    times: list[float]
    frames: list[np.ndarray] = field(default_factory=list)
    stamps: list[float] = field(default_factory=list)

    @property
    def full(self) -> bool:
        return len(self.frames) == len(self.times)

    def fill(self, t0: float, t1: float, rgb: Callable[[], np.ndarray]) -> None:
        """Give the frame shown on [t0, t1) to every sample time in that interval."""
        while not self.full and self.times[len(self.frames)] < t1 - _EPS:
            self.frames.append(rgb())
            self.stamps.append(t0)


class _Filler:
    """Opens windows as time advances and fills them with the frame on screen."""

    def __init__(self, plan: WindowPlan) -> None:
        self.plan = plan
        self.next_k = 0
        self.open: list[_Pending] = []

    def cover(self, t0: float, t1: float, rgb: Callable[[], np.ndarray], *, opening: bool) -> None:
        while opening and self.plan.start(self.next_k) < t1 - _EPS:
            self.open.append(_Pending(self.next_k, self.plan.sample_times(self.next_k)))
            self.next_k += 1
        for w in self.open:
            w.fill(t0, t1, rgb)

    def needed(self, k: int, end: float) -> bool:
        """Window k is needed unless the window before it already reaches ``end``."""
        return k == 0 or self.plan.start(k - 1) + self.plan.span_s < end - _EPS

    def ready(self, known: float) -> Iterator[_Pending]:
        """Full windows, in order, that end by ``known`` (the video lasts longer, so they are
        needed and their end is exact)."""
        while self.open and self.open[0].full:
            if self.plan.start(self.open[0].index) + self.plan.span_s > known + _EPS:
                return
            yield self.open.pop(0)


def _timed_frames(container: Any, stream: Any, fps: float) -> Iterator[tuple[float, Any]]:
    """(seconds from the first frame, frame) in presentation order, decoding forward once."""
    tb = stream.time_base
    origin: float | None = None
    count = 0
    for packet in container.demux(stream):
        for frame in packet.decode():
            if frame.pts is None or tb is None:
                t = count / fps
            else:
                t = float(frame.pts * tb)
            count += 1
            origin = t if origin is None else origin
            yield t - origin, frame


class _Converter:
    """RGB arrays of frames, each converted once, rotated for display."""

    def __init__(self, stream: Any) -> None:
        self.stream = stream
        self.reformatter = av.video.reformatter.VideoReformatter()
        self.rotation: int | None = None

    def __call__(self, frame: Any) -> Callable[[], np.ndarray]:
        cache: list[np.ndarray] = []

        def rgb() -> np.ndarray:
            if not cache:
                if self.rotation is None:
                    self.rotation = rotation_of(frame, self.stream)
                arr = self.reformatter.reformat(frame, format="rgb24").to_ndarray()
                if self.rotation:
                    arr = np.ascontiguousarray(np.rot90(arr, k=self.rotation // 90))
                cache.append(arr)
            return cache[0]

        return rgb


def _window(p: _Pending, plan: WindowPlan, end: float) -> VideoWindow:
    start = plan.start(p.index)
    return VideoWindow(
        index=p.index,
        start_s=start,
        end_s=min(start + plan.span_s, end),
        frames=torch.from_numpy(np.stack(p.frames)),
        timestamps=p.stamps,
    )


def read_windows(
    path: str | os.PathLike,
    num_samples: int,
    *,
    sampling_rate: int = 4,
    stride_s: float | None = None,
    window_frames: int | None = None,
) -> Iterator[VideoWindow]:
    """Yield the windows of the video at ``path`` in order, decoding it once (see the module doc
    and :func:`plan_windows` for the options). Raises VideoDecodeError for unreadable files."""
    p = os.fspath(path)
    with open_video(p) as (container, stream):
        fps = stream_rate(stream)
        plan = plan_windows(
            fps, num_samples, sampling_rate=sampling_rate, stride_s=stride_s,
            window_frames=window_frames,
        )  # fmt: skip
        filler = _Filler(plan)
        convert = _Converter(stream)
        prev: tuple[float, Callable[[], np.ndarray]] | None = None
        for t, frame in _timed_frames(container, stream, fps):
            if prev is not None and t > prev[0]:
                filler.cover(prev[0], t, prev[1], opening=True)
                for w in filler.ready(t):
                    yield _window(w, plan, math.inf)
            if prev is None or t > prev[0]:  # a frame with a repeated timestamp is never shown
                prev = (t, convert(frame))
        if prev is None:
            raise VideoDecodeError(p, "the video stream has zero decodable frames")
        end = prev[0] + 1.0 / fps  # the last frame lasts one frame period
        filler.cover(prev[0], end, prev[1], opening=True)
        filler.cover(prev[0], math.inf, prev[1], opening=False)  # pad with the last frame
        for w in filler.open:
            if filler.needed(w.index, end):
                yield _window(w, plan, end)
