"""What the classifier and embedder accept: a path, a frames array, a batch of them, or a list."""

from __future__ import annotations

import os
from typing import Any

import numpy as np
import torch

__all__ = ["VideoInput", "name_of", "split_inputs"]

VideoInput = str | os.PathLike | np.ndarray | torch.Tensor


def split_inputs(inputs: Any) -> tuple[list[Any], bool]:
    """A path, a frames array, a (B, T, H, W, C) batch or a list -> (single inputs, one given?)."""
    if isinstance(inputs, (str, os.PathLike)):
        return [inputs], True
    if isinstance(inputs, (np.ndarray, torch.Tensor)):
        if inputs.ndim == 4:
            return [inputs], True
        if inputs.ndim == 5:
            return list(inputs), False
        raise ValueError(
            f"an array input must be one video (T, H, W, C) or a batch (B, T, H, W, C), got "
            f"shape {tuple(inputs.shape)}"
        )
    if isinstance(inputs, (list, tuple)):
        for item in inputs:
            if not isinstance(item, (str, os.PathLike, np.ndarray, torch.Tensor)):
                raise TypeError(
                    "each input must be a video path or a uint8 (T, H, W, C) frames array, got "
                    f"{type(item).__name__}"
                )
        return list(inputs), False
    raise TypeError(
        "inputs must be a video path, a uint8 (T, H, W, C) frames array, or a list of these; "
        f"got {type(inputs).__name__}"
    )


def name_of(item: Any, index: int) -> str:
    """How results and failures name an input: its path, or ``<frames #index>``."""
    return os.fspath(item) if isinstance(item, (str, os.PathLike)) else f"<frames #{index}>"
