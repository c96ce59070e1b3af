"""How much transformers' hard-coded LayerNorm eps changes a converted original checkpoint.

The original releases use eps 1e-6 in every LayerNorm; our converter keeps it (``fc_norm_eps``,
``decoder_norm_eps``), while transformers builds ``fc_norm`` and ``decoder.norm`` with torch's
default 1e-5 whatever the config says. This loads one folder in both libraries and prints the
largest logit difference. A fidelity measurement, not a speed one (no timings).

    python benchmarks/measure_layernorm_eps.py [--size base] [--frames 16] [--image-size 224]

Weights are randomly initialised (std 0.02, as both libraries do): no released checkpoint can be
downloaded here, so the numbers show the size of the effect, not a released model's exact value.
"""

from __future__ import annotations

import argparse
import sys
import tempfile

import torch
import transformers

from videomae import VideoMAEConfig, VideoMAEForPreTraining, VideoMAEForVideoClassification
from videomae.checkpoints.infer import ORIGINAL_LAYER_NORM_EPS
from videomae.masking import tube_mask


def measure(cls, config: VideoMAEConfig, seed: int) -> tuple[float, float]:
    """(max |ours - transformers|, max |ours|) of the logits on one random clip."""
    torch.manual_seed(seed)
    ours = cls(config).eval()
    with tempfile.TemporaryDirectory() as folder:
        ours.save_pretrained(folder)
        theirs = getattr(transformers, cls.__name__).from_pretrained(folder).eval()
    x = torch.randn(1, config.num_frames, 3, config.image_size, config.image_size)
    kwargs = {}
    if cls is VideoMAEForPreTraining:
        gen = torch.Generator().manual_seed(seed)
        kwargs["bool_masked_pos"] = tube_mask(1, config.token_grid, 0.9, generator=gen)
    with torch.no_grad():
        a, b = ours(x, **kwargs).logits, theirs(x, **kwargs).logits
    return float((a - b).abs().max()), float(a.abs().max())


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--size", default="base")
    p.add_argument("--frames", type=int, default=16)
    p.add_argument("--image-size", type=int, default=224)
    p.add_argument("--seeds", type=int, default=3)
    args = p.parse_args(argv)
    eps = ORIGINAL_LAYER_NORM_EPS
    for cls in (VideoMAEForVideoClassification, VideoMAEForPreTraining):
        for fc_eps in (eps, 1e-5):  # converted eps, and transformers' value (control: 0 diff)
            config = VideoMAEConfig.from_preset(
                args.size,
                num_frames=args.frames,
                image_size=args.image_size,
                layer_norm_eps=eps,
                fc_norm_eps=fc_eps,
                decoder_norm_eps=fc_eps,
                num_labels=400,
            )
            diffs = [measure(cls, config, seed) for seed in range(args.seeds)]
            worst = max(d for d, _ in diffs)
            scale = max(s for _, s in diffs)
            print(
                f"{cls.__name__:<32} norm eps {fc_eps:g}: max |diff| {worst:.2e} (max |logit| {scale:.2f})"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
