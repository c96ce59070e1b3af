"""Self-supervised pre-training recipe (``videomae pretrain``): masked video reconstruction.

Defaults follow the paper / original release: tube masking at 90%, AdamW betas (0.9, 0.95),
weight decay 0.05 (none on biases and norms), lr = 1.5e-4 x global_batch / 256, linear warm-up
(40 epochs) then cosine to 1e-5, normalised-pixel targets. The loss is the model's own
(:func:`videomae.modeling.losses.reconstruction_loss`); all training machinery (resume,
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

import numpy as np
import torch

from videomae.cli.contract import guarded
from videomae.config import VideoMAEConfig
from videomae.data.datasets import VideoPretrainDataset
from videomae.data.lists import load_samples
from videomae.limits import COUNT, Range, check_choice, check_fields
from videomae.modeling.models import VideoMAEForPreTraining
from videomae.train import distributed as D
from videomae.train.args import build_parser as config_parser
from videomae.train.config import TrainConfig, helped, model_overrides
from videomae.train.loop import train
from videomae.train.recipe import export_run, inherit_geometry, run_cli
from videomae.viz.picture import reconstruction_grid
from videomae.viz.reconstruction import reconstruct


@dataclass
class PretrainConfig(TrainConfig):
    """Every knob of the pre-training recipe; each field is also a CLI flag."""

    data: str = helped(
        "list file (one 'path' per line), folder of videos, or UCF101 / HMDB51 / Kinetics / "
        "SSv2 annotation file (see --format)",
        "",
    )
    # defaults of the original pre-training recipe (TrainConfig holds the rest)
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
    tensorboard_image_every: int = helped(
        "with --tensorboard: a reconstruction picture of the first clip every N steps", 500
    )

    def validate(self) -> None:
        super().validate()
        check_fields(self, PRETRAIN_RANGES)
        check_choice("mask_kind", self.mask_kind, ("tube", "random"))
        check_choice("decoder_mask", self.decoder_mask, ("none", "running_cell"))


PRETRAIN_RANGES = {
    "crop_scales": Range(0.0, 1.0, lo_open=True),
    "mask_ratio": Range(0.0, 1.0, hi_open=True),
    "decoder_keep_ratio": Range(0.0, 1.0, lo_open=True),
    "tensorboard_image_every": COUNT,
}


def build_dataset(cfg: PretrainConfig) -> VideoPretrainDataset:
    """The :class:`VideoPretrainDataset` described by ``cfg``."""
    if not cfg.data:
        raise ValueError("set data: a list file of videos or a folder of videos (--data)")
    samples, _ = load_samples(
        cfg.data,
        cfg.root,
        labeled=False,
        fmt=cfg.format,
        allow_outside_root=cfg.allow_outside_root,
    )
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
    torch.manual_seed(cfg.seed)  # identical initial weights on every rank
    shape = {
        "image_size": cfg.input_size,
        "num_frames": cfg.num_frames,
        "patch_size": cfg.patch_size,
        "tubelet_size": cfg.tubelet_size,
    }
    if cfg.init:
        return VideoMAEForPreTraining.from_pretrained(
            cfg.init,
            **shape,
            norm_pix_loss=cfg.norm_pix_loss,
            drop_path_rate=cfg.drop_path,
            dtype=torch.float32,  # master weights; a bf16 checkpoint would load as bf16
            **model_overrides(cfg),
        )
    fields = {**shape, "norm_pix_loss": cfg.norm_pix_loss, "drop_path_rate": cfg.drop_path}
    config = VideoMAEConfig.from_preset(cfg.model, **{**fields, **model_overrides(cfg)})
    return VideoMAEForPreTraining(config)


def pretrain_step(model: torch.nn.Module, batch: dict[str, torch.Tensor]) -> torch.Tensor:
    """The reconstruction loss of ``VideoMAEForPreTraining`` (dual masking when given)."""
    kwargs = {}
    if "decoder_mask" in batch:
        kwargs["decoder_mask"] = batch["decoder_mask"]
    return model(batch["pixel_values"], bool_masked_pos=batch["bool_masked_pos"], **kwargs).loss


def make_image_fn(dataset: VideoPretrainDataset) -> Any:
    """image_fn(model) -> (H, W, 3) uint8: the reconstruction picture of the first clip."""

    def image(model: torch.nn.Module) -> np.ndarray:
        item = dataset.getitem_seeded(0, 0)
        item = item[0] if isinstance(item, list) else item
        device = next(model.parameters()).device
        x = item["pixel_values"].unsqueeze(0).to(device)
        with torch.no_grad():
            rows = reconstruct(model, x, item["bool_masked_pos"].unsqueeze(0).to(device))
        return np.asarray(reconstruction_grid(rows, scale=None))

    return image


def pretrain(cfg: PretrainConfig) -> Path:
    """Run (or resume) pre-training; returns the exported ``out_dir/final`` folder (unset
    geometry from ``--init``, see :func:`~videomae.train.recipe.inherit_geometry`)."""
    cfg = inherit_geometry(cfg)
    D.init_distributed(device=cfg.device)
    dataset = build_dataset(cfg)
    model = build_model(cfg)
    result = train(
        model, dataset, pretrain_step, cfg,
        image_fn=make_image_fn(dataset), image_every=cfg.tensorboard_image_every,
    )  # fmt: skip
    return export_run(model, result, cfg, {})


def build_parser() -> argparse.ArgumentParser:
    return config_parser(PretrainConfig, "videomae pretrain")


def main(argv: Sequence[str] | None = None) -> int:
    """CLI entry: ``python -m videomae.train.pretrain --data DIR --out-dir OUT [...]``."""
    return run_cli(
        PretrainConfig, "videomae pretrain", pretrain, "pre-trained model saved to", argv
    )


if __name__ == "__main__":
    raise SystemExit(guarded(main))
