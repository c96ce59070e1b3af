"""Benchmark: decoder and colour-conversion threads for training clips, by frame size.

Which rule should ``videomae.video.decode`` use for FFmpeg's decoder threads (one thread, or
frame + slice threads) and for the swscale RGB conversion (one thread, or FFmpeg's automatic
count)? Each setting reads pre-training clips (16 frames at stride 4, random position) of a
generated 10-second H.264 file with the default keyframe interval, at 340 x 256 and 1280 x 720:

* single process: the settings alternate call by call in one process (medians of wall time and
  of CPU time per clip; CPU time counts every thread of the process);
* 2 workers: a ``torch.utils.data.DataLoader`` with two worker processes reads the clips, as a
  training run does (wall time per clip, and the workers' CPU time per clip).

Prints a table; ratio = the reference setting (one decoder thread, one conversion thread) /
the setting (> 1: the setting is faster). Appends a JSON line to
``benchmarks/results/decode_threads.jsonl``.

    PYTHONPATH=src .venv/bin/python benchmarks/bench_decode_threads.py [--clips 24] [--quick]
"""

from __future__ import annotations

import argparse
import resource
import statistics
import time

import numpy as np
import torch
from bench_videos import bench_video
from common import machine_info, print_machine, print_table, write_result
from torch.utils.data import DataLoader, Dataset

from videomae.video import decode as V
from videomae.video.decode import read_clip

# name -> (decoder threads, conversion threads), as videomae.video.decode.thread_plan returns
# them (0: FFmpeg's automatic count)
SETTINGS = {
    "dec1 conv1": (1, 1),
    "dec1 convAuto": (1, 0),
    "decAuto conv1": (0, 1),
    "decAuto convAuto": (0, 0),
}
REFERENCE = "dec1 conv1"


def _apply(setting: str) -> None:
    plan = SETTINGS[setting]
    V.thread_plan = lambda width, height: plan  # the setting, in workers too


def _read(path: str, seed: int) -> None:
    read_clip(path, 16, sampling_rate=4, train=True, rng=np.random.default_rng(seed))


class _Clips(Dataset):
    """``n`` training clips of one file under one thread setting (for the 2-worker case)."""

    def __init__(self, path: str, setting: str, n: int) -> None:
        self.path, self.setting, self.n = path, setting, n

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, i: int) -> int:
        _apply(self.setting)
        _read(self.path, i)
        return i


def _worker_init(_: int) -> None:
    torch.set_num_threads(1)


def single_process(path: str, clips: int) -> dict[str, dict[str, float]]:
    """Median wall and CPU seconds per clip of each setting, settings alternating per clip."""
    wall: dict[str, list[float]] = {s: [] for s in SETTINGS}
    cpu: dict[str, list[float]] = {s: [] for s in SETTINGS}
    names = list(SETTINGS)
    for s in names:  # warm-up
        _apply(s)
        _read(path, 0)
    for r in range(clips):
        for s in names[r % len(names) :] + names[: r % len(names)]:
            _apply(s)
            w, c = time.perf_counter(), time.process_time()
            _read(path, r)
            cpu[s].append(time.process_time() - c)
            wall[s].append(time.perf_counter() - w)
    return {
        s: {"wall_ms": 1e3 * statistics.median(wall[s]), "cpu_ms": 1e3 * statistics.median(cpu[s])}
        for s in names
    }


def two_workers(path: str, setting: str, clips: int) -> dict[str, float]:
    """Wall and worker CPU seconds per clip when two loader workers read ``clips`` clips."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    loader = DataLoader(
        _Clips(path, setting, clips), batch_size=None, num_workers=2, worker_init_fn=_worker_init
    )
    start = time.perf_counter()
    for _ in loader:
        pass
    wall = time.perf_counter() - start
    del loader  # workers exit and are reaped: their CPU time is now counted
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"wall_ms": 1e3 * wall / clips, "cpu_ms": 1e3 * cpu / clips}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clips", type=int, default=24, help="timed clips per setting and case")
    parser.add_argument("--rounds", type=int, default=2, help="2-worker rounds per setting")
    parser.add_argument("--quick", action="store_true", help="tiny files, few clips (smoke run)")
    parser.add_argument("--no-save", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(1)
    info = machine_info(torch.device("cpu"))
    print_machine(info)
    sizes = [(64, 48)] if args.quick else [(340, 256), (1280, 720)]
    clips = 4 if args.quick else args.clips
    record, rows = {"benchmark": "decode_threads", **info, "clips": clips}, []
    for w, h in sizes:
        path = str(bench_video(w, h, gop=None, frames=90 if args.quick else 300))
        case = f"{w}x{h}"
        single = single_process(path, clips)
        multi = {s: [] for s in SETTINGS}
        for r in range(1 if args.quick else args.rounds):
            for s in list(SETTINGS)[:: 1 if r % 2 == 0 else -1]:
                multi[s].append(two_workers(path, s, clips))
        record[case] = {"single": single, "two_workers": multi}
        for s in SETTINGS:
            m_wall = statistics.median(x["wall_ms"] for x in multi[s])
            m_cpu = statistics.median(x["cpu_ms"] for x in multi[s])
            ref_wall = statistics.median(x["wall_ms"] for x in multi[REFERENCE])
            rows.append([
                case, s, f"{single[s]['wall_ms']:.1f}", f"{single[s]['cpu_ms']:.1f}",
                f"{single[REFERENCE]['wall_ms'] / single[s]['wall_ms']:.2f}x",
                f"{m_wall:.1f}", f"{m_cpu:.1f}", f"{ref_wall / m_wall:.2f}x",
            ])  # fmt: skip
    print_table(
        ["file", "setting", "1p wall ms", "1p CPU ms", "1p ratio", "2w wall ms", "2w CPU ms",
         "2w ratio"],
        rows,
    )  # fmt: skip
    if not args.no_save:
        print("wrote", write_result("decode_threads", record))


if __name__ == "__main__":
    main()
