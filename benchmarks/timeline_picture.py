"""The README's long-video timeline: the demo's model (its ViT, trained from scratch on the
demo's synthetic motion classes) classifies a generated 75-second video, window by window.

The video strings together fresh synthetic clips (8 frames, 32 x 32, 8 fps: one second each) in
runs of one action at a time, so the true action changes at known seconds. The model is the
demo's architecture and fine-tuning recipe (``videomae.demo``), trained from scratch on 1,000
labelled clips (the demo's control row: enough labels that scratch training works); windows
are one second (8 frames, sampling rate 1) side by side. Prints the per-window accuracy
against the known actions and writes ``docs/images/long_video_timeline.png``.

    PYTHONPATH=src .venv/bin/python benchmarks/timeline_picture.py [--steps 600]
"""

from __future__ import annotations

import argparse
import dataclasses
import tempfile
from pathlib import Path

import numpy as np
import torch

from videomae import demo
from videomae.data.synthetic import ACTIONS, render_clip
from videomae.inference.classifier import VideoClassifier
from videomae.video.write import write_video
from videomae.viz.timeline import plot_timeline

# (action, seconds) runs of the long video
STORY = [
    ("move_left", 15),
    ("move_up", 10),
    ("move_right", 20),
    ("move_down", 10),
    ("move_left", 20),
]
OUT = Path(__file__).resolve().parents[1] / "docs" / "images" / "long_video_timeline.png"


def long_video(path: Path, s: demo.DemoSettings, seed: int) -> list[str]:
    """Write the story as one video; returns the true action of each second."""
    rng = np.random.default_rng(seed + 1000)
    clips, truth = [], []
    for action, seconds in STORY:
        for _ in range(seconds):
            clips.append(render_clip(ACTIONS.index(action), s.num_frames, s.size, rng, **s.style))
            truth.append(action)
    write_video(path, np.concatenate(clips), fps=s.fps, pix_fmt="yuv444p", options={"qp": "0"})
    return truth


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--steps", type=int, default=600, help="fine-tuning steps")
    p.add_argument("--labels", type=int, default=1000, help="labelled training clips")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", type=Path, default=OUT)
    args = p.parse_args()
    s = dataclasses.replace(
        demo.SETTINGS["default"], num_unlabeled=0, num_train=args.labels, num_val=100,
        num_test=0, finetune_steps=args.steps, finetune_warmup=args.steps // 10,
    )  # fmt: skip
    with tempfile.TemporaryDirectory() as d:
        root = Path(d)
        data = demo._generate_data(root, s, args.seed, workers=2)
        common = demo._common_options(
            s, str(root / "data"), seed=args.seed, progress=False, workers=2
        )
        final = demo.finetune(demo._finetune_config(s, data, root, common, "scratch", None))
        video = root / "story.mp4"
        truth = long_video(video, s, args.seed)
        clf = VideoClassifier.from_pretrained(final, sampling_rate=s.sampling_rate)
        wins = list(clf.windows(video, top_k=1))
    right = sum(w.labels[0][0] == truth[min(int(w.start_s), len(truth) - 1)] for w in wins)
    print(f"{len(wins)} windows; argmax = true action in {right} ({100 * right / len(wins):.0f}%)")
    scores = torch.stack([w.value for w in wins])  # (W, K)
    plot_timeline(
        args.out, [w.start_s for w in wins], [w.end_s for w in wins], scores, clf.labels, top=4,
        title="demo model (scratch, 1,000 labels) on a 75 s generated video: " + " → ".join(
            f"{a.replace('move_', '')} {n}s" for a, n in STORY
        ),
    )  # fmt: skip
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
