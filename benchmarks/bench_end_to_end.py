"""Benchmark 4: a folder of video files -> top-5 labels, our path vs the transformers-docs path.

Input: 8 generated 10-second 480p (854x480, 30 fps) H.264 mp4 files with moving textured
content (a panning multi-scale noise texture, textured objects moving across it, light per-frame
noise), so the encoder cannot compress them trivially. They are written once with
``videomae.video.write.write_video`` under ``benchmarks/.cache/`` and reused (the folder is ignored
by git). Model: a base-size classifier (16x224x224) with random weights and 400 labels, saved
by transformers with a ``preprocessor_config.json`` (transformers' defaults: short side 224,
centre crop 224, ImageNet mean/std) to a temporary folder; both paths load that folder.

- ours: ``videomae.VideoClassifier.from_pretrained(folder)`` called on the list of paths
  (what ``videomae classify`` runs): one centred dense clip of 16 frames, 4 apart; decoding
  seeks to the keyframe before the clip and stops after its last frame, in background threads,
  while the model runs; views are batched across videos. With its defaults (fp32; on CPU one
  view per forward and inline decoding, on GPU batch 8 and 2 decode threads), plus rows with
  batch 1 and inline decoding, with batch 8 and 2 decode threads (the defaults before
  2026-11-30), and with ``dtype="bf16"``.
- transformers docs: per file, ``av.open``; the same 16 indices (our sampler, on the
  container's frame count as the docs use); decoding from the start of the stream keeping the
  frames at those indices and stopping after the last (the docs' ``read_video_pyav``);
  ``transformers.VideoMAEImageProcessor`` on the list of frames; model forward under
  ``torch.no_grad``; softmax top-5 through ``config.id2label``.

Each path processes the whole folder once per round, rounds alternate after one warm-up round
(files are then in the OS page cache for both), medians -> clips per second. The models are
checked to give the same logits on the same pixel_values, and the two paths' top-5 are compared
(they can differ slightly: the resize kernels differ). Peak memory per path in a fresh
subprocess. Appends a JSON line to ``benchmarks/results/end_to_end.jsonl``.

    .venv/bin/python benchmarks/bench_end_to_end.py             # full run
    .venv/bin/python benchmarks/bench_end_to_end.py --quick     # smoke: 2 files of 3 s, small model
    .venv/bin/python benchmarks/bench_end_to_end.py --device cuda
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402

NAME = "end_to_end"
SCRIPT = Path(__file__).resolve()
NUM_FRAMES, SAMPLING_RATE, TOP_K = 16, 4, 5
RENDERER_VERSION = 2


# --------------------------------------------------------------------------- test videos
def _texture(h: int, w: int, rng: np.random.Generator, scales=(4, 16, 64)) -> np.ndarray:
    """(h, w, 3) uint8 multi-scale value noise: coarse blobs plus fine grain."""
    out = torch.zeros(1, 3, h, w)
    for i, s in enumerate(scales):
        low = torch.from_numpy(rng.standard_normal((1, 3, h // s + 2, w // s + 2))).float()
        up = torch.nn.functional.interpolate(low, size=(h, w), mode="bicubic", align_corners=False)
        out += up / (i + 1)
    out = (out - out.mean()) / out.std()
    img = (128 + 48 * out).clamp(0, 255).to(torch.uint8)
    return img[0].permute(1, 2, 0).numpy()


def render_video(
    seconds: float, fps: int, height: int, width: int, rng: np.random.Generator
) -> np.ndarray:
    """(T, H, W, 3) uint8: a texture panning in a random direction with 3 textured objects."""
    t = int(round(seconds * fps))
    speed = rng.uniform(1.0, 2.0)  # pixels per frame
    angle = rng.uniform(0, 2 * np.pi)
    vx, vy = speed * np.cos(angle), speed * np.sin(angle)
    pad_x, pad_y = int(abs(vx) * t) + 2, int(abs(vy) * t) + 2
    background = _texture(height + pad_y, width + pad_x, rng)
    objects = []
    for _ in range(3):
        oh, ow = (
            int(rng.integers(height // 6, height // 3)),
            int(rng.integers(width // 8, width // 4)),
        )
        objects.append(
            {
                "tex": _texture(oh, ow, rng, scales=(2, 8)),
                "pos": np.array([rng.uniform(0, height - oh), rng.uniform(0, width - ow)]),
                "vel": rng.uniform(-4, 4, size=2),
            }
        )
    frames = np.empty((t, height, width, 3), dtype=np.uint8)
    for i in range(t):
        # floor(i * |v|) <= floor(t * |v|) = pad - 2, so the crop stays inside the texture
        dy, dx = int(i * abs(vy)), int(i * abs(vx))
        y0 = dy if vy >= 0 else pad_y - 2 - dy
        x0 = dx if vx >= 0 else pad_x - 2 - dx
        frame = background[y0 : y0 + height, x0 : x0 + width].copy()
        for obj in objects:
            oh, ow = obj["tex"].shape[:2]
            pos, vel = obj["pos"], obj["vel"]
            pos += vel
            for k, limit in ((0, height - oh), (1, width - ow)):  # bounce off the borders
                if not 0 <= pos[k] <= limit:
                    vel[k] = -vel[k]
                    pos[k] = min(max(pos[k], 0), limit)
            y, x = int(pos[0]), int(pos[1])
            frame[y : y + oh, x : x + ow] = obj["tex"]
        noise = rng.integers(-3, 4, size=frame.shape, dtype=np.int16)
        frames[i] = np.clip(frame.astype(np.int16) + noise, 0, 255).astype(np.uint8)
    return frames


def ensure_videos(
    num: int, seconds: float, fps: int, height: int, width: int, seed: int, gop: int | None
) -> list:
    """Write (once) and return the paths of the test videos under benchmarks/.cache/.

    ``gop``: keyframe interval in frames; None keeps the encoder's default (x264: 250).
    """
    from videomae.video.write import write_video

    params = {"num": num, "seconds": seconds, "fps": fps, "h": height, "w": width, "seed": seed}
    params["renderer"] = RENDERER_VERSION  # bump when render_video changes
    params["gop"] = gop
    name = "e2e_{num}x{seconds:g}s_{h}p_{fps}fps_seed{seed}".format(**params)
    folder = common.CACHE_DIR / (name + (f"_gop{gop}" if gop else ""))
    paths = [folder / f"clip_{i:02d}.mp4" for i in range(num)]
    stamp = folder / "params.json"
    if (
        stamp.is_file()
        and json.loads(stamp.read_text()) == params
        and all(p.is_file() for p in paths)
    ):
        return paths
    folder.mkdir(parents=True, exist_ok=True)
    print(f"writing {num} test videos to {folder} (once) ...", flush=True)
    start = time.perf_counter()
    for i, path in enumerate(paths):
        frames = render_video(seconds, fps, height, width, np.random.default_rng(seed + i))
        write_video(path, frames, fps=fps, gop_size=gop)
    stamp.write_text(json.dumps(params))
    size = sum(p.stat().st_size for p in paths) / 2**20
    print(f"  done in {time.perf_counter() - start:.0f} s, {size:.1f} MB in total")
    return paths


# --------------------------------------------------------------------------- model folder
def model_config(quick: bool) -> dict[str, Any]:
    from videomae.presets import PRESETS

    size = "small" if quick else "base"
    cfg = {k: v for k, v in PRESETS[size].items() if not k.startswith("decoder")}
    cfg.update(num_frames=NUM_FRAMES, image_size=224, use_mean_pooling=True)
    cfg["id2label"] = {i: f"class_{i:03d}" for i in range(400)}
    cfg["label2id"] = {v: k for k, v in cfg["id2label"].items()}
    return cfg


def save_reference(cfg: dict[str, Any], folder: Path, seed: int) -> None:
    import transformers

    torch.manual_seed(seed)
    model = transformers.VideoMAEForVideoClassification(transformers.VideoMAEConfig(**cfg))
    model.save_pretrained(folder)
    transformers.VideoMAEImageProcessor().save_pretrained(folder)


# --------------------------------------------------------------------------- the two paths
def our_path(
    folder: Path, device: torch.device, dtype: str, batch_size: int | None, workers: int | None
) -> Callable[[list], list]:
    from videomae.inference.classifier import VideoClassifier

    clf = VideoClassifier.from_pretrained(
        folder,
        device=str(device),
        dtype=dtype,
        batch_size=batch_size,
        num_workers=workers,
        progress=False,
    )

    def run(paths: list) -> list:
        return clf([str(p) for p in paths], top_k=TOP_K)

    run.model = clf.model  # type: ignore[attr-defined]
    return run


def read_frames_docs_style(container: Any, indices: list[int]) -> np.ndarray:
    """The docs' approach: decode from the start, keep the wanted frames, stop after the last."""
    wanted = set(indices)
    last = max(indices)
    container.seek(0)
    kept = []
    for i, frame in enumerate(container.decode(video=0)):
        if i > last:
            break
        if i in wanted:
            kept.append(frame.to_ndarray(format="rgb24"))
    return np.stack(kept)  # (T, H, W, 3) uint8


def docs_indices(num_video_frames: int) -> list[int]:
    from videomae.video.sampling import dense_indices

    return dense_indices(num_video_frames, NUM_FRAMES, SAMPLING_RATE, clip_idx=0).tolist()


def docs_path(folder: Path, device: torch.device) -> Callable[[list], list]:
    import av
    import transformers

    processor = transformers.VideoMAEImageProcessor.from_pretrained(folder)
    model = transformers.VideoMAEForVideoClassification.from_pretrained(folder).to(device).eval()

    def pixel_values(path: Path) -> torch.Tensor:
        with av.open(str(path)) as container:
            n = container.streams.video[0].frames
            video = read_frames_docs_style(container, docs_indices(n))
        return processor(list(video), return_tensors="pt").pixel_values

    def run(paths: list) -> list:
        out = []
        for path in paths:
            inputs = pixel_values(path).to(device)
            with torch.no_grad():
                logits = model(pixel_values=inputs).logits
            probs = logits.softmax(-1)[0]
            vals, idx = probs.topk(TOP_K)
            out.append(
                [(model.config.id2label[int(i)], float(v)) for v, i in zip(vals.cpu(), idx.cpu())]
            )
        return out

    run.model = model  # type: ignore[attr-defined]
    run.pixel_values = pixel_values  # type: ignore[attr-defined]
    return run


# (key, description, builder kwargs)
OURS_VARIANTS = [
    ("ours", "ours defaults (fp32; CPU: batch 1, inline; GPU: batch 8, 2 threads)", {}),
    ("ours_b1_inline", "ours fp32, batch 1, inline decoding", {"batch_size": 1, "workers": 0}),
    ("ours_b8", "ours fp32, batch 8, 2 decode threads", {"batch_size": 8}),
    ("ours_bf16", "ours dtype=bf16 (defaults otherwise)", {"dtype": "bf16"}),
]


def build(key: str, folder: Path, device: torch.device) -> Callable[[list], list]:
    if key == "docs":
        return docs_path(folder, device)
    kwargs = {"dtype": "fp32", "batch_size": None, "workers": None}  # None: the library's choice
    kwargs.update({k: extra for k, _, extra in OURS_VARIANTS}[key])
    return our_path(folder, device, **kwargs)


# --------------------------------------------------------------------------- checks
def check_agreement(ours_run, docs_run, paths: list, device: torch.device) -> dict[str, Any]:
    """Same weights (same logits on the same pixel_values, asserted); top-5 of the two paths."""
    x = docs_run.pixel_values(paths[0]).to(device)
    with torch.inference_mode():
        a = ours_run.model(pixel_values=x).logits.float()
        b = docs_run.model(pixel_values=x).logits.float()
    diff = (a - b).abs().max().item()
    tol = 1e-4 + 1e-3 * b.abs().max().item()
    print(f"  same pixel_values, ours vs transformers logits: max abs diff {diff:.2e}")
    if diff > tol:
        raise SystemExit(f"models disagree on the same input: {diff:.3e} > {tol:.3e}")
    ours_top, docs_top = ours_run(paths), docs_run(paths)
    top1 = sum(o[0][0] == d[0][0] for o, d in zip(ours_top, docs_top))
    overlap = np.mean(
        [len({x for x, _ in o} & {x for x, _ in d}) for o, d in zip(ours_top, docs_top)]
    )
    print(
        f"  pipelines: top-1 label equal on {top1}/{len(paths)} files, mean top-5 overlap "
        f"{overlap:.1f}/5 (random weights: near-uniform scores, so small preprocessing "
        "differences can reorder labels)"
    )
    return {"logits_max_abs_diff": diff, "top1_equal": top1, "top5_overlap_mean": float(overlap)}


# --------------------------------------------------------------------------- memory worker
def mem_worker(spec: dict[str, Any]) -> None:
    common.quiet_transformers()
    device = common.setup_device(spec["device"], spec["threads"], spec["seed"])
    run = build(spec["key"], Path(spec["folder"]), device)
    paths = [Path(p) for p in spec["paths"]]
    run(paths)  # warm-up pass
    with common.PeakMemory(device) as pm:
        run(paths)
    common.emit_worker_result(pm.result)


# --------------------------------------------------------------------------- main
def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    common.add_common_args(parser, iters=5, quick_iters=2)
    parser.add_argument("--videos", type=int, default=None, help="number of files (default 8)")
    parser.add_argument("--seconds", type=float, default=None, help="length (default 10 s)")
    parser.add_argument("--only-ours", action="store_true", help="time the default path only")
    parser.add_argument(
        "--only",
        default=None,
        help="comma-separated extra rows of ours to time besides the defaults (e.g. "
        "ours_b1_inline; skip ours_bf16 on a CPU without native bf16)",
    )
    parser.add_argument(
        "--gop",
        type=int,
        default=None,
        help="keyframe interval of the generated files (default: x264's, 250 frames)",
    )
    args = common.finish_args(parser.parse_args(argv))
    if args.videos is None:
        args.videos = 2 if args.quick else 8
    if args.seconds is None:
        args.seconds = 3.0 if args.quick else 10.0
    args.warmup = min(args.warmup, 1)
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if args.mem_worker:
        mem_worker(json.loads(args.mem_worker))
        return
    common.quiet_transformers()
    device = common.setup_device(args.device, args.threads, args.seed)
    info = common.machine_info(device)
    common.print_machine(info)
    paths = ensure_videos(args.videos, args.seconds, 30, 480, 854, args.seed, args.gop)
    cfg = model_config(args.quick)
    print(
        f"{len(paths)} files of {args.seconds:g} s, 854x480, 30 fps; model "
        f"{'small' if args.quick else 'base'} 16x224x224, 400 labels"
    )
    keys = ["ours"] if args.only_ours else [k for k, _, _ in OURS_VARIANTS]
    if args.only:
        wanted = {k.strip() for k in args.only.split(",") if k.strip()}
        unknown = wanted - {k for k, _, _ in OURS_VARIANTS}
        if unknown:
            raise SystemExit(f"--only: unknown rows {sorted(unknown)}; see OURS_VARIANTS")
        keys = ["ours"] + [k for k in keys if k in wanted and k != "ours"]  # defaults: always
    keys.append("docs")
    with common.temp_model_dir("bench_e2e_") as folder:
        save_reference(cfg, folder, args.seed)
        runs = {k: build(k, folder, device) for k in keys}

        print("\nagreement (before timing):")
        agreement = check_agreement(runs["ours"], runs["docs"], paths, device)

        print(
            f"\ntiming: {args.iters} alternating rounds (whole folder) after {args.warmup} warm-up"
        )
        cases = {k: (lambda r=r: r(paths)) for k, r in runs.items()}
        timings = common.time_alternating(
            cases, iters=args.iters, warmup=args.warmup, device=device
        )
        del runs, cases

        memory: dict[str, dict] = {}
        if not args.no_memory:
            print("\npeak memory: one subprocess per path ...", flush=True)
            for k in keys:
                spec = {
                    "key": k,
                    "folder": str(folder),
                    "paths": [str(p) for p in paths],
                    "device": args.device,
                    "threads": args.threads,
                    "seed": args.seed,
                }
                memory[k] = common.measure_in_subprocess(SCRIPT, spec)

    n = len(paths)
    docs = timings["docs"].median
    descriptions = {k: d for k, d, _ in OURS_VARIANTS}
    headers = [
        "our path",
        "ours s",
        "docs s",
        "ours clips/s",
        "docs clips/s",
        "ratio",
        "ours MB d(peak)",
        "docs MB d(peak)",
    ]
    rows = []
    for k in keys[:-1]:
        o = timings[k].median
        rows.append(
            [
                descriptions[k],
                f"{o:.2f}",
                f"{docs:.2f}",
                f"{n / o:.2f}",
                f"{n / docs:.2f}",
                common.ratio_str(docs, o),
                common.mem_str(memory.get(k)),
                common.mem_str(memory.get("docs")),
            ]
        )
    print(
        f"\nmedian seconds per folder of {n} files; ratio = docs path time / ours (> 1: we are "
        "faster); memory: MB above the loaded state (peak RSS), one subprocess per path"
    )
    common.print_table(headers, rows)
    if args.no_save:
        return
    record = {
        "benchmark": NAME,
        **info,
        "quick": args.quick,
        "videos": n,
        "seconds": args.seconds,
        "resolution": [854, 480],
        "fps": 30,
        "gop": args.gop or "encoder default",
        "iters": args.iters,
        "timings": {k: t.as_dict() for k, t in timings.items()},
        "clips_per_s": {k: n / t.median for k, t in timings.items()},
        "ratio_vs_docs": {k: docs / timings[k].median for k in keys[:-1]},
        "memory": memory,
        "agreement": agreement,
    }
    print(f"appended to {common.write_result(NAME, record)}")


if __name__ == "__main__":
    main()
