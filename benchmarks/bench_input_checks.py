"""What the model's pixel_values checks cost: `check_pixels` (dtype + NaN/Inf via one sum) next to
an elementwise `torch.isfinite(x).all()` and one forward pass of the same clip.

    PYTHONPATH=src python benchmarks/bench_input_checks.py --preset small --batch 1 8
"""

from __future__ import annotations

import argparse
import time

import torch

from videomae import VideoMAEConfig, VideoMAEForVideoClassification
from videomae.modeling.inputs import check_pixels


def _ms(fn, repeats: int) -> float:
    fn()  # warm-up
    start = time.perf_counter()
    for _ in range(repeats):
        fn()
    return (time.perf_counter() - start) / repeats * 1e3


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="small")
    parser.add_argument("--batch", type=int, nargs="+", default=[1, 8])
    parser.add_argument("--frames", type=int, default=16)
    parser.add_argument("--size", type=int, default=224)
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    config = VideoMAEConfig.from_preset(args.preset, num_frames=args.frames, image_size=args.size)
    model = VideoMAEForVideoClassification(config).eval()
    print(
        "| batch | check_pixels (ms) | isfinite(x).all() (ms) | forward (ms) | ratio check / forward |"
    )
    print("|---|---|---|---|---|")
    for batch in args.batch:
        x = torch.randn(batch, args.frames, 3, args.size, args.size)
        check = _ms(lambda x=x: check_pixels(x), args.repeats)
        full = _ms(lambda x=x: bool(torch.isfinite(x).all()), args.repeats)
        with torch.inference_mode():
            forward = _ms(lambda x=x: model(x), max(1, args.repeats // 5))
        print(f"| {batch} | {check:.2f} | {full:.2f} | {forward:.0f} | {check / forward:.2%} |")


if __name__ == "__main__":
    main()
