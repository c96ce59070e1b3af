"""EvalConfig: the options of the multi-view test protocol."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from videomae.inference.views import MERGE_METHODS, Preprocessing, check_view_options
from videomae.runtime import IMAGENET_DEFAULT_MEAN, IMAGENET_DEFAULT_STD

__all__ = ["EvalConfig"]


@dataclass
class EvalConfig:
    """Options of the multi-view test protocol.

    ``num_frames`` / ``crop_size`` default to the model's ``config.num_frames`` /
    ``config.image_size``; ``short_side`` defaults to ``crop_size`` (resize the short side to the
    crop size, then take ``crops`` crops spanning the longer side). ``dtype``: "float32",
    "bfloat16" (autocast) or "float16" (autocast, CUDA). ``out_dir=None`` writes no files.
    """

    clips: int = 1
    crops: int = 1
    num_frames: int | None = None
    sampling_rate: int = 4
    strategy: str = "dense"
    short_side: int | None = None
    crop_size: int | None = None
    batch_size: int = 8
    mean: tuple[float, ...] = IMAGENET_DEFAULT_MEAN
    std: tuple[float, ...] = IMAGENET_DEFAULT_STD
    device: str | None = None
    dtype: str = "float32"
    out_dir: str | Path | None = None
    merge: str = "prob_mean"
    topk: int = 5
    prefetch: int = 2  # videos decoded ahead in a background thread; 0 = decode inline
    extra: dict[str, Any] = field(default_factory=dict)  # free-form, copied into the summary

    @classmethod
    def from_preprocessing(cls, pre: Preprocessing, **overrides: Any) -> EvalConfig:
        """The protocol with a checkpoint's views (clips, crops, sizes, statistics), validated."""
        cfg = cls(
            clips=pre.clips,
            crops=pre.crops,
            num_frames=pre.num_frames,
            sampling_rate=pre.sampling_rate,
            strategy=pre.strategy,
            short_side=pre.short_side,
            crop_size=pre.crop_size,
            mean=pre.mean,
            std=pre.std,
            **overrides,
        )
        cfg.validate()
        return cfg

    def validate(self) -> None:
        """Raise ValueError naming the bad field and the fix."""
        check_view_options(
            self.clips, self.crops, self.sampling_rate, self.strategy, self.mean, self.std
        )
        if self.batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {self.batch_size}")
        if self.dtype not in ("float32", "bfloat16", "float16"):
            raise ValueError(f"dtype must be float32, bfloat16 or float16, got {self.dtype!r}")
        if self.merge not in MERGE_METHODS:
            raise ValueError(f"merge must be one of {MERGE_METHODS}, got {self.merge!r}")
        if self.topk < 1:
            raise ValueError(f"topk must be >= 1, got {self.topk}")
        if self.prefetch < 0:
            raise ValueError(f"prefetch must be >= 0, got {self.prefetch}")

    @property
    def views_per_video(self) -> int:
        return self.clips * self.crops
