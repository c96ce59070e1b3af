"""The README's long-video timeline, drawn by the demo's model: the test clips of `make demo`
stitched one action after another (8 clips of move_left, then move_up, move_right, move_down;
8 frames each, lossless H.264 at 8 fps: 32 s), then `videomae classify --windows --timeline`.

    make demo                                   # writes demo_out/
    .venv/bin/python benchmarks/demo_timeline.py docs/images/long_video_timeline_demo.png

Each window is one 8-frame clip, so the true action of every second is known; the script prints
how many windows the model's top class gets right.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from videomae.inference.classifier import VideoClassifier
from videomae.video.decode import read_frames
from videomae.video.write import write_video

ORDER = ("move_left", "move_up", "move_right", "move_down")
CLIPS_PER_ACTION = 8
FPS = 8.0


def _stitch(data: Path, out: Path) -> list[str]:
    """Write the stitched video; returns the true action of each 8-frame clip."""
    names = (data / "labels.txt").read_text().split()
    by_name: dict[str, list[Path]] = {}
    for line in (data / "test.txt").read_text().splitlines():
        path, label = line.split()
        by_name.setdefault(names[int(label)], []).append(data / path)
    frames, truth = [], []
    for name in ORDER:
        for path in by_name[name][:CLIPS_PER_ACTION]:
            frames.append(np.asarray(read_frames(path, list(range(8))).frames))
            truth.append(name)
    lossless = {"pix_fmt": "yuv444p", "options": {"qp": "0", "preset": "veryfast"}}
    write_video(out, np.concatenate(frames), fps=FPS, codec="libx264", **lossless)
    return truth


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", help="the timeline PNG to write")
    parser.add_argument("--demo", default="demo_out", help="the folder `make demo` wrote")
    args = parser.parse_args()
    demo = Path(args.demo)
    model = demo / "finetune-pretrained" / "final"
    with tempfile.TemporaryDirectory() as tmp:
        video = Path(tmp) / "long_demo.mp4"
        truth = _stitch(demo / "data", video)
        subprocess.run(
            [
                sys.executable,
                "-m",
                "videomae",
                "classify",
                str(video),
                "--model",
                str(model),
                "--windows",
                "--timeline",
                args.out,
                "-q",
            ],  # fmt: skip
            check=True,
            stdout=subprocess.DEVNULL,
        )
        windows = list(VideoClassifier.from_pretrained(model, progress=False).windows(video))
    right = sum(w.labels[0][0] == t for w, t in zip(windows, truth))
    print(f"{len(windows)} windows, top class right in {right}; wrote {args.out}")


if __name__ == "__main__":
    main()
