"""A checkpoint's preprocessing: from its ``preprocessor_config.json``, else its ``config.json``.

With a processor file: its short side, crop size and mean/std (read with
:mod:`videomae.processing`). Without one: the model's ``image_size`` for both sizes and the
ImageNet mean/std of the original releases.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from videomae.errors import CheckpointError
from videomae.hub import resolve_file
from videomae.inference.views import Preprocessing, square_size
from videomae.processing.config import PROCESSOR_CONFIG_NAME
from videomae.processing.image_processor import VideoMAEImageProcessor
from videomae.runtime import IMAGENET_DEFAULT_MEAN, IMAGENET_DEFAULT_STD

__all__ = ["checkpoint_preprocessing", "read_preprocessor"]


def read_preprocessor(id_or_dir: str | os.PathLike) -> VideoMAEImageProcessor | None:
    """The checkpoint's ``preprocessor_config.json`` as a processor, or None when it has none."""
    path = Path(id_or_dir)
    if path.is_dir():
        found: Path | None = path / PROCESSOR_CONFIG_NAME
        if not found.is_file():
            return None
    elif path.is_file():
        return None  # an original .pth file carries no preprocessing settings
    else:
        try:
            found = resolve_file(id_or_dir, PROCESSOR_CONFIG_NAME, required=False)
        except CheckpointError:
            return None  # the model came from the cache; its processor file did not
        if found is None:
            return None
    return VideoMAEImageProcessor.from_pretrained(found)


def _from_processor(
    proc: VideoMAEImageProcessor, image_size: int
) -> tuple[int, int, tuple[float, ...], tuple[float, ...]]:
    """(short side, crop size, mean, std) of a processor, checked against the model's size."""
    crop = int(proc.crop_size["height"]) if proc.do_center_crop else image_size
    if proc.do_center_crop and proc.crop_size["height"] != proc.crop_size["width"]:
        raise ValueError(
            f"preprocessor_config.json has a non-square crop_size {proc.crop_size}; "
            "inference uses square crops of config.image_size"
        )
    size = proc.size
    short = int(size["shortest_edge"]) if "shortest_edge" in size else min(size.values())
    if proc.do_normalize:
        mean, std = tuple(proc.image_mean), tuple(proc.image_std)
    else:
        mean, std = (0.0,), (1.0,)
    if crop != image_size:
        raise ValueError(
            f"preprocessor_config.json crops {crop}x{crop} but the model's config.json has "
            f"image_size={image_size}; fix one of the two files so they agree"
        )
    return short, crop, mean, std


def checkpoint_preprocessing(
    id_or_dir: str | os.PathLike,
    config: Any,
    *,
    clips: int,
    crops: int,
    sampling_rate: int | None,
    strategy: str | None,
) -> Preprocessing:
    """Sizes and statistics from preprocessor_config.json, else from the model config.

    ``sampling_rate`` / ``strategy`` default to the config's (else 4, "dense").
    """
    image_size = square_size(config.image_size, "config.image_size", "inference uses square crops")
    proc = read_preprocessor(id_or_dir)
    if proc is None:
        short, crop = image_size, image_size
        mean, std = IMAGENET_DEFAULT_MEAN, IMAGENET_DEFAULT_STD
        source = "config.json"
    else:
        short, crop, mean, std = _from_processor(proc, image_size)
        source = "preprocessor_config.json"
    return Preprocessing(
        num_frames=int(config.num_frames),
        crop_size=crop,
        short_side=short,
        mean=tuple(float(v) for v in mean),
        std=tuple(float(v) for v in std),
        sampling_rate=int(sampling_rate or getattr(config, "sampling_rate", None) or 4),
        strategy=str(strategy or getattr(config, "sampling_strategy", None) or "dense"),
        clips=int(clips),
        crops=int(crops),
        source=source,
    )
