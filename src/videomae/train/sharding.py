"""FSDP2 for the training loop: shard a model block by block, and gather it back whole.

``--fsdp`` splits every parameter, its gradient and its AdamW state over the processes of a
``torchrun`` launch (:func:`torch.distributed.fsdp.fully_shard`, one group per transformer block,
then the root for the embeddings, heads and norms), so a rank holds about 1/W of the 16 bytes per
parameter that fp32 AdamW needs. Under bf16 the gathered weights are bf16 (half the traffic and
half the unsharded working set) while the shards, the gradient reduction and the optimizer stay
fp32; autocast still runs the ops it keeps in fp32 (norms, softmax, the loss) in fp32.

Checkpoints and exported folders never hold shards: :func:`full_states` gathers the model and
optimizer states whole on rank 0, in exactly the layout a plain model and ``optimizer.state_dict()``
give, so a run saved under FSDP resumes with or without it, and its ``final/`` folder loads into a
plain model. :func:`load_full_states` puts such states back (each rank keeps its own shard).
"""

from __future__ import annotations

import copy
import warnings
from typing import Any

import torch
from torch import nn
from torch.distributed.checkpoint.state_dict import (
    StateDictOptions,
    get_model_state_dict,
    get_optimizer_state_dict,
    set_model_state_dict,
    set_optimizer_state_dict,
)
from torch.distributed.device_mesh import init_device_mesh
from torch.distributed.fsdp import FSDPModule, MixedPrecisionPolicy, fully_shard
from torch.distributed.tensor import DTensor

from videomae.errors import ConfigError
from videomae.modeling.layers import VideoMAELayer
from videomae.train.distributed import DistInfo

# gathered on rank 0, on the CPU: what a checkpoint file holds
_GATHER = StateDictOptions(full_state_dict=True, cpu_offload=True)
# every rank passes the whole state (each read the checkpoint file) and keeps its shard
_SCATTER = StateDictOptions(full_state_dict=True)


def check_fsdp(world_size: int, precision: str, ema: bool, optimizer_given: bool) -> None:
    """Refuse the combinations ``--fsdp`` does not support, each with its fix."""
    if world_size < 2:
        raise ConfigError(
            "--fsdp shards the model over the processes of a distributed launch, but this run "
            "has one process; launch it with `torchrun --nproc_per_node N ...` (N >= 2), or "
            "drop --fsdp"
        )
    if precision == "fp16":
        raise ConfigError(
            "--fsdp with --precision fp16 is not supported (the gradient scaler would see only "
            "this rank's shard); use --precision bf16 (or fp32), or drop --fsdp"
        )
    if ema:
        raise ConfigError(
            "--fsdp with --ema-decay is not supported (the EMA would be a full unsharded copy); "
            "drop --ema-decay, or drop --fsdp"
        )
    if optimizer_given:
        raise ConfigError(
            "train(optimizer=...) cannot be combined with cfg.fsdp: sharding replaces the "
            "parameters, so the loop must build the optimizer; leave optimizer=None"
        )


def mixed_precision(precision: str) -> MixedPrecisionPolicy:
    """The FSDP policy for a resolved precision: bf16 gathered weights with fp32 gradient
    reduction, or plain fp32. Inputs are not cast: the residual stream and the pixel targets
    stay fp32, as without FSDP."""
    if precision == "bf16":
        return MixedPrecisionPolicy(
            param_dtype=torch.bfloat16, reduce_dtype=torch.float32, cast_forward_inputs=False
        )
    return MixedPrecisionPolicy()


def transformer_blocks(model: nn.Module) -> list[nn.Module]:
    """The encoder and decoder blocks of ``model``, in order (none for other models)."""
    return [m for m in model.modules() if isinstance(m, VideoMAELayer)]


def shard_model(model: nn.Module, info: DistInfo, precision: str) -> nn.Module:
    """Shard ``model`` in place over all ranks: each transformer block, then the root."""
    # The heads' outputs are views (nn.Linear on (B, N, D) reshapes its 2-D result); FSDP warns
    # about in-place ops on views returned from the root, which the recipes never do.
    warnings.filterwarnings("ignore", message=r"FSDP2-wrapped module .* returned a view tensor")
    mesh = init_device_mesh(info.device.type, (info.world_size,))
    policy = mixed_precision(precision)
    for block in transformer_blocks(model):
        fully_shard(block, mesh=mesh, mp_policy=policy)
    fully_shard(model, mesh=mesh, mp_policy=policy)
    return model


def is_sharded(model: nn.Module) -> bool:
    """True when ``model`` was sharded by :func:`shard_model`."""
    return isinstance(model, FSDPModule)


def clip_gradients(model: nn.Module, max_norm: float) -> float:
    """Clip the global gradient norm to ``max_norm``; returns the norm before clipping (the
    norm of the whole gradient also when each rank holds a shard)."""
    norm = torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm)
    if isinstance(norm, DTensor):
        norm = norm.full_tensor()
    return float(norm)


def optimizer_state_by_index(state: dict[str, Any]) -> dict[str, Any]:
    """An optimizer state keyed by parameter names (torch.distributed.checkpoint's layout) as
    ``optimizer.state_dict()`` keys it: integers in the order of the groups' parameters."""
    index: dict[str, int] = {}
    groups = []
    for group in state["param_groups"]:
        ids = []
        for name in group["params"]:
            index[name] = len(index)
            ids.append(index[name])
        groups.append({**group, "params": ids})
    return {"state": {index[n]: s for n, s in state["state"].items()}, "param_groups": groups}


def optimizer_state_by_name(
    state: dict[str, Any], optimizer: torch.optim.Optimizer
) -> dict[str, Any]:
    """The inverse of :func:`optimizer_state_by_index`, naming each index by ``optimizer``'s
    groups (built by :func:`videomae.train.optim.param_groups`, which records the names)."""
    names = [n for g in optimizer.param_groups for n in g.get("param_names", [])]
    count = sum(len(g["params"]) for g in optimizer.param_groups)
    if len(names) != count:
        raise ConfigError(
            "the optimizer's groups do not record their parameter names ('param_names'); "
            "build it with videomae.train.optim.build_optimizer"
        )
    groups = [{**g, "params": [names[i] for i in g["params"]]} for g in state["param_groups"]]
    return {"state": {names[i]: s for i, s in state["state"].items()}, "param_groups": groups}


def full_states(
    model: nn.Module, optimizer: torch.optim.Optimizer, is_main: bool
) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """(model state, optimizer state) whole, on the CPU, on the main rank; None elsewhere.

    Sharded: a collective every rank must join. Plain: the model's and optimizer's own.
    """
    if is_sharded(model):
        weights = get_model_state_dict(model, options=_GATHER)
        optim = get_optimizer_state_dict(model, optimizer, options=_GATHER)
        return (weights, optimizer_state_by_index(optim)) if is_main else None
    if not is_main:
        return None
    weights = {k: v.detach().cpu() for k, v in model.state_dict().items()}
    return weights, optimizer.state_dict()


def load_full_states(
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    weights: dict[str, torch.Tensor],
    optim: dict[str, Any],
) -> None:
    """Load whole states (as :func:`full_states` returns them) into a plain or sharded model."""
    if not is_sharded(model):
        model.load_state_dict(weights)
        optimizer.load_state_dict(optim)
        return
    set_model_state_dict(model, weights, options=_SCATTER)
    by_name = optimizer_state_by_name(optim, optimizer)
    set_optimizer_state_dict(model, optimizer, by_name, options=_SCATTER)


def plain_model(model: nn.Module, is_main: bool) -> nn.Module | None:
    """A plain copy of a sharded VideoMAE model on the main rank's CPU (None elsewhere), to save
    as a model folder; an unsharded ``model`` is returned as it is. Sharded: a collective."""
    if not is_sharded(model):
        return model
    weights = get_model_state_dict(model, options=_GATHER)
    if not is_main:
        return None
    cls = next(c for c in type(model).__mro__ if not issubclass(c, FSDPModule))
    with torch.device("meta"):
        twin = cls(copy.deepcopy(model.config))
    twin.load_state_dict(weights, assign=True)
    return twin.train(model.training)
