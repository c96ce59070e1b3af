"""A hostile corpus for the decoder, generated in tmp dirs: every file decodes correctly or
raises VideoDecodeError naming the file (text, images, truncations, odd formats, bounds)."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest

from videomae.errors import VideoDecodeError
from videomae.limits import MAX_VIDEO_SIDE
from videomae.video import decode
from videomae.video.decode import probe, read_clips
from videomae.video.write import write_video

av = pytest.importorskip("av")
Image = pytest.importorskip("PIL.Image")

RNG = np.random.default_rng(0)
CLIP = RNG.integers(0, 255, (10, 24, 32, 3), dtype=np.uint8)


def _decodes_or_refuses(path: Path) -> str:
    """ "ok" when the file decodes into 2 clips of 8 frames, "refused" on VideoDecodeError."""
    try:
        clips = read_clips(path, 8, num_clips=2)
    except VideoDecodeError as e:
        assert e.path == str(path)
        return "refused"
    assert len(clips) == 2 and all(c.frames.shape[0] == 8 for c in clips)
    assert clips[0].frames.dtype.is_floating_point is False
    return "ok"


@pytest.mark.parametrize(
    "text",
    [
        "hello\n",
        '{"a": 1}\n',
        "a.mp4 0\nb.mp4 1\n",
        "\n".join(f"line {i} of a plain text file" for i in range(300)),
    ],
)
@pytest.mark.parametrize("ext", [".mp4", ".m4v", ".avi", ".mkv", ".mpg"])
def test_text_with_video_extension_is_refused(tmp_path: Path, text: str, ext: str) -> None:
    p = tmp_path / f"notes{ext}"
    p.write_text(text)
    with pytest.raises(VideoDecodeError):
        read_clips(p, 8)


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "BMP", "GIF"])
def test_image_with_video_extension_is_refused(tmp_path: Path, fmt: str) -> None:
    buf = io.BytesIO()
    Image.fromarray(CLIP[0]).save(buf, fmt)
    p = tmp_path / "photo.mp4"
    p.write_bytes(buf.getvalue())
    with pytest.raises(VideoDecodeError, match="still image"):
        read_clips(p, 8)
    with pytest.raises(VideoDecodeError, match="still image"):
        probe(p)


def test_empty_random_and_zero_frame_files_are_refused(tmp_path: Path) -> None:
    (tmp_path / "empty.mp4").write_bytes(b"")
    (tmp_path / "random.mp4").write_bytes(RNG.integers(0, 256, 5000, dtype=np.uint8).tobytes())
    write_video(tmp_path / "zero.mp4", CLIP[:0], fps=10)
    for name in ("empty.mp4", "random.mp4", "zero.mp4"):
        assert _decodes_or_refuses(tmp_path / name) == "refused", name


def _y4m(width: int, height: int, frames: int = 1) -> bytes:
    head = f"YUV4MPEG2 W{width} H{height} F25:1 Ip A0:0 C420jpeg\n".encode()
    return head + b"".join(b"FRAME\n" + bytes(width * height * 3 // 2) for _ in range(frames))


def test_huge_headers_are_refused_before_decoding(tmp_path: Path) -> None:
    p = tmp_path / "huge.mp4"  # a header that claims 100000 x 100000 frames
    p.write_bytes(_y4m(100000, 100000, 0) + b"FRAME\n" + b"x" * 1000)
    assert _decodes_or_refuses(p) == "refused"
    side = tmp_path / "wide.y4m"  # one side above MAX_VIDEO_SIDE, the other tiny
    side.write_bytes(_y4m(MAX_VIDEO_SIDE + 2, 2, 1))
    with pytest.raises(VideoDecodeError, match="frame size"):
        read_clips(side, 4)
    box = bytearray(_write(tmp_path / "v.mp4").read_bytes())
    box[0:4] = b"\xff\xff\xff\xff"  # the first box claims 4 GB
    (tmp_path / "box.mp4").write_bytes(bytes(box))
    assert _decodes_or_refuses(tmp_path / "box.mp4") == "refused"


def test_a_real_y4m_video_still_decodes(tmp_path: Path) -> None:
    p = tmp_path / "ok.y4m"
    p.write_bytes(_y4m(8, 8, 5))
    assert read_clips(p, 4)[0].frames.shape == (4, 8, 8, 3)


def _write(path: Path, **kw) -> Path:
    write_video(path, CLIP, fps=10, **kw)
    return path


@pytest.mark.parametrize("ext", [".mp4", ".webm", ".avi"])
@pytest.mark.parametrize("frac", [0.02, 0.3, 0.6, 0.95])
def test_truncated_files_decode_or_refuse(tmp_path: Path, ext: str, frac: float) -> None:
    data = _write(tmp_path / f"v{ext}").read_bytes()
    cut = tmp_path / f"cut{ext}"
    cut.write_bytes(data[: max(1, int(len(data) * frac))])
    _decodes_or_refuses(cut)


@pytest.mark.parametrize(
    ("codec", "pix_fmt", "ext"),
    [
        ("ffv1", "gray", ".mkv"),
        ("ffv1", "yuv444p16le", ".mkv"),
        ("ffv1", "rgb48le", ".mkv"),
        ("ffv1", "yuva420p", ".mkv"),
        ("mpeg4", "yuv420p", ".avi"),
    ],
)
def test_odd_pixel_formats_and_sizes_decode(
    tmp_path: Path, codec: str, pix_fmt: str, ext: str
) -> None:
    p = tmp_path / f"odd{ext}"
    with av.open(str(p), "w") as c:
        s = c.add_stream(codec, rate=10)
        s.width, s.height, s.pix_fmt = 33, 17, pix_fmt  # odd sizes
        for t in range(6):
            frame = av.VideoFrame.from_ndarray(CLIP[t, :17, :33].copy(), format="rgb24")
            for pkt in s.encode(frame.reformat(format=pix_fmt)):
                c.mux(pkt)
        for pkt in s.encode():
            c.mux(pkt)
    clip = read_clips(p, 4)[0]
    assert clip.frames.shape == (4, 17, 33, 3)


def test_rotated_and_vfr_files_decode_correctly(tmp_path: Path) -> None:
    rot = read_clips(_write(tmp_path / "rot.mp4", rotation=90), 4)[0]
    assert rot.frames.shape == (4, 32, 24, 3)  # upright: height and width swapped
    ts = [0, 0.05, 0.3, 0.31, 0.5, 0.9, 1.0, 1.4, 1.45, 2.0]
    vfr = read_clips(_write(tmp_path / "vfr.mp4", timestamps=ts), 10, strategy="uniform")[0]
    assert vfr.indices == list(range(10))
    assert np.allclose(vfr.timestamps, ts, atol=0.01)


def test_decoded_bytes_are_bounded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    p = _write(tmp_path / "v.mp4")
    monkeypatch.setattr(decode, "MAX_DECODED_BYTES", 8 * 24 * 32 * 3 - 1)
    with pytest.raises(VideoDecodeError, match="MAX_DECODED_BYTES"):
        read_clips(p, 8)
    assert read_clips(p, 7)[0].frames.shape[0] == 7
