"""The README's long-video timeline: ``videomae classify --windows --timeline`` on a generated
150-second video whose content changes at known times.

The model is a tiny VideoMAE classifier (hidden 32, 2 layers, 4 frames of 32 x 32) whose
weights are set, not trained, so that it reads colour: the patch embedding averages each colour
channel into one feature, the blocks are identities and the head scores red, green and blue
(the same construction as the tests' ``tests/_windows_helper.py``). The video (8 fps, 32 x 40)
is red, cross-fades to green, turns blue, cross-fades back to red, with noise; windows are 2 s
(4 frames every 4) side by side, so the picture shows what the timeline draws when the true
class changes abruptly and gradually. Prints each window's top class against the colour at its
centre and writes ``docs/images/long_video_timeline.png``.

    PYTHONPATH=src .venv/bin/python benchmarks/timeline_picture.py
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np
import torch

from videomae import VideoMAEConfig, VideoMAEForVideoClassification
from videomae.inference.classifier import VideoClassifier
from videomae.video.write import write_video
from videomae.viz.timeline import plot_timeline

FPS = 8
NAMES = ["red", "green", "blue"]
# (second, colour mix) key points; the colour is interpolated between them
KEYS = [(0, (1, 0, 0)), (40, (1, 0, 0)), (50, (0, 1, 0)), (90, (0, 1, 0)), (91, (0, 0, 1)),
        (130, (0, 0, 1)), (140, (1, 0, 0)), (150, (1, 0, 0))]  # fmt: skip
OUT = Path(__file__).resolve().parents[1] / "docs" / "images" / "long_video_timeline.png"


def colour_model(out: Path) -> Path:
    config = VideoMAEConfig(
        hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=64,
        image_size=32, patch_size=8, num_frames=4, tubelet_size=2,
        id2label=dict(enumerate(NAMES)),
    )  # fmt: skip
    model = VideoMAEForVideoClassification(config)
    with torch.no_grad():
        proj = model.videomae.embeddings.patch_embeddings.projection
        proj.weight.zero_()
        proj.bias.zero_()
        for c in range(3):
            proj.weight[c, c].fill_(1.0 / proj.weight[0, 0].numel())
        for layer in model.videomae.encoder.layer:
            for lin in (layer.attention.output.dense, layer.output.dense):
                lin.weight.zero_()
                lin.bias.zero_()
        model.classifier.weight.zero_()
        model.classifier.bias.zero_()
        for c in range(3):
            model.classifier.weight[c, c] = 1.5
    model.save_pretrained(out)
    return out


def mix_at(t: float) -> np.ndarray:
    times = [k for k, _ in KEYS]
    return np.array([np.interp(t, times, [m[c] for _, m in KEYS]) for c in range(3)])


def story_video(path: Path) -> Path:
    rng = np.random.default_rng(0)
    n = KEYS[-1][0] * FPS
    frames = np.empty((n, 32, 40, 3), np.uint8)
    for i in range(n):
        base = 40 + 180 * mix_at(i / FPS)
        frames[i] = np.clip(base + rng.normal(0, 40, (32, 40, 3)), 0, 255).astype(np.uint8)
    write_video(path, frames, fps=FPS, pix_fmt="yuv444p")
    return path


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", type=Path, default=OUT)
    args = p.parse_args()
    with tempfile.TemporaryDirectory() as d:
        clf = VideoClassifier.from_pretrained(colour_model(Path(d) / "model"))
        video = story_video(Path(d) / "story.mp4")
        wins = list(clf.windows(video, top_k=1))
    truth = [NAMES[int(np.argmax(mix_at((w.start_s + w.end_s) / 2)))] for w in wins]
    right = sum(w.labels[0][0] == t for w, t in zip(wins, truth))
    print(f"{len(wins)} windows; top class = dominant colour in {right}")
    plot_timeline(
        args.out, [w.start_s for w in wins], [w.end_s for w in wins],
        torch.stack([w.value for w in wins]), clf.labels, top=3,
        title="a colour-reading tiny model on a generated 150 s video (2 s windows)",
        colours={"red": "tab:red", "green": "tab:green", "blue": "tab:blue"},
    )  # fmt: skip
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
