"""Tubelet embedding and the fixed sinusoidal position table.

Base tables are memoised per (N, D) in ``cached_sinusoid_table`` (a bounded lru_cache; call
``cached_sinusoid_table.cache_clear()`` to empty it); tables on a model's device and dtype are
held by that model's :class:`PositionTableCache`.
"""

from __future__ import annotations

import functools

import torch
import torch.nn.functional as F
from torch import nn

from videomae.modeling.patches import patchify


@functools.lru_cache(maxsize=32)
def cached_sinusoid_table(num_positions: int, dim: int) -> torch.Tensor:
    """The shared CPU float32 table; callers must not modify it (use :func:`sinusoid_table`)."""
    positions = torch.arange(num_positions, dtype=torch.float64)[:, None]  # (N, 1)
    exponent = 2 * (torch.arange(dim, dtype=torch.float64) // 2) / dim  # (D,)
    angles = positions / torch.pow(10000.0, exponent)  # (N, D)
    table = torch.empty_like(angles)
    table[:, 0::2] = torch.sin(angles[:, 0::2])
    table[:, 1::2] = torch.cos(angles[:, 1::2])
    return table.to(torch.float32)


def sinusoid_table(num_positions: int, dim: int) -> torch.Tensor:
    """(N, D) float32 table: sin on even columns, cos on odd; angles in float64 for parity."""
    return cached_sinusoid_table(num_positions, dim).clone()


def resize_position_table(
    table: torch.Tensor, from_grid: tuple[int, int, int], to_grid: tuple[int, int, int]
) -> torch.Tensor:
    """Resize an (N, D) table laid out on `from_grid` (t, h, w) to `to_grid` (trilinear).

    This is how VideoMAE V2 adapts a checkpoint to another clip length or resolution. The
    identity case returns the table unchanged (exactly).
    """
    from_grid, to_grid = tuple(from_grid), tuple(to_grid)
    if from_grid == to_grid:
        return table
    t, h, w = from_grid
    if table.shape[0] != t * h * w:
        raise ValueError(
            f"position table has {table.shape[0]} rows, grid {from_grid} needs {t * h * w}"
        )
    dim = table.shape[1]
    grid = table.reshape(1, t, h, w, dim).permute(0, 4, 1, 2, 3)  # (1, D, t, h, w)
    resized = F.interpolate(grid.double(), size=to_grid, mode="trilinear", align_corners=False)
    return resized.permute(0, 2, 3, 4, 1).reshape(-1, dim).to(table.dtype)


def position_table(
    dim: int, grid: tuple[int, int, int], trained_grid: tuple[int, int, int] | None = None
) -> torch.Tensor:
    """The (N, D) table for `grid`, resized from `trained_grid` when a checkpoint used another."""
    base = trained_grid or grid
    table = sinusoid_table(base[0] * base[1] * base[2], dim)
    return resize_position_table(table, base, grid)


class PositionTableCache:
    """Position tables built once per (grid, device, dtype) instead of on every forward.

    Tables are created outside inference mode, so one built during `torch.inference_mode()`
    can still be used later in a forward that autograd records.
    """

    def __init__(self, dim: int, trained_grid: tuple[int, int, int] | None) -> None:
        self.dim = dim
        self.trained_grid = tuple(trained_grid) if trained_grid else None
        self._tables: dict[tuple, torch.Tensor] = {}

    def get(
        self, grid: tuple[int, int, int], device: torch.device, dtype: torch.dtype
    ) -> torch.Tensor:
        key = (grid, device, dtype)
        table = self._tables.get(key)
        if table is None:
            with torch.inference_mode(False), torch.no_grad():
                table = position_table(self.dim, grid, self.trained_grid).to(device, dtype)
            self._tables[key] = table
        return table


class VideoMAEPatchEmbeddings(nn.Module):
    """Tubelets of (tubelet, p, p) pixels -> one token each, via a Conv3d's weights.

    The weights live in a Conv3d (so state-dict names match transformers), but the forward is
    one matmul over unfolded tubelets, which lets masked tubelets be skipped entirely.
    """

    def __init__(self, config) -> None:
        super().__init__()
        ph, pw = config.patch_hw
        if ph != pw:
            raise ValueError(f"non-square patches are not supported, got {config.patch_size}")
        self.patch_size = ph
        self.tubelet_size = config.tubelet_size
        self.num_channels = config.num_channels
        self.projection = nn.Conv3d(
            config.num_channels,
            config.hidden_size,
            kernel_size=(config.tubelet_size, ph, pw),
            stride=(config.tubelet_size, ph, pw),
        )

    def flat_weight(self) -> torch.Tensor:
        """Conv weight (D, C, ts, p, p) as (D, ts*p*p*C), matching patchify's element order."""
        w = self.projection.weight
        return w.permute(0, 2, 3, 4, 1).reshape(w.shape[0], -1)

    def forward(
        self, pixel_values: torch.Tensor, visible: torch.Tensor | None = None
    ) -> torch.Tensor:
        """(B, T, C, H, W) -> (B, N, D), or (B, n_visible, D) when `visible` (B, N) is given."""
        patches = patchify(pixel_values, self.patch_size, self.tubelet_size)  # (B, N, K)
        if visible is not None:
            patches = patches[visible].reshape(patches.shape[0], -1, patches.shape[-1])
        weight, bias = self.flat_weight(), self.projection.bias
        if patches.dtype != weight.dtype and not torch.is_autocast_enabled(patches.device.type):
            # e.g. fp32 pixel_values (what the processors return) into a bf16 model: the model's
            # dtype wins, so every later layer sees the dtype of its weights
            patches = patches.to(weight.dtype)
        return F.linear(patches, weight, bias)


class VideoMAEEmbeddings(nn.Module):
    """Tubelet embedding + fixed sinusoidal positions; masked tokens are dropped."""

    def __init__(self, config) -> None:
        super().__init__()
        self.config = config
        self.patch_embeddings = VideoMAEPatchEmbeddings(config)
        grid = config.position_embedding_grid
        self.tables = PositionTableCache(config.hidden_size, tuple(grid) if grid else None)

    def forward(
        self,
        pixel_values: torch.Tensor,
        bool_masked_pos: torch.Tensor | None,
        grid: tuple[int, int, int],
    ) -> torch.Tensor:
        visible = None if bool_masked_pos is None else ~bool_masked_pos
        tokens = self.patch_embeddings(pixel_values, visible)  # (B, n, D)
        table = self.tables.get(grid, tokens.device, tokens.dtype)  # (N, D)
        if visible is None:
            return tokens + table
        b = tokens.shape[0]
        pos = table.unsqueeze(0).expand(b, -1, -1)[visible].reshape(b, -1, table.shape[-1])
        return tokens + pos
