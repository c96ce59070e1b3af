"""A run's memory options applied to its model: activation checkpointing, then FSDP sharding.

Both happen before the optimizer is built, because sharding replaces the parameters with their
shards. docs/recipes.md tabulates what each option saves per GPU.
"""

from __future__ import annotations

import torch

from videomae.errors import ConfigError
from videomae.train.config import TrainConfig
from videomae.train.distributed import DistInfo
from videomae.train.sharding import check_fsdp, shard_model


def prepare_model(
    model: torch.nn.Module,
    cfg: TrainConfig,
    info: DistInfo,
    device: torch.device,
    precision: str,
    optimizer_given: bool = False,
) -> torch.nn.Module:
    """``model`` on ``device`` with ``cfg.grad_checkpointing`` and ``cfg.fsdp`` applied (in
    place); unsupported combinations fail first, with their fix."""
    if cfg.fsdp:
        check_fsdp(info.world_size, precision, bool(cfg.ema_decay), optimizer_given)
    model.to(device)
    if cfg.grad_checkpointing:
        if not hasattr(model, "gradient_checkpointing_enable"):
            raise ConfigError(
                f"--grad-checkpointing needs a model with gradient_checkpointing_enable() (the "
                f"VideoMAE models); {type(model).__name__} has none: drop --grad-checkpointing"
            )
        model.gradient_checkpointing_enable()
    if cfg.fsdp:
        shard_model(model, info, precision)
    return model
