"""Tiny pre-training run for the loop's subprocess tests (SIGKILL resume, torchrun DDP).

Usage: python tests/_train_helper.py OUT_DIR [--steps N] [--save-every K] [--batch B]
       [--accum A] [--sleep S] [--resume] [--workers W] [--classify] [--fsdp]
       [--grad-checkpointing]
Writes OUT_DIR/final.pt (the whole model state dict) when the run finishes; with --fsdp also
OUT_DIR/final/ (the model folder) and OUT_DIR/outputs.pt (the sharded model's eval outputs on
fixed clips, to compare with the folder loaded into a plain model).
"""

from __future__ import annotations

import argparse
import os
import time

import torch

torch.set_num_threads(1)

from videomae import (  # noqa: E402
    VideoMAEConfig,
    VideoMAEForPreTraining,
    VideoMAEForVideoClassification,
)
from videomae.masking import tube_mask  # noqa: E402
from videomae.train import distributed as D  # noqa: E402
from videomae.train.config import TrainConfig  # noqa: E402
from videomae.train.loop import train  # noqa: E402
from videomae.train.sharding import plain_model  # noqa: E402


class NoiseClips(torch.utils.data.Dataset):
    """Fixed base clips plus noise and a tube mask drawn from the (per-sample seeded) RNG."""

    def __init__(self, n: int = 24) -> None:
        g = torch.Generator().manual_seed(1234)
        self.base = torch.rand(n, 4, 3, 16, 16, generator=g)

    def __len__(self) -> int:
        return len(self.base)

    def getitem_seeded(self, index: int, seed: int) -> dict:
        g = torch.Generator().manual_seed(seed)
        clip = self.base[index] + 0.1 * torch.randn(self.base[index].shape, generator=g)
        mask = tube_mask(1, (2, 2, 2), 0.5, generator=g)[0]
        return {"pixel_values": clip, "bool_masked_pos": mask, "labels": index % 3}


def tiny_config() -> VideoMAEConfig:
    return VideoMAEConfig(
        image_size=16,
        patch_size=8,
        num_frames=4,
        tubelet_size=2,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        decoder_hidden_size=16,
        decoder_num_hidden_layers=1,
        decoder_num_attention_heads=2,
        decoder_intermediate_size=32,
        norm_pix_loss=True,
        num_labels=3,
    )


def fixed_clips() -> torch.Tensor:
    """Two clips the saved-folder check runs through both models."""
    return torch.rand(2, 4, 3, 16, 16, generator=torch.Generator().manual_seed(99))


def classify_step(m, batch):
    return torch.nn.functional.cross_entropy(m(batch["pixel_values"]).logits, batch["labels"])


def _outputs(model: torch.nn.Module, classify: bool) -> torch.Tensor:
    """Eval outputs on :func:`fixed_clips` (every rank runs it: FSDP gathers in forward)."""
    model.eval()
    with torch.no_grad():
        if classify:
            return model(fixed_clips()).logits
        mask = tube_mask(2, (2, 2, 2), 0.5, generator=torch.Generator().manual_seed(5))
        return model(fixed_clips(), bool_masked_pos=mask).logits


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("out")
    p.add_argument("--steps", type=int, default=8)
    p.add_argument("--save-every", type=int, default=2)
    p.add_argument("--batch", type=int, default=4)
    p.add_argument("--accum", type=int, default=1)
    p.add_argument("--sleep", type=float, default=0.0)
    p.add_argument("--workers", type=int, default=0)
    p.add_argument("--resume", action="store_true")
    p.add_argument("--classify", action="store_true")
    p.add_argument("--fsdp", action="store_true")
    p.add_argument("--grad-checkpointing", action="store_true")
    a = p.parse_args()

    torch.manual_seed(0)
    cls = VideoMAEForVideoClassification if a.classify else VideoMAEForPreTraining
    model = cls(tiny_config())

    def step_fn(m, batch):
        if a.sleep:
            time.sleep(a.sleep)
        if a.classify:
            return classify_step(m, batch)
        out = m(batch["pixel_values"], bool_masked_pos=batch["bool_masked_pos"])
        return out.loss

    cfg = TrainConfig(
        out_dir=a.out,
        total_steps=a.steps,
        batch_size=a.batch,
        accum_steps=a.accum,
        lr=1e-3,
        min_lr=1e-5,
        warmup_steps=2,
        betas=(0.9, 0.95),
        clip_grad=1.0,
        log_every=1,
        save_every=a.save_every,
        keep_last=2,
        seed=7,
        num_workers=a.workers,
        resume=a.resume,
        progress=False,
        device="cpu",
        precision="fp32",
        fsdp=a.fsdp,
        grad_checkpointing=a.grad_checkpointing,
    )
    res = train(model, NoiseClips(), step_fn, cfg)
    is_main = D.get_info().is_main
    whole = plain_model(D.unwrap(model), is_main)  # gathered on rank 0 under FSDP
    outputs = _outputs(model, a.classify) if a.fsdp else None
    if is_main:
        torch.save(whole.state_dict(), os.path.join(a.out, "final.pt"))
        if a.fsdp:
            whole.save_pretrained(os.path.join(a.out, "final"))
            torch.save(outputs, os.path.join(a.out, "outputs.pt"))
        print(f"done step={res.step} resumed_from={res.resumed_from}", flush=True)
    D.cleanup()


if __name__ == "__main__":
    main()
