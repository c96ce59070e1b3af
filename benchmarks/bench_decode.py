"""Benchmark: decoding one training clip, ours (``videomae.video.decode.read_clip``) vs plain PyAV.

The plain-PyAV path is the loop the transformers docs show: open the file, decode, and call
``frame.to_ndarray(format="rgb24")`` on each wanted frame. Two cases:

* tiny: 8-frame 32 x 32 H.264 clips as ``videomae synth`` writes them (the demo's data);
  per-clip overheads (threads, colour-converter set-up) dominate here;
* 480p: 16 frames at stride 4 from a 10-second 640 x 480 clip (the end-to-end benchmark's
  files), where decoding itself dominates.

Both paths decode the same frames in the same process, alternating after warm-up; medians in
ms per clip, ratio = PyAV / ours (> 1 means we are faster). Appends a JSON line to
``benchmarks/results/decode.jsonl``.

    .venv/bin/python benchmarks/bench_decode.py [--iters 20] [--threads 2]
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import av
import numpy as np
import torch
from common import (
    CACHE_DIR,
    machine_info,
    print_machine,
    print_table,
    ratio_str,
    setup_device,
    time_alternating,
    write_result,
)

from videomae.data.synthetic import make_dataset
from videomae.video.decode import probe, read_clip
from videomae.video.sampling import dense_indices


def pyav_clip(path: str, indices: list[int]) -> np.ndarray:
    """The docs' recipe: decode from the start, keep the wanted frames, convert each to RGB."""
    wanted, last = set(indices), max(indices)
    out = []
    with av.open(path) as container:
        for i, frame in enumerate(container.decode(video=0)):
            if i in wanted:
                out.append(frame.to_ndarray(format="rgb24"))
            if i >= last:
                break
    return np.stack(out)


def tiny_clips(folder: Path, n: int) -> list[str]:
    paths = make_dataset(
        folder, num_unlabeled=n, num_train=0, num_val=0, num_test=0, num_frames=8, size=32,
        workers=1, background="texture", background_motion=1.0,
    )  # fmt: skip
    return [str(folder / line.strip()) for line in paths["unlabeled"].read_text().splitlines()]


def e2e_clip(folder: Path) -> str:
    cached = sorted(CACHE_DIR.glob("e2e_*/*.mp4"))  # the end-to-end benchmark's files
    if cached:
        return str(cached[0])
    from videomae.video.write import write_video

    rng = np.random.default_rng(0)
    base = rng.integers(0, 256, (1, 480, 640, 3), dtype=np.uint8)
    frames = np.repeat(base, 300, axis=0)
    frames = np.roll(frames, np.arange(300)[:, None, None, None] % 640, axis=2)  # panning
    path = str(folder / "clip_480p.mp4")
    write_video(path, frames, fps=30)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--iters", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--tiny-clips", type=int, default=32, help="clips per tiny-case call")
    args = parser.parse_args()
    device = setup_device("cpu", args.threads)
    info = machine_info(device)
    print_machine(info)
    rows, record = [], {"benchmark": "decode", **info, "iters": args.iters}
    with tempfile.TemporaryDirectory() as tmp:
        tiny = tiny_clips(Path(tmp) / "tiny", args.tiny_clips)
        big = e2e_clip(Path(tmp))
        big_idx = dense_indices(probe(big).num_frames, 16, 4, clip_idx=0, num_clips=1).tolist()
        for got, want in (
            (read_clip(tiny[0], 8, sampling_rate=1).frames.numpy(), pyav_clip(tiny[0], list(range(8)))),
            (read_clip(big, 16, sampling_rate=4).frames.numpy(), pyav_clip(big, big_idx)),
        ):  # fmt: skip
            assert np.array_equal(got, want), "the two paths must decode the same pixels"
        cases = {
            "tiny ours": lambda: [read_clip(p, 8, sampling_rate=1) for p in tiny],
            "tiny pyav": lambda: [pyav_clip(p, list(range(8))) for p in tiny],
            "480p ours": lambda: read_clip(big, 16, sampling_rate=4),
            "480p pyav": lambda: pyav_clip(big, big_idx),
        }
        t = time_alternating(cases, iters=args.iters, warmup=args.warmup, device=device)
    for name, per_call in (("tiny", len(tiny)), ("480p", 1)):
        ours = t[f"{name} ours"].median / per_call
        theirs = t[f"{name} pyav"].median / per_call
        rows.append([name, f"{ours * 1e3:.2f}", f"{theirs * 1e3:.2f}", ratio_str(theirs, ours)])
        record[name] = {"ours_ms_per_clip": ours * 1e3, "pyav_ms_per_clip": theirs * 1e3}
    print_table(["case", "ours ms/clip", "PyAV ms/clip", "PyAV / ours"], rows)
    record["torch_threads"] = torch.get_num_threads()
    print("wrote", write_result("decode", record))


if __name__ == "__main__":
    main()
