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
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from videomae.train import distributed as D
from videomae.train.checkpointing import atomic_write_text
from videomae.train.loop import (
    TrainLoopConfig,
    TrainResult,
    add_dataclass_args,
    dataclass_from_args,
    train,
)


def _model_classes() -> tuple[Any, Any, Any]:
    """(VideoMAEConfig, VideoMAEForPreTraining, VideoMAEForVideoClassification): the one import."""
    from videomae import VideoMAEConfig, VideoMAEForPreTraining, VideoMAEForVideoClassification

    return VideoMAEConfig, VideoMAEForPreTraining, VideoMAEForVideoClassification


def _h(text: str) -> Any:
    return field(default=None, metadata={"help": text})


@dataclass
class PretrainConfig:
    """Every knob of the pre-training recipe; each field is also a CLI flag."""

    # data
    data: str = field(default="", metadata={"help": "list file (one 'path' per line) or folder"})
    root: str | None = _h("folder prefixed to relative paths of the list file")
    out_dir: str = "runs/pretrain"
    num_frames: int = 16
    sampling_rate: int = 4
    strategy: str = "dense"
    input_size: int = 224
    short_side: int | None = _h("resize the short side before cropping (None: as decoded)")
    flip: bool = field(default=True, metadata={"help": "random horizontal flip; off for SSv2"})
    repeats: int = field(default=1, metadata={"help": "clips per decoded video (repeated aug.)"})
    num_workers: int = 4
    # model
    model: str = field(default="base", metadata={"help": "preset: small/base/large/huge/giant"})
    model_overrides: dict = field(default_factory=dict, metadata={"help": "JSON config overrides"})
    init: str | None = _h("start from this save_pretrained folder instead of random weights")
    patch_size: int = 16
    tubelet_size: int = 2
    norm_pix_loss: bool = True
    drop_path: float = 0.0
    # masking
    mask_kind: str = field(default="tube", metadata={"help": "tube or random"})
    mask_ratio: float = 0.9
    decoder_mask: str = field(default="none", metadata={"help": "none or running_cell (V2)"})
    decoder_keep_ratio: float = 0.5
    # optimisation
    epochs: int = 800
    total_steps: int | None = _h("optimizer steps (overrides epochs)")
    warmup_epochs: float = 40
    warmup_steps: int | None = _h("warm-up steps (overrides warmup_epochs)")
    batch_size: int = field(default=32, metadata={"help": "clips per process per micro-step"})
    accum_steps: int = 1
    base_lr: float = 1.5e-4
    lr: float | None = _h("absolute peak lr (default base_lr x global_batch / 256)")
    min_lr: float = 1e-5
    warmup_lr: float = 1e-6
    weight_decay: float = 0.05
    betas: tuple[float, float] = (0.9, 0.95)
    clip_grad: float | None = None
    precision: str = field(
        default="auto", metadata={"help": "auto (bf16 where the CPU or GPU has it)/fp32/bf16/fp16"}
    )
    compile: bool = False
    ema_decay: float | None = None
    # bookkeeping
    log_every: int = 20
    save_every: int = 1000
    keep_last: int = 2
    seed: int = 0
    resume: bool = False
    progress: bool = True
    device: str | None = _h("cpu / cuda (default: CUDA when available)")


def build_dataset(cfg: PretrainConfig) -> Any:
    """The :class:`VideoPretrainDataset` described by ``cfg``."""
    from videomae.data.datasets import VideoPretrainDataset, load_samples

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
        flip=cfg.flip,
        short_side=cfg.short_side,
        repeats=cfg.repeats,
    )


def build_model(cfg: PretrainConfig) -> torch.nn.Module:
    """A :class:`VideoMAEForPreTraining` from ``cfg.init`` or from the preset + overrides."""
    config_cls, pretraining_cls, _ = _model_classes()
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


def loop_config(
    cfg: Any, num_samples: int, world_size: int, clips_per_sample: int = 1
) -> TrainLoopConfig:
    """Translate a recipe config into the loop's, resolving lr scaling and warm-up in steps.

    Without an explicit ``lr``, lr / min_lr / warmup_lr are the configured values times
    clips per step / 256 (clips = videos x ``clips_per_sample``, the repeated augmentation).
    """
    from videomae.train.schedule import lr_for_batch

    samples_per_step = cfg.batch_size * cfg.accum_steps * world_size
    steps_per_epoch = num_samples // samples_per_step
    if steps_per_epoch < 1:
        raise ValueError(
            f"{num_samples} videos cannot fill one step of {samples_per_step} "
            f"(batch_size x accum_steps x processes); lower batch_size"
        )
    total = cfg.total_steps if cfg.total_steps is not None else cfg.epochs * steps_per_epoch
    warmup = (
        cfg.warmup_steps
        if cfg.warmup_steps is not None
        else int(math.ceil(cfg.warmup_epochs * steps_per_epoch))
    )
    # The original release scales lr, min_lr and warmup_lr alike by clips per step / 256.
    clips_per_step = samples_per_step * clips_per_sample
    factor = 1.0 if cfg.lr is not None else lr_for_batch(1.0, clips_per_step)
    lr = cfg.lr if cfg.lr is not None else lr_for_batch(cfg.base_lr, clips_per_step)
    return TrainLoopConfig(
        out_dir=cfg.out_dir,
        total_steps=int(total),
        batch_size=cfg.batch_size,
        accum_steps=cfg.accum_steps,
        lr=lr,
        min_lr=cfg.min_lr * factor,
        warmup_lr=cfg.warmup_lr * factor,
        warmup_steps=min(int(warmup), int(total)),
        weight_decay=cfg.weight_decay,
        betas=tuple(cfg.betas),
        layer_decay=getattr(cfg, "layer_decay", None),
        clip_grad=cfg.clip_grad,
        precision=cfg.precision,
        compile=cfg.compile,
        log_every=cfg.log_every,
        save_every=cfg.save_every,
        keep_last=cfg.keep_last,
        seed=cfg.seed,
        num_workers=cfg.num_workers,
        ema_decay=cfg.ema_decay,
        resume=cfg.resume,
        progress=cfg.progress,
        device=cfg.device,
    )


def write_summary(result: TrainResult, path: Path, extra: dict[str, Any] | None = None) -> Path:
    """A JSON summary of a finished run (final loss, steps, bad files with line numbers)."""
    summary = {
        "step": result.step,
        "final_loss": result.final_loss,
        "resumed_from": str(result.resumed_from) if result.resumed_from else None,
        "last_checkpoint": str(result.last_checkpoint) if result.last_checkpoint else None,
        "num_bad_files": len(result.bad_samples),
        "bad_files": list(result.bad_samples.values()),
        "best": result.best,
        **(extra or {}),
    }
    return atomic_write_text(path, json.dumps(summary, indent=2, default=str) + "\n")


def export_ema(model: torch.nn.Module, result: TrainResult, path: Path) -> None:
    """Save the EMA weights of ``result`` as a second save_pretrained folder."""
    if result.ema_state is None:
        return
    base = D.unwrap(model)
    current = {k: v.detach().clone() for k, v in base.state_dict().items()}
    base.load_state_dict(result.ema_state)
    base.save_pretrained(path)
    base.load_state_dict(current)


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


def build_parser(
    cls: type = PretrainConfig, prog: str = "videomae pretrain"
) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=prog, description=(cls.__doc__ or "").strip())
    add_dataclass_args(parser, cls)
    return parser


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
