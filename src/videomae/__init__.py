"""VideoMAE end to end: transformers-compatible models, video decoding, and training recipes.

The public names mirror transformers' (``VideoMAEConfig``, ``VideoMAEModel``, ...), so user code
can switch by changing one import. Heavy submodules load lazily on first use.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

# public name -> submodule that defines it
_EXPORTS: dict[str, str] = {
    "VideoMAEConfig": "videomae.config",
    "PRESETS": "videomae.config",
    "VideoMAEModel": "videomae.modeling.models",
    "VideoMAEForPreTraining": "videomae.modeling.models",
    "VideoMAEForVideoClassification": "videomae.modeling.models",
    "VideoMAEPreTrainedModel": "videomae.modeling.models",
    "VideoMAEImageProcessor": "videomae.processing",
    "VideoMAEImageProcessorPil": "videomae.processing",
    "VideoMAEVideoProcessor": "videomae.processing",
    "BatchFeature": "videomae.processing",
    "resize_short_side": "videomae.processing",
    "center_crop": "videomae.processing",
    "spatial_crops": "videomae.processing",
    "normalize": "videomae.processing",
    "VideoDecodeError": "videomae.video",
    "VideoInfo": "videomae.video",
    "Clip": "videomae.video",
    "probe": "videomae.video",
    "read_frames": "videomae.video",
    "read_clip": "videomae.video",
    "read_clips": "videomae.video",
    "write_video": "videomae.video",
    "CheckpointError": "videomae.checkpoints",
    "convert_checkpoint": "videomae.convert",
    "tube_mask": "videomae.masking",
    "random_mask": "videomae.masking",
    "running_cell_mask": "videomae.masking",
    "VideoClassifier": "videomae.inference.classifier",
    "VideoEmbedder": "videomae.inference.embedder",
}

__all__ = sorted(_EXPORTS) + ["__version__"]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'videomae' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
