"""Seeking and decoding forward: one pass over an open container that collects wanted frames.

Decoding reads only what a clip needs, and the frames it returns are exactly those a decoder
running through the whole file in order would give for the same indices:

* it seeks to the keyframe at or before the first wanted frame, decodes forward and stops after
  the last wanted frame;
* when the next wanted frame lies beyond the next keyframe (the frame map knows where keyframes
  are), it seeks forward to that keyframe instead of decoding through the gap; without keyframe
  positions, only gaps longer than ``_SEEK_GAP_SECONDS`` are jumped;
* a packet whose frame is not wanted is sent with the codec's ``skip_frame = "NONREF"``: the
  decoder drops it only if no other frame refers to it (such a frame can never change another
  frame's pixels), and decodes reference frames as usual. Wanted frames, B-frames included, are
  sent with ``"DEFAULT"``. Streams without timestamps (frames are counted) skip nothing.

Frames are numbered with the stream's :class:`~videomae.video.framemap.FrameMap`.

Rotation: a display matrix (phone videos) is honoured. Rotation angles follow FFmpeg/PyAV:
counter-clockwise degrees, normalised to 0, 90, 180 or 270 (a legacy ``rotate=90`` tag, meaning
clockwise, reads as 270).
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from typing import Any

from videomae.errors import VideoDecodeError
from videomae.video.framemap import FrameMap, stream_rate

__all__ = ["FrameDecoder", "rotation_of"]

# Without keyframe positions: wanted frames further apart than this (in seconds) are reached
# by a forward seek instead of decoding through the gap. Larger than common keyframe intervals,
# so a forward seek rarely lands before frames already decoded.
_SEEK_GAP_SECONDS = 10.0

# With keyframe positions: seek forward when the keyframe at or before the next wanted frame is
# more than this many frames past the last decoded one. A seek throws away the frames the
# decoder holds in flight (reordering and frame threads), so a keyframe just ahead is cheaper
# to decode through.
_SEEK_MIN_FRAMES = 2


def _normalize_rotation(deg: float) -> int:
    r = round(deg / 90.0) * 90 % 360
    return int(r)


def rotation_of(frame: Any, stream: Any) -> int:
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


class FrameDecoder:
    """One forward pass over a container, collecting wanted frame indices."""

    def __init__(self, container: Any, stream: Any, fmap: FrameMap, path: str) -> None:
        self.container = container
        self.stream = stream
        self.fmap = fmap
        self.path = path
        self.decoded = 0
        self.rotation: int | None = None
        self.wanted: frozenset[int] = frozenset()  # indices whose packets are never skipped
        self._skip = "DEFAULT"

    def _set_skip(self, mode: str) -> None:
        if mode != self._skip:
            self.stream.codec_context.skip_frame = mode
            self._skip = mode

    def _skip_mode(self, packet: Any) -> str:
        """The skip setting for ``packet``: NONREF when its frame is not wanted, else DEFAULT.

        Indices past the decodable end take the last frame decoded; a B-frame is always shown
        before the reference frame it predicts from, so skipping B-frames never changes it.
        """
        pts = packet.pts
        if pts is None or self.fmap.counting or not self.wanted:
            return "DEFAULT"  # flush packets, counted frames: decode as usual
        return "DEFAULT" if self.fmap.index_of(pts) in self.wanted else "NONREF"

    def _frames(self) -> Iterator[tuple[int, Any]]:
        """Decode from the current position, yielding (index, frame) in presentation order."""
        prev = -1
        for packet in self.container.demux(self.stream):
            self._set_skip(self._skip_mode(packet))
            for frame in packet.decode():
                self.decoded += 1
                if self.rotation is None:
                    self.rotation = rotation_of(frame, self.stream)
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

    def _jump(self, position: int, target: int, gap: int) -> bool:
        """Whether to reach ``target`` by a forward seek from decoded frame ``position``."""
        key = self.fmap.keyframe_at_or_before(target)
        if key is None:
            return target - position > gap
        return key - position > _SEEK_MIN_FRAMES

    def collect(self, targets: Sequence[int]) -> tuple[dict[int, Any], tuple[int, Any]]:
        """Decode sorted unique ``targets``; returns ({target: frame}, (index, frame) of the last
        frame decoded).

        A target that no decoded frame has exactly (a gap in the timestamps) takes the frame
        before it. Targets past the end of what decodes are left out; the caller clamps them.
        """
        gap = max(8, round(_SEEK_GAP_SECONDS * (stream_rate(self.stream) or 25.0)))
        self.wanted = frozenset(targets)
        out: dict[int, Any] = {}
        last: tuple[int, Any] | None = None
        it: Iterator[tuple[int, Any]] | None = None
        k = 0
        try:
            while k < len(targets):
                if it is None or last is None or self._jump(last[0], targets[k], gap):
                    it = self._seek(targets[k])
                for idx, frame in it:
                    if last is not None and idx <= last[0]:
                        continue  # a forward seek landed before frames already passed
                    while k < len(targets) and targets[k] <= idx:
                        out[targets[k]] = frame if idx == targets[k] or last is None else last[1]
                        k += 1
                    last = (idx, frame)
                    if k == len(targets) or self._jump(idx, targets[k], gap):
                        break
                else:
                    break  # end of stream
        finally:
            self._set_skip("DEFAULT")
        if last is None:
            raise VideoDecodeError(self.path, "the video stream has zero decodable frames")
        return out, last
