"""Is a change slower? The same inference forward (batch 1) and pre-training step (batch 2,
90% tube mask, AdamW) timed in two source trees, alternating, each in a fresh process.

    git worktree add /tmp/before <commit>
    .venv/bin/python benchmarks/bench_ab_trees.py /tmp/before/src src --rounds 3

Prints each round and the medians (ms); ratio = before / after (> 1: the change is faster).
Model: ViT-S-sized (12 layers, hidden 384), 16 x 224 x 224, fp32.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys

CHILD = r"""
import json, statistics, time, torch
from videomae import VideoMAEConfig, VideoMAEForPreTraining, VideoMAEForVideoClassification
from videomae.masking import tube_mask
torch.manual_seed(0)
cfg = dict(image_size=224, patch_size=16, num_frames=16, tubelet_size=2, hidden_size=384,
           num_hidden_layers=12, num_attention_heads=6, intermediate_size=1536,
           decoder_hidden_size=192, decoder_num_hidden_layers=4, decoder_num_attention_heads=3,
           decoder_intermediate_size=768, num_labels=10, use_mean_pooling=True, norm_pix_loss=True)
x = torch.randn(1, 16, 3, 224, 224)
clf = VideoMAEForVideoClassification(VideoMAEConfig(**cfg)).eval()
pt = VideoMAEForPreTraining(VideoMAEConfig(**cfg))
opt = torch.optim.AdamW(pt.parameters(), lr=1e-4)
xb = torch.randn(2, 16, 3, 224, 224)
mask = tube_mask(2, (8, 14, 14), 0.9, generator=torch.Generator().manual_seed(0))
def infer():
    with torch.inference_mode():
        clf(x)
def step():
    pt(xb, bool_masked_pos=mask).loss.backward(); opt.step(); opt.zero_grad(set_to_none=True)
out = {}
for name, fn in (("inference_b1_ms", infer), ("pretrain_step_ms", step)):
    fn()
    ts = []
    for _ in range(4):
        t = time.perf_counter(); fn(); ts.append(1000 * (time.perf_counter() - t))
    out[name] = statistics.median(ts)
print(json.dumps(out))
"""


def _run(src: str) -> dict[str, float]:
    env = {**os.environ, "PYTHONPATH": os.path.abspath(src)}
    done = subprocess.run([sys.executable, "-c", CHILD], env=env, capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"{src}: {done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("before", help="src/ folder of the code before the change")
    parser.add_argument("after", help="src/ folder of the code after the change")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds")
    args = parser.parse_args()
    rows: dict[str, list[dict[str, float]]] = {"before": [], "after": []}
    for r in range(args.rounds):
        for side in ("before", "after"):
            rows[side].append(_run(getattr(args, side)))
            print(r + 1, side, json.dumps({k: round(v, 1) for k, v in rows[side][-1].items()}))
    for key in rows["before"][0]:
        b = statistics.median(x[key] for x in rows["before"])
        a = statistics.median(x[key] for x in rows["after"])
        print(f"{key}: before {b:.1f}, after {a:.1f}, ratio {b / a:.3f}x")


if __name__ == "__main__":
    main()
