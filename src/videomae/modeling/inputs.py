"""Checks of a model's inputs against its config: pixel_values' layout and clip shape, and the
token masks. Errors name what was expected and how to fix the input."""

from __future__ import annotations

import torch

from videomae.config import VideoMAEConfig

__all__ = ["check_decoder_mask", "check_grid", "check_mask", "token_grid_of"]


def token_grid_of(pixel_values: torch.Tensor, config: VideoMAEConfig) -> tuple[int, int, int]:
    """Validate `pixel_values` (B, T, C, H, W) against the config; return its token grid."""
    if not isinstance(pixel_values, torch.Tensor):
        raise TypeError(f"pixel_values must be a torch.Tensor, got {type(pixel_values).__name__}")
    if pixel_values.ndim != 5:
        raise ValueError(
            "pixel_values must have 5 dimensions (batch, frames, channels, height, width); "
            f"got shape {tuple(pixel_values.shape)}. For one video add a batch axis with "
            "pixel_values.unsqueeze(0)"
        )
    _, t, c, h, w = pixel_values.shape
    if c != config.num_channels:
        hint = ""
        if t == config.num_channels:
            hint = " (it looks channels-first: use pixel_values.permute(0, 2, 1, 3, 4))"
        raise ValueError(
            f"pixel_values has {c} channels at dim 2, the config expects "
            f"num_channels={config.num_channels}; layout is (batch, frames, channels, height, "
            f"width){hint}"
        )
    ts = config.tubelet_size
    p = config.patch_hw[0]
    if t % ts:
        raise ValueError(
            f"number of frames {t} is not divisible by tubelet_size={ts}; sample a multiple of {ts}"
        )
    if h % p or w % p:
        raise ValueError(
            f"frame size {h}x{w} is not divisible by patch_size={p}; resize or crop to a multiple"
        )
    return t // ts, h // p, w // p


def check_grid(
    grid: tuple[int, int, int], config: VideoMAEConfig, interpolate_pos_encoding: bool
) -> None:
    if interpolate_pos_encoding or grid == config.token_grid:
        return
    t, h, w = grid
    ts, p = config.tubelet_size, config.patch_hw[0]
    got = f"{t * ts} frames of {h * p}x{w * p}"
    exp_h, exp_w = config.image_hw
    raise ValueError(
        f"input is {got}, the model was configured for {config.num_frames} frames of "
        f"{exp_h}x{exp_w}; resize/sample the input to match, or pass "
        "interpolate_pos_encoding=True to resize the position table"
    )


def check_mask(
    mask: torch.Tensor, batch_size: int, num_tokens: int, name: str = "bool_masked_pos"
) -> torch.Tensor:
    """Validate a (B, N) boolean mask with the same number of True per sample; broadcast (N,)."""
    if not isinstance(mask, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(mask).__name__}")
    if mask.dtype != torch.bool:
        raise ValueError(
            f"{name} must be a torch.bool tensor (True = masked), got dtype {mask.dtype}; "
            f"convert with {name}.bool() if it holds 0/1"
        )
    if mask.ndim == 1:
        mask = mask.unsqueeze(0)
    if mask.ndim != 2 or mask.shape[1] != num_tokens or mask.shape[0] not in (1, batch_size):
        raise ValueError(
            f"{name} must have shape (batch_size, num_tokens) = ({batch_size}, {num_tokens}), "
            f"got {tuple(mask.shape)}; num_tokens = (frames/tubelet)*(height/patch)*(width/patch)"
        )
    if mask.shape[0] != batch_size:
        mask = mask.expand(batch_size, -1)
    counts = mask.sum(dim=1)
    if batch_size > 1 and bool((counts != counts[0]).any()):
        raise ValueError(
            f"{name} must mask the same number of tokens in every sample, got counts "
            f"{counts.tolist()}; use videomae.masking.tube_mask or random_mask"
        )
    return mask


def check_decoder_mask(
    mask: torch.Tensor, decoder_mask: torch.Tensor, batch_size: int, num_tokens: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """VideoMAE V2 dual masking: (the (B, N) tokens the decoder reconstructs, the (B, n) weight
    of each reconstructed token in the loss).

    The decoder gets a mask token at every ``decoder_mask`` position, also where the encoder
    saw the token; the loss counts the reconstructed tokens the encoder did not see. Every
    sample must select the same, non-zero number of tokens (a running-cell mask does)."""
    decoder_mask = check_mask(decoder_mask, batch_size, num_tokens, "decoder_mask")
    decoded = decoder_mask.to(mask.device)
    counts = decoded.sum(1)
    if bool((counts != counts[0]).any()) or int(counts[0]) == 0:
        raise ValueError(
            "decoder_mask must select the same, non-zero number of tokens per sample, got "
            f"{counts.tolist()}; build it with videomae.masking.running_cell_mask on the same grid"
        )
    weight = mask[decoded].reshape(batch_size, -1)  # (B, n): masked AND decoded
    if not bool(weight.any()):
        raise ValueError(
            "no token is both masked (bool_masked_pos) and selected by decoder_mask, so the "
            "reconstruction loss would be empty; draw the masks again"
        )
    return decoded, weight
