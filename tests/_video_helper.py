"""Tiny class-folder video trees for the data tests (not a test module; needs av)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from videomae.video.write import write_video


def _video(path: Path, seed: int, frames: int = 12, h: int = 36, w: int = 44) -> Path:
    rng = np.random.default_rng(seed)
    base = rng.integers(0, 255, (h, w, 3), dtype=np.uint8)
    clip = np.stack([np.roll(base, 2 * t, axis=1) for t in range(frames)])
    path.parent.mkdir(parents=True, exist_ok=True)
    write_video(path, clip, fps=10)
    return path


def write_class_folders(root: Path) -> Path:
    """``root/a`` and ``root/b`` with three short videos each, plus an undecodable file."""
    for i in range(3):
        _video(root / "a" / f"v{i}.mp4", i)
        _video(root / "b" / f"w{i}.mp4", 10 + i)
    (root / "corrupt.mp4").write_bytes(b"\x00not a video at all" * 50)
    return root
