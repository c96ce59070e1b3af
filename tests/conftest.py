"""Shared fixtures: tiny configs keep the suite fast on 2 CPU cores."""

from __future__ import annotations

import os

import pytest
import torch

# Tests must never reach the network: hub look-ups fail fast and clearly instead.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
torch.set_num_threads(max(1, min(2, torch.get_num_threads())))

TINY = dict(
    hidden_size=32,
    num_hidden_layers=2,
    num_attention_heads=4,
    intermediate_size=64,
    image_size=32,
    patch_size=8,
    num_frames=4,
    tubelet_size=2,
    decoder_hidden_size=16,
    decoder_num_hidden_layers=2,
    decoder_num_attention_heads=2,
    decoder_intermediate_size=32,
)


def tiny_kwargs(**overrides) -> dict:
    return {**TINY, **overrides}


@pytest.fixture
def tiny_config():
    from videomae import VideoMAEConfig

    return VideoMAEConfig(**TINY)


def random_mask(batch: int, num_tokens: int, num_masked: int, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    order = torch.rand(batch, num_tokens, generator=g).argsort(dim=1)
    mask = torch.zeros(batch, num_tokens, dtype=torch.bool)
    mask.scatter_(1, order[:, :num_masked], True)
    return mask
