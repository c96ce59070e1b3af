"""Benchmark: CPU time of one pre-training sample, the code before a change vs after it.

A pre-training sample is ``VideoPretrainDataset.getitem_seeded``: open the file, decode a
16-frame clip, multi-scale crop to 224 x 224, flip, normalise, draw the tube mask. Cases:
generated 10-second H.264 files (``bench_videos.py``) at 340 x 256 and 1280 x 720, with x264's
default keyframe interval (250) and with a keyframe every 16 frames; dense sampling (16 frames
at stride 4, Kinetics) and uniform sampling (one frame in each of 16 segments, SSv2).

Each side runs in a fresh interpreter with one torch thread (as a loader worker), and the
sides alternate round by round. Per sample: CPU seconds of the process (every thread it
started counts: FFmpeg's decoder and conversion threads) and wall seconds; medians over
rounds of the per-round means. samples/core-s = 1 / CPU seconds per sample; ratio = before /
after CPU time (> 1: the change costs less CPU per sample). Appends a JSON line to
``benchmarks/results/decode_paths.jsonl``.

    PYTHONPATH=src .venv/bin/python benchmarks/bench_decode_paths.py --before-ref main
    PYTHONPATH=src .venv/bin/python benchmarks/bench_decode_paths.py --before /tmp/old/src
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

import torch
from bench_videos import bench_video
from common import BENCH_DIR, machine_info, print_machine, print_table, write_result

CHILD = r"""
import json, sys, time, torch
torch.set_num_threads(1)
from videomae.data.datasets import VideoPretrainDataset
cases, samples, size = json.loads(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
out = {}
for name, path, strategy in cases:
    ds = VideoPretrainDataset([(path, None, 0)], num_frames=16, sampling_rate=4,
                              strategy=strategy, input_size=size, patch_size=16)
    ds.getitem_seeded(0, 12345)  # warm-up: frame map, imports, allocator
    w, c = time.perf_counter(), time.process_time()
    for i in range(samples):
        ds.getitem_seeded(0, i)
    out[name] = {"cpu_s": (time.process_time() - c) / samples,
                 "wall_s": (time.perf_counter() - w) / samples}
print(json.dumps(out))
"""


def _export_src(ref: str, into: Path) -> Path:
    """``src/`` of git ``ref`` unpacked under ``into`` (git archive: no worktree needed)."""
    repo = BENCH_DIR.parent
    archive = into / "src.tar"
    subprocess.run(
        ["git", "-C", str(repo), "archive", "--format=tar", "-o", str(archive), ref, "src"],
        check=True,
    )
    with tarfile.open(archive) as tar:
        tar.extractall(into, filter="data")
    return into / "src"


def _child(src: Path, cases: list, samples: int, size: int) -> dict:
    env = {**os.environ, "PYTHONPATH": str(src.resolve())}
    args = [sys.executable, "-c", CHILD, json.dumps(cases), str(samples), str(size)]
    done = subprocess.run(args, env=env, capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"{src}: {done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _cases(quick: bool) -> list[tuple[str, str, str]]:
    sizes = [(64, 48)] if quick else [(340, 256), (1280, 720)]
    out = []
    for w, h in sizes:
        for gop in (None, 16):
            path = str(bench_video(w, h, gop=gop, frames=90 if quick else 300))
            for strategy in ("dense", "uniform"):
                out.append((f"{w}x{h} gop{gop or 250} {strategy}", path, strategy))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--before", help="src/ folder of the code before the change")
    parser.add_argument("--before-ref", default="main", help="git ref of the code before")
    parser.add_argument("--after", default=str(BENCH_DIR.parent / "src"))
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds")
    parser.add_argument("--samples", type=int, default=4, help="samples per case and round")
    parser.add_argument("--quick", action="store_true", help="tiny files, one round (smoke run)")
    parser.add_argument("--no-save", action="store_true")
    args = parser.parse_args()
    info = machine_info(torch.device("cpu"))
    print_machine(info)
    cases = _cases(args.quick)
    rounds, samples = (1, 2) if args.quick else (args.rounds, args.samples)
    size = 32 if args.quick else 224
    runs: dict[str, list[dict]] = {"before": [], "after": []}
    with tempfile.TemporaryDirectory() as tmp:
        before = Path(args.before) if args.before else _export_src(args.before_ref, Path(tmp))
        srcs = {"before": before, "after": Path(args.after)}
        for r in range(rounds):
            for side in ("before", "after") if r % 2 == 0 else ("after", "before"):
                runs[side].append(_child(srcs[side], cases, samples, size))
                print(f"round {r + 1} {side}:", {k: round(v["cpu_s"] * 1e3) for k, v in runs[side][-1].items()}, flush=True)  # fmt: skip
    rows, record = [], {"benchmark": "decode_paths", **info, "rounds": rounds, "samples": samples}
    record["before"] = args.before or args.before_ref
    for name, _, _ in cases:
        med = {
            side: {k: statistics.median(run[name][k] for run in runs[side]) for k in ("cpu_s", "wall_s")}
            for side in runs
        }  # fmt: skip
        record[name] = med
        b, a = med["before"], med["after"]
        rows.append([
            name, f"{b['cpu_s'] * 1e3:.0f}", f"{a['cpu_s'] * 1e3:.0f}",
            f"{1 / b['cpu_s']:.2f}", f"{1 / a['cpu_s']:.2f}", f"{b['cpu_s'] / a['cpu_s']:.2f}x",
            f"{b['wall_s'] / a['wall_s']:.2f}x",
        ])  # fmt: skip
    print_table(
        ["case", "before CPU ms", "after CPU ms", "before samples/core-s",
         "after samples/core-s", "CPU ratio", "wall ratio"],
        rows,
    )  # fmt: skip
    if not args.no_save:
        print("wrote", write_result("decode_paths", record))


if __name__ == "__main__":
    main()
