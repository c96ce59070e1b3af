"""Patch layout: video <-> one vector per tubelet, and the per-patch normalised target.

Token order is t-major, then h, then w (as the Conv3d patch embedding flattens). A patch vector
is ordered (tubelet, patch_h, patch_w, channel), channel fastest, which is the layout of
transformers' pre-training targets and of the decoder head's output.
"""

from __future__ import annotations

import torch


def patchify(pixel_values: torch.Tensor, patch_size: int, tubelet_size: int) -> torch.Tensor:
    """(B, T, C, H, W) -> (B, N, ts*p*p*C) with N = (T/ts)(H/p)(W/p)."""
    b, t, c, h, w = pixel_values.shape
    p, ts = patch_size, tubelet_size
    x = pixel_values.reshape(b, t // ts, ts, c, h // p, p, w // p, p)
    x = x.permute(0, 1, 4, 6, 2, 5, 7, 3)  # (B, t, h, w, ts, p, p, C)
    return x.reshape(b, (t // ts) * (h // p) * (w // p), ts * p * p * c)


def unpatchify(
    patches: torch.Tensor,
    patch_size: int,
    tubelet_size: int,
    num_frames: int,
    height: int,
    width: int,
    num_channels: int = 3,
) -> torch.Tensor:
    """Inverse of :func:`patchify`: (B, N, ts*p*p*C) -> (B, T, C, H, W)."""
    b = patches.shape[0]
    p, ts, c = patch_size, tubelet_size, num_channels
    t, h, w = num_frames // ts, height // p, width // p
    x = patches.reshape(b, t, h, w, ts, p, p, c)
    x = x.permute(0, 1, 4, 7, 2, 5, 3, 6)  # (B, t, ts, C, h, p, w, p)
    return x.reshape(b, num_frames, c, height, width)


def normalize_patches(patches: torch.Tensor, channels: int, eps: float = 1e-6) -> torch.Tensor:
    """Per-patch, per-channel standardisation (the paper's normalized-pixel target).

    (B, N, ts*p*p*C) -> same shape; statistics over the ts*p*p pixels of each channel, unbiased
    variance, ``eps`` added to the standard deviation (as the original release and transformers).
    """
    b, n, d = patches.shape
    x = patches.reshape(b, n, d // channels, channels)
    mean = x.mean(dim=-2, keepdim=True)
    std = x.var(dim=-2, unbiased=True, keepdim=True).sqrt()
    return ((x - mean) / (std + eps)).reshape(b, n, d)
