"""Smoke runs of the benchmark scripts: small model, small input, one or two rounds.

Timings are not checked here (speed is measured by running the benchmarks by hand). What is
checked: every script runs end to end on this machine, passes its own agreement checks against
transformers (each exits non-zero on a disagreement), and prints its table.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "benchmarks"
SMOKE = ["--quick", "--no-save", "--no-memory", "--iters", "1", "--warmup", "1"]

RUNS = {
    "inference": ["bench_inference.py", *SMOKE, "--only", "ours_fp32,tf_fp32_sdpa"],
    "pretrain_step": ["bench_pretrain_step.py", *SMOKE, "--only", "ours_fp32,tf_fp32"],
    "end_to_end": ["bench_end_to_end.py", *SMOKE, "--only", "ours_b1_inline", "--videos", "1"],
    "serve": ["bench_serve.py", "--quick", "--no-save"],
    "input_checks": [
        "bench_input_checks.py",
        *("--batch", "1", "--frames", "4", "--size", "32", "--repeats", "1"),
    ],
    "export": ["bench_export.py", *SMOKE, "--batches", "1"],
    "long_video": [
        "bench_long_video.py",
        "--minutes",
        "0.05",
        "0.1",
        "--model",
        "tiny-32",
        "--no-save",
    ],
    "memory_table": ["memory_table.py", "--quick", "--no-save", "--threads", "1"],
    "decode_threads": ["bench_decode_threads.py", "--quick", "--no-save"],
    "decode_paths": ["bench_decode_paths.py", "--quick", "--no-save", "--before-ref", "HEAD"],
    "finetune_sample": ["bench_finetune_sample.py", "--quick", "--no-save", "--before-ref", "HEAD"],
    "preprocess": [
        "bench_preprocess.py",
        *("--no-save", "--repeats", "2", "--warmup", "1"),
        *("--frames", "4", "--height", "96", "--width", "128", "--after-idle"),
    ],
}


@pytest.mark.parametrize("name", list(RUNS))
def test_benchmark_runs(name, tmp_path):
    script, *args = RUNS[name]
    env = {**os.environ, "VIDEOMAE_BENCH_CACHE": str(tmp_path)}  # generated videos go here
    done = subprocess.run(
        [sys.executable, str(BENCH / script), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=900,
    )
    tail = (done.stdout[-3000:] + "\n" + done.stderr[-3000:]).strip()
    assert done.returncode == 0, tail
    assert "ratio" in done.stdout, tail


def _installed(name: str) -> bool:
    try:
        __import__(name)
        if name == "torchcodec":
            __import__("torchcodec.decoders")
        return True
    except Exception:  # ImportError, or OSError when FFmpeg's libraries are missing
        return False


_HIDE_ANCHORS = (
    "import runpy, sys; sys.modules['decord'] = None; sys.modules['torchcodec'] = None; "
    "sys.argv = sys.argv[1:]; runpy.run_path(sys.argv[0], run_name='__main__')"
)


def _run_data(tmp_path, *extra: str, hide: bool = False) -> str:
    env = {**os.environ, "VIDEOMAE_BENCH_CACHE": str(tmp_path)}
    launcher = [sys.executable, "-c", _HIDE_ANCHORS] if hide else [sys.executable]
    done = subprocess.run(
        [*launcher, str(BENCH / "bench_data.py"), "--quick", "--no-save", *extra],
        capture_output=True,
        text=True,
        env=env,
        timeout=900,
    )
    tail = (done.stdout[-3000:] + "\n" + done.stderr[-3000:]).strip()
    assert done.returncode == 0, tail
    assert "ratio" in done.stdout, tail
    return done.stdout


def test_bench_data_reports_anchors(tmp_path):
    """Ours always runs; each anchor is timed when installed and named as missing when not;
    the original-style rows exist exactly when decord is installed."""
    out = _run_data(tmp_path)
    for name in ("decord", "torchcodec"):
        if _installed(name):
            assert f"{name}: ok" in out
        else:
            assert f"{name}: not installed" in out
    assert "ours raw 256p pretrain dense" in out
    assert ("orig raw 256p pretrain dense" in out) == _installed("decord")


def test_bench_data_without_anchors(tmp_path):
    """With decord and TorchCodec unimportable the run still passes, ours only, and names the
    anchors as not installed (never a made-up row)."""
    out = _run_data(tmp_path, "--only", "sample", "--no-loader", "--warmup", "0", hide=True)
    assert "decord: not installed" in out
    assert "torchcodec: not installed" in out
    assert "orig raw 256p" not in out
    assert "ours raw 256p pretrain dense" in out


def test_bench_data_no_anchor_flag(tmp_path):
    out = _run_data(tmp_path, "--only", "decode", "--no-anchor", "torchcodec", "--warmup", "0")
    assert "torchcodec: skipped (--no-anchor)" in out
