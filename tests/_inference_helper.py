"""Shared by the tests of videomae.inference: tiny checkpoints and tiny videos they write."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from conftest import tiny_kwargs

from videomae import VideoMAEConfig, VideoMAEForPreTraining, VideoMAEForVideoClassification
from videomae.inference.classifier import VideoClassifier
from videomae.video.write import write_video

LABELS = ["walk", "run", "jump", "swim", "climb"]


def _classifier_dir(root: Path, seed: int = 0) -> Path:
    torch.manual_seed(seed)
    config = VideoMAEConfig(**tiny_kwargs(id2label=dict(enumerate(LABELS))))
    model = VideoMAEForVideoClassification(config)
    with torch.no_grad():  # a head that gives clearly different scores per class
        model.classifier.weight.normal_(0, 2.0)
    out = root / "clf"
    model.save_pretrained(out)
    return out


def make_assets(tmp_path_factory) -> dict:
    """Three tiny videos, a classifier checkpoint and a pre-training checkpoint."""
    root = tmp_path_factory.mktemp("inference")
    rng = np.random.default_rng(0)
    videos = []
    for i in range(3):
        frames = rng.integers(0, 256, size=(12, 40, 48, 3), dtype=np.uint8)
        path = root / f"v{i}.mp4"
        write_video(path, frames, fps=8)
        videos.append(str(path))
    torch.manual_seed(1)
    pre = VideoMAEForPreTraining(VideoMAEConfig(**tiny_kwargs()))
    pre.save_pretrained(root / "pre")
    return {"root": root, "clf": _classifier_dir(root), "pre": root / "pre", "videos": videos}


def _frames(t: int = 4, h: int = 32, w: int = 32, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, size=(t, h, w, 3), dtype=np.uint8)


def _probabilities_and_batches(clf: VideoClassifier, videos: list[str]) -> tuple[list, list]:
    """The classifier's probabilities for ``videos`` and the batch size of each forward."""
    seen: list[int] = []
    hook = clf.model.register_forward_hook(lambda m, inp, out: seen.append(inp[0].shape[0]))
    try:
        return clf.probabilities(videos), seen
    finally:
        hook.remove()
