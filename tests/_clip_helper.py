"""Clips shared by the transform and RandAugment tests (not a test module)."""

from __future__ import annotations

import torch


def _gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _same_frames_clip(t: int = 4, h: int = 36, w: int = 44, dtype=torch.uint8) -> torch.Tensor:
    frame = torch.randint(0, 256, (1, 3, h, w), generator=_gen(99), dtype=torch.uint8)
    clip = frame.expand(t, -1, -1, -1).contiguous()
    return clip if dtype == torch.uint8 else (clip.float() / 255 - 0.45) / 0.225


def _gradient_image() -> torch.Tensor:
    yy, xx = torch.meshgrid(torch.arange(48.0), torch.arange(64.0), indexing="ij")
    return torch.stack([xx * 3, yy * 5, xx + yy * 2]).clamp(0, 255).to(torch.uint8)  # (3, H, W)


def _assert_frames_equal(out: torch.Tensor) -> None:
    for i in range(1, out.shape[0]):
        assert torch.equal(out[0], out[i])
