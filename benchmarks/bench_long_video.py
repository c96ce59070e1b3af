"""Benchmark: classifying a long video window by window (``VideoClassifier.windows``).

Questions: is memory flat in the video's length (the reader streams through the file once),
and how many seconds of video are classified per wall-clock second?

Generated videos (H.264, 25 fps, 160 x 120, a moving pattern whose colour changes every 20 s)
of ``--minutes`` each (default 1 and 10) are classified in a fresh interpreter each; the
worker reports its peak RSS (``ru_maxrss``) after loading the model and at the end, the number
of windows and the wall time. Default model: a ViT-S-sized encoder (hidden 384, 12 layers,
6 heads) on 16 x 112 x 112 clips (tubelet 2, patch 16: 392 tokens), random weights (speed does
not depend on them), fp32, windows of 16 frames every 4 (2.56 s, side by side).

    PYTHONPATH=src .venv/bin/python benchmarks/bench_long_video.py [--minutes 1 10] [--threads 2]

Appends a JSON line to ``benchmarks/results/long_video.jsonl``.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import torch
from common import (
    BENCH_MODELS,
    CACHE_DIR,
    MEM_WORKER_FLAG,
    emit_worker_result,
    machine_info,
    measure_in_subprocess,
    print_machine,
    print_table,
    write_result,
)

from videomae import VideoMAEConfig, VideoMAEForVideoClassification
from videomae.inference.classifier import VideoClassifier

MODELS = BENCH_MODELS
FPS = 25
SIZE = (120, 160)  # H, W


def write_long_video(path: Path, seconds: float) -> Path:
    """A 25 fps H.264 video written frame by frame (memory does not grow with its length)."""
    if path.exists():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    h, w = SIZE
    colours = np.array([[220, 40, 40], [40, 200, 60], [40, 60, 220]], np.uint8)
    yy, xx = np.mgrid[0:h, 0:w]
    tmp = path.with_suffix(".part.mp4")
    with av.open(str(tmp), "w") as out:
        stream = out.add_stream("libx264", rate=Fraction(FPS))
        stream.width, stream.height, stream.pix_fmt = w, h, "yuv420p"
        stream.options = {"preset": "ultrafast", "crf": "23"}
        for i in range(round(seconds * FPS)):
            colour = colours[(i // (20 * FPS)) % 3]
            stripes = ((xx + 2 * i) // 8 + yy // 8) % 2  # a pattern moving left
            frame = (colour[None, None, :] * (0.5 + 0.5 * stripes[..., None])).astype(np.uint8)
            for packet in stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    tmp.rename(path)
    return path


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def worker(spec: dict) -> None:
    """In a fresh interpreter: load the model, classify every window, report memory and time."""
    torch.set_num_threads(spec["threads"])
    torch.manual_seed(0)
    with tempfile.TemporaryDirectory() as d:
        VideoMAEForVideoClassification(VideoMAEConfig(**MODELS[spec["model"]])).save_pretrained(d)
        clf = VideoClassifier.from_pretrained(d, batch_size=spec["batch"], progress=False)
    # warm-up on a window of the video, so one-time allocations count in the baseline
    first = next(iter(clf.windows(spec["video"])))
    baseline = _peak_mb()
    start = time.perf_counter()
    n, last_end = 0, 0.0
    for result in clf.windows(spec["video"]):
        n += 1
        last_end = result.end_s
    wall = time.perf_counter() - start
    emit_worker_result(
        {
            "windows": n,
            "video_s": last_end,
            "wall_s": wall,
            "video_s_per_wall_s": last_end / wall,
            "peak_after_load_mb": baseline,
            "peak_mb": _peak_mb(),
            "first_window_s": [first.start_s, first.end_s],
        }
    )


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--minutes", type=float, nargs="+", default=[1.0, 10.0])
    p.add_argument("--model", choices=sorted(MODELS), default="small-112")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--batch", type=int, default=1, help="views per forward pass")
    p.add_argument("--no-save", action="store_true")
    p.add_argument(MEM_WORKER_FLAG, dest="mem_worker", default=None, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.mem_worker:
        worker(json.loads(args.mem_worker))
        return
    torch.set_num_threads(args.threads)
    info = machine_info(torch.device("cpu"))
    print_machine(info)
    rows, runs = [], []
    for minutes in args.minutes:
        video = write_long_video(CACHE_DIR / f"long_{minutes:g}min.mp4", 60 * minutes)
        spec = {"video": str(video), "model": args.model, "threads": args.threads}
        res = measure_in_subprocess(__file__, {**spec, "batch": args.batch}, timeout=7200)
        if "error" in res:
            sys.exit(f"{minutes} min: {res['error']}")
        runs.append({"minutes": minutes, **res})
        rows.append(
            [
                f"{minutes:g} min", res["windows"], f"{res['wall_s']:.1f}",
                f"{res['video_s_per_wall_s']:.2f}", f"{res['peak_after_load_mb']:.0f}",
                f"{res['peak_mb']:.0f}", f"{res['peak_mb'] - res['peak_after_load_mb']:.1f}",
            ]
        )  # fmt: skip
    print(f"model {args.model}: {MODELS[args.model]}; fp32; batch {args.batch}")
    headers = ["video", "windows", "wall s", "video s / wall s", "RSS after load MB"]
    print_table([*headers, "peak RSS MB", "growth MB"], rows)
    longest = max(runs, key=lambda r: r["minutes"])
    shortest = min(runs, key=lambda r: r["minutes"])
    print(
        f"peak RSS ratio (longest / shortest video): {longest['peak_mb'] / shortest['peak_mb']:.3f}"
    )
    if not args.no_save:
        record = {"machine": info, "model": args.model, "config": MODELS[args.model]}
        path = write_result("long_video", {**record, "batch": args.batch, "runs": runs})
        print(f"appended to {path}")


if __name__ == "__main__":
    main()
