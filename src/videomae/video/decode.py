"""Reading video files with PyAV: frames by index, sampled clips, whole small videos, metadata.

Frame index ``i`` always means the ``i``-th frame of the video stream in presentation order,
counting from 0. Only what a clip needs is decoded (:mod:`videomae.video.decoder`); frames get
their index from the stream's map (:mod:`videomae.video.framemap`).

Frame counts in container metadata are often wrong. Indices beyond what actually decodes are
clamped to the last decodable frame, so the last frame repeats (the same rule as for videos
shorter than the clip); ``Clip.indices`` reports the indices really used.

Failures raise :class:`~videomae.errors.VideoDecodeError`, naming the file and the cause: missing
path, a file that is not a video container, no video stream, zero frames, truncated or corrupt
data. A truncated mp4 whose index (``moov`` box) is cut off or unreadable fails when opened; a
truncated streamable file (webm/mkv) reads as a shorter video as long as its header survived.

Rotation: a display matrix (phone videos) is honoured; frames come out upright.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from videomae.errors import VideoDecodeError
from videomae.limits import MAX_DECODED_BYTES, MAX_VIDEO_SIDE
from videomae.video.backend import av, ffmpeg_message, require_av
from videomae.video.decoder import FrameDecoder, rotation_of
from videomae.video.framemap import FRAME_MAP_CACHE, FrameMap, stream_rate
from videomae.video.sampling import clip_indices, one_clip_indices
from videomae.video.threads import thread_plan

__all__ = [
    "Clip",
    "VideoInfo",
    "open_video",
    "probe",
    "read_clip",
    "read_clips",
    "read_frames",
    "read_small_video",
]

PathLike = str | os.PathLike

# demuxers that read a still image or text, not a video: a file that probes as one is refused
_NOT_VIDEO_FORMATS = frozenset({"image2", "tty", "ico", "txt"})


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
# Opening files
# --------------------------------------------------------------------------------------------


def _check_path(p: str) -> None:
    if not os.path.exists(p):
        raise VideoDecodeError(p, "the file does not exist; check the path")
    if os.path.isdir(p):
        raise VideoDecodeError(p, "it is a directory, not a video file")
    if os.path.getsize(p) == 0:
        raise VideoDecodeError(p, "the file is empty (0 bytes)")


def _open_container(p: str) -> Any:
    try:
        return av.open(p, mode="r", metadata_errors="ignore")
    except av.error.FFmpegError as e:
        raise VideoDecodeError(
            p,
            f"FFmpeg cannot open it as a video container ({ffmpeg_message(e)}); the file is not "
            "a video, or it is truncated or corrupt",
        ) from e
    except OSError as e:
        raise VideoDecodeError(p, f"cannot open the file ({e})") from e


def _is_image_format(container: Any) -> bool:
    """A still-image demuxer (png_pipe, jpeg_pipe, image2...) or FFmpeg's text ("tty") reader."""
    names = str(getattr(container.format, "name", "") or "").split(",")
    if names == ["gif"] and container.streams.video:  # a GIF of one frame is a still image
        return (container.streams.video[0].frames or 0) <= 1
    return any(n.endswith("_pipe") or n in _NOT_VIDEO_FORMATS for n in names)


def _video_stream(container: Any, p: str) -> Any:
    """The first video stream, checked to be a real video of a sane size; its decoder
    threading set by :func:`thread_plan`."""
    if _is_image_format(container):
        raise VideoDecodeError(
            p,
            f"it is a still image or text ({container.format.name}), not a video; pass a video "
            "file (mp4, webm, mkv, avi, mov...)",
        )
    if not container.streams.video:
        kinds = sorted({s.type for s in container.streams}) or ["none"]
        raise VideoDecodeError(p, f"it has no video stream (streams found: {', '.join(kinds)})")
    stream = container.streams.video[0]
    ctx = stream.codec_context
    if ctx is None:
        raise VideoDecodeError(p, "FFmpeg has no decoder for its video codec; the file is corrupt")
    w, h = ctx.width or 0, ctx.height or 0
    if not (0 < w <= MAX_VIDEO_SIDE and 0 < h <= MAX_VIDEO_SIDE):
        raise VideoDecodeError(
            p,
            f"its video stream has frame size {w}x{h}; expected 1..{MAX_VIDEO_SIDE} pixels each "
            "side (the header is corrupt or the file is not a video)",
        )
    threads = thread_plan(w, h)[0]
    if threads == 1:
        ctx.thread_count = 1
    else:
        ctx.thread_type = "AUTO"  # frame + slice threads
        ctx.thread_count = threads
    return stream


def check_decoded_size(p: str, num_frames: int, width: int, height: int) -> None:
    """VideoDecodeError when ``num_frames`` RGB frames of ``width`` x ``height`` exceed
    :data:`~videomae.limits.MAX_DECODED_BYTES` (checked before decoding)."""
    need = num_frames * width * height * 3
    if need > MAX_DECODED_BYTES:
        raise VideoDecodeError(
            p,
            f"{num_frames} frames of {width}x{height} need {need / 2**30:.1f} GiB decoded, above "
            f"the {MAX_DECODED_BYTES / 2**30:.0f} GiB limit (videomae.limits.MAX_DECODED_BYTES); "
            "read fewer frames or clips",
        )


@contextmanager
def _open_video(path: PathLike) -> Iterator[tuple[Any, Any]]:
    """Open ``path`` and yield (container, first video stream); errors become VideoDecodeError."""
    require_av()
    p = os.fspath(path)
    _check_path(p)
    container = _open_container(p)
    try:
        yield container, _video_stream(container, p)
    except av.error.FFmpegError as e:
        raise VideoDecodeError(
            p, f"decoding failed ({ffmpeg_message(e)}); the file is truncated or corrupt"
        ) from e
    finally:
        container.close()


#: the public name of :func:`_open_video` (streaming readers open files the same way)
open_video = _open_video


# --------------------------------------------------------------------------------------------
# Decoding index lists into clips
# --------------------------------------------------------------------------------------------


def _check_indices(indices: Sequence[int]) -> list[int]:
    idx = [int(i) for i in np.asarray(indices, dtype=np.int64).reshape(-1)]
    if not idx:
        raise ValueError("indices is empty; pass at least one frame index")
    if min(idx) < 0:
        raise ValueError(f"frame indices must be >= 0, got {min(idx)}")
    return idx


class _RgbFrames:
    """The decoded frames of one pass as RGB arrays and timestamps, each converted once."""

    def __init__(
        self, frames: dict[int, Any], last: tuple[int, Any], fmap: FrameMap, threads: int
    ) -> None:
        self.frames = frames
        self.threads = threads  # of the RGB conversion (thread_plan)
        self.last_idx, self.last_frame = last
        self.fmap = fmap
        self.rgb: dict[int, np.ndarray] = {}
        self.seconds: dict[int, float] = {}
        # One colour converter for the whole pass: frame.to_ndarray(format="rgb24") sets up a
        # new swscale context for every frame, which costs more than converting a small frame
        # (docs/performance.md, "Decoding"). It is not kept beyond the pass: an FFmpeg converter
        # alive in a process that forks (data-loader workers) makes the children's converters
        # hang.
        self.converter = av.video.reformatter.VideoReformatter()

    def resolve(self, i: int) -> int:
        """The index really used for wanted index ``i``."""
        i = min(i, self.fmap.num_frames - 1)
        return i if i in self.frames else self.last_idx  # past the decodable end: last frame

    def fetch(self, i: int) -> None:
        """Convert frame ``i`` (a resolved index) unless already done."""
        if i in self.rgb:
            return
        frame = self.frames.get(i, self.last_frame)  # missing: past the end, use the last frame
        self.rgb[i] = self.converter.reformat(
            frame, format="rgb24", threads=self.threads
        ).to_ndarray()
        if frame.pts is not None and not self.fmap.counting:
            self.seconds[i] = self.fmap.seconds(frame.pts)
        else:
            self.seconds[i] = i / self.fmap.fps if self.fmap.fps else 0.0


def _build_clip(pixels: _RgbFrames, group: list[int], rotation: int, num_decoded: int) -> Clip:
    used = [pixels.resolve(i) for i in group]
    for i in used:
        pixels.fetch(i)
    arr = np.stack([pixels.rgb[i] for i in used])  # (T, H, W, 3)
    if rotation:
        arr = np.ascontiguousarray(np.rot90(arr, k=rotation // 90, axes=(1, 2)))
    return Clip(
        frames=torch.from_numpy(arr),
        indices=used,
        timestamps=[pixels.seconds[i] for i in used],
        num_decoded=num_decoded,
    )


def _decode_many(
    container: Any, stream: Any, fmap: FrameMap, path: str, groups: list[list[int]]
) -> list[Clip]:
    """Decode the union of several index lists in one pass and build one Clip per list."""
    ctx = stream.codec_context
    check_decoded_size(path, sum(len(g) for g in groups), ctx.width, ctx.height)
    wanted = sorted({min(i, fmap.num_frames - 1) for g in groups for i in g})
    dec = FrameDecoder(container, stream, fmap, path)
    frames, last = dec.collect(wanted)
    pixels = _RgbFrames(frames, last, fmap, thread_plan(ctx.width, ctx.height)[1])
    try:
        return [_build_clip(pixels, g, dec.rotation or 0, dec.decoded) for g in groups]
    except ValueError as e:  # np.stack of frames whose size changes mid-stream
        raise VideoDecodeError(path, f"its frames change size mid-stream ({e})") from e


# --------------------------------------------------------------------------------------------
# Public readers
# --------------------------------------------------------------------------------------------


def read_frames(path: PathLike, indices: Sequence[int]) -> Clip:
    """Decode the frames at ``indices`` (any order, duplicates allowed) of the file at ``path``.

    Only what is needed is decoded: a seek to the keyframe before the first wanted frame, then
    forward until the last wanted frame. Indices past the last decodable frame return that
    frame (``Clip.indices`` shows the index used). Raises VideoDecodeError for unreadable files.
    """
    idx = _check_indices(indices)
    p = os.fspath(path)
    with _open_video(p) as (container, stream):
        fmap = FRAME_MAP_CACHE.get(container, stream, p)
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
    """Sample and decode one clip (see :func:`~videomae.video.sampling.one_clip_indices`).

    ``clip_idx=None`` means a random clip when ``train`` and the centred clip otherwise.
    The number of frames used for sampling is the exact count of the stream's frames when it
    is cheap to know (see :mod:`videomae.video.framemap`), not the often wrong metadata.
    """
    p = os.fspath(path)
    with _open_video(p) as (container, stream):
        fmap = FRAME_MAP_CACHE.get(container, stream, p)
        idx = one_clip_indices(
            fmap.num_frames, num_frames, strategy=strategy, sampling_rate=sampling_rate,
            clip_idx=clip_idx, num_clips=num_clips, train=train, rng=rng,
        )  # fmt: skip
        return _decode_many(container, stream, fmap, p, [idx.tolist()])[0]


def read_small_video(path: PathLike, max_bytes: int) -> Clip | None:
    """Every frame of the video, if its decoded RGB size is at most ``max_bytes``; else None.

    For caching short, small clips that a training run reads many times (``Clip.indices`` is
    ``0..n-1`` with n the frame count :func:`read_clip` samples from, so
    ``frames[one_clip_indices(n, ...)]`` is what :func:`read_clip` returns).
    """
    p = os.fspath(path)
    with _open_video(p) as (container, stream):
        ctx = stream.codec_context
        fmap = FRAME_MAP_CACHE.get(container, stream, p)
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
    """Decode ``num_clips`` clips (see :func:`~videomae.video.sampling.clip_indices`) in ONE
    pass over the file."""
    p = os.fspath(path)
    with _open_video(p) as (container, stream):
        fmap = FRAME_MAP_CACHE.get(container, stream, p)
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


def _header_duration(container: Any, stream: Any) -> float:
    """Seconds from the stream header, else the container header, else 0.0."""
    tb = stream.time_base
    if stream.duration is not None and tb is not None:
        return float(stream.duration * tb)
    if container.duration is not None:
        return container.duration / 1_000_000
    return 0.0


def _first_frame(container: Any, stream: Any, p: str) -> Any:
    for packet in container.demux(stream):
        frames = packet.decode()
        if frames:
            return frames[0]
    raise VideoDecodeError(p, "the video stream has zero decodable frames")


def probe(path: PathLike) -> VideoInfo:
    """Cheap metadata of a video file: container/stream headers plus one decoded frame.

    ``num_frames`` is the stream's frame count from metadata; when the container has none
    (webm/mkv), it is estimated as ``round(duration * fps)`` and may be off by a few frames
    (the readers clamp to what really decodes). The first frame is decoded to read the display
    rotation; ``width``/``height`` are after rotation.
    """
    p = os.fspath(path)
    with _open_video(p) as (container, stream):
        fps = stream_rate(stream)
        duration = _header_duration(container, stream)
        n = stream.frames or round(duration * fps)
        if duration <= 0 and n and fps:
            duration = n / fps
        first = _first_frame(container, stream, p)
        rotation = rotation_of(first, stream)
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
