"""Shared by the recipe and model-folder tests: a tiny architecture and colour-class clips."""

from __future__ import annotations

import numpy as np

# a tiny encoder and decoder (add image_size / patch_size / num_frames / tubelet_size)
TINY = {
    "hidden_size": 32,
    "num_hidden_layers": 2,
    "num_attention_heads": 2,
    "intermediate_size": 64,
    "decoder_hidden_size": 16,
    "decoder_num_hidden_layers": 1,
    "decoder_num_attention_heads": 2,
    "decoder_intermediate_size": 32,
}
# three classes a tiny model tells apart in a few steps
COLORS = {"red": (220, 30, 30), "green": (30, 200, 40), "blue": (30, 40, 220)}


def colour_clip(rgb, frames: int, seed: int, height: int = 20, width: int = 20) -> np.ndarray:
    """(frames, height, width, 3) uint8 frames of colour ``rgb`` with noise (std 20)."""
    rng = np.random.default_rng(seed)
    noisy = np.array(rgb)[None, None, None] + rng.normal(0, 20, (frames, height, width, 3))
    return np.clip(noisy, 0, 255).astype(np.uint8)
