"""Re-encoding one video into a file built for training (what ``videomae prepare`` does per file).

The output is H.264 (libx264) in mp4, yuv420p, no audio, with:

- the short side scaled down to ``short_side`` (aspect kept, both sides even); a video whose
  short side is already at most ``short_side`` keeps its size (never upscaled; an odd side
  loses its last row or column, as yuv420p needs even sides);
- a keyframe exactly every ``gop`` frames and nowhere else (no scene-cut keyframes), so a
  seek to frame ``i`` decodes at most ``gop - 1`` frames before it;
- every decoded frame kept, with its timestamp relative to the first frame (variable frame
  rate files stay variable);
- the display rotation applied to the pixels (frames upright, no rotation tag written).

The file is written through :func:`videomae._io.atomic_write`: a temp file beside the output,
renamed in when complete, so an output path never holds half a video. The container's
``comment`` tag records the settings (:data:`TAG_PREFIX`), which tells a file this module wrote
from anyone else's.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from fractions import Fraction
from typing import Any

from videomae._io import atomic_write
from videomae.errors import InputError, VideoDecodeError
from videomae.video.backend import av, ffmpeg_message, require_av
from videomae.video.decode import open_video
from videomae.video.decoder import rotation_of

__all__ = [
    "PRESETS",
    "TAG_PREFIX",
    "EncodeSettings",
    "Encoded",
    "output_size",
    "read_tag",
    "transcode_video",
]

TAG_PREFIX = "videomae prepare "
PRESETS = (
    "ultrafast",
    "superfast",
    "veryfast",
    "faster",
    "fast",
    "medium",
    "slow",
    "slower",
    "veryslow",
)
_ROTATE = {90: ("transpose", "cclock"), 270: ("transpose", "clock")}  # counter-clockwise degrees


@dataclass(frozen=True)
class EncodeSettings:
    """What every prepared file is encoded with (``threads`` only changes the speed)."""

    short_side: int = 320
    gop: int = 16
    crf: int = 23
    preset: str = "veryfast"
    threads: int = 0  # libx264 and decoder threads; 0 = FFmpeg's choice

    def check(self) -> EncodeSettings:
        """The settings, or InputError naming the one out of range."""
        if not 2 <= self.short_side <= 16384:
            raise InputError(f"short_side must be 2..16384 pixels, got {self.short_side}")
        if not 1 <= self.gop <= 1000:
            raise InputError(f"gop must be 1..1000 frames, got {self.gop}")
        if not 0 <= self.crf <= 51:
            raise InputError(f"crf must be 0..51 (libx264; lower = better), got {self.crf}")
        if self.preset not in PRESETS:
            raise InputError(f"preset must be one of {', '.join(PRESETS)}, got {self.preset!r}")
        return self

    def identity(self) -> dict[str, Any]:
        """The settings that decide the output's content (what a resumed run must match)."""
        fields = asdict(self)
        fields.pop("threads")
        return {"codec": "libx264", "pix_fmt": "yuv420p", **fields}


@dataclass(frozen=True)
class Encoded:
    """What one re-encode wrote."""

    frames: int
    width: int
    height: int
    bytes: int


def output_size(width: int, height: int, short_side: int) -> tuple[int, int]:
    """(width, height) of the output: short side down to ``short_side`` (rounded to even),
    aspect kept, both even; never larger than the input."""
    short = min(width, height)
    if short <= short_side:
        return max(2, width - width % 2), max(2, height - height % 2)
    target = short_side - short_side % 2
    scale = target / short

    def side(n: int) -> int:
        return target if n == short else max(2, 2 * round(n * scale / 2))

    return side(width), side(height)


def _filters(rotation: int, size: tuple[int, int], out: tuple[int, int]) -> list[tuple[str, str]]:
    """The FFmpeg filter chain: upright, then crop (odd sides) or scale, then yuv420p."""
    chain: list[tuple[str, str]] = []
    if rotation in _ROTATE:
        chain.append(_ROTATE[rotation])
    elif rotation == 180:
        chain += [("hflip", ""), ("vflip", "")]
    w, h = size
    if out != (w, h):
        shrink = out[0] < w - w % 2 or out[1] < h - h % 2
        name = "scale" if shrink else "crop"
        chain.append((name, f"{out[0]}:{out[1]}" + (":0:0" if name == "crop" else "")))
    chain.append(("format", "yuv420p"))
    return chain


class _Pipeline:
    """Decoded frames in, encoded packets muxed out; built on the first frame."""

    def __init__(self, output: Any, settings: EncodeSettings, stream: Any, tag: str) -> None:
        self.output, self.settings, self.src = output, settings, stream
        self.output.metadata["comment"] = tag
        self.graph: Any = None
        self.enc: Any = None
        self.origin: int | None = None
        self.last_pts = -1
        self.frames = 0
        self.size = (0, 0)

    def _build(self, frame: Any) -> None:
        rotation = rotation_of(frame, self.src)
        upright = (
            (frame.height, frame.width) if rotation in (90, 270) else (frame.width, frame.height)
        )
        self.size = output_size(*upright, self.settings.short_side)
        graph = av.filter.Graph()
        node = graph.add_buffer(
            width=frame.width, height=frame.height, format=frame.format.name,
            time_base=self.src.time_base,
        )  # fmt: skip
        for name, args in _filters(rotation, upright, self.size):
            nxt = graph.add(name, args)
            node.link_to(nxt)
            node = nxt
        node.link_to(graph.add("buffersink"))
        graph.configure()
        self.graph = graph
        self.enc = self._stream()

    def _stream(self) -> Any:
        s = self.settings
        gop = s.gop
        params = f"keyint={gop}:min-keyint={gop}:scenecut=0:open-gop=0"
        options = {"crf": str(s.crf), "preset": s.preset, "x264-params": params}
        if s.threads:
            options["threads"] = str(s.threads)
        rate = self.src.average_rate or self.src.guessed_rate or Fraction(25)
        enc = self.output.add_stream("libx264", rate=rate, options=options)
        enc.width, enc.height = self.size
        enc.pix_fmt = "yuv420p"
        enc.codec_context.time_base = self.src.time_base
        return enc

    def _pts(self, frame: Any) -> int:
        """The frame's pts from the first frame's; never repeating (encoders need increasing)."""
        if frame.pts is None:
            pts = self.last_pts + 1
        else:
            if self.origin is None:
                self.origin = frame.pts
            pts = max(frame.pts - self.origin, self.last_pts + 1)
        self.last_pts = pts
        return pts

    def push(self, frame: Any) -> None:
        if self.graph is None:
            self._build(frame)
        frame.pts = self._pts(frame)
        frame.time_base = self.src.time_base
        self.graph.push(frame)
        self._drain()

    def _drain(self) -> None:
        while True:
            try:
                out = self.graph.pull()
            except (av.BlockingIOError, av.EOFError):
                return
            self.frames += 1
            self.output.mux(self.enc.encode(out))

    def finish(self, path: str) -> None:
        if self.enc is None:
            raise VideoDecodeError(path, "the video stream has zero decodable frames")
        self.output.mux(self.enc.encode(None))


def _encode_into(file: Any, src: str, settings: EncodeSettings, tag: str) -> tuple[int, tuple]:
    """Decode ``src`` and write the re-encoded mp4 into the open binary ``file``."""
    with open_video(src) as (container, stream):
        if settings.threads:
            stream.codec_context.thread_count = settings.threads
        output = av.open(file, mode="w", format="mp4")
        try:
            pipe = _Pipeline(output, settings, stream, tag)
            for frame in container.decode(stream):
                pipe.push(frame)
            pipe.finish(src)
        finally:
            output.close()
    return pipe.frames, pipe.size


def transcode_video(
    src: str | os.PathLike, dst: str | os.PathLike, settings: EncodeSettings
) -> Encoded:
    """Re-encode the video ``src`` into the mp4 ``dst`` (see the module doc); returns what it
    wrote. An unreadable source raises :class:`VideoDecodeError` and leaves ``dst`` untouched."""
    require_av()
    settings.check()
    src, dst = os.fspath(src), os.fspath(dst)
    tag = TAG_PREFIX + json.dumps(settings.identity(), sort_keys=True)
    result: dict[str, Any] = {}

    def write(file: Any) -> None:
        try:
            result["frames"], result["size"] = _encode_into(file, src, settings, tag)
        except (av.error.FFmpegError, ValueError) as e:
            raise VideoDecodeError(src, f"re-encoding failed ({ffmpeg_message(e)})") from e

    atomic_write(dst, write)
    width, height = result["size"]
    return Encoded(result["frames"], width, height, os.path.getsize(dst))


def read_tag(path: str | os.PathLike) -> dict[str, Any] | None:
    """The settings :func:`transcode_video` recorded in ``path``, or None (not ours, unreadable)."""
    require_av()
    try:
        with av.open(os.fspath(path), metadata_errors="ignore") as container:
            comment = str(container.metadata.get("comment", ""))
    except (av.error.FFmpegError, OSError):
        return None
    if not comment.startswith(TAG_PREFIX):
        return None
    try:
        return json.loads(comment[len(TAG_PREFIX) :])
    except json.JSONDecodeError:
        return None
