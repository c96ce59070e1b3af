"""Writing uint8 RGB frames to a video file (for tests, benchmarks and synthetic data)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from fractions import Fraction
from typing import Any

import numpy as np
import torch

from videomae.video.backend import av, require_av

__all__ = ["write_video"]

PathLike = str | os.PathLike

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

_VFR_TICKS = 90_000  # time base of variable frame rate files: 1 / 90 kHz, as MPEG uses


def _frames_array(frames: np.ndarray | torch.Tensor) -> np.ndarray:
    arr = frames.detach().cpu().numpy() if isinstance(frames, torch.Tensor) else np.asarray(frames)
    if arr.dtype != np.uint8 or arr.ndim != 4 or arr.shape[-1] != 3:
        raise ValueError(
            f"frames must be uint8 of shape (T, H, W, 3) RGB, got dtype {arr.dtype} and shape "
            f"{tuple(arr.shape)}; convert with .astype(np.uint8) / permute channels last"
        )
    return arr


def _timestamps_array(timestamps: Sequence[float] | None, num_frames: int) -> np.ndarray | None:
    if timestamps is None:
        return None
    ts = np.asarray(timestamps, dtype=np.float64)
    if ts.shape != (num_frames,) or (ts.size > 1 and np.any(np.diff(ts) <= 0)):
        raise ValueError(
            f"timestamps must be {num_frames} strictly increasing seconds (one per frame), "
            f"got shape {ts.shape}"
        )
    return ts


def _pick_codec(path: str, codec: str | None) -> str:
    """``codec``, or the default for the file extension; checked against the FFmpeg build."""
    if codec is None:
        ext = os.path.splitext(path)[1].lower()
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
    return codec


def _check_pix_fmt(pix_fmt: str, codec: str) -> None:
    if pix_fmt not in _PIX_FMTS:
        raise ValueError(f"pix_fmt must be one of {sorted(_PIX_FMTS)}, got {pix_fmt!r}")
    if pix_fmt != "yuv420p" and codec not in _PIX_FMTS[pix_fmt]:
        raise ValueError(
            f"{pix_fmt} needs one of the codecs {sorted(_PIX_FMTS[pix_fmt])}, got {codec!r}"
        )


def _pad_to_even(arr: np.ndarray) -> np.ndarray:
    """Repeat the last row/column so height and width are even (yuv420p halves the chroma)."""
    h, w = arr.shape[1:3]
    if h % 2 or w % 2:
        arr = np.pad(arr, ((0, 0), (0, h % 2), (0, w % 2), (0, 0)), mode="edge")
    return arr


def _add_stream(
    container: Any,
    codec: str,
    rate: Fraction,
    time_base: Fraction,
    size: tuple[int, int],
    pix_fmt: str,
    gop_size: int | None,
    rotation: int,
    options: dict[str, str] | None,
) -> Any:
    stream = container.add_stream(
        codec, rate=rate, options=dict(options or _DEFAULT_OPTIONS.get(codec, {}))
    )
    height, width = size
    stream.width, stream.height, stream.pix_fmt = width, height, pix_fmt
    if gop_size is not None:
        stream.codec_context.gop_size = gop_size
    stream.codec_context.time_base = time_base
    if rotation % 360:
        stream.set_display_rotation(rotation)
    return stream


def _encode(
    container: Any, stream: Any, arr: np.ndarray, ts: np.ndarray | None, time_base: Fraction
) -> None:
    """Encode every frame of ``arr`` (pts: frame number, or ``ts`` in 1/90 kHz ticks)."""
    if arr.shape[0] == 0:
        container.start_encoding()
    for i in range(arr.shape[0]):
        frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(arr[i]), format="rgb24")
        frame.pts = i if ts is None else round(float(ts[i]) * _VFR_TICKS)
        frame.time_base = time_base
        container.mux(stream.encode(frame))
    container.mux(stream.encode(None))


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
    full colour resolution, which matters for tiny frames such as the demo's 32 x 32 clips.
    ``rotation`` stores a display rotation (counter-clockwise degrees, a multiple of 90; kept
    by mp4/mov), as phone cameras do: pass frames as stored and readers rotate them for display. ``timestamps``
    (seconds, increasing, one per frame) writes a variable frame rate file. ``gop_size`` sets
    the keyframe interval. ``options`` are codec options (defaults: high quality, fast). A
    zero-length ``frames`` writes a stream with no frames where the container allows it.
    """
    require_av()
    p = os.fspath(path)
    arr = _frames_array(frames)
    if rotation % 90:
        raise ValueError(f"rotation must be a multiple of 90 degrees, got {rotation}")
    ts = _timestamps_array(timestamps, arr.shape[0])
    codec = _pick_codec(p, codec)
    _check_pix_fmt(pix_fmt, codec)
    if pix_fmt == "yuv420p":  # yuv420p subsamples chroma by 2
        arr = _pad_to_even(arr)
    rate = Fraction(fps).limit_denominator(100_000)
    time_base = Fraction(1, _VFR_TICKS) if ts is not None else 1 / rate
    container = av.open(p, mode="w")
    try:
        stream = _add_stream(
            container, codec, rate, time_base, arr.shape[1:3], pix_fmt, gop_size, rotation,
            options,
        )  # fmt: skip
        _encode(container, stream, arr, ts, time_base)
    finally:
        container.close()
