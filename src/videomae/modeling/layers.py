"""The pre-norm transformer block (the paper's ViT block) and stochastic depth."""

from __future__ import annotations

import functools
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn

from videomae.errors import ConfigError
from videomae.modeling.attention import VideoMAEAttention


def _quick_gelu(x: torch.Tensor) -> torch.Tensor:
    return x * torch.sigmoid(1.702 * x)


_GELU_TANH = functools.partial(F.gelu, approximate="tanh")
_GELU_TANH_ = functools.partial(torch.ops.aten.gelu_, approximate="tanh")
_SILU_ = functools.partial(F.silu, inplace=True)

# name -> (function, in-place form or None). Inference applies the in-place form to the fresh
# output of the first MLP GEMM: one (tokens x intermediate) buffer fewer per block.
_ACTIVATIONS: dict[str, tuple[Callable, Callable | None]] = {
    "gelu": (F.gelu, torch.ops.aten.gelu_),
    "gelu_new": (_GELU_TANH, _GELU_TANH_),
    "gelu_pytorch_tanh": (_GELU_TANH, _GELU_TANH_),
    "relu": (F.relu, torch.relu_),
    "silu": (F.silu, _SILU_),
    "swish": (F.silu, _SILU_),
    "quick_gelu": (_quick_gelu, None),
}


def activation(name: str) -> tuple[Callable, Callable | None]:
    """The activation called ``name`` in configs, and its in-place form (None if it has none)."""
    if name not in _ACTIVATIONS:
        raise ConfigError(
            f"config field hidden_act={name!r} is not supported; fix: use one of "
            f"{sorted(_ACTIVATIONS)}"
        )
    return _ACTIVATIONS[name]


def records_grad(x: torch.Tensor) -> bool:
    """True when autograd records ops on ``x``: then its buffers must not be overwritten."""
    return torch.is_grad_enabled() and x.requires_grad


def drop_path(x: torch.Tensor, rate: float, training: bool) -> torch.Tensor:
    """Stochastic depth: drop the whole residual branch per sample, rescale the survivors."""
    if rate == 0.0 or not training:
        return x
    keep = 1.0 - rate
    mask = x.new_empty((x.shape[0],) + (1,) * (x.ndim - 1)).bernoulli_(keep)
    return x * mask / keep


class VideoMAEIntermediate(nn.Module):
    def __init__(self, hidden_size: int, intermediate_size: int, act: str) -> None:
        super().__init__()
        self.dense = nn.Linear(hidden_size, intermediate_size)
        self.act, self.act_ = activation(act)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.dense(x)
        if self.act_ is not None and not records_grad(h):
            return self.act_(h)
        return self.act(h)


class VideoMAEOutput(nn.Module):
    def __init__(self, intermediate_size: int, hidden_size: int, dropout: float) -> None:
        super().__init__()
        self.dense = nn.Linear(intermediate_size, hidden_size)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.dropout(self.dense(x))


class VideoMAELayer(nn.Module):
    """x + attn(LN(x)), then + MLP(LN(.)): one encoder or decoder block."""

    def __init__(
        self,
        config,
        *,
        hidden_size: int,
        num_heads: int,
        intermediate_size: int,
        drop_path_rate: float = 0.0,
    ) -> None:
        super().__init__()
        self.attention = VideoMAEAttention(
            hidden_size,
            num_heads,
            config.qv_bias,
            config.attention_probs_dropout_prob,
            config.hidden_dropout_prob,
        )
        self.intermediate = VideoMAEIntermediate(hidden_size, intermediate_size, config.hidden_act)
        self.output = VideoMAEOutput(intermediate_size, hidden_size, config.hidden_dropout_prob)
        self.layernorm_before = nn.LayerNorm(hidden_size, eps=config.layer_norm_eps)
        self.layernorm_after = nn.LayerNorm(hidden_size, eps=config.layer_norm_eps)
        self.drop_path_rate = drop_path_rate

    def forward(
        self, x: torch.Tensor, output_attentions: bool = False
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        attn, probs = self.attention(self.layernorm_before(x), output_attentions)
        x = _residual(x, drop_path(attn, self.drop_path_rate, self.training))
        mlp = self.output(self.intermediate(self.layernorm_after(x)))
        x = _residual(x, drop_path(mlp, self.drop_path_rate, self.training))
        return x, probs


def _residual(x: torch.Tensor, branch: torch.Tensor) -> torch.Tensor:
    """x + branch; in inference it writes into the branch's fresh buffer instead of a new one."""
    if (
        records_grad(branch)
        or records_grad(x)
        or (branch.shape, branch.dtype) != (x.shape, x.dtype)
    ):
        return x + branch  # also when autocast made the branch lower precision than x
    return branch.add_(x)


def run_blocks(
    blocks: nn.ModuleList,
    x: torch.Tensor,
    *,
    checkpointing: bool = False,
    output_hidden_states: bool = False,
    output_attentions: bool = False,
) -> tuple[torch.Tensor, tuple | None, tuple | None]:
    """Run blocks in order; optionally checkpoint them and collect hidden states / attentions.

    Hidden states are the input of every block plus the last output (L + 1 entries).
    """
    hidden: list[torch.Tensor] = []
    attns: list[torch.Tensor] = []
    for block in blocks:
        if output_hidden_states:
            hidden.append(x)
        if checkpointing and block.training and torch.is_grad_enabled():
            x, probs = torch.utils.checkpoint.checkpoint(
                block, x, output_attentions, use_reentrant=False
            )
        else:
            x, probs = block(x, output_attentions)
        if output_attentions:
            attns.append(probs)
    if output_hidden_states:
        hidden.append(x)
    return (
        x,
        tuple(hidden) if output_hidden_states else None,
        tuple(attns) if output_attentions else None,
    )
