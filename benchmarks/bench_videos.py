"""Generated H.264 test videos for the decoding benchmarks, cached under ``CACHE_DIR``.

A textured picture that pans, a square that moves across it and a light grain that changes
every frame (so the bit rate is that of camera footage, about 3-5 Mbit/s at 720p and 0.3-0.5 at 340 x 256, not that of
a clean synthetic picture), 30 fps, written frame by frame (a 10-second 720p clip would need
830 MB as one array). ``gop=None`` keeps x264's default
keyframe interval (250 frames, with scene-cut keyframes), what most files in the wild have.
"""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
from common import CACHE_DIR


def _texture(height: int, width: int, seed: int = 0) -> np.ndarray:
    """Smooth random texture: a coarse random grid upsampled, so x264 codes it like footage."""
    rng = np.random.default_rng(seed)
    coarse = rng.integers(0, 256, (height // 8 + 2, width // 8 + 2, 3), dtype=np.uint8)
    return np.repeat(np.repeat(coarse, 8, axis=0), 8, axis=1)[:height, : width * 2]


def bench_video(width: int, height: int, *, gop: int | None, frames: int = 300) -> Path:
    """The path of a cached ``width`` x ``height`` H.264 mp4 (written on first use)."""
    path = CACHE_DIR / "decode" / f"grain_{width}x{height}_gop{gop or 'default'}_{frames}.mp4"
    if path.exists():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".part.mp4")
    base = np.concatenate([_texture(height, width)] * 2, axis=1).astype(
        np.int16
    )  # wide enough to pan across
    rng = np.random.default_rng(1)
    grain = rng.integers(-16, 17, (7, height, width, 3), dtype=np.int16)  # cycled, 7 patterns
    with av.open(str(tmp), mode="w") as out:
        stream = out.add_stream("libx264", rate=30, options={"crf": "23", "preset": "veryfast"})
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        if gop is not None:
            stream.codec_context.gop_size = gop
        for i in range(frames):
            img = base[:, i * 2 % width : i * 2 % width + width] + grain[i % len(grain)]
            img = np.clip(img, 0, 255).astype(np.uint8)
            top, left = (i * 3) % (height - 16), (i * 5) % (width - 16)
            img[top : top + 16, left : left + 16] = 255
            out.mux(stream.encode(av.VideoFrame.from_ndarray(img, format="rgb24")))
        out.mux(stream.encode(None))
    tmp.rename(path)
    return path
