"""The streaming window reader: exact windows for CFR, sane ones for VFR, one pass, padding."""

from __future__ import annotations

from contextlib import contextmanager

import numpy as np
import pytest

from videomae.errors import InputError, VideoDecodeError
from videomae.video import windows as W
from videomae.video.decode import read_clip
from videomae.video.windows import plan_windows, read_windows
from videomae.video.write import write_video


def _ramp(n: int, size: int = 16) -> np.ndarray:
    return np.stack([np.full((size, size, 3), 2 * i, np.uint8) for i in range(n)])


@pytest.fixture(scope="module")
def cfr(tmp_path_factory):
    path = tmp_path_factory.mktemp("win") / "cfr.mp4"
    write_video(path, _ramp(100), fps=25)
    return path


def test_cfr_windows_side_by_side_are_exact(cfr) -> None:
    wins = list(read_windows(cfr, 4, sampling_rate=4))
    assert len(wins) == 7  # ceil(100 / 16): the last one reaches the end
    for k, w in enumerate(wins):
        assert w.index == k
        assert w.start_s == pytest.approx(16 * k / 25, abs=1e-9)
        frames = [min(16 * k + 4 * j, 99) for j in range(4)]
        assert w.timestamps == pytest.approx([f / 25 for f in frames], abs=1e-9)
        assert tuple(w.frames.shape) == (4, 16, 16, 3)
        # the frame's content is its index (2 * i grey, lossy codec)
        assert np.abs(w.frames[:, 0, 0, 0].numpy().astype(int) - [2 * f for f in frames]).max() <= 3
    assert [w.end_s for w in wins[:-1]] == pytest.approx([w.start_s for w in wins[1:]])
    assert wins[-1].end_s == pytest.approx(4.0)  # the video's end, not start + span


def test_cfr_overlapping_stride(cfr) -> None:
    wins = list(read_windows(cfr, 4, sampling_rate=4, stride_s=8 / 25))
    assert len(wins) == 12  # window 11 (frames 88..103) is the first to reach frame 99
    for k, w in enumerate(wins):
        first = 8 * k
        assert w.timestamps[0] == pytest.approx(first / 25, abs=1e-9)
        assert w.end_s == pytest.approx(min(first + 16, 100) / 25)


def test_window_frames_spreads_samples(cfr) -> None:
    (first, *_) = list(read_windows(cfr, 4, window_frames=32))
    assert first.timestamps == pytest.approx([0, 8 / 25, 16 / 25, 24 / 25], abs=1e-9)
    assert first.end_s == pytest.approx(32 / 25)


def test_vfr_windows_are_sane(tmp_path) -> None:
    gaps = np.random.default_rng(0).uniform(0.02, 0.09, 79)
    ts = np.concatenate([[0.0], np.cumsum(gaps)])
    path = tmp_path / "vfr.mp4"
    write_video(path, _ramp(80), fps=20, timestamps=ts.tolist())
    wins = list(read_windows(path, 4, sampling_rate=4))
    plan = plan_windows(len(ts) / (ts[-1] + gaps.mean()), 4)  # the stream's average rate
    assert len(wins) >= 2 and wins[0].start_s == 0.0
    for w in wins:
        assert w.end_s > w.start_s
        assert w.timestamps == sorted(w.timestamps)
        for j, t in enumerate(w.timestamps):  # the frame on screen at each sample time
            want = w.start_s + j * (w.end_s - w.start_s) / 4 if w is not wins[-1] else None
            assert min(abs(ts - t)) < 1e-3  # a real frame's timestamp
            if want is not None:
                assert t <= want + 1e-6 and want - t < 0.09 + 1e-6
    assert [w.end_s for w in wins[:-1]] == pytest.approx([w.start_s for w in wins[1:]])
    assert wins[-1].end_s >= ts[-1]
    assert wins[-1].start_s < ts[-1]
    assert plan.span_s == pytest.approx(wins[0].end_s, rel=0.2)


def test_short_video_gives_one_padded_window_like_read_clip(tmp_path) -> None:
    path = tmp_path / "short.mp4"
    write_video(path, _ramp(6), fps=25)
    (win,) = list(read_windows(path, 4, sampling_rate=4))
    clip = read_clip(path, 4, sampling_rate=4)
    assert clip.indices == [0, 4, 5, 5]
    assert win.timestamps == pytest.approx([0, 4 / 25, 5 / 25, 5 / 25])
    assert np.array_equal(win.frames.numpy(), clip.frames.numpy())
    assert (win.start_s, win.end_s) == pytest.approx((0.0, 6 / 25))


def test_one_forward_pass_without_seeking(cfr, monkeypatch) -> None:
    real = W.open_video
    calls: list[str] = []

    class Watched:
        def __init__(self, container):
            self.container = container

        def seek(self, *a, **k):
            calls.append("seek")

        def demux(self, *a, **k):
            calls.append("demux")
            return self.container.demux(*a, **k)

    @contextmanager
    def watched(path):
        with real(path) as (container, stream):
            yield Watched(container), stream

    monkeypatch.setattr(W, "open_video", watched)
    assert len(list(read_windows(cfr, 4, stride_s=0.2))) == 18  # ends 0.64 + 0.2k >= 4
    assert calls == ["demux"]  # one pass from the start, no seek


def test_bad_options_and_files(cfr, tmp_path) -> None:
    with pytest.raises(InputError, match="stride"):
        next(read_windows(cfr, 4, stride_s=0))
    with pytest.raises(InputError, match="window_frames"):
        next(read_windows(cfr, 4, window_frames=0))
    with pytest.raises(VideoDecodeError, match="does not exist"):
        next(read_windows(tmp_path / "missing.mp4", 4))
