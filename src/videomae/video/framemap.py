"""Frame index <-> presentation timestamp maps of a video stream, and their per-file cache.

How a decoded frame is given its index (:class:`FrameMap`):

* Constant frame rate files with a complete sample index (mp4/mov, avi): the container index
  lists every frame; when its timestamps lie on a regular grid, index = (pts - start) / step.
  Nothing is read beyond the container header.
* Everything else (variable frame rate, webm/mkv whose index only lists keyframes, irregular
  grids): the packets of the video stream are read once *without decoding* and their sorted
  presentation timestamps form an exact pts -> index table. Maps are cached per file
  (path, size, mtime) in a :class:`FrameMapCache`, so repeated reads of a file scan it once.
* Streams whose packets carry no timestamps (rare; raw elementary streams) are decoded from the
  start and frames are counted.

A map also lists the indices of the stream's keyframes when the container says where they are
(the sample index of mp4/avi, the packet flags read by the scan), so the decoder can tell
whether the next wanted frame lies beyond the next keyframe and seek there instead of decoding
through the gap. For the grid map a keyframe's index is its position in decode order, which is
its presentation index in closed GOPs (what encoders write by default); in an open GOP it comes
out a few frames early, which only makes a seek land earlier than it could.
"""

from __future__ import annotations

import bisect
import os
import threading
from collections import OrderedDict
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np

from videomae.errors import VideoDecodeError
from videomae.video.backend import av

__all__ = ["FRAME_MAP_CACHE", "FrameMap", "FrameMapCache", "build_frame_map", "stream_rate"]


@dataclass(frozen=True)
class FrameMap:
    """Maps frame index <-> presentation timestamp (stream time_base ticks)."""

    num_frames: int
    time_base: Fraction
    origin: int  # pts of frame 0
    step: float | None = None  # regular grid: ticks per frame
    table: tuple[int, ...] | None = None  # exact sorted pts of every frame
    fps: float = 0.0  # only for the counting fallback (no timestamps)
    keyframes: tuple[int, ...] | None = None  # sorted frame indices of keyframes, when known

    @property
    def counting(self) -> bool:
        return self.step is None and self.table is None

    def pts_of(self, i: int) -> int:
        if self.table is not None:
            return self.table[i]
        if self.step is not None:
            return self.origin + round(i * self.step)
        return self.origin

    def index_of(self, pts: int) -> int:
        if self.table is not None:
            j = bisect.bisect_left(self.table, pts)
            if j < len(self.table) and self.table[j] == pts:
                return j
            # not in the table (should not happen): nearest entry
            if j == 0:
                return 0
            if j == len(self.table):
                return j - 1 + max(0, round((pts - self.table[-1]) / self._mean_step()))
            return j if self.table[j] - pts < pts - self.table[j - 1] else j - 1
        assert self.step is not None
        return round((pts - self.origin) / self.step)

    def keyframe_at_or_before(self, i: int) -> int | None:
        """The index of the last keyframe at or before frame ``i`` (None when not known)."""
        kf = self.keyframes
        if not kf:
            return None
        j = bisect.bisect_right(kf, i)
        return kf[j - 1] if j else None

    def _mean_step(self) -> float:
        t = self.table
        assert t is not None
        return (t[-1] - t[0]) / (len(t) - 1) if len(t) > 1 else 1.0

    def seconds(self, pts: int) -> float:
        return float((pts - self.origin) * self.time_base)


def stream_rate(stream: Any) -> float:
    """Frames per second of a PyAV video stream from its headers (0.0 when unknown)."""
    for r in (stream.average_rate, stream.guessed_rate, stream.base_rate):
        if r:
            return float(r)
    return 0.0


def build_frame_map(container: Any, stream: Any, path: str) -> FrameMap:
    """The index <-> pts map of ``stream``, built without the cache (see the module doc)."""
    return _grid_map(stream) or _scan_map(container, stream, path)


def _grid_map(stream: Any) -> FrameMap | None:
    """Regular-grid map from a complete container index (mp4/avi), or None when not regular."""
    n = stream.frames
    entries = stream.index_entries
    if n < 2 or len(entries) != n or stream.time_base is None:
        return None
    rows = sorted((e.timestamp, e.is_keyframe) for e in entries)  # decode order
    ts = np.fromiter((t for t, _ in rows), dtype=np.int64, count=n)
    step = (ts[-1] - ts[0]) / (n - 1)
    if step <= 0:
        return None
    grid = ts[0] + np.arange(n) * step
    if np.max(np.abs(ts - grid)) > 0.25 * step:  # variable frame rate
        return None
    origin = stream.start_time if stream.start_time is not None else int(ts[0])
    # a keyframe's position in decode order is its index (closed GOP, see the module doc)
    keys = tuple(pos for pos, (_, key) in enumerate(rows) if key)
    return FrameMap(
        num_frames=n, time_base=stream.time_base, origin=int(origin), step=step,
        keyframes=keys or None,
    )  # fmt: skip


def _scan_map(container: Any, stream: Any, path: str) -> FrameMap:
    """Exact map from the pts of every video packet, read without decoding."""
    pts: list[int] = []
    key_pts: list[int] = []
    missing = 0
    try:
        for packet in container.demux(stream):
            if packet.size == 0:  # end-of-stream flush packet
                continue
            if packet.pts is None:
                missing += 1
            else:
                pts.append(packet.pts)
                if packet.is_keyframe:
                    key_pts.append(packet.pts)
    except av.error.FFmpegError:
        pass  # damaged tail: keep what was read; decoding will clamp to it
    tb = stream.time_base or Fraction(1, 1)
    if missing == 0 and pts:
        table = tuple(sorted(set(pts)))
        keys = tuple(sorted({bisect.bisect_left(table, k) for k in key_pts}))
        return FrameMap(
            num_frames=len(table), time_base=tb, origin=table[0], table=table,
            keyframes=keys or None,
        )  # fmt: skip
    n = len(pts) + missing
    if n == 0:
        raise VideoDecodeError(path, "the video stream has zero frames")
    origin = stream.start_time or 0
    return FrameMap(num_frames=n, time_base=tb, origin=origin, fps=stream_rate(stream))


class FrameMapCache:
    """Least-recently-used cache of :class:`FrameMap` per file, safe to share between threads.

    A file is keyed by (real path, size, mtime), so a rewritten file gets a new map. Decoding
    uses the module's :data:`FRAME_MAP_CACHE`; call its :meth:`clear` to drop every map.
    """

    def __init__(self, maxsize: int = 256) -> None:
        self.maxsize = maxsize
        self._maps: OrderedDict[tuple[str, int, int], FrameMap] = OrderedDict()
        self._lock = threading.Lock()  # decoding may run in background threads

    def get(self, container: Any, stream: Any, path: str) -> FrameMap:
        """The map of the open ``stream`` of the file at ``path``: cached, or built and cached."""
        st = os.stat(path)
        key = (os.path.realpath(path), st.st_size, st.st_mtime_ns)
        with self._lock:
            cached = self._maps.get(key)
            if cached is not None:
                self._maps.move_to_end(key)
                return cached
        fmap = build_frame_map(container, stream, path)
        with self._lock:
            self._maps[key] = fmap
            while len(self._maps) > self.maxsize:
                self._maps.popitem(last=False)
        return fmap

    def clear(self) -> None:
        """Forget every cached map."""
        with self._lock:
            self._maps.clear()

    def __len__(self) -> int:
        return len(self._maps)


# The cache the readers in videomae.video.decode use (at most 256 files' maps).
FRAME_MAP_CACHE = FrameMapCache()
