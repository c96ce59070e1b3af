"""The input files of ``bench_data.py``: raw camera-like H.264 files and their prepared copies.

* raw: H.264 (libx264, crf 18, preset veryfast, yuv420p, B-frames) with the encoder's default
  keyframe interval (x264: 250 frames, plus scene-cut keyframes), at 340 x 256 (the size the
  original release's Kinetics copies were resized to) and 1280 x 720 (a camera file);
* prepared: the same frames re-encoded once for training: short side 320 (never upscaled, even
  sides), a keyframe every 16 frames (no scene-cut keyframes), no audio, same crf and preset,
  so only the size and the GOP differ from the raw file.

Content is ``bench_end_to_end.render_video``'s: a panning multi-scale texture with textured
objects and light per-frame noise (flat colour would make every decoder unrealistically fast).
Files are written once under ``benchmarks/.cache/`` (``VIDEOMAE_BENCH_CACHE`` moves it) and
reused while their parameters match.
"""

from __future__ import annotations

import json
import time
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from bench_end_to_end import render_video
from common import CACHE_DIR

from videomae.video.write import write_video

RENDERER_VERSION = 1
FPS = 30
RAW_SIZES = {"256p": (256, 340), "720p": (720, 1280)}  # name -> (height, width)
PREPARED_SHORT_SIDE = 320
PREPARED_GOP = 16
ENCODER_OPTIONS = {"crf": "18", "preset": "veryfast"}


def prepared_size(
    height: int, width: int, short_side: int = PREPARED_SHORT_SIDE
) -> tuple[int, int]:
    """(height, width) with the short side at ``short_side`` (never upscaled), both even."""
    scale = min(1.0, short_side / min(height, width))
    return 2 * round(height * scale / 2), 2 * round(width * scale / 2)


def prepare_file(src: Path, dst: Path, short_side: int = PREPARED_SHORT_SIDE) -> None:
    """Re-encode ``src`` as a prepared file: resized, fixed GOP of 16, no audio, same frames."""
    tmp = dst.with_name(dst.stem + ".part.mp4")
    with av.open(str(src)) as inp, av.open(str(tmp), mode="w") as out:
        vin = inp.streams.video[0]
        height, width = prepared_size(vin.codec_context.height, vin.codec_context.width, short_side)
        rate = Fraction(vin.average_rate or FPS).limit_denominator(100_000)
        params = f"keyint={PREPARED_GOP}:min-keyint={PREPARED_GOP}:scenecut=0"
        vout = out.add_stream(
            "libx264", rate=rate, options={**ENCODER_OPTIONS, "x264-params": params}
        )
        vout.width, vout.height, vout.pix_fmt = width, height, "yuv420p"
        vout.codec_context.gop_size = PREPARED_GOP
        for i, frame in enumerate(inp.decode(vin)):
            small = frame.reformat(
                width=width, height=height, format="yuv420p", interpolation="AREA"
            )
            small.pts, small.time_base = i, Fraction(1) / rate
            out.mux(vout.encode(small))
        out.mux(vout.encode(None))
    tmp.replace(dst)


def ensure_videos(
    num: int, seconds: float, seed: int = 0, sizes: list[str] | None = None
) -> dict[str, list[Path]]:
    """{"raw 256p", "raw 720p", "prepared 256p", "prepared 720p"} -> file paths (written once);
    ``sizes`` ("256p", "720p") limits the kinds."""
    sizes = list(sizes or RAW_SIZES)
    params = {
        "num": num,
        "seconds": seconds,
        "fps": FPS,
        "seed": seed,
        "renderer": RENDERER_VERSION,
    }
    params.update(encoder=ENCODER_OPTIONS, short_side=PREPARED_SHORT_SIDE, gop=PREPARED_GOP)
    params["sizes"] = sizes
    folder = CACHE_DIR / f"data_{num}x{seconds:g}s_seed{seed}_{'_'.join(sizes)}"
    out = {
        f"{kind} {name}": [folder / f"{kind}_{name}_{i:02d}.mp4" for i in range(num)]
        for kind in ("raw", "prepared")
        for name in sizes
    }
    stamp = folder / "params.json"
    done = stamp.is_file() and json.loads(stamp.read_text()) == params
    if done and all(p.is_file() for paths in out.values() for p in paths):
        return out
    folder.mkdir(parents=True, exist_ok=True)
    print(f"writing the benchmark's videos to {folder} (once) ...", flush=True)
    start = time.perf_counter()
    for name in sizes:
        h, w = RAW_SIZES[name]
        for i in range(num):
            raw, prepared = out[f"raw {name}"][i], out[f"prepared {name}"][i]
            frames = render_video(seconds, FPS, h, w, np.random.default_rng(seed + i))
            write_video(raw, frames, fps=FPS, options=dict(ENCODER_OPTIONS))
            del frames
            prepare_file(raw, prepared)
    stamp.write_text(json.dumps(params))
    print(f"  done in {time.perf_counter() - start:.0f} s")
    return out


def describe(path: Path) -> dict[str, object]:
    """Size, frame count, keyframe positions (first few) and file size of one video."""
    with av.open(str(path)) as c:
        s = c.streams.video[0]
        keys = [i for i, pkt in enumerate(c.demux(s)) if pkt.size and pkt.is_keyframe]
        return {
            "width": s.codec_context.width,
            "height": s.codec_context.height,
            "frames": s.frames,
            "keyframes": keys[:6],
            "audio": bool(c.streams.audio),
            "mb": round(path.stat().st_size / 2**20, 2),
        }
