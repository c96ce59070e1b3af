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
    "PRESETS": "videomae.presets",
    "VideoMAEModel": "videomae.modeling.models",
    "VideoMAEForPreTraining": "videomae.modeling.models",
    "VideoMAEForVideoClassification": "videomae.modeling.models",
    "VideoMAEPreTrainedModel": "videomae.modeling.models",
    "VideoMAEImageProcessor": "videomae.processing.image_processor",
    "VideoMAEImageProcessorPil": "videomae.processing.image_processor",
    "VideoMAEVideoProcessor": "videomae.processing.video_processor",
    "BatchFeature": "videomae.processing.batch",
    "resize_short_side": "videomae.processing.ops",
    "center_crop": "videomae.processing.ops",
    "spatial_crops": "videomae.processing.ops",
    "normalize": "videomae.processing.ops",
    "VideoDecodeError": "videomae.errors",
    "VideoInfo": "videomae.video.decode",
    "Clip": "videomae.video.decode",
    "probe": "videomae.video.decode",
    "read_frames": "videomae.video.decode",
    "read_clip": "videomae.video.decode",
    "read_clips": "videomae.video.decode",
    "write_video": "videomae.video.write",
    "CheckpointError": "videomae.errors",
    "convert_checkpoint": "videomae.checkpoints.convert",
    "tube_mask": "videomae.masking",
    "random_mask": "videomae.masking",
    "running_cell_mask": "videomae.masking",
    "ModelFolderCallback": "videomae.trainer_callback",
    "VideoClassifier": "videomae.inference.classifier",
    "VideoEmbedder": "videomae.inference.embedder",
    "write_model_folder": "videomae.folder",
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
