"""Thin helpers over ``torch.distributed`` for runs launched by ``torchrun``.

``torchrun`` sets RANK / WORLD_SIZE / LOCAL_RANK / MASTER_ADDR / MASTER_PORT; multi-node runs use
its own flags (``--nnodes``, ``--node_rank``, ``--rdzv_endpoint``). Without those variables every
helper degrades to a single process.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist


@dataclass(frozen=True)
class DistInfo:
    """Where this process sits in the job."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    device: torch.device = torch.device("cpu")
    is_main: bool = True

    @property
    def distributed(self) -> bool:
        return self.world_size > 1


def is_initialized() -> bool:
    return dist.is_available() and dist.is_initialized()


def env_rank() -> int:
    """This process's rank as ``torchrun`` announces it (0 when not launched by torchrun)."""
    return int(os.environ.get("RANK", 0))


def get_info() -> DistInfo:
    """The current process's :class:`DistInfo` without initialising anything."""
    if not is_initialized():
        device = torch.device("cuda", 0) if torch.cuda.is_available() else torch.device("cpu")
        return DistInfo(device=device)
    rank, world = dist.get_rank(), dist.get_world_size()
    local = int(os.environ.get("LOCAL_RANK", 0))
    device = torch.device("cuda", local) if torch.cuda.is_available() else torch.device("cpu")
    return DistInfo(rank, world, local, device, rank == 0)


def init_distributed(backend: str | None = None, device: str | None = None) -> DistInfo:
    """Join the process group that ``torchrun`` describes (gloo on CPU, nccl on CUDA).

    Returns a single-process :class:`DistInfo` when WORLD_SIZE is unset or 1. ``device="cpu"``
    forces CPU (and gloo) even where CUDA exists.
    """
    world = int(os.environ.get("WORLD_SIZE", "1"))
    use_cuda = torch.cuda.is_available() and device != "cpu"
    if world <= 1:
        dev = torch.device(device) if device else torch.device("cuda" if use_cuda else "cpu")
        return DistInfo(device=dev)
    for var in ("RANK", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT"):
        if var not in os.environ:
            raise RuntimeError(
                f"WORLD_SIZE={world} but {var} is not set; launch with "
                "`torchrun --nproc_per_node N ...` (or set the torchrun environment variables)."
            )
    rank, local = int(os.environ["RANK"]), int(os.environ["LOCAL_RANK"])
    if use_cuda:
        torch.cuda.set_device(local)
        dev = torch.device("cuda", local)
    else:
        dev = torch.device("cpu")
    backend = backend or ("nccl" if use_cuda else "gloo")
    if not is_initialized():
        dist.init_process_group(backend=backend, rank=rank, world_size=world)
    return DistInfo(rank, world, local, dev, rank == 0)


def wrap_ddp(model: torch.nn.Module, info: DistInfo | None = None) -> torch.nn.Module:
    """Wrap in DistributedDataParallel when running distributed; return the model otherwise."""
    info = info or get_info()
    if not info.distributed:
        return model
    from torch.nn.parallel import DistributedDataParallel

    device_ids = [info.local_rank] if info.device.type == "cuda" else None
    return DistributedDataParallel(model, device_ids=device_ids)


def unwrap(model: torch.nn.Module) -> torch.nn.Module:
    """The module inside DDP and/or ``torch.compile`` wrappers."""
    while True:
        if hasattr(model, "module") and isinstance(model.module, torch.nn.Module):
            model = model.module
        elif hasattr(model, "_orig_mod"):
            model = model._orig_mod
        else:
            return model


def barrier() -> None:
    if is_initialized():
        dist.barrier()


def all_reduce_mean(value: torch.Tensor | float) -> torch.Tensor | float:
    """Mean over ranks (returns the input unchanged in a single process)."""
    if not is_initialized():
        return value
    is_float = not isinstance(value, torch.Tensor)
    t = torch.as_tensor(value, dtype=torch.float64).clone()
    if dist.get_backend() == "nccl":
        t = t.cuda()
    dist.all_reduce(t, op=dist.ReduceOp.SUM)
    t = t / dist.get_world_size()
    return float(t) if is_float else t.to(value.device)


def all_reduce_sum(value: torch.Tensor) -> torch.Tensor:
    """Sum over ranks (unchanged in a single process)."""
    if not is_initialized():
        return value
    t = value.clone()
    dev = t.device
    if dist.get_backend() == "nccl":
        t = t.cuda()
    dist.all_reduce(t, op=dist.ReduceOp.SUM)
    return t.to(dev)


def cleanup() -> None:
    """Leave the process group (safe to call twice or when never initialised)."""
    if is_initialized():
        dist.destroy_process_group()
