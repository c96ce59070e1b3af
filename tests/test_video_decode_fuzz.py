"""Fuzzing the decoder: mutated bytes of a real small mp4 and webm (200 cases each, bounded by a
timeout) never crash or hang the process; each case decodes or raises VideoDecodeError."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from videomae.video.write import write_video

pytest.importorskip("av")

WORKER = Path(__file__).with_name("_fuzz_worker.py")
CASES = 200


@pytest.mark.parametrize("ext", [".mp4", ".webm"])
def test_mutated_videos_never_crash_or_hang(tmp_path: Path, ext: str) -> None:
    clip = np.random.default_rng(1).integers(0, 255, (12, 32, 40, 3), dtype=np.uint8)
    video = tmp_path / f"base{ext}"
    write_video(video, clip, fps=10)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    proc = subprocess.run(
        [sys.executable, str(WORKER), str(video), str(CASES), "0", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,  # a hang fails the test instead of stalling the suite
        env=env,
    )
    assert proc.returncode == 0, f"the decoder process died ({proc.returncode}): {proc.stderr}"
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    assert report["other"] == [], report["other"][:5]
    assert report["decoded"] + report["refused"] == CASES
    assert report["refused"] > 0  # the mutations really broke files
