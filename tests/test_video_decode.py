"""Tests for videomae.video.decode: PyAV decoding edge cases, seeking, rotation, failures.

Every video is written by the tests (64x48, <= 60 frames). Frame ``i`` shows ``i`` in binary as
8 vertical stripes (white = bit set), which survives lossy codecs, so a decoded frame tells
which frame it is (tests/_video_frames.py).
"""

from __future__ import annotations

import os
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
import torch

av = pytest.importorskip("av")

from _video_frames import H, N, W, coded_frames, frame_ids  # noqa: E402

from videomae.errors import VideoDecodeError  # noqa: E402
from videomae.video import decode as V  # noqa: E402
from videomae.video import decoder as D  # noqa: E402
from videomae.video.decode import Clip, probe, read_clip, read_clips, read_frames  # noqa: E402
from videomae.video.framemap import FRAME_MAP_CACHE, FrameMap  # noqa: E402
from videomae.video.sampling import clip_indices, dense_indices, uniform_indices  # noqa: E402
from videomae.video.write import write_video  # noqa: E402


@pytest.fixture(scope="module")
def vids(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    d = tmp_path_factory.mktemp("videos")
    fr = coded_frames()
    paths = {}
    for ext in ("mp4", "webm", "avi"):
        paths[ext] = str(d / f"v.{ext}")
        write_video(paths[ext], fr, fps=25)
    paths["gop"] = str(d / "gop10.mp4")  # keyframe every 10 frames, B-frames on
    write_video(paths["gop"], fr, fps=25, gop_size=10)
    # variable frame rate: steps of 40 ms, with every third step 200 ms
    ts = np.cumsum([0.0] + [0.04 if i % 3 else 0.2 for i in range(N - 1)])
    paths["vfr_ts"] = ts  # type: ignore[assignment]
    for ext in ("mp4", "webm"):
        paths[f"vfr_{ext}"] = str(d / f"vfr.{ext}")
        write_video(paths[f"vfr_{ext}"], fr, fps=25, timestamps=ts, gop_size=10)
    paths["short"] = str(d / "short.mp4")
    write_video(paths["short"], fr[:10], fps=25)
    return paths


# ------------------------------------------------------------------------------------------
# decoding
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("ext", ["mp4", "webm", "avi"])
def test_roundtrip_exact_frames(vids: dict[str, str], ext: str) -> None:
    want = [0, 1, 7, 30, 31, 59]
    clip = read_frames(vids[ext], want)
    assert isinstance(clip, Clip)
    assert clip.frames.dtype == torch.uint8 and tuple(clip.frames.shape) == (6, H, W, 3)
    assert frame_ids(clip.frames) == want
    assert clip.indices == want
    assert clip.timestamps == pytest.approx([i / 25 for i in want], abs=1e-3)
    # content within codec loss of what was written
    ref = torch.from_numpy(coded_frames()[want]).float()
    assert (clip.frames.float() - ref).abs().mean() < 8


@pytest.mark.parametrize("ext", ["mp4", "webm", "avi"])
def test_probe(vids: dict[str, str], ext: str) -> None:
    info = probe(vids[ext])
    assert (info.width, info.height, info.rotation) == (W, H, 0)
    assert info.fps == pytest.approx(25)
    assert info.num_frames == N
    assert info.duration == pytest.approx(N / 25, abs=0.05)
    assert info.path == vids[ext]


def test_read_frames_unsorted_duplicates_and_past_end(vids: dict[str, str]) -> None:
    clip = read_frames(vids["mp4"], [40, 3, 3, 12, 500])
    assert frame_ids(clip.frames) == [40, 3, 3, 12, 59]
    assert clip.indices == [40, 3, 3, 12, 59]  # past the end clamps to the last frame
    with pytest.raises(ValueError, match=">= 0"):
        read_frames(vids["mp4"], [-1])
    with pytest.raises(ValueError, match="empty"):
        read_frames(vids["mp4"], [])


def test_short_video_repeats_last_frame(vids: dict[str, str]) -> None:
    clip = read_clip(vids["short"], 8, sampling_rate=4)
    assert clip.indices == [0, 4, 8, 9, 9, 9, 9, 9]
    assert frame_ids(clip.frames) == [0, 4, 8, 9, 9, 9, 9, 9]


def test_wrong_metadata_count_clamps_to_what_decodes(
    vids: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    real = FRAME_MAP_CACHE.get

    def inflated(container, stream, path):  # metadata claims 100 frames, 60 decode
        m = real(container, stream, path)
        return FrameMap(
            num_frames=100, time_base=m.time_base, origin=m.origin, step=m.step, table=m.table
        )

    monkeypatch.setattr(FRAME_MAP_CACHE, "get", inflated)
    clip = read_clip(vids["mp4"], 4, sampling_rate=20, clip_idx=0)
    assert clip.indices == [10, 30, 50, 59]
    assert frame_ids(clip.frames) == [10, 30, 50, 59]


@pytest.mark.parametrize("kind", ["vfr_mp4", "vfr_webm"])
def test_variable_frame_rate(vids: dict[str, str], kind: str) -> None:
    ts = vids["vfr_ts"]
    for want in ([45, 46, 47], [0, 20, 59], [33]):
        clip = read_frames(vids[kind], want)
        assert frame_ids(clip.frames) == want
        assert clip.timestamps == pytest.approx([ts[i] for i in want], abs=2e-3)
    late = read_frames(vids[kind], [57])
    assert late.num_decoded < N // 2  # seeks even though the frame rate varies


def test_seek_decodes_far_fewer_frames(vids: dict[str, str]) -> None:
    clip = read_frames(vids["gop"], [55, 57])
    assert frame_ids(clip.frames) == [55, 57]
    assert clip.num_decoded <= 15  # one GOP of 10 (+ B-frame slack), not 58
    full = read_frames(vids["gop"], list(range(N)))
    assert frame_ids(full.frames) == list(range(N))


@pytest.mark.parametrize("target", [9, 10, 19, 29, 39, 49, 50])
def test_seek_around_keyframes(vids: dict[str, str], target: int) -> None:
    assert frame_ids(read_frames(vids["gop"], [target]).frames) == [target]


def test_seek_backs_off_when_it_lands_after_the_target(
    vids: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """An inexact index (seek lands past the wanted frame) must still give the right frame."""

    class Skewed(FrameMap):
        def pts_of(self, i: int) -> int:  # claims frame i sits 12 frames later
            return super().pts_of(min(i + 12, self.num_frames - 1))

    real = FRAME_MAP_CACHE.get

    def skewed(container, stream, path):
        m = real(container, stream, path)
        return Skewed(
            num_frames=m.num_frames,
            time_base=m.time_base,
            origin=m.origin,
            step=m.step,
            table=m.table,
        )

    monkeypatch.setattr(FRAME_MAP_CACHE, "get", skewed)
    for want in ([30], [30, 31, 45], [3]):
        assert frame_ids(read_frames(vids["gop"], want).frames) == want


def test_forward_seeks_between_distant_frames(
    vids: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(D, "_SEEK_GAP_SECONDS", 0.2)  # gap of 8 frames at 25 fps
    want = [2, 3, 33, 55]
    clip = read_frames(vids["gop"], want)
    assert frame_ids(clip.frames) == want
    assert clip.num_decoded < 40


def test_read_clips_decodes_once(vids: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    opened = []
    real_open = V.av.open

    def counting_open(*a, **k):
        opened.append(a[0] if a else k.get("file"))
        return real_open(*a, **k)

    monkeypatch.setattr(V.av, "open", counting_open)
    clips = read_clips(vids["mp4"], 8, sampling_rate=2, num_clips=3)
    assert len(opened) == 1
    assert len(clips) == 3
    for c in clips:
        assert frame_ids(c.frames) == c.indices
        assert c.num_decoded == clips[0].num_decoded <= N  # one shared pass, no frame twice
    expected = clip_indices(N, 8, sampling_rate=2, num_clips=3)
    assert [c.indices for c in clips] == [e.tolist() for e in expected]


def test_read_clip_strategies(vids: dict[str, str]) -> None:
    u = read_clip(vids["mp4"], 6, strategy="uniform")
    assert u.indices == uniform_indices(N, 6).tolist()
    assert frame_ids(u.frames) == u.indices
    a = read_clip(vids["mp4"], 4, train=True, rng=np.random.default_rng(11))
    b = read_clip(vids["mp4"], 4, train=True, rng=np.random.default_rng(11))
    assert a.indices == b.indices and torch.equal(a.frames, b.frames)
    c = read_clip(vids["mp4"], 4, sampling_rate=4)  # eval default: centred
    assert c.indices == dense_indices(N, 4, 4, clip_idx=0).tolist()


@pytest.mark.parametrize("rotation", [90, 270, 180])
def test_rotated_video_is_upright(tmp_path, rotation: int) -> None:
    raw = np.zeros((3, H, W, 3), np.uint8)
    raw[:, :8, :8] = 255  # marker at the stored top-left
    p = str(tmp_path / f"rot{rotation}.mp4")
    write_video(p, raw, rotation=rotation)
    info = probe(p)
    assert info.rotation == rotation
    expect_hw = (W, H) if rotation in (90, 270) else (H, W)
    assert (info.height, info.width) == expect_hw
    clip = read_frames(p, [0, 2])
    assert tuple(clip.frames.shape[1:3]) == expect_hw
    f = clip.frames[0].float().mean(-1)
    # counter-clockwise display rotation moves the top-left corner to:
    corner = {90: f[-8:, :8], 180: f[-8:, -8:], 270: f[:8, -8:]}[rotation]
    assert corner.mean() > 200 and f[:8, :8].mean() < 50


def test_shared_colour_converter_gives_pyav_pixels(tmp_path) -> None:
    # one converter per thread is reused across files of different sizes and pixel formats
    import av

    rng = np.random.default_rng(1)
    cases = [((3, 16, 24), "yuv420p"), ((3, 40, 32), "yuv444p"), ((2, 16, 24), "yuv444p")]
    for k, (shape, fmt) in enumerate(cases):
        p = str(tmp_path / f"{k}.mp4")
        write_video(p, rng.integers(0, 256, (*shape, 3), dtype=np.uint8), fps=8, pix_fmt=fmt)
        with av.open(p) as container:
            want = np.stack([f.to_ndarray(format="rgb24") for f in container.decode(video=0)])
        got = read_frames(p, range(shape[0])).frames.numpy()
        assert got.shape == want.shape and np.array_equal(got, want)


def _decode_in_child(path: str) -> int:
    return int(read_frames(path, range(4)).frames.shape[0])


def test_decoding_after_fork_does_not_hang(tmp_path) -> None:
    # data-loader workers fork a process that has decoded; FFmpeg converter state kept alive
    # in the parent used to make the children hang in the colour conversion
    import multiprocessing as mp

    p = str(tmp_path / "a.mp4")
    write_video(p, coded_frames(4, 32, 32), fps=8)
    read_frames(p, range(4))  # the parent decodes first
    with mp.get_context("fork").Pool(2) as pool:
        assert pool.map_async(_decode_in_child, [p] * 4).get(timeout=60) == [4] * 4


# ------------------------------------------------------------------------------------------
# failures
# ------------------------------------------------------------------------------------------


def test_missing_path(tmp_path) -> None:
    p = str(tmp_path / "nope" / "missing.mp4")
    for fn in (probe, lambda q: read_frames(q, [0]), read_clip, read_clips):
        with pytest.raises(VideoDecodeError, match="does not exist") as e:
            fn(p)
        assert p in str(e.value) and e.value.path == p
        assert not isinstance(e.value, FileNotFoundError)


def test_text_file_renamed_mp4(tmp_path) -> None:
    p = tmp_path / "notes.mp4"
    p.write_text("these are not the frames you are looking for\n" * 20)
    with pytest.raises(VideoDecodeError, match="notes.mp4.*not a\\s+video"):
        read_clip(str(p), 4)


def test_corrupt_bytes_and_empty_file(tmp_path, vids: dict[str, str]) -> None:
    p = tmp_path / "noise.mp4"
    p.write_bytes(np.random.default_rng(0).integers(0, 256, 20_000, dtype=np.uint8).tobytes())
    with pytest.raises(VideoDecodeError, match="noise.mp4"):
        read_frames(str(p), [0])
    # valid start, index box at the end overwritten with garbage
    data = bytearray(Path(vids["mp4"]).read_bytes())
    data[-600:] = b"\xff" * 600
    q = tmp_path / "badmoov.mp4"
    q.write_bytes(bytes(data))
    with pytest.raises(VideoDecodeError, match="badmoov.mp4"):
        read_frames(str(q), [0])
    e = tmp_path / "empty.mp4"
    e.write_bytes(b"")
    with pytest.raises(VideoDecodeError, match="empty"):
        probe(str(e))
    with pytest.raises(VideoDecodeError, match="directory"):
        probe(str(tmp_path))


def test_truncated_mp4_raises(tmp_path, vids: dict[str, str]) -> None:
    data = Path(vids["mp4"]).read_bytes()
    p = tmp_path / "trunc.mp4"
    p.write_bytes(data[: int(len(data) * 0.4)])
    with pytest.raises(VideoDecodeError, match="trunc.mp4.*truncated"):
        read_clip(str(p), 4)
    with pytest.raises(VideoDecodeError):
        probe(str(p))


def test_truncated_webm_reads_as_shorter_video(tmp_path) -> None:
    big = str(tmp_path / "big.webm")
    noise = np.random.default_rng(0).integers(0, 256, (N, H, W, 3), dtype=np.uint8)
    noise = noise // 2 + coded_frames() // 2  # keep the index readable
    write_video(big, noise)
    data = Path(big).read_bytes()
    p = tmp_path / "trunc.webm"
    p.write_bytes(data[: int(len(data) * 0.4)])
    clip = read_frames(str(p), [0, 5, N - 1])
    last = clip.indices[-1]
    assert clip.indices[:2] == [0, 5] and 5 < last < N - 1  # clamped to what is present
    assert torch.equal(clip.frames[-1], read_frames(str(p), [last]).frames[0])


def test_audio_only_file(tmp_path) -> None:
    p = str(tmp_path / "audio.mp4")
    c = av.open(p, "w")
    s = c.add_stream("aac", rate=16000)
    s.layout = "mono"
    t = np.arange(1024 * 8) / 16000
    samples = (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)[None]
    for k in range(8):
        f = av.AudioFrame.from_ndarray(
            samples[:, k * 1024 : (k + 1) * 1024], format="fltp", layout="mono"
        )
        f.sample_rate, f.pts, f.time_base = 16000, k * 1024, Fraction(1, 16000)
        c.mux(s.encode(f))
    c.mux(s.encode(None))
    c.close()
    with pytest.raises(VideoDecodeError, match="audio.mp4.*no video stream.*audio"):
        read_clip(p, 4)
    with pytest.raises(VideoDecodeError, match="no video stream"):
        probe(p)


@pytest.mark.parametrize("ext", ["avi", "mp4"])
def test_zero_frame_file(tmp_path, ext: str) -> None:
    p = str(tmp_path / f"zero.{ext}")
    write_video(p, np.zeros((0, H, W, 3), np.uint8))
    assert os.path.getsize(p) > 0
    with pytest.raises(VideoDecodeError, match="zero.*frames|no video stream"):
        read_clip(p, 4)
    with pytest.raises(VideoDecodeError, match="zero.*frames|no video stream"):
        probe(p)
