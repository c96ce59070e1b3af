"""Training: one loop (:mod:`~videomae.train.loop`) and two recipes (pretrain, finetune).

Submodules: ``loop`` (the loop, sampler, config), ``checkpointing`` (atomic, resumable state),
``distributed`` (torchrun helpers), ``schedule``, ``optim``, ``pretrain``, ``finetune``.
Names below load lazily so ``import videomae.train.schedule`` stays light.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS: dict[str, str] = {
    "TrainLoopConfig": "videomae.train.loop",
    "TrainResult": "videomae.train.loop",
    "train": "videomae.train.loop",
    "PretrainConfig": "videomae.train.pretrain",
    "pretrain": "videomae.train.pretrain",
    "FinetuneConfig": "videomae.train.finetune",
    "finetune": "videomae.train.finetune",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'videomae.train' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
