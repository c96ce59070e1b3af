"""Which libx264 crf / preset `videomae prepare` should default to: size against speed and quality.

One generated camera-like source (a panned smooth texture, moving discs, film grain; 960x540,
30 fps, 3 s, stored at near-lossless quality) is re-encoded by ``transcode_video`` (short side
320, GOP 16, one encoder thread, as in a pool of one worker per core) with each preset x crf.
Reported per case: median seconds per video over alternating rounds (and the ratio to the
default, veryfast / crf 23, measured in the same run), output size in kB per second of video,
and PSNR (dB, RGB) against a lossless re-encode at the same size (the same scaling, so only the
compression loss counts). A generated source compresses differently from real footage: read
the ratios, not the absolute sizes.

    python benchmarks/bench_prepare.py            # about 5 minutes on 2 busy cores
    python benchmarks/bench_prepare.py --quick    # smoke run
"""

from __future__ import annotations

import argparse
import math
import sys
import tempfile
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import (  # noqa: E402
    machine_info,
    print_machine,
    print_table,
    time_alternating,
    write_result,
)

from videomae.video.backend import av  # noqa: E402
from videomae.video.transcode import EncodeSettings, transcode_video  # noqa: E402
from videomae.video.write import write_video  # noqa: E402

DEFAULT = ("veryfast", 23)


def camera_like(frames: int, height: int, width: int, seed: int = 0) -> np.ndarray:
    """A smooth texture panned right, three moving discs and grain: (T, H, W, 3) uint8."""
    rng = np.random.default_rng(seed)
    small = rng.uniform(40, 215, (height // 32 + 2, (width + 8 * frames) // 32 + 2, 3))
    big = torch.nn.functional.interpolate(
        torch.from_numpy(small).permute(2, 0, 1)[None].float(),
        size=(height, width + 8 * frames),
        mode="bicubic",
        align_corners=False,
    )[0].permute(1, 2, 0)
    yy, xx = np.mgrid[0:height, 0:width]
    out = np.empty((frames, height, width, 3), np.uint8)
    for t in range(frames):
        frame = big[:, 8 * t : 8 * t + width].numpy().copy()
        for k in range(3):
            cx = (0.2 + 0.3 * k) * width + 6 * t * (1 if k % 2 else -1)
            cy = (0.3 + 0.2 * k) * height + 3 * t
            disc = (xx - cx) ** 2 + (yy - cy) ** 2 < (0.08 * height) ** 2
            frame[disc] = (230 - 60 * k, 60 * k, 120)
        frame += rng.normal(0, 3, frame.shape)
        out[t] = np.clip(frame, 0, 255).astype(np.uint8)
    return out


def _rgb(path: Path) -> np.ndarray:
    with av.open(str(path)) as c:
        return np.stack([f.to_ndarray(format="rgb24") for f in c.decode(c.streams.video[0])])


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return math.inf if mse == 0 else 10 * math.log10(255**2 / mse)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small source, one round")
    parser.add_argument("--iters", type=int, default=3, help="timed rounds")
    parser.add_argument("--no-save", action="store_true", help="do not append to results/")
    args = parser.parse_args()
    presets = ("ultrafast", "veryfast", "medium") if args.quick else (
        "ultrafast", "veryfast", "faster", "medium")  # fmt: skip
    crfs = (23, 28) if args.quick else (18, 23, 28)
    frames, height, width = (12, 144, 256) if args.quick else (90, 540, 960)
    seconds = frames / 30
    iters = 1 if args.quick else args.iters
    info = machine_info(torch.device("cpu"))
    print_machine(info)
    with tempfile.TemporaryDirectory(prefix="bench_prepare_") as tmp:
        tmp_path = Path(tmp)
        src = tmp_path / "source.mp4"
        write_video(src, camera_like(frames, height, width), fps=30,
                    options={"crf": "4", "preset": "veryfast"})  # fmt: skip
        reference = tmp_path / "lossless.mp4"
        transcode_video(src, reference, EncodeSettings(crf=0, preset="ultrafast", threads=1))
        ref = _rgb(reference)
        cases, outputs = {}, {}
        for preset in presets:
            for crf in crfs:
                out = tmp_path / f"{preset}_{crf}.mp4"
                settings = EncodeSettings(crf=crf, preset=preset, threads=1)
                cases[f"{preset}/{crf}"] = lambda s=settings, o=out: transcode_video(src, o, s)
                outputs[f"{preset}/{crf}"] = out
        timings = time_alternating(
            cases, iters=iters, warmup=0, device=torch.device("cpu"), progress=False
        )
        base = timings[f"{DEFAULT[0]}/{DEFAULT[1]}"].median if DEFAULT[0] in presets else None
        rows, records = [], []
        for name, out in outputs.items():
            t = timings[name].median
            kb_s = out.stat().st_size / 1024 / seconds
            quality = psnr(_rgb(out), ref)
            ratio = f"{t / base:.2f}" if base else "-"
            rows.append([name, f"{t:.2f}", ratio, f"{kb_s:.0f}", f"{quality:.2f}"])
            records.append({"case": name, **timings[name].as_dict(), "kB_per_s": kb_s,
                            "psnr_db": quality, "time_vs_default": t / base if base else None})  # fmt: skip
    print(f"source {width}x{height}, {frames} frames at 30 fps -> short side 320, gop 16, "
          f"1 thread; {iters} rounds (median)")  # fmt: skip
    print_table(["preset/crf", "s/video", "x default", "kB/s", "PSNR dB"], rows)
    if not args.no_save:
        path = write_result("prepare", {"machine": info, "quick": args.quick, "cases": records})
        print(f"appended to {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
