"""Fuzz worker (run as a subprocess by test_video_decode_fuzz.py, so a crash is seen as a dead
process): decodes ``count`` mutated copies of a video and prints one JSON summary line.

Usage: python _fuzz_worker.py VIDEO COUNT SEED WORKDIR
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

from videomae.errors import VideoDecodeError
from videomae.video.decode import probe, read_clips


def mutate(data: bytes, rng: np.random.Generator, kind: int) -> bytes:
    """Flip bytes, truncate, overwrite a run, or insert random bytes."""
    b = bytearray(data)
    at = int(rng.integers(len(b)))
    if kind == 0:
        for _ in range(int(rng.integers(1, 20))):
            b[int(rng.integers(len(b)))] = int(rng.integers(256))
    elif kind == 1:
        b = b[: max(1, at)]
    elif kind == 2:
        n = int(rng.integers(1, 64))
        b[at : at + n] = rng.integers(0, 256, n, dtype=np.uint8).tobytes()
    else:
        b[at:at] = rng.integers(0, 256, int(rng.integers(1, 200)), dtype=np.uint8).tobytes()
    return bytes(b)


def main(video: str, count: int, seed: int, workdir: str) -> dict:
    data = Path(video).read_bytes()
    rng = np.random.default_rng(seed)
    counts = {"decoded": 0, "refused": 0}
    other: list[str] = []
    path = Path(workdir) / ("case" + Path(video).suffix)
    for k in range(count):
        path.write_bytes(mutate(data, rng, k % 4))
        try:
            read_clips(path, 8, num_clips=2)
            probe(path)
            counts["decoded"] += 1
        except VideoDecodeError:
            counts["refused"] += 1
        except Exception as e:  # noqa: BLE001 - the test reports every unexpected type
            other.append(f"case {k}: {type(e).__name__}: {e}")
    return {**counts, "other": other}


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4])))
