"""What the two recipes share: the common config fields and the glue to the one loop.

`PretrainConfig` and `FinetuneConfig` extend `RecipeConfig`, overriding only the defaults that
differ between the original release's pre-training and fine-tuning.
"""

from __future__ import annotations

import argparse
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from videomae._io import atomic_write_text
from videomae.train import distributed as D
from videomae.train.loop import TrainLoopConfig, TrainResult, add_dataclass_args


def model_classes() -> tuple[Any, Any, Any]:
    """(VideoMAEConfig, VideoMAEForPreTraining, VideoMAEForVideoClassification): the one import."""
    from videomae import VideoMAEConfig, VideoMAEForPreTraining, VideoMAEForVideoClassification

    return VideoMAEConfig, VideoMAEForPreTraining, VideoMAEForVideoClassification


def helped(text: str, default: Any = None) -> Any:
    """A dataclass field with a help text (shown by the generated CLI)."""
    return field(default=default, metadata={"help": text})


@dataclass
class RecipeConfig:
    """Fields common to pre-training and fine-tuning; each field is also a CLI flag."""

    # data
    root: str | None = helped("folder prefixed to relative paths of the list files")
    out_dir: str = "runs/train"
    num_frames: int = 16
    sampling_rate: int = 4
    strategy: str = "dense"
    input_size: int = 224
    short_side: int | None = helped("resize the short side before cropping (None: as decoded)")
    flip: bool = helped("random horizontal flip; off for direction-sensitive data (SSv2)", True)
    repeats: int = helped("augmented clips per decoded video (repeated augmentation)", 1)
    num_workers: int = 4
    cache_mb: float = helped(
        "keep whole decoded videos in memory, up to this many MB per process (0 = off)", 0.0
    )
    # model
    model: str = helped("preset: small/base/large/huge/giant", "base")
    model_overrides: dict = field(default_factory=dict, metadata={"help": "JSON config overrides"})
    init: str | None = helped("start from this save_pretrained folder")
    patch_size: int = 16
    tubelet_size: int = 2
    drop_path: float = 0.0
    # optimisation
    epochs: int = 30
    total_steps: int | None = helped("optimizer steps (overrides epochs)")
    warmup_epochs: float = 5
    warmup_steps: int | None = helped("warm-up steps (overrides warmup_epochs)")
    batch_size: int = helped("clips per process per micro-step", 8)
    accum_steps: int = 1
    base_lr: float = 1e-3
    lr: float | None = helped("absolute peak lr (default base_lr x global_batch / 256)")
    min_lr: float = 1e-6
    warmup_lr: float = 1e-6
    weight_decay: float = 0.05
    betas: tuple[float, float] = (0.9, 0.999)
    clip_grad: float | None = None
    precision: str = helped("auto (bf16 where the CPU or GPU has it)/fp32/bf16/fp16", "auto")
    compile: bool = helped(
        "torch.compile the model: base pre-training step 1.11x faster in fp32 on a 2-core CPU, "
        "after a first step of about 90 s (needs a C++ compiler on CPU, Triton on GPU)",
        False,
    )
    ema_decay: float | None = None
    # bookkeeping
    log_every: int = 20
    save_every: int = 1000
    keep_last: int = 2
    seed: int = 0
    resume: bool = False
    progress: bool = True
    device: str | None = helped("cpu / cuda (default: CUDA when available)")


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
        eval_every=getattr(cfg, "eval_every", 1),
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


def build_parser(cls: type, prog: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=prog, description=(cls.__doc__ or "").strip())
    add_dataclass_args(parser, cls)
    return parser
