"""Mask generators: tube, random and running-cell masks, small pure functions shared by the
model, the recipes and viz.

All return (B, t*h*w) bool tensors, True = masked (hidden from the encoder), except the decoder
mask of :func:`running_cell_mask`, whose polarity is documented there. Token order is t-major,
then h, then w (as the Conv3d patch embedding flattens).
"""

from __future__ import annotations

from typing import Literal

import torch

from videomae.config_rules import MAX_TOKENS
from videomae.errors import InputError

MaskKind = Literal["tube", "random"]

#: most batch_size * num_tokens one call builds (the noise it draws is 4 bytes per element)
MAX_MASK_ELEMENTS = 2**27


def _count(value: object, name: str, low: int = 1, high: int = MAX_TOKENS) -> int:
    """An integer argument in [low, high] (integral floats and 0-d tensors accepted)."""
    try:
        number = int(value) if not isinstance(value, (str, bytes, bool)) else None
    except (TypeError, ValueError, OverflowError, RuntimeError):
        number = None
    if number is None or number != value or not low <= number <= high:
        raise InputError(f"{name} must be an integer in [{low}, {high}], got {value!r}")
    return number


def num_masked(num_tokens: int, ratio: float) -> int:
    """How many of ``num_tokens`` a ``ratio`` masks: Python ``round(ratio * num_tokens)``."""
    _check_ratio(ratio, "ratio")
    return int(round(ratio * num_tokens))


def _check_ratio(ratio: float, name: str) -> None:
    try:
        ok = not isinstance(ratio, (str, bytes)) and 0.0 <= float(ratio) < 1.0
    except (TypeError, ValueError, OverflowError, RuntimeError):
        ok = False
    if not ok:
        raise InputError(
            f"{name} must be in [0, 1), got {ratio!r}; pass e.g. 0.9 for 90% masking "
            "(a ratio of 1 would hide every token from the encoder)"
        )


def _check_grid(grid: tuple[int, int, int]) -> tuple[int, int, int]:
    try:
        t, h, w = (_count(g, "grid") for g in grid)
        _count(t * h * w, "grid's t*h*w")
    except (InputError, TypeError, ValueError):
        raise InputError(
            f"grid must be (t, h, w) token counts, all positive, at most {MAX_TOKENS} tokens in "
            f"all, got {grid!r}; use (frames // tubelet, height // patch, width // patch)"
        ) from None
    return t, h, w


def _check_batch(batch_size: int, num_tokens: int) -> int:
    """batch_size as an int; batch_size * num_tokens is bounded by MAX_MASK_ELEMENTS."""
    batch = _count(batch_size, "batch_size", high=MAX_MASK_ELEMENTS)
    if batch * num_tokens > MAX_MASK_ELEMENTS:
        raise InputError(
            f"a mask of batch_size={batch} x {num_tokens} tokens has more than "
            f"{MAX_MASK_ELEMENTS} elements; fix: build masks for smaller batches"
        )
    return batch


def _uniform(
    shape: tuple[int, ...],
    generator: torch.Generator | None,
    device: torch.device | str | None,
) -> torch.Tensor:
    """Uniform noise drawn on the generator's device (so seeded draws match across devices)."""
    draw_device = generator.device if generator is not None else device
    return torch.rand(shape, generator=generator, device=draw_device)


def _lowest_k_mask(noise: torch.Tensor, k: int, device: torch.device | str | None) -> torch.Tensor:
    """(B, M) noise -> (B, M) bool, True at the k smallest entries of each row (exactly k)."""
    mask = torch.zeros(noise.shape, dtype=torch.bool, device=noise.device)
    if k > 0:
        ids = noise.argsort(dim=1)[:, :k]  # (B, k)
        mask.scatter_(1, ids, True)
    return mask.to(device) if device is not None else mask


def random_mask(
    batch_size: int,
    num_tokens: int,
    ratio: float,
    *,
    generator: torch.Generator | None = None,
    device: torch.device | str | None = None,
) -> torch.Tensor:
    """Independent random mask per sample (the paper's ablation): (B, N) bool, True = masked.

    Exactly ``round(ratio * N)`` tokens are masked in every sample.
    """
    num_tokens = _count(num_tokens, "num_tokens")
    batch_size = _check_batch(batch_size, num_tokens)
    k = num_masked(num_tokens, ratio)
    noise = _uniform((batch_size, num_tokens), generator, device)  # (B, N)
    return _lowest_k_mask(noise, k, device)


def tube_mask(
    batch_size: int,
    grid: tuple[int, int, int],
    ratio: float = 0.9,
    *,
    generator: torch.Generator | None = None,
    device: torch.device | str | None = None,
) -> torch.Tensor:
    """Tube masking (the paper's default): one random spatial mask repeated over all t.

    ``grid`` is (t, h, w) in tokens. Returns (B, t*h*w) bool, True = masked, token order t-major.
    Exactly ``round(ratio * h * w)`` tokens per temporal slice, so ``t`` times that per sample.
    """
    t, h, w = _check_grid(grid)
    batch_size = _check_batch(batch_size, t * h * w)
    k = num_masked(h * w, ratio)
    noise = _uniform((batch_size, h * w), generator, device)  # (B, h*w)
    spatial = _lowest_k_mask(noise, k, device)  # (B, h*w)
    return spatial.unsqueeze(1).expand(-1, t, -1).reshape(batch_size, t * h * w)


def make_mask(
    kind: MaskKind,
    batch_size: int,
    grid: tuple[int, int, int],
    ratio: float = 0.9,
    *,
    generator: torch.Generator | None = None,
    device: torch.device | str | None = None,
) -> torch.Tensor:
    """Encoder mask by name: ``"tube"`` or ``"random"``; (B, t*h*w) bool, True = masked."""
    if kind == "tube":
        return tube_mask(batch_size, grid, ratio, generator=generator, device=device)
    if kind == "random":
        t, h, w = _check_grid(grid)
        return random_mask(batch_size, t * h * w, ratio, generator=generator, device=device)
    raise InputError(f"mask kind must be 'tube' or 'random', got {kind!r}")


def running_cell_mask(
    batch_size: int,
    grid: tuple[int, int, int],
    keep_ratio: float = 0.5,
    *,
    generator: torch.Generator | None = None,
    device: torch.device | str | None = None,
) -> torch.Tensor:
    """VideoMAE V2's decoder mask ("running cell"): (B, t*h*w) bool.

    POLARITY: True = the decoder RECONSTRUCTS this token (it is *kept* for the decoder). This is
    the negation of V2's ``decode_masked_pos``, whose True means "dropped from the decoder".

    The frame is tiled with 2x2 cells; cell slot k = 2*(y % 2) + (x % 2). V2 keeps a queue of
    ``n_drop`` ones (dropped) followed by ``4 - n_drop`` zeros (kept), ``n_drop = 4 * (1 -
    keep_ratio)``; slot k of temporal slice i reads queue[(k + ptr + i + 1) % 4] with one random
    start ``ptr`` in {0..3} per sample, so the kept slots shift by one every temporal slice.
    With keep_ratio 0.5 every slice keeps exactly h*w/2 tokens. h and w must be even.
    When t is a multiple of 4, every spatial position is kept in exactly ``t * keep_ratio``
    slices, so with a tube encoder mask the overlap has the same size in every sample.
    """
    t, h, w = _check_grid(grid)
    batch_size = _check_batch(batch_size, t * h * w)
    if h % 2 or w % 2:
        raise InputError(
            f"running-cell masking tiles 2x2 cells, so the token grid h and w must be even, "
            f"got h={h}, w={w}; use an input size that is an even multiple of the patch size"
        )
    _check_ratio(keep_ratio, "keep_ratio")
    n_keep = round(4 * float(keep_ratio))
    if abs(4 * float(keep_ratio) - n_keep) > 1e-6 or not 0 < n_keep < 4:
        raise InputError(
            "keep_ratio must give the decoder 1, 2 or 3 of the 4 slots of a 2x2 cell, i.e. be "
            f"0.25, 0.5 or 0.75, got {keep_ratio!r}; V2 uses 0.5"
        )
    n_drop = 4 - n_keep
    draw_device = generator.device if generator is not None else device
    ptr = torch.randint(0, 4, (batch_size,), generator=generator, device=draw_device)
    ptr = ptr.to(device) if device is not None else ptr  # (B,)
    out_device = ptr.device
    ys = torch.arange(h, device=out_device)
    xs = torch.arange(w, device=out_device)
    slot = (2 * (ys % 2)).unsqueeze(1) + (xs % 2).unsqueeze(0)  # (h, w)
    step = torch.arange(t, device=out_device) + 1  # (t,)
    # queue position of every token: (B, t, h, w); positions < n_drop are dropped.
    pos = (slot.view(1, 1, h, w) + ptr.view(-1, 1, 1, 1) + step.view(1, t, 1, 1)) % 4
    return (pos >= n_drop).reshape(int(batch_size), t * h * w)
