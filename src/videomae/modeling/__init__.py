"""VideoMAE modules: embeddings -> encoder blocks -> (decoder) -> head."""

from videomae.modeling.models import (
    VideoMAEForPreTraining,
    VideoMAEForVideoClassification,
    VideoMAEModel,
    VideoMAEPreTrainedModel,
)

__all__ = [
    "VideoMAEForPreTraining",
    "VideoMAEForVideoClassification",
    "VideoMAEModel",
    "VideoMAEPreTrainedModel",
]
