"""EvalConfig: the options of the multi-view test protocol."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from videomae.errors import InputError
from videomae.inference.views import MERGE_METHODS, Preprocessing, check_sizes, check_view_options
from videomae.limits import BATCH, Range, check_choice, check_range
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
        """Raise InputError naming the bad field and the fix."""
        check_view_options(
            self.clips, self.crops, self.sampling_rate, self.strategy, self.mean, self.std
        )
        check_sizes(self.num_frames, self.crop_size, self.short_side)
        check_range("batch_size", self.batch_size, BATCH, InputError)
        check_choice("dtype", self.dtype, ("float32", "bfloat16", "float16"), InputError)
        check_choice("merge", self.merge, MERGE_METHODS, InputError)
        check_range("topk", self.topk, Range(1, 10**6, integer=True), InputError)
        check_range("prefetch", self.prefetch, Range(0, 64, integer=True), InputError)

    @property
    def views_per_video(self) -> int:
        return self.clips * self.crops
