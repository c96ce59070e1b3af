"""Tests for videomae.video.write: padding, pixel formats and input checks of write_video."""

from __future__ import annotations

import numpy as np
import pytest
import torch

pytest.importorskip("av")

from _video_frames import coded_frames  # noqa: E402

from videomae.video.decode import probe, read_frames  # noqa: E402
from videomae.video.write import write_video  # noqa: E402


def test_write_video_pads_odd_sizes_and_checks_input(tmp_path) -> None:
    p = str(tmp_path / "odd.mp4")
    write_video(p, torch.from_numpy(coded_frames(4, 47, 63)), fps=10)
    info = probe(p)
    assert (info.width, info.height) == (64, 48)
    with pytest.raises(ValueError, match="uint8"):
        write_video(str(tmp_path / "f.mp4"), np.zeros((2, 8, 8, 3), np.float32))
    with pytest.raises(ValueError, match="extension"):
        write_video(str(tmp_path / "f.xyz"), np.zeros((2, 8, 8, 3), np.uint8))


def _psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = ((a.astype(np.float64) - b.astype(np.float64)) ** 2).mean()
    return float(10 * np.log10(255.0**2 / max(mse, 1e-12)))


def test_write_video_yuv444_keeps_colour_detail(tmp_path) -> None:
    # one-pixel colour checks: yuv420p averages colour over 2x2 blocks, yuv444p keeps it
    rng = np.random.default_rng(0)
    frames = rng.integers(0, 256, (4, 16, 16, 3), dtype=np.uint8)
    lossy, exact = str(tmp_path / "420.mp4"), str(tmp_path / "444.mp4")
    write_video(lossy, frames, fps=8)
    write_video(exact, frames, fps=8, pix_fmt="yuv444p", options={"qp": "0"})
    got_lossy = read_frames(lossy, range(4)).frames.numpy()
    got_exact = read_frames(exact, range(4)).frames.numpy()
    assert _psnr(got_exact, frames) > 40 > _psnr(got_lossy, frames) + 10
    with pytest.raises(ValueError, match="pix_fmt must be one of"):
        write_video(str(tmp_path / "x.mp4"), frames, pix_fmt="rgb24")
    with pytest.raises(ValueError, match="needs one of the codecs"):
        write_video(str(tmp_path / "x.avi"), frames, pix_fmt="yuv444p")
