"""Video decoding with PyAV, clip sampling, and a small video writer.

Frame index ``i`` always means the ``i``-th frame of the video stream in presentation
order, counting from 0. Decoding reads only what a clip needs: it seeks to the keyframe at or
before the first wanted frame, decodes forward and stops after the last wanted frame.

How a decoded frame is given its index (``_FrameMap``):

* Constant frame rate files with a complete sample index (mp4/mov, avi): the container index
  lists every frame; when its timestamps lie on a regular grid, index = (pts - start) / step.
  Nothing is read beyond the container header.
* Everything else (variable frame rate, webm/mkv whose index only lists keyframes, irregular
  grids): the packets of the video stream are read once *without decoding* and their sorted
  presentation timestamps form an exact pts -> index table. The table is cached per file
  (path, size, mtime), so repeated reads of the same file scan it once.
* Streams whose packets carry no timestamps (rare; raw elementary streams) are decoded from the
  start and frames are counted.

Frame counts in container metadata are often wrong. Indices beyond what actually decodes are
clamped to the last decodable frame, so the last frame repeats (the same rule as for videos
shorter than the clip); ``Clip.indices`` reports the indices really used.

Failures raise :class:`VideoDecodeError`, naming the file and the cause: missing path, a file
that is not a video container, no video stream, zero frames, truncated or corrupt data. A
truncated mp4 whose index (``moov`` box) is cut off or unreadable fails when opened; a
truncated streamable file (webm/mkv) reads as a shorter video as long as its header survived.

Rotation: a display matrix (phone videos) is honoured; frames come out upright. Rotation
angles follow FFmpeg/PyAV: counter-clockwise degrees, normalised to 0, 90, 180 or 270 (a
legacy ``rotate=90`` tag, meaning clockwise, reads as 270).
"""

from __future__ import annotations

import bisect
import math
import os
import threading
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np
import torch

from videomae.errors import VideoDecodeError

try:  # PyAV is the `video` extra: `pip install videomae[video]`
    import av
except ImportError:  # pragma: no cover - exercised only without the extra
    av = None  # type: ignore[assignment]

__all__ = [
    "Clip",
    "VideoDecodeError",
    "VideoInfo",
    "clip_indices",
    "dense_indices",
    "one_clip_indices",
    "probe",
    "read_clip",
    "read_clips",
    "read_frames",
    "read_small_video",
    "uniform_indices",
    "write_video",
]

PathLike = str | os.PathLike

# Wanted frames further apart than this (in seconds) are reached by a forward seek instead of
# decoding through the gap. Larger than common keyframe intervals, so a forward seek never
# lands before frames already decoded.
_SEEK_GAP_SECONDS = 10.0
_MAP_CACHE_SIZE = 256
_MAP_CACHE: OrderedDict[tuple[str, int, int], _FrameMap] = OrderedDict()
_MAP_LOCK = threading.Lock()  # decoding may run in background threads


@dataclass(frozen=True)
class VideoInfo:
    """Container metadata of a video file (see :func:`probe`)."""

    path: str
    num_frames: int  # from metadata, or estimated as round(duration * fps) when absent
    fps: float
    duration: float  # seconds
    width: int  # after applying rotation
    height: int  # after applying rotation
    rotation: int  # counter-clockwise degrees applied for display: 0, 90, 180 or 270


@dataclass
class Clip:
    """Decoded frames of one clip."""

    frames: torch.Tensor  # (T, H, W, C) uint8 RGB, rotation applied
    indices: list[int]  # frame index of each returned frame (after clamping to the video)
    timestamps: list[float]  # seconds from the first frame, of each returned frame
    # Debug stat: frames the decoder produced to build this clip. For read_clips this is the
    # single shared decoding pass. Lets tests check that seeking skipped most of a file.
    num_decoded: int = 0


# --------------------------------------------------------------------------------------------
# Index samplers (pure, no I/O)
# --------------------------------------------------------------------------------------------


def _check_counts(num_video_frames: int, num_frames: int) -> None:
    if num_video_frames < 1:
        raise ValueError(
            f"num_video_frames must be >= 1, got {num_video_frames}; the video has no frames"
        )
    if num_frames < 1:
        raise ValueError(f"num_frames must be >= 1, got {num_frames}")


def _check_clip_idx(clip_idx: int, num_clips: int) -> None:
    if num_clips < 1:
        raise ValueError(f"num_clips must be >= 1, got {num_clips}")
    if not 0 <= clip_idx < num_clips:
        raise ValueError(
            f"clip_idx must be in [0, {num_clips - 1}] (num_clips={num_clips}), got {clip_idx}"
        )


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
        raise ValueError(f"sampling_rate must be >= 1, got {sampling_rate}")
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
        raise ValueError(f"num_clips must be >= 1, got {num_clips}")
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
    raise ValueError(f"strategy must be 'dense' or 'uniform', got {strategy!r}")


# --------------------------------------------------------------------------------------------
# Opening files and mapping timestamps to frame indices
# --------------------------------------------------------------------------------------------


def _require_av() -> None:
    if av is None:
        raise ImportError(
            "video decoding needs PyAV; install it with `pip install videomae[video]` "
            "(or `pip install av`)"
        )


# Frames up to this many pixels are decoded on the calling thread. Measured on 8-frame H.264
# clips of 32 x 32 (benchmarks/bench_decode.py): FFmpeg's automatic threading
# spends longer starting its threads than decoding such clips takes.
_SMALL_FRAME_PIXELS = 320 * 240


@contextmanager
def _open_video(path: PathLike) -> Iterator[tuple[Any, Any]]:
    """Open ``path`` and yield (container, first video stream); errors become VideoDecodeError."""
    _require_av()
    p = os.fspath(path)
    if not os.path.exists(p):
        raise VideoDecodeError(p, "the file does not exist; check the path")
    if os.path.isdir(p):
        raise VideoDecodeError(p, "it is a directory, not a video file")
    if os.path.getsize(p) == 0:
        raise VideoDecodeError(p, "the file is empty (0 bytes)")
    try:
        container = av.open(p, mode="r", metadata_errors="ignore")
    except av.error.FFmpegError as e:
        raise VideoDecodeError(
            p,
            f"FFmpeg cannot open it as a video container ({_ffmpeg_msg(e)}); the file is not a "
            "video, or it is truncated or corrupt",
        ) from e
    except OSError as e:
        raise VideoDecodeError(p, f"cannot open the file ({e})") from e
    try:
        if not container.streams.video:
            kinds = sorted({s.type for s in container.streams}) or ["none"]
            raise VideoDecodeError(p, f"it has no video stream (streams found: {', '.join(kinds)})")
        stream = container.streams.video[0]
        ctx = stream.codec_context
        if (ctx.width or 0) * (ctx.height or 0) <= _SMALL_FRAME_PIXELS:
            ctx.thread_count = 1  # starting decoder threads costs more than tiny frames take
        else:
            ctx.thread_type = "AUTO"  # frame + slice threads
        yield container, stream
    except av.error.FFmpegError as e:
        raise VideoDecodeError(
            p, f"decoding failed ({_ffmpeg_msg(e)}); the file is truncated or corrupt"
        ) from e
    finally:
        container.close()


def _ffmpeg_msg(e: Exception) -> str:
    msg = getattr(e, "strerror", None) or str(e)
    return str(msg)


@dataclass(frozen=True)
class _FrameMap:
    """Maps frame index <-> presentation timestamp (stream time_base ticks)."""

    num_frames: int
    time_base: Fraction
    origin: int  # pts of frame 0
    step: float | None = None  # regular grid: ticks per frame
    table: tuple[int, ...] | None = None  # exact sorted pts of every frame
    fps: float = 0.0  # only for the counting fallback (no timestamps)

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

    def _mean_step(self) -> float:
        t = self.table
        assert t is not None
        return (t[-1] - t[0]) / (len(t) - 1) if len(t) > 1 else 1.0

    def seconds(self, pts: int) -> float:
        return float((pts - self.origin) * self.time_base)


def _rate(stream: Any) -> float:
    for r in (stream.average_rate, stream.guessed_rate, stream.base_rate):
        if r:
            return float(r)
    return 0.0


def _frame_map(container: Any, stream: Any, path: str) -> _FrameMap:
    """Build (or fetch from cache) the index <-> pts map of ``stream``; see the module doc."""
    st = os.stat(path)
    key = (os.path.realpath(path), st.st_size, st.st_mtime_ns)
    with _MAP_LOCK:
        cached = _MAP_CACHE.get(key)
        if cached is not None:
            _MAP_CACHE.move_to_end(key)
            return cached
    fmap = _grid_map(stream) or _scan_map(container, stream, path)
    with _MAP_LOCK:
        _MAP_CACHE[key] = fmap
        while len(_MAP_CACHE) > _MAP_CACHE_SIZE:
            _MAP_CACHE.popitem(last=False)
    return fmap


def _grid_map(stream: Any) -> _FrameMap | None:
    """Regular-grid map from a complete container index (mp4/avi), or None when not regular."""
    n = stream.frames
    entries = stream.index_entries
    if n < 2 or len(entries) != n or stream.time_base is None:
        return None
    ts = np.sort(np.fromiter((e.timestamp for e in entries), dtype=np.int64, count=n))
    step = (ts[-1] - ts[0]) / (n - 1)
    if step <= 0:
        return None
    grid = ts[0] + np.arange(n) * step
    if np.max(np.abs(ts - grid)) > 0.25 * step:  # variable frame rate
        return None
    origin = stream.start_time if stream.start_time is not None else int(ts[0])
    return _FrameMap(num_frames=n, time_base=stream.time_base, origin=int(origin), step=step)


def _scan_map(container: Any, stream: Any, path: str) -> _FrameMap:
    """Exact map from the pts of every video packet, read without decoding."""
    pts: list[int] = []
    missing = 0
    try:
        for packet in container.demux(stream):
            if packet.size == 0:  # end-of-stream flush packet
                continue
            if packet.pts is None:
                missing += 1
            else:
                pts.append(packet.pts)
    except av.error.FFmpegError:
        pass  # damaged tail: keep what was read; decoding will clamp to it
    tb = stream.time_base or Fraction(1, 1)
    if missing == 0 and pts:
        table = tuple(sorted(set(pts)))
        return _FrameMap(num_frames=len(table), time_base=tb, origin=table[0], table=table)
    n = len(pts) + missing
    if n == 0:
        raise VideoDecodeError(path, "the video stream has zero frames")
    origin = stream.start_time or 0
    return _FrameMap(num_frames=n, time_base=tb, origin=origin, fps=_rate(stream))


# --------------------------------------------------------------------------------------------
# Decoding
# --------------------------------------------------------------------------------------------


def _normalize_rotation(deg: float) -> int:
    r = round(deg / 90.0) * 90 % 360
    return int(r)


def _rotation_of(frame: Any, stream: Any) -> int:
    """Counter-clockwise display rotation of a frame: display matrix, else legacy 'rotate' tag."""
    rot = 0.0
    try:
        rot = float(frame.rotation or 0)
    except (AttributeError, ValueError, TypeError):
        rot = 0.0
    if math.isnan(rot):
        rot = 0.0
    if rot == 0 and "rotate" in stream.metadata:
        try:
            rot = -float(stream.metadata["rotate"])  # legacy tag is clockwise
        except ValueError:
            rot = 0.0
    return _normalize_rotation(rot)


class _Decoder:
    """One forward pass over a container, collecting wanted frame indices."""

    def __init__(self, container: Any, stream: Any, fmap: _FrameMap, path: str) -> None:
        self.container = container
        self.stream = stream
        self.fmap = fmap
        self.path = path
        self.decoded = 0
        self.rotation: int | None = None

    def _frames(self) -> Iterator[tuple[int, Any]]:
        """Decode from the current position, yielding (index, frame) in presentation order."""
        prev = -1
        for packet in self.container.demux(self.stream):
            for frame in packet.decode():
                self.decoded += 1
                if self.rotation is None:
                    self.rotation = _rotation_of(frame, self.stream)
                if self.fmap.counting or frame.pts is None:
                    idx = prev + 1
                else:
                    idx = self.fmap.index_of(frame.pts)
                prev = idx
                yield idx, frame

    def _seek(self, target: int) -> Iterator[tuple[int, Any]]:
        """Seek so that decoding starts at or before frame ``target``; yield from there."""
        fmap = self.fmap
        if fmap.counting:
            self.container.seek(0)
            yield from self._frames()
            return
        back = 0
        while True:
            anchor = max(0, target - back)
            pts = fmap.pts_of(anchor) if anchor > 0 else min(fmap.origin, fmap.pts_of(0))
            self.container.seek(pts, backward=True, any_frame=False, stream=self.stream)
            it = self._frames()
            first = next(it, None)
            if first is not None and (first[0] <= target or anchor == 0):
                yield first
                yield from it
                return
            if first is None and anchor == 0:
                return  # nothing decodes at all
            # landed after the target (B-frames, open GOP, inexact index): back off further
            overshoot = 0 if first is None else first[0] - target
            back = max(2 * back, overshoot + 8)

    def collect(self, targets: Sequence[int]) -> tuple[dict[int, Any], tuple[int, Any]]:
        """Decode sorted unique ``targets``; returns ({target: frame}, (index, frame) of the last
        frame decoded).

        A target that no decoded frame has exactly (a gap in the timestamps) takes the frame
        before it. Targets past the end of what decodes are left out; the caller clamps them.
        """
        gap = max(8, round(_SEEK_GAP_SECONDS * (_rate(self.stream) or 25.0)))
        out: dict[int, Any] = {}
        last: tuple[int, Any] | None = None
        it: Iterator[tuple[int, Any]] | None = None
        k = 0
        while k < len(targets):
            if it is None or last is None or targets[k] - last[0] > gap:
                it = self._seek(targets[k])
            for idx, frame in it:
                if last is not None and idx <= last[0]:
                    continue  # a forward seek landed before frames already passed
                while k < len(targets) and targets[k] <= idx:
                    out[targets[k]] = frame if idx == targets[k] or last is None else last[1]
                    k += 1
                last = (idx, frame)
                if k == len(targets) or targets[k] - idx > gap:
                    break
            else:
                break  # end of stream
        if last is None:
            raise VideoDecodeError(self.path, "the video stream has zero decodable frames")
        return out, last


def _check_indices(indices: Sequence[int]) -> list[int]:
    idx = [int(i) for i in np.asarray(indices, dtype=np.int64).reshape(-1)]
    if not idx:
        raise ValueError("indices is empty; pass at least one frame index")
    if min(idx) < 0:
        raise ValueError(f"frame indices must be >= 0, got {min(idx)}")
    return idx


def _decode_many(
    container: Any, stream: Any, fmap: _FrameMap, path: str, groups: list[list[int]]
) -> list[Clip]:
    """Decode the union of several index lists in one pass and build one Clip per list."""
    wanted = sorted({min(i, fmap.num_frames - 1) for g in groups for i in g})
    dec = _Decoder(container, stream, fmap, path)
    frames, (last_idx, last_frame) = dec.collect(wanted)
    rgb: dict[int, np.ndarray] = {}
    tstamp: dict[int, float] = {}
    rot = dec.rotation or 0

    def resolve(i: int) -> int:
        i = min(i, fmap.num_frames - 1)
        return i if i in frames else last_idx  # past the decodable end: last frame

    # One colour converter for the whole pass: frame.to_ndarray(format="rgb24") sets up a new
    # swscale context for every frame, which costs more than converting a small frame (32 x
    # 32 clips: 6.4 -> 1.0 ms per frame, benchmarks/bench_decode.py). It is not kept beyond
    # the call: an FFmpeg converter alive in a process that forks (data-loader workers) makes
    # the children's converters hang.
    conv = av.video.reformatter.VideoReformatter()

    def fetch(i: int) -> None:
        if i in rgb:
            return
        frame = frames.get(i, last_frame)  # missing: past the end, use the last frame
        rgb[i] = conv.reformat(frame, format="rgb24").to_ndarray()
        if frame.pts is not None and not fmap.counting:
            tstamp[i] = fmap.seconds(frame.pts)
        else:
            tstamp[i] = i / fmap.fps if fmap.fps else 0.0

    clips = []
    for g in groups:
        used = [resolve(i) for i in g]
        for i in used:
            fetch(i)
        arr = np.stack([rgb[i] for i in used])  # (T, H, W, 3)
        if rot:
            arr = np.ascontiguousarray(np.rot90(arr, k=rot // 90, axes=(1, 2)))
        clips.append(
            Clip(
                frames=torch.from_numpy(arr),
                indices=used,
                timestamps=[tstamp[i] for i in used],
                num_decoded=dec.decoded,
            )
        )
    return clips


def read_frames(path: PathLike, indices: Sequence[int]) -> Clip:
    """Decode the frames at ``indices`` (any order, duplicates allowed) of the file at ``path``.

    Only what is needed is decoded: a seek to the keyframe before the first wanted frame, then
    forward until the last wanted frame. Indices past the last decodable frame return that
    frame (``Clip.indices`` shows the index used). Raises VideoDecodeError for unreadable files.
    """
    idx = _check_indices(indices)
    p = os.fspath(path)
    with _open_video(p) as (container, stream):
        fmap = _frame_map(container, stream, p)
        return _decode_many(container, stream, fmap, p, [idx])[0]


def read_clip(
    path: PathLike,
    num_frames: int = 16,
    *,
    strategy: str = "dense",
    sampling_rate: int = 4,
    clip_idx: int | None = None,
    num_clips: int = 1,
    train: bool = False,
    rng: np.random.Generator | None = None,
) -> Clip:
    """Sample and decode one clip (see :func:`dense_indices` / :func:`uniform_indices`).

    ``clip_idx=None`` means a random clip when ``train`` and the centred clip otherwise.
    The number of frames used for sampling is the exact count of the stream's frames when it
    is cheap to know (see the module doc), not the often wrong metadata.
    """
    p = os.fspath(path)
    with _open_video(p) as (container, stream):
        fmap = _frame_map(container, stream, p)
        idx = one_clip_indices(
            fmap.num_frames, num_frames, strategy=strategy, sampling_rate=sampling_rate,
            clip_idx=clip_idx, num_clips=num_clips, train=train, rng=rng,
        )  # fmt: skip
        return _decode_many(container, stream, fmap, p, [idx.tolist()])[0]


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
    """The frame indices :func:`read_clip` decodes, for a video of ``num_video_frames``."""
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
    raise ValueError(f"strategy must be 'dense' or 'uniform', got {strategy!r}")


def read_small_video(path: PathLike, max_bytes: int) -> Clip | None:
    """Every frame of the video, if its decoded RGB size is at most ``max_bytes``; else None.

    For caching short, small clips that a training run reads many times (``Clip.indices`` is
    ``0..n-1`` with n the frame count :func:`read_clip` samples from, so
    ``frames[one_clip_indices(n, ...)]`` is what :func:`read_clip` returns).
    """
    p = os.fspath(path)
    with _open_video(p) as (container, stream):
        ctx = stream.codec_context
        fmap = _frame_map(container, stream, p)
        if fmap.num_frames * (ctx.width or 0) * (ctx.height or 0) * 3 > max_bytes:
            return None
        return _decode_many(container, stream, fmap, p, [list(range(fmap.num_frames))])[0]


def read_clips(
    path: PathLike,
    num_frames: int = 16,
    *,
    strategy: str = "dense",
    sampling_rate: int = 4,
    num_clips: int = 1,
    train: bool = False,
    rng: np.random.Generator | None = None,
) -> list[Clip]:
    """Decode ``num_clips`` clips (see :func:`clip_indices`) in ONE pass over the file."""
    p = os.fspath(path)
    with _open_video(p) as (container, stream):
        fmap = _frame_map(container, stream, p)
        groups = clip_indices(
            fmap.num_frames,
            num_frames,
            strategy=strategy,
            sampling_rate=sampling_rate,
            num_clips=num_clips,
            train=train,
            rng=rng,
        )
        return _decode_many(container, stream, fmap, p, [g.tolist() for g in groups])


def probe(path: PathLike) -> VideoInfo:
    """Cheap metadata of a video file: container/stream headers plus one decoded frame.

    ``num_frames`` is the stream's frame count from metadata; when the container has none
    (webm/mkv), it is estimated as ``round(duration * fps)`` and may be off by a few frames
    (the readers clamp to what really decodes). The first frame is decoded to read the display
    rotation; ``width``/``height`` are after rotation.
    """
    p = os.fspath(path)
    with _open_video(p) as (container, stream):
        fps = _rate(stream)
        tb = stream.time_base
        if stream.duration is not None and tb is not None:
            duration = float(stream.duration * tb)
        elif container.duration is not None:
            duration = container.duration / 1_000_000
        else:
            duration = 0.0
        n = stream.frames or round(duration * fps)
        if duration <= 0 and n and fps:
            duration = n / fps
        first = None
        for packet in container.demux(stream):
            frames = packet.decode()
            if frames:
                first = frames[0]
                break
        if first is None:
            raise VideoDecodeError(p, "the video stream has zero decodable frames")
        rotation = _rotation_of(first, stream)
        w, h = first.width, first.height
        if rotation in (90, 270):
            w, h = h, w
        return VideoInfo(
            path=p,
            num_frames=max(int(n), 1),
            fps=fps,
            duration=duration,
            width=w,
            height=h,
            rotation=rotation,
        )


# --------------------------------------------------------------------------------------------
# Writing
# --------------------------------------------------------------------------------------------

_CODEC_BY_EXT = {
    ".mp4": "libx264",
    ".mov": "libx264",
    ".mkv": "libx264",
    ".webm": "libvpx-vp9",
    ".avi": "mpeg4",
}
# pixel format -> codecs that encode it (yuv420p: every codec we write)
_PIX_FMTS = {"yuv420p": None, "yuv444p": frozenset({"libx264", "libvpx-vp9"})}

_DEFAULT_OPTIONS = {
    "libx264": {"crf": "18", "preset": "veryfast"},
    "libvpx-vp9": {"crf": "20", "b": "0", "deadline": "realtime", "cpu-used": "8"},
    "mpeg4": {"qscale": "2"},
}


def write_video(
    path: PathLike,
    frames: np.ndarray | torch.Tensor,
    fps: float = 25,
    *,
    codec: str | None = None,
    rotation: int = 0,
    timestamps: Sequence[float] | None = None,
    gop_size: int | None = None,
    options: dict[str, str] | None = None,
    pix_fmt: str = "yuv420p",
) -> None:
    """Write uint8 RGB frames (T, H, W, 3) to a video file (for tests and synthetic data).

    ``codec`` defaults by extension: .mp4/.mov/.mkv -> libx264 (mpeg4 if libx264 is missing),
    .webm -> libvpx-vp9, .avi -> mpeg4. Frames are encoded as ``pix_fmt``: yuv420p (the
    default, what cameras write) halves the colour resolution and needs even sizes, so an odd
    height or width is padded by repeating the last row/column; yuv444p (libx264, vp9) keeps
    full colour resolution, which matters for tiny frames such as the demo's 32 x 32 clips. ``rotation`` stores a
    display rotation (counter-clockwise degrees, a multiple of 90; kept by mp4/mov), as phone
    cameras do: pass frames as stored and readers rotate them for display. ``timestamps``
    (seconds, increasing, one per frame) writes a variable frame rate file. ``gop_size`` sets
    the keyframe interval. ``options`` are codec options (defaults: high quality, fast). A
    zero-length ``frames`` writes a stream with no frames where the container allows it.
    """
    _require_av()
    p = os.fspath(path)
    arr = frames.detach().cpu().numpy() if isinstance(frames, torch.Tensor) else np.asarray(frames)
    if arr.dtype != np.uint8 or arr.ndim != 4 or arr.shape[-1] != 3:
        raise ValueError(
            f"frames must be uint8 of shape (T, H, W, 3) RGB, got dtype {arr.dtype} and shape "
            f"{tuple(arr.shape)}; convert with .astype(np.uint8) / permute channels last"
        )
    if rotation % 90:
        raise ValueError(f"rotation must be a multiple of 90 degrees, got {rotation}")
    if timestamps is not None:
        ts = np.asarray(timestamps, dtype=np.float64)
        if ts.shape != (arr.shape[0],) or (ts.size > 1 and np.any(np.diff(ts) <= 0)):
            raise ValueError(
                f"timestamps must be {arr.shape[0]} strictly increasing seconds (one per frame), "
                f"got shape {ts.shape}"
            )
    ext = os.path.splitext(p)[1].lower()
    if codec is None:
        if ext not in _CODEC_BY_EXT:
            raise ValueError(
                f"no default codec for extension {ext!r}; use one of {sorted(_CODEC_BY_EXT)} "
                "or pass codec="
            )
        codec = _CODEC_BY_EXT[ext]
        if codec == "libx264" and "libx264" not in av.codecs_available:
            codec = "mpeg4"
    if codec not in av.codecs_available:
        raise ValueError(f"codec {codec!r} is not available in this PyAV/FFmpeg build")
    if pix_fmt not in _PIX_FMTS:
        raise ValueError(f"pix_fmt must be one of {sorted(_PIX_FMTS)}, got {pix_fmt!r}")
    if pix_fmt != "yuv420p" and codec not in _PIX_FMTS[pix_fmt]:
        raise ValueError(
            f"{pix_fmt} needs one of the codecs {sorted(_PIX_FMTS[pix_fmt])}, got {codec!r}"
        )
    t, h, w = arr.shape[:3]
    if pix_fmt == "yuv420p" and (h % 2 or w % 2):  # yuv420p subsamples chroma by 2
        arr = np.pad(arr, ((0, 0), (0, h % 2), (0, w % 2), (0, 0)), mode="edge")
        h, w = arr.shape[1:3]
    rate = Fraction(fps).limit_denominator(100_000)
    container = av.open(p, mode="w")
    try:
        stream = container.add_stream(
            codec, rate=rate, options=dict(options or _DEFAULT_OPTIONS.get(codec, {}))
        )
        stream.width, stream.height, stream.pix_fmt = w, h, pix_fmt
        if gop_size is not None:
            stream.codec_context.gop_size = gop_size
        time_base = Fraction(1, 90_000) if timestamps is not None else 1 / rate
        stream.codec_context.time_base = time_base
        if rotation % 360:
            stream.set_display_rotation(rotation)
        if t == 0:
            container.start_encoding()
        for i in range(t):
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(arr[i]), format="rgb24")
            frame.pts = i if timestamps is None else round(float(ts[i]) * 90_000)
            frame.time_base = time_base
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    finally:
        container.close()
