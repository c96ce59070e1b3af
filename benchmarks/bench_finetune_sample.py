"""Benchmark: one fine-tuning training item, the code before a change vs after it, and the
original-style loader.

An item is ``VideoClassificationDataset(train=True).getitem_seeded`` with its defaults (dense
16 x 4 clip, RandAugment m7 n4, random resized crop to 224, flip, normalise, erasing) or
``original_loader.OriginalFinetuneDataset`` (decord + PIL RandAugment on the full frames, then
the crop). Files: ``data_videos.py``'s raw 340 x 256 and 1280 x 720 H.264 (x264's default GOP)
and the prepared 720p copies (short side 320, GOP 16); the original-style loader reads the raw
files (as in ``bench_data.py``'s targets).

Each side runs in a fresh interpreter with one torch thread (as a loader worker); sides
alternate round by round, the order rotating. Per item: process CPU ms (every thread counts)
and wall ms, medians over rounds of the per-round means. Appends a JSON line to
``benchmarks/results/finetune_sample.jsonl``.

    PYTHONPATH=src .venv/bin/python benchmarks/bench_finetune_sample.py --before-ref main
    PYTHONPATH=src .venv/bin/python benchmarks/bench_finetune_sample.py --quick   # smoke run
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import torch
from bench_decode_paths import _export_src
from common import BENCH_DIR, machine_info, print_machine, print_table, write_result
from data_videos import ensure_videos

CHILD = r"""
import json, sys, time, torch
torch.set_num_threads(1)
cases, items, side = json.loads(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
if side == "orig":
    import original_loader
else:
    from videomae.data.datasets import VideoClassificationDataset
out = {}
for name, paths in cases.items():
    if side == "orig":
        ds = original_loader.OriginalFinetuneDataset(paths)
        get = lambda i: ds[i]
    else:
        ds = VideoClassificationDataset([(p, 0, i) for i, p in enumerate(paths)], train=True)
        get = lambda i: ds.getitem_seeded(i % len(paths), 1000 + i)
    get(0)  # warm-up: frame map, imports, allocator
    w, c = time.perf_counter(), time.process_time()
    for i in range(1, items + 1):
        get(i)
    out[name] = {"cpu_s": (time.process_time() - c) / items,
                 "wall_s": (time.perf_counter() - w) / items}
print(json.dumps(out))
"""


def _child(side: str, src: Path, cases: dict, items: int) -> dict:
    path = f"{src.resolve()}{os.pathsep}{BENCH_DIR}"
    env = {**os.environ, "PYTHONPATH": path}
    args = [sys.executable, "-c", CHILD, json.dumps(cases), str(items), side]
    done = subprocess.run(args, env=env, capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"{side}: {done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _have_decord() -> bool:
    try:
        import decord  # noqa: F401
    except Exception:  # ImportError, or OSError when FFmpeg's libraries are missing
        return False
    return True


def _rows(cases: dict, med: dict) -> list[list[str]]:
    rows = []
    for name in cases:
        b, a = med["before"][name], med["after"][name]
        o = med.get("orig", {}).get(name.replace("prepared", "raw"))
        rows.append([
            name, f"{b['wall_s'] * 1e3:.0f} ({b['cpu_s'] * 1e3:.0f})",
            f"{a['wall_s'] * 1e3:.0f} ({a['cpu_s'] * 1e3:.0f})",
            f"{b['wall_s'] / a['wall_s']:.2f}x / {b['cpu_s'] / a['cpu_s']:.2f}x",
            "-" if o is None else f"{o['wall_s'] * 1e3:.0f} ({o['cpu_s'] * 1e3:.0f})",
            "-" if o is None else f"{o['wall_s'] / a['wall_s']:.2f}x / {o['cpu_s'] / a['cpu_s']:.2f}x",
        ])  # fmt: skip
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--before-ref", default="main", help="git ref of the code before")
    parser.add_argument("--after", default=str(BENCH_DIR.parent / "src"))
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds")
    parser.add_argument("--items", type=int, default=2, help="items per case, side and round")
    parser.add_argument("--files", type=int, default=2, help="files per kind")
    parser.add_argument("--quick", action="store_true", help="1 s 256p files, one round")
    parser.add_argument("--no-save", action="store_true")
    args = parser.parse_args()
    info = machine_info(torch.device("cpu"))
    print_machine(info)
    sizes = ["256p"] if args.quick else ["256p", "720p"]
    videos = ensure_videos(args.files, 1.0 if args.quick else 10.0, 0, sizes)
    kinds = ["raw 256p"] if args.quick else ["raw 256p", "raw 720p", "prepared 720p"]
    ours = {k: [str(p) for p in videos[k]] for k in kinds}
    raw = {k: v for k, v in ours.items() if k.startswith("raw")}
    rounds, items = (1, 1) if args.quick else (args.rounds, args.items)
    sides = ["before", "after"] + (["orig"] if _have_decord() else [])
    runs: dict[str, list[dict]] = {s: [] for s in sides}
    with tempfile.TemporaryDirectory() as tmp:
        srcs = {"before": _export_src(args.before_ref, Path(tmp)), "after": Path(args.after)}
        srcs["orig"] = srcs["after"]
        for r in range(rounds):
            for side in sides[r % len(sides) :] + sides[: r % len(sides)]:
                cases = raw if side == "orig" else ours
                runs[side].append(_child(side, srcs[side], cases, items))
                print(f"round {r + 1} {side}:", {k: round(v["wall_s"] * 1e3) for k, v in runs[side][-1].items()}, flush=True)  # fmt: skip
    med = {
        s: {n: {k: statistics.median(run[n][k] for run in runs[s]) for k in ("cpu_s", "wall_s")}
            for n in runs[s][0]}
        for s in sides
    }  # fmt: skip
    print("\nms per item, wall (CPU); ratios: wall / CPU, > 1 = after is faster")
    print_table(["case", "before", "after", "before/after", "original-style (raw)", "orig/after"],
                _rows(ours, med))  # fmt: skip
    record = {"benchmark": "finetune_sample", **info, "rounds": rounds, "items": items}
    record.update(before=args.before_ref, files=args.files, medians=med)
    if not args.no_save:
        print("wrote", write_result("finetune_sample", record))


if __name__ == "__main__":
    main()
