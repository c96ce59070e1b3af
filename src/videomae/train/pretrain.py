"""Self-supervised pre-training recipe (``videomae pretrain``): masked video reconstruction.

Defaults follow the paper / original release: tube masking at 90%, AdamW betas (0.9, 0.95),
weight decay 0.05 (none on biases and norms), lr = 1.5e-4 x global_batch / 256, linear warm-up
(40 epochs) then cosine to 1e-5, normalised-pixel targets. All training machinery (resume,
torchrun, precision, logging) lives in :mod:`videomae.train.loop`.

Usage: ``python -m videomae.train.pretrain --data videos/ --out-dir runs/pt --model small``
(one flag per :class:`PretrainConfig` field), or under ``torchrun --nproc_per_node N``.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from videomae.train import distributed as D
from videomae.train.loop import dataclass_from_args, train
from videomae.train.recipe import (
    RecipeConfig,
    export_ema,
    helped,
    loop_config,
    model_classes,
    write_summary,
)
from videomae.train.recipe import build_parser as recipe_parser


@dataclass
class PretrainConfig(RecipeConfig):
    """Every knob of the pre-training recipe; each field is also a CLI flag."""

    data: str = helped("list file (one 'path' per line) or folder of videos", "")
    # defaults of the original pre-training recipe (RecipeConfig holds the rest)
    out_dir: str = "runs/pretrain"
    init: str | None = helped("start from this save_pretrained folder instead of random weights")
    epochs: int = 800
    warmup_epochs: float = 40
    batch_size: int = helped("clips per process per micro-step", 32)
    base_lr: float = 1.5e-4
    min_lr: float = 1e-5
    betas: tuple[float, float] = (0.9, 0.95)
    crop_scales: tuple[float, ...] = helped(
        "multi-scale crop: crop sides as fractions of the short side (1.0 alone: no crop)",
        (1.0, 0.875, 0.75, 0.66),
    )
    # the objective
    norm_pix_loss: bool = True
    mask_kind: str = helped("tube or random", "tube")
    mask_ratio: float = 0.9
    decoder_mask: str = helped("none or running_cell (VideoMAE V2 dual masking)", "none")
    decoder_keep_ratio: float = 0.5


def build_dataset(cfg: PretrainConfig) -> Any:
    """The :class:`VideoPretrainDataset` described by ``cfg``."""
    from videomae.data.datasets import VideoPretrainDataset
    from videomae.data.lists import load_samples

    if not cfg.data:
        raise ValueError("set data: a list file of videos or a folder of videos (--data)")
    samples, _ = load_samples(cfg.data, cfg.root, labeled=False)
    return VideoPretrainDataset(
        samples,
        num_frames=cfg.num_frames,
        sampling_rate=cfg.sampling_rate,
        strategy=cfg.strategy,
        input_size=cfg.input_size,
        patch_size=cfg.patch_size,
        tubelet_size=cfg.tubelet_size,
        mask_kind=cfg.mask_kind,
        mask_ratio=cfg.mask_ratio,
        decoder_mask=cfg.decoder_mask,
        decoder_keep_ratio=cfg.decoder_keep_ratio,
        scales=cfg.crop_scales,
        flip=cfg.flip,
        short_side=cfg.short_side,
        repeats=cfg.repeats,
        cache_mb=cfg.cache_mb,
    )


def build_model(cfg: PretrainConfig) -> torch.nn.Module:
    """A :class:`VideoMAEForPreTraining` from ``cfg.init`` or from the preset + overrides."""
    config_cls, pretraining_cls, _ = model_classes()
    torch.manual_seed(cfg.seed)  # identical initial weights on every rank
    shape = {
        "image_size": cfg.input_size,
        "num_frames": cfg.num_frames,
        "patch_size": cfg.patch_size,
        "tubelet_size": cfg.tubelet_size,
    }
    if cfg.init:
        return pretraining_cls.from_pretrained(
            cfg.init,
            norm_pix_loss=cfg.norm_pix_loss,
            drop_path_rate=cfg.drop_path,
            **cfg.model_overrides,
        )
    fields = {**shape, "norm_pix_loss": cfg.norm_pix_loss, "drop_path_rate": cfg.drop_path}
    config = config_cls.from_preset(cfg.model, **{**fields, **cfg.model_overrides})
    return pretraining_cls(config)


def pretrain_step(model: torch.nn.Module, batch: dict[str, torch.Tensor]) -> torch.Tensor:
    """The reconstruction loss of ``VideoMAEForPreTraining`` (dual masking when given)."""
    kwargs = {}
    if "decoder_mask" in batch:
        kwargs["decoder_mask"] = batch["decoder_mask"]
    return model(batch["pixel_values"], bool_masked_pos=batch["bool_masked_pos"], **kwargs).loss


def pretrain(cfg: PretrainConfig) -> Path:
    """Run (or resume) pre-training; returns the exported ``out_dir/final`` folder."""
    info = D.init_distributed(device=cfg.device)
    dataset = build_dataset(cfg)
    model = build_model(cfg)
    loop_cfg = loop_config(cfg, len(dataset), info.world_size, cfg.repeats)
    result = train(model, dataset, pretrain_step, loop_cfg, run_config=cfg)
    out = Path(cfg.out_dir)
    final = out / "final"
    if info.is_main:
        D.unwrap(model).save_pretrained(final)
        export_ema(model, result, out / "final-ema")
        write_summary(result, out / "summary.json", {"final_model": str(final)})
    D.barrier()
    return final


def build_parser() -> argparse.ArgumentParser:
    return recipe_parser(PretrainConfig, "videomae pretrain")


def main(argv: Sequence[str] | None = None) -> int:
    """CLI entry: ``python -m videomae.train.pretrain --data DIR --out-dir OUT [...]``."""
    args = build_parser().parse_args(argv)
    cfg = dataclass_from_args(PretrainConfig, args)
    try:
        final = pretrain(cfg)
        if D.get_info().is_main:
            print(f"pre-trained model saved to {final}")
    finally:
        D.cleanup()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
