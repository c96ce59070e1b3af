"""Benchmark: the training data path, ours against decord, TorchCodec and an original-style loader.

Inputs (``data_videos.py``): generated H.264 files with moving texture, raw (340 x 256 and
1280 x 720, x264's default GOP of 250) and prepared (short side 320, GOP 16, no audio).

Decode rows: ``videomae.video.decode.read_frames`` vs ``decord.VideoReader.get_batch`` vs
``torchcodec.decoders.VideoDecoder.get_frames_at`` on the SAME frame indices (one list of index
sets drawn once per file: dense 16 x 4 and uniform 16-segment, training-style random), each
decoder opening the file per clip, one decoder thread for the anchors (as the original release
ran decord); ms per clip (median of alternating rounds) and the anchor / ours ratio. The frames
are compared (max abs difference against ours) and the difference is reported, never hidden.

Sample rows: a whole training item, from the file to the tensors the model takes: ours
(``VideoPretrainDataset`` / ``VideoClassificationDataset(train=True)`` ``__getitem__``) vs
``original_loader.py`` (the original release's algorithm: decord, PIL, GroupMultiScaleCrop...).
Per core: one process, torch threads 1 (``--threads``), items timed alternately, ms per item
(median) and the process CPU time per item (above the wall time when FFmpeg threads help).
DataLoader: ``--loader-workers`` workers (1 torch thread each), batch ``--batch-size``, items
per second over ``--loader-batches`` batches after two warm-up batches, rounds alternating.

Targets (issue #19): ours on prepared 720p vs the original-style loader on raw 720p >= 8x;
ours vs original-style on raw files >= 2x. Missing anchors are printed as "not installed".
Appends one JSON line to ``benchmarks/results/data.jsonl``.

    .venv/bin/python benchmarks/bench_data.py                 # full run
    .venv/bin/python benchmarks/bench_data.py --only decode   # or sample
    .venv/bin/python benchmarks/bench_data.py --quick         # smoke run (seconds)
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402
import data_loaders  # noqa: E402
import data_videos  # noqa: E402

from videomae.video.decode import probe, read_frames  # noqa: E402
from videomae.video.sampling import dense_indices, uniform_indices  # noqa: E402

NAME = "data"
ANCHORS = ("decord", "torchcodec")
KINDS = ("raw 256p", "raw 720p", "prepared 256p", "prepared 720p")


# --------------------------------------------------------------------------- setup
def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="smoke run: 1 s files, 1 round")
    p.add_argument("--only", choices=("decode", "sample"), default=None)
    p.add_argument("--seconds", type=float, default=None, help="file length (default 10 s)")
    p.add_argument("--files", type=int, default=None, help="files per kind (default 4)")
    p.add_argument("--clips", type=int, default=None, help="index sets per file (default 2)")
    p.add_argument("--iters", type=int, default=None, help="alternating rounds (default 5)")
    p.add_argument("--warmup", type=int, default=1)
    p.add_argument("--threads", type=int, default=1, help="torch threads of the main process")
    p.add_argument("--batch-size", type=int, default=8)
    p.add_argument("--loader-workers", type=int, default=2)
    p.add_argument("--loader-batches", type=int, default=None, help="timed batches (default 3)")
    p.add_argument("--loader-rounds", type=int, default=None, help="default 2")
    p.add_argument("--no-loader", action="store_true", help="skip the DataLoader rows")
    p.add_argument("--loader-tasks", default="pretrain", help="pretrain,finetune: loader rows")
    p.add_argument("--no-anchor", action="append", default=[], choices=ANCHORS,
                   help="leave an installed anchor out (reported as skipped)")  # fmt: skip
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--no-save", action="store_true")
    a = p.parse_args(argv)
    quick = a.quick
    for name, full, small in (("seconds", 10.0, 1.0), ("files", 4, 1), ("clips", 2, 1),
                              ("iters", 5, 1), ("loader_batches", 3, 1), ("loader_rounds", 2, 1)):  # fmt: skip
        if getattr(a, name) is None:
            setattr(a, name, small if quick else full)
    a.kinds = KINDS if not quick else ("raw 256p", "prepared 256p")
    if quick:  # smoke: the small files only, one loader pair
        a.batch_size = min(a.batch_size, 2)
        a.warmup = min(a.warmup, 1)
    return a


def anchor_status(skip: list[str]) -> dict[str, str]:
    """anchor -> "ok", "not installed" or "skipped (--no-anchor)"; never pretends."""
    status = {}
    for name in ANCHORS:
        if name in skip:
            status[name] = "skipped (--no-anchor)"
            continue
        try:
            importlib.import_module(name)
            if name == "torchcodec":
                importlib.import_module("torchcodec.decoders")
            status[name] = "ok"
        except Exception as e:  # ImportError, or OSError when FFmpeg's libraries are missing
            status[name] = "not installed" + ("" if isinstance(e, ImportError) else f" ({e})")
    return status


def machine_record(args: argparse.Namespace, status: dict[str, str]) -> dict[str, Any]:
    info = common.machine_info(torch.device("cpu"))
    for mod in ("decord", "torchcodec", "PIL", "numpy"):
        with contextlib.suppress(Exception):
            info[mod] = importlib.import_module(mod).__version__
    with contextlib.suppress(Exception):
        info["git_commit"] = subprocess.run(
            ["git", "rev-parse", "HEAD"], capture_output=True, text=True, check=True,
            cwd=Path(__file__).resolve().parent,
        ).stdout.strip()  # fmt: skip
    info.update(anchors=status, loader_workers=args.loader_workers, batch_size=args.batch_size)
    return info


# --------------------------------------------------------------------------- decode rows
def index_sets(paths: list[Path], clips: int, seed: int) -> dict[str, list[tuple[str, list[int]]]]:
    """Per sampling, one list of (path, indices) drawn once: every decoder reads the same."""
    rng = np.random.default_rng(seed)
    out: dict[str, list[tuple[str, list[int]]]] = {"dense": [], "uniform": []}
    for path in paths:
        n = probe(path).num_frames
        for _ in range(clips):
            out["dense"].append((str(path), dense_indices(n, 16, 4, rng=rng).tolist()))
            out["uniform"].append((str(path), uniform_indices(n, 16, train=True, rng=rng).tolist()))
    return out


def decoders(status: dict[str, str]) -> dict[str, Any]:
    """name -> f(path, indices) -> (T, H, W, 3) uint8 numpy, for ours and the usable anchors."""
    out = {"ours": lambda p, idx: read_frames(p, idx).frames.numpy()}
    if status["decord"] == "ok":
        import decord

        out["decord"] = lambda p, idx: decord.VideoReader(p, num_threads=1).get_batch(idx).asnumpy()
    if status["torchcodec"] == "ok":
        from torchcodec.decoders import VideoDecoder

        def tc(p: str, idx: list[int]) -> np.ndarray:
            return (
                VideoDecoder(p, num_ffmpeg_threads=1)
                .get_frames_at(idx)
                .data.permute(0, 2, 3, 1)
                .numpy()
            )

        out["torchcodec"] = tc
    return out


def compare_frames(fns: dict[str, Any], sets: list[tuple[str, list[int]]]) -> dict[str, Any]:
    """Max abs difference of each anchor's frames against ours on the first two index sets."""
    out: dict[str, Any] = {}
    for name, fn in fns.items():
        if name == "ours":
            continue
        diffs = []
        for path, idx in sets[:2]:
            a, b = fns["ours"](path, idx), fn(path, idx)
            if a.shape != b.shape:
                diffs.append(f"shape {a.shape} vs {b.shape}")
                continue
            diffs.append(int(np.abs(a.astype(np.int16) - b.astype(np.int16)).max()))
        numeric = [d for d in diffs if isinstance(d, int)]
        out[name] = max(numeric) if len(numeric) == len(diffs) else diffs
    return out


def run_decode(args, videos, status) -> tuple[list[list[str]], dict[str, Any]]:
    fns = decoders(status)
    rows, record = [], {}
    for kind in args.kinds:
        sets = index_sets(videos[kind], args.clips, args.seed)
        for sampling, clips in sets.items():
            diffs = compare_frames(fns, clips)
            cases = {n: (lambda f=f, c=clips: [f(p, i) for p, i in c]) for n, f in fns.items()}
            print(f"decode {kind} {sampling}: {len(clips)} clips per round", flush=True)
            t = common.time_alternating(cases, iters=args.iters, warmup=args.warmup,
                                        device=torch.device("cpu"), progress=False)  # fmt: skip
            ms = {n: t[n].median / len(clips) * 1e3 for n in fns}
            cells = [f"{kind} {sampling}", f"{ms['ours']:.1f}"]
            for a in ANCHORS:
                if a in ms:
                    cells += [f"{ms[a]:.1f}", common.ratio_str(ms[a], ms["ours"]), str(diffs[a])]
                else:
                    cells += [status[a], "-", "-"]
            rows.append(cells)
            record[f"{kind} {sampling}"] = {"ms_per_clip": ms, "max_abs_diff_vs_ours": diffs}
    return rows, record


# --------------------------------------------------------------------------- sample rows
def sample_cases(args, videos, status) -> dict[str, Any]:
    """case name -> dataset; ours always, original-style where decord is usable."""
    cases = {}
    for kind in args.kinds:
        paths = [str(p) for p in videos[kind]]
        strategies = ("dense", "uniform") if kind.startswith("prepared") else ("dense",)
        for task in ("pretrain", "finetune"):
            for strategy in strategies:
                key = f"{kind} {task} {strategy}"
                cases[f"ours {key}"] = data_loaders.ours(task, paths, strategy, args.files)
                if status["decord"] == "ok" and strategy == "dense":
                    cases[f"orig {key}"] = data_loaders.original(task, paths, strategy, args.files)
    return cases


def run_per_core(args, cases: dict[str, Any]) -> dict[str, dict[str, float]]:
    """ms and CPU ms per item of every case, alternating per (kind, task) group."""
    out: dict[str, dict[str, float]] = {}
    groups: dict[str, list[str]] = {}
    for name in cases:
        groups.setdefault(name.split(" ", 1)[1].rsplit(" ", 1)[0], []).append(name)
    for group, names in groups.items():
        print(f"per core: {group} ({', '.join(n.split()[0] + ' ' + n.split()[-1] for n in names)})",
              flush=True)  # fmt: skip
        cpu: dict[str, list[float]] = {n: [] for n in names}
        timed = {n: data_loaders.cpu_timed(cases[n].run_round, cpu[n]) for n in names}
        t = common.time_alternating(timed, iters=args.iters, warmup=args.warmup,
                                    device=torch.device("cpu"), progress=False)  # fmt: skip
        for n in names:
            items = cases[n].items_per_round
            out[n] = {
                "ms_per_item": t[n].median / items * 1e3,
                "cpu_ms_per_item": float(np.median(cpu[n][args.warmup :])) / items * 1e3,
                "q1_ms": t[n].quartiles[0] / items * 1e3,
                "q3_ms": t[n].quartiles[1] / items * 1e3,
            }
    return out


def run_loader(args, cases: dict[str, Any]) -> dict[str, float]:
    """items/s of every dense case through a DataLoader, rounds alternating (order rotated)."""
    tasks = args.loader_tasks.split(",")
    names = [n for n in cases if n.endswith("dense") and n.split()[-2] in tasks]
    if args.quick:
        names = [n for n in names if "raw 256p pretrain" in n]
    rates: dict[str, list[float]] = {n: [] for n in names}
    for r in range(args.loader_rounds):
        shift = r % len(names)
        for n in names[shift:] + names[:shift]:
            rate = data_loaders.loader_rate(
                cases[n].dataset, args.batch_size, args.loader_workers, args.loader_batches
            )
            rates[n].append(rate)
            print(f"  loader round {r + 1}: {n}: {rate:.1f} items/s", flush=True)
    return {n: float(np.median(v)) for n, v in rates.items()}


# --------------------------------------------------------------------------- report
def ratio(a: float | None, b: float | None) -> float | None:
    return a / b if a and b else None


def targets(per_core: dict, loader: dict) -> list[dict[str, Any]]:
    """The issue's targets: (name, wanted, measured per core, measured through the loader)."""
    out = []
    for task in ("pretrain", "finetune"):
        specs = [(f"prepare ({task}): orig raw 720p / ours prepared 720p", 8.0,
                  f"orig raw 720p {task} dense", f"ours prepared 720p {task} dense")]  # fmt: skip
        for size in ("256p", "720p"):
            specs.append((f"raw {size} ({task}): orig / ours", 2.0,
                          f"orig raw {size} {task} dense", f"ours raw {size} {task} dense"))  # fmt: skip
        for name, want, theirs, ours in specs:
            core = ratio(per_core.get(theirs, {}).get("ms_per_item"),
                         per_core.get(ours, {}).get("ms_per_item"))  # fmt: skip
            load = ratio(loader.get(ours), loader.get(theirs))
            out.append({"target": name, "want": want, "per_core": core, "loader": load})
    return out


def fmt(x: float | None, spec: str = ".2f", suffix: str = "x") -> str:
    return "-" if x is None else f"{x:{spec}}{suffix}"


def print_sample_tables(per_core: dict, loader: dict, status: dict[str, str]) -> None:
    rows = []
    for name, v in per_core.items():
        rows.append([name, f"{v['ms_per_item']:.0f}", f"{v['cpu_ms_per_item']:.0f}",
                     fmt(loader.get(name), ".1f", "")])  # fmt: skip
    print("\nsample: ms per item (1 process, median), CPU ms per item, DataLoader items/s")
    common.print_table(["case", "ms/item", "CPU ms/item", "loader items/s"], rows)
    if status["decord"] != "ok":
        print(f"original-style rows: decord {status['decord']}")
    uni = []
    for kind in ("prepared 256p", "prepared 720p"):
        for task in ("pretrain", "finetune"):
            d = per_core.get(f"ours {kind} {task} dense", {}).get("ms_per_item")
            u = per_core.get(f"ours {kind} {task} uniform", {}).get("ms_per_item")
            uni.append([f"{kind} {task}", fmt(d, ".0f", ""), fmt(u, ".0f", ""), fmt(ratio(u, d))])
    print("\nours, uniform vs dense sampling on prepared files (ms per item, 1 process)")
    common.print_table(["case", "dense", "uniform", "ratio uniform/dense"], uni)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    status = anchor_status(args.no_anchor)
    info = machine_record(args, status)
    common.print_machine(info)
    print("anchors: " + ", ".join(f"{k}: {v}" for k, v in status.items()))
    sizes = sorted({k.split()[1] for k in args.kinds})
    videos = data_videos.ensure_videos(args.files, args.seconds, args.seed, sizes)
    for kind in args.kinds:
        print(f"  {kind}: {data_videos.describe(videos[kind][0])}")
    record: dict[str, Any] = {"benchmark": NAME, **info, "quick": args.quick, "args": vars(args)}
    if args.only in (None, "decode"):
        rows, record["decode"] = run_decode(args, videos, status)
        headers = ["clip", "ours ms"]
        for a in ANCHORS:
            headers += [f"{a} ms", f"ratio {a}/ours", "max|diff|"]
        print("\ndecode: ms per clip (16 frames, median); ratio > 1: ours is faster")
        common.print_table(headers, rows)
    if args.only in (None, "sample"):
        cases = sample_cases(args, videos, status)
        per_core = run_per_core(args, cases)
        loader = {} if args.no_loader else run_loader(args, cases)
        print_sample_tables(per_core, loader, status)
        record.update(
            per_core=per_core, loader_items_per_s=loader, targets=targets(per_core, loader)
        )
        trows = [[t["target"], f">= {t['want']:g}x", fmt(t["per_core"]), fmt(t["loader"])]
                 for t in record["targets"]]  # fmt: skip
        print("\ntargets: ratio = original-style time / ours (loader: ours items/s / theirs)")
        common.print_table(["target", "want", "per core", "loader"], trows)
    if not args.no_save:
        print("appended to", common.write_result(NAME, record))


if __name__ == "__main__":
    main()
