"""Helpers shared by the processing tests: random videos, tolerances, transformers' processor."""

from __future__ import annotations

import numpy as np

PARITY_TOL = 1e-4  # max abs diff vs transformers (issue 3)

FAST_TOL = 2 / 255  # torch path vs PIL path, before normalisation (issue 3)


def _hf(**kwargs):
    from transformers import VideoMAEImageProcessor as HFImageProcessor

    return HFImageProcessor(**kwargs)


def _video(shape, seed=0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, shape, dtype=np.uint8)


def _max_diff(a, b) -> float:
    return float(np.abs(np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64)).max())
