"""`videomae serve` under load, on loopback only: requests/s and p50/p95 latency at 1, 4 and 16
concurrent clients for a small model, the server's memory before and after many requests, and
the HTTP overhead as a ratio against calling the same classifier in-process.

    .venv/bin/python benchmarks/bench_serve.py            # 1,000 requests in all
    .venv/bin/python benchmarks/bench_serve.py --quick    # smoke run (a few dozen requests)
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import machine_info, print_machine, print_table, write_result  # noqa: E402

from videomae import VideoMAEConfig, VideoMAEForVideoClassification  # noqa: E402
from videomae.inference.classifier import VideoClassifier  # noqa: E402
from videomae.video.write import write_video  # noqa: E402

SMALL = dict(
    image_size=64, patch_size=16, num_frames=8, tubelet_size=2, hidden_size=192,
    num_hidden_layers=4, num_attention_heads=3, intermediate_size=768, num_labels=10,
)  # fmt: skip


def _assets(root: Path) -> tuple[Path, Path]:
    torch.manual_seed(0)
    model = VideoMAEForVideoClassification(VideoMAEConfig(**SMALL))
    model.save_pretrained(root / "model")
    frames = np.random.default_rng(0).integers(0, 256, size=(48, 96, 128, 3), dtype=np.uint8)
    video = root / "clip.mp4"
    write_video(video, frames, fps=24)
    return root / "model", video


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def _load(url: str, video: bytes, clients: int, requests: int) -> dict:
    """``requests`` POSTs spread over ``clients`` concurrent connections."""
    latencies: list[float] = []
    codes: dict[int, int] = {}
    todo = iter(range(requests))

    async def client(http: httpx.AsyncClient) -> None:
        for _ in todo:
            start = time.perf_counter()
            r = await http.post(url, files={"file": ("clip.mp4", video, "video/mp4")})
            latencies.append(1000 * (time.perf_counter() - start))
            codes[r.status_code] = codes.get(r.status_code, 0) + 1

    async with httpx.AsyncClient(timeout=300) as http:
        start = time.perf_counter()
        await asyncio.gather(*(client(http) for _ in range(clients)))
        wall = time.perf_counter() - start
    q = statistics.quantiles(latencies, n=20)
    return {"clients": clients, "requests": requests, "rps": requests / wall,
            "p50_ms": statistics.median(latencies), "p95_ms": q[18], "codes": codes}  # fmt: skip


def _direct_ms(model_dir: Path, video: Path, n: int) -> float:
    clf = VideoClassifier.from_pretrained(model_dir, progress=False)
    clf(str(video))
    times = []
    for _ in range(n):
        start = time.perf_counter()
        clf(str(video))
        times.append(1000 * (time.perf_counter() - start))
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a few dozen requests")
    parser.add_argument("--no-save", action="store_true", help="do not append to results/")
    args = parser.parse_args()
    per_level = 10 if args.quick else 300  # 1 + 4 + 16 clients -> 3 levels
    info = machine_info(torch.device("cpu"))
    print_machine(info)
    with tempfile.TemporaryDirectory() as tmp:
        model_dir, video = _assets(Path(tmp))
        port = _free_port()
        cmd = [sys.executable, "-m", "videomae", "serve", "--model", str(model_dir),
               "--port", str(port), "--max-queue", "64"]  # fmt: skip
        server = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            base = f"http://127.0.0.1:{port}"
            for _ in range(600):
                try:
                    if httpx.get(base + "/healthz").status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.1)
            body = video.read_bytes()
            asyncio.run(_load(base + "/v1/classify", body, 1, 5))  # warm-up
            rss_start = _rss_mb(server.pid)
            levels = [
                asyncio.run(_load(base + "/v1/classify", body, c, per_level)) for c in (1, 4, 16)
            ]
            total = 5 + 3 * per_level
            extra = max(0, (100 if args.quick else 1000) - total)
            if extra:
                asyncio.run(_load(base + "/v1/classify", body, 4, extra))
            rss_end = _rss_mb(server.pid)
            total += extra
        finally:
            server.terminate()
            server.wait(30)
        direct = _direct_ms(model_dir, video, 5 if args.quick else 20)
    rows = [[lv["clients"], lv["requests"], f"{lv['rps']:.1f}", f"{lv['p50_ms']:.1f}",
             f"{lv['p95_ms']:.1f}", lv["codes"]] for lv in levels]  # fmt: skip
    print_table(["clients", "requests", "req/s", "p50 ms", "p95 ms", "status codes"], rows)
    ratio = levels[0]["p50_ms"] / direct
    print(f"HTTP p50 at 1 client vs in-process call: {levels[0]['p50_ms']:.1f} vs {direct:.1f} ms "
          f"(ratio {ratio:.2f}x)")  # fmt: skip
    print(f"server RSS: {rss_start:.0f} MB after warm-up, {rss_end:.0f} MB after {total} requests")
    if not args.no_save:
        record = {"machine": info, "model": SMALL, "levels": levels, "direct_p50_ms": direct,
                  "rss_mb_start": rss_start, "rss_mb_end": rss_end, "requests_total": total}  # fmt: skip
        print("appended to", write_result("serve", record))


if __name__ == "__main__":
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    main()
