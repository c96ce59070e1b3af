"""A classifier whose head reads the colour of the video, and videos whose colour changes at
known times (for the long-video tests; not a test module)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from conftest import tiny_kwargs

from videomae import VideoMAEConfig, VideoMAEForVideoClassification
from videomae.video.write import write_video

COLOURS = {"red": (255, 0, 0), "green": (0, 255, 0), "blue": (0, 0, 255)}


def colour_classifier(root: Path) -> Path:
    """A tiny classifier built so that class k = colour channel k: the patch embedding averages
    each colour channel into feature k, the blocks are identities (their output projections are
    zero) and the head reads features 0..2."""
    config = VideoMAEConfig(**tiny_kwargs(id2label=dict(enumerate(COLOURS))))
    model = VideoMAEForVideoClassification(config)
    with torch.no_grad():
        proj = model.videomae.embeddings.patch_embeddings.projection
        proj.weight.zero_()
        proj.bias.zero_()
        per_patch = proj.weight[0, 0].numel()  # tubelet * patch * patch
        for c in range(3):
            proj.weight[c, c].fill_(1.0 / per_patch)
        for layer in model.videomae.encoder.layer:
            for lin in (layer.attention.output.dense, layer.output.dense):
                lin.weight.zero_()
                lin.bias.zero_()
        model.classifier.weight.zero_()
        model.classifier.bias.zero_()
        for c in range(3):
            model.classifier.weight[c, c] = 10.0
    out = root / "colour_clf"
    model.save_pretrained(out)
    return out


def colour_video(path: Path, segments: list[tuple[str, int]], fps: float, size=(24, 40)) -> Path:
    """A video of solid colours: ``segments`` of (colour name, number of frames), in order."""
    frames = []
    for name, n in segments:
        frame = np.zeros((*size, 3), np.uint8)
        frame[...] = COLOURS[name]
        frames += [frame] * n
    write_video(path, np.stack(frames), fps=fps)
    return path
