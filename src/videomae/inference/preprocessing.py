"""A checkpoint's preprocessing: from its processor file, else its ``config.json``.

With a processor file (``preprocessor_config.json``, else transformers'
``video_preprocessor_config.json``): its short side, crop size, mean/std and, when recorded,
the frame count, sampling rate and strategy the model was trained with. Without one: the model's
``image_size`` for both sizes and the ImageNet mean/std of the original releases. An explicit
argument wins over the folder's value, with a warning when it changes what the model saw.
"""

from __future__ import annotations

import logging
import os
from typing import Any

from videomae.folder import read_processor
from videomae.inference.views import Preprocessing, square_size
from videomae.processing.image_processor import VideoMAEImageProcessor
from videomae.runtime import IMAGENET_DEFAULT_MEAN, IMAGENET_DEFAULT_STD

__all__ = ["checkpoint_preprocessing"]

logger = logging.getLogger("videomae")


def _choose(name: str, given: Any, trained: Any, fallback: Any) -> Any:
    """``given`` when set (warning when it differs from ``trained``), else ``trained``/``fallback``."""
    if given is None:
        return trained if trained is not None else fallback
    if trained is not None and given != trained:
        logger.warning(
            "%s=%s differs from the %s the model was trained with (its preprocessor_config.json); "
            "predictions may be worse",
            name,
            given,
            trained,
        )
    return given


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
    """Sizes and statistics from the processor file, else from the model config.

    ``sampling_rate`` / ``strategy`` default to the processor file's, else the config's, else
    4 and "dense". ``config.num_frames`` is compared with the recorded frame count.
    """
    image_size = square_size(config.image_size, "config.image_size", "inference uses square crops")
    proc: VideoMAEImageProcessor | None = read_processor(id_or_dir)
    if proc is None:
        short, crop = image_size, image_size
        mean, std = IMAGENET_DEFAULT_MEAN, IMAGENET_DEFAULT_STD
        source = "config.json"
    else:
        short, crop, mean, std = _from_processor(proc, image_size)
        source = "preprocessor_config.json"
    trained_rate = proc.frame_sampling_rate if proc is not None else None
    trained_strategy = proc.frame_sampling_strategy if proc is not None else None
    if proc is not None and proc.num_frames is not None:
        _choose("num_frames", int(config.num_frames), proc.num_frames, None)
    return Preprocessing(
        num_frames=int(config.num_frames),
        crop_size=crop,
        short_side=short,
        mean=tuple(float(v) for v in mean),
        std=tuple(float(v) for v in std),
        sampling_rate=int(
            _choose(
                "sampling_rate",
                sampling_rate,
                trained_rate,
                getattr(config, "sampling_rate", None) or 4,
            )
        ),
        strategy=str(
            _choose(
                "strategy",
                strategy,
                trained_strategy,
                getattr(config, "sampling_strategy", None) or "dense",
            )
        ),
        clips=int(clips),
        crops=int(crops),
        source=source,
    )
