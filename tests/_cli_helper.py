"""Checkpoints and videos the CLI tests run on, written by the tests (not a test module)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch
from conftest import tiny_kwargs

from videomae import VideoMAEConfig, VideoMAEForPreTraining, VideoMAEForVideoClassification
from videomae.video.write import write_video

LABELS = ["walk", "run", "jump"]
HUB_ID = "MCG-NJU/videomae-base-finetuned-kinetics"


def make_assets(root: Path) -> dict:
    """Three tiny videos (one per label folder), a classifier and a pre-training checkpoint."""
    rng = np.random.default_rng(0)
    videos = []
    for i in range(3):
        path = root / "videos" / LABELS[i] / f"v{i}.mp4"
        path.parent.mkdir(parents=True)
        write_video(path, rng.integers(0, 256, size=(12, 40, 48, 3), dtype=np.uint8), fps=8)
        videos.append(str(path))
    torch.manual_seed(0)
    clf = VideoMAEForVideoClassification(
        VideoMAEConfig(**tiny_kwargs(id2label=dict(enumerate(LABELS))))
    )
    clf.save_pretrained(root / "clf")
    VideoMAEForPreTraining(VideoMAEConfig(**tiny_kwargs())).save_pretrained(root / "pre")
    return {"root": root, "clf": str(root / "clf"), "pre": str(root / "pre"), "videos": videos}


def _env() -> dict[str, str]:
    env = dict(os.environ, HF_HUB_OFFLINE="1")
    src = str(Path(__file__).resolve().parents[1] / "src")
    env["PYTHONPATH"] = src + os.pathsep + env.get("PYTHONPATH", "")
    return env
