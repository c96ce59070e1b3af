"""Frames the video tests write and read back: frame ``i`` shows ``i`` in binary.

Frame ``i`` shows ``i`` in binary as 8 vertical stripes (white = bit set), which survives lossy
codecs, so a decoded frame tells which frame it is. Videos are 64x48 with <= 60 frames.
"""

from __future__ import annotations

import numpy as np
import torch

H, W, N = 48, 64, 60


def coded_frames(n: int = N, h: int = H, w: int = W) -> np.ndarray:
    """(n, h, w, 3) uint8: frame i shows the bits of i as 8 stripes, LSB left."""
    out = np.zeros((n, h, w, 3), np.uint8)
    sw = w // 8
    for i in range(n):
        for b in range(8):
            if (i >> b) & 1:
                out[i, :, b * sw : (b + 1) * sw] = 255
    return out


def frame_ids(frames: torch.Tensor) -> list[int]:
    """Read the index back from decoded (T, H, W, 3) frames."""
    x = frames.float().mean(dim=-1)  # (T, H, W)
    t, h, w = x.shape
    sw = w // 8
    ids = []
    for k in range(t):
        bits = [x[k, 4:-4, b * sw + 2 : (b + 1) * sw - 2].mean() > 128 for b in range(8)]
        ids.append(sum(1 << b for b, on in enumerate(bits) if on))
    return ids
