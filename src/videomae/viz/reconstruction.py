"""Masked-autoencoder reconstruction pictures.

``reconstruct`` runs a pre-training model on one clip and returns uint8 frames for each row kind;
``save_reconstruction_png`` / ``save_reconstruction_gif`` lay the rows out (PIL, exact pixel
sizes, see :func:`grid_size` and :func:`gif_size`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import torch
from PIL import Image, ImageDraw, ImageFont

from videomae.modeling.patches import patchify, unpatchify
from videomae.runtime import IMAGENET_DEFAULT_MEAN, IMAGENET_DEFAULT_STD

# The pre-training model builds its non-norm-pix target as ``pixel_values * std + mean`` with these
# fixed ImageNet statistics (transformers' VideoMAEForPreTraining does the same, 3 channels only).
MODEL_TARGET_MEAN = IMAGENET_DEFAULT_MEAN
MODEL_TARGET_STD = IMAGENET_DEFAULT_STD

ROW_KINDS: tuple[str, ...] = (
    "original",
    "masked",
    "reconstruction",
    "pasted",
    "normalized_prediction",
)

GREY = 0.5  # fill for patches a row does not show, in [0, 1]

# Layout constants of the PNG grid and the GIF (pixels).
PAD = 2
TITLE_H = 16
HEADER_H = 16
MIN_WIDTH = 256  # room for the longest row label in the default font


def default_titles(norm_pix_loss: bool) -> dict[str, str]:
    """Row labels; with ``norm_pix_loss`` the reconstruction borrows the true patch statistics."""
    if norm_pix_loss:
        rec = "reconstruction (uses true patch mean/std)"
        pasted = "pasted into visible patches (uses true patch mean/std)"
    else:
        rec = "reconstruction"
        pasted = "pasted into visible patches"
    return {
        "original": "original",
        "masked": "masked input (grey = hidden)",
        "reconstruction": rec,
        "pasted": pasted,
        "normalized_prediction": "raw normalised prediction (rescaled per patch)",
    }


class ReconstructionRows(dict):
    """``dict[str, Tensor]`` of uint8 (T, H, W, C) rows that also carries honest ``titles``."""

    def __init__(self, rows: Mapping[str, torch.Tensor], titles: Mapping[str, str]) -> None:
        super().__init__(rows)
        self.titles: dict[str, str] = dict(titles)


def _channel_stats(values: Sequence[float] | torch.Tensor, c: int, name: str) -> torch.Tensor:
    t = torch.as_tensor(values, dtype=torch.float32).flatten()
    if t.numel() == 1:
        t = t.expand(c)
    if t.numel() != c:
        raise ValueError(
            f"{name} has {t.numel()} values but the clip has {c} channels; pass one value per "
            "channel (the statistics used to normalise pixel_values)."
        )
    return t


def _to_uint8(frames01: torch.Tensor) -> torch.Tensor:
    """(T, C, H, W) float in [0, 1] -> (T, H, W, C) uint8."""
    return (frames01.clamp(0, 1) * 255).round().to(torch.uint8).permute(0, 2, 3, 1).contiguous()


def _check_inputs(
    cfg: Any, pixel_values: torch.Tensor, bool_masked_pos: torch.Tensor
) -> torch.Tensor:
    """Validate the clip against the model config; returns the (1, N) bool mask."""
    p, ts = int(cfg.patch_size), int(cfg.tubelet_size)
    if pixel_values.ndim != 5 or pixel_values.shape[0] != 1:
        raise ValueError(
            f"pixel_values must be (1, T, C, H, W), got {tuple(pixel_values.shape)}; "
            "pass one clip with a leading batch dimension of 1."
        )
    _, t, c, h, w = pixel_values.shape
    if c != int(cfg.num_channels):
        raise ValueError(
            f"pixel_values has {c} channels but config.num_channels={cfg.num_channels}"
        )
    if t % ts or h % p or w % p:
        raise ValueError(
            f"clip (T={t}, H={h}, W={w}) must divide by tubelet_size={ts} and patch_size={p}; "
            "crop or sample frames to a multiple."
        )
    n = (t // ts) * (h // p) * (w // p)
    mask = torch.as_tensor(bool_masked_pos, device=pixel_values.device).bool().reshape(1, -1)
    if mask.shape[1] != n:
        raise ValueError(
            f"bool_masked_pos has {mask.shape[1]} positions but this clip has N={n} tokens "
            f"((T/{ts}) * (H/{p}) * (W/{p})); make the mask for this clip size."
        )
    return mask


def _predict(
    model: torch.nn.Module, pixel_values: torch.Tensor, mask: torch.Tensor
) -> torch.Tensor:
    """(1, M, D) float predictions of the M masked tokens, the model's mode left as it was."""
    cfg = model.config
    was_training = model.training
    model.eval()
    try:
        logits = model(pixel_values, bool_masked_pos=mask).logits
    finally:
        model.train(was_training)
    num_masked = int(mask.sum())
    d = int(cfg.tubelet_size) * int(cfg.patch_size) ** 2 * pixel_values.shape[2]
    if tuple(logits.shape) != (1, num_masked, d):
        raise ValueError(
            f"model returned logits {tuple(logits.shape)}, expected (1, {num_masked}, {d}) "
            "(one prediction per masked token); a decoder mask (dual masking) is not supported here."
        )
    return logits.float()


def _prediction_in_unit_range(
    pred: torch.Tensor,
    true: torch.Tensor,
    m: torch.Tensor,
    norm_pix: bool,
    mean_t: torch.Tensor,
    std_t: torch.Tensor,
) -> torch.Tensor:
    """Predicted patches (1, M, P, C) mapped back to pixel values in [0, 1]-space.

    ``norm_pix``: un-normalise with the true patches' mean/std (as the original visualisation
    does). Otherwise undo the model's fixed target statistics, then apply the caller's.
    """
    c = pred.shape[-1]
    if norm_pix:
        t_mean = true.mean(dim=-2, keepdim=True)
        t_std = true.var(dim=-2, unbiased=True, keepdim=True).sqrt() + 1e-6
        return pred * t_std[:, m] + t_mean[:, m]
    if c == 3:
        # target was pixel_values * MODEL_TARGET_STD + MODEL_TARGET_MEAN: go back to pixel_values,
        # then to [0, 1] with the caller's statistics (identity when they are ImageNet's).
        tm = torch.tensor(MODEL_TARGET_MEAN, device=pred.device)
        tsd = torch.tensor(MODEL_TARGET_STD, device=pred.device)
        return ((pred - tm) / tsd) * std_t + mean_t
    # non-RGB: the target is pixel_values itself.
    return pred * std_t + mean_t


def _rows(
    frames01: torch.Tensor,
    true: torch.Tensor,
    pred: torch.Tensor,
    pred01: torch.Tensor,
    m: torch.Tensor,
    cfg: Any,
) -> dict[str, torch.Tensor]:
    """The uint8 (T, H, W, C) image of each row kind from the patches (see :data:`ROW_KINDS`)."""
    p, ts = int(cfg.patch_size), int(cfg.tubelet_size)
    _, t, c, h, w = frames01.shape
    n = true.shape[1]
    lo = pred.amin(dim=(-2, -1), keepdim=True)
    hi = pred.amax(dim=(-2, -1), keepdim=True)
    pred_vis = (pred - lo) / (hi - lo).clamp_min(1e-12)  # per-patch min-max to [0, 1]
    grey = torch.full_like(true, GREY)

    def fill(base: torch.Tensor, masked_values: torch.Tensor | None) -> torch.Tensor:
        out = base.clone()
        out[:, m] = grey[:, m] if masked_values is None else masked_values
        return out

    def image(patches: torch.Tensor) -> torch.Tensor:
        flat = patches.reshape(1, n, -1)
        return _to_uint8(unpatchify(flat, p, ts, t, h, w, c)[0])

    return {
        "original": _to_uint8(frames01[0]),
        "masked": image(fill(true, None)),
        "reconstruction": image(fill(grey, pred01)),
        "pasted": image(fill(true, pred01)),
        "normalized_prediction": image(fill(grey, pred_vis)),
    }


@torch.inference_mode()
def reconstruct(
    model: torch.nn.Module,
    pixel_values: torch.Tensor,
    bool_masked_pos: torch.Tensor,
    *,
    mean: Sequence[float] | torch.Tensor = IMAGENET_DEFAULT_MEAN,
    std: Sequence[float] | torch.Tensor = IMAGENET_DEFAULT_STD,
) -> ReconstructionRows:
    """Run a pre-training model on one clip and return displayable rows.

    ``pixel_values``: (1, T, C, H, W) normalised with ``mean``/``std``; ``bool_masked_pos``: (1, N)
    or (N,) bool, True = masked. The model must return ``.logits`` of shape (1, num_masked, D) in
    ascending masked-token order. Returns uint8 (T, H, W, C) tensors under the keys of
    :data:`ROW_KINDS`; ``.titles`` holds matching labels. With ``config.norm_pix_loss`` each
    predicted patch is un-normalised with the mean/std of the *true* patch (as the original
    visualisation does), so that row borrows information the model never saw.
    """
    cfg = model.config
    p, ts = int(cfg.patch_size), int(cfg.tubelet_size)
    norm_pix = bool(getattr(cfg, "norm_pix_loss", False))
    mask = _check_inputs(cfg, pixel_values, bool_masked_pos)
    logits = _predict(model, pixel_values, mask)
    c = pixel_values.shape[2]
    n, num_masked = mask.shape[1], logits.shape[1]
    device = pixel_values.device
    mean_t = _channel_stats(mean, c, "mean").to(device)
    std_t = _channel_stats(std, c, "std").to(device)
    x = pixel_values.float()
    frames01 = x * std_t.view(1, 1, c, 1, 1) + mean_t.view(1, 1, c, 1, 1)  # (1, T, C, H, W)
    true = patchify(frames01, p, ts).reshape(1, n, ts * p * p, c)  # (1, N, P, C)
    pred = logits.reshape(1, num_masked, ts * p * p, c)  # (1, M, P, C)
    m = mask[0]
    pred01 = _prediction_in_unit_range(pred, true, m, norm_pix, mean_t, std_t)
    rows = _rows(frames01, true, pred, pred01, m, cfg)
    return ReconstructionRows(rows, default_titles(norm_pix))


# ---------------------------------------------------------------------------------------------
# Saving rows


def _check_rows(rows: Mapping[str, torch.Tensor]) -> tuple[list[str], int, int, int]:
    if not rows:
        raise ValueError("rows is empty; pass the dict returned by reconstruct()")
    kinds = list(rows)
    shapes = {tuple(torch.as_tensor(rows[k]).shape) for k in kinds}
    if len(shapes) != 1:
        raise ValueError(f"all rows must have the same (T, H, W, C) shape, got {sorted(shapes)}")
    shape = shapes.pop()
    if len(shape) != 4 or shape[3] not in (1, 3):
        raise ValueError(f"rows must be uint8 (T, H, W, C) with C in (1, 3), got {shape}")
    t, h, w, _ = shape
    return kinds, t, h, w


def _frame_indices(frames: Sequence[int] | None, t: int) -> list[int]:
    if frames is None:
        return list(range(t))
    out = []
    for f in frames:
        if not -t <= int(f) < t:
            raise ValueError(f"frame index {f} is out of range for a clip of {t} frames")
        out.append(int(f) % t)
    if not out:
        raise ValueError("frames is empty; pass at least one frame index or None for all")
    return out


def _pil_frame(row: torch.Tensor, i: int) -> Any:
    arr = torch.as_tensor(row)[i].to(torch.uint8).cpu().numpy()
    if arr.shape[-1] == 1:
        arr = arr[..., 0]
        return Image.fromarray(arr, mode="L").convert("RGB")
    return Image.fromarray(arr, mode="RGB")


def grid_size(num_rows: int, num_cols: int, frame_h: int, frame_w: int) -> tuple[int, int]:
    """(width, height) in pixels of the PNG grid made by :func:`save_reconstruction_png`.

    Columns of ``frame_w + PAD``; at least ``MIN_WIDTH`` wide so the row labels fit.
    """
    width = max(PAD + num_cols * (frame_w + PAD), MIN_WIDTH)
    height = HEADER_H + num_rows * (TITLE_H + frame_h + PAD) + PAD
    return width, height


def gif_size(num_rows: int, frame_h: int, frame_w: int) -> tuple[int, int]:
    """(width, height) in pixels of each frame of :func:`save_reconstruction_gif`.

    Frames are left-aligned; at least ``MIN_WIDTH`` wide so the row labels fit.
    """
    return max(frame_w, MIN_WIDTH), num_rows * (TITLE_H + frame_h)


def _titles_for(rows: Mapping[str, torch.Tensor], titles: Mapping[str, str] | None) -> dict:
    base = dict(getattr(rows, "titles", None) or default_titles(False))
    if titles:
        base.update(titles)
    return {k: base.get(k, k) for k in rows}


def save_reconstruction_png(
    rows: Mapping[str, torch.Tensor],
    path: str | Path,
    *,
    frames: Sequence[int] | None = None,
    titles: Mapping[str, str] | None = None,
) -> Path:
    """Grid PNG: one labelled row per kind, one column per frame (all frames by default).

    Size is exactly :func:`grid_size` (rows, len(frames), H, W). ``titles`` overrides labels;
    by default the honest labels attached by :func:`reconstruct` are used.
    """
    kinds, t, fh, fw = _check_rows(rows)
    idx = _frame_indices(frames, t)
    labels = _titles_for(rows, titles)
    width, height = grid_size(len(kinds), len(idx), fh, fw)
    canvas = Image.new("RGB", (width, height), (255, 255, 255))
    draw = ImageDraw.Draw(canvas)
    font = ImageFont.load_default()
    for j, fi in enumerate(idx):
        draw.text((PAD + j * (fw + PAD), 2), f"t={fi}", fill=(0, 0, 0), font=font)
    y = HEADER_H
    for k in kinds:
        draw.text((PAD, y + 2), labels[k], fill=(0, 0, 0), font=font)
        y += TITLE_H
        for j, fi in enumerate(idx):
            canvas.paste(_pil_frame(rows[k], fi), (PAD + j * (fw + PAD), y))
        y += fh + PAD
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    canvas.save(path, format="PNG")
    return path


def save_reconstruction_gif(
    rows: Mapping[str, torch.Tensor],
    path: str | Path,
    fps: float = 4.0,
    *,
    frames: Sequence[int] | None = None,
    titles: Mapping[str, str] | None = None,
) -> Path:
    """Animated GIF: each frame stacks the rows (with a label strip) vertically; loops forever."""
    if fps <= 0:
        raise ValueError(f"fps must be > 0, got {fps}")
    kinds, t, fh, fw = _check_rows(rows)
    idx = _frame_indices(frames, t)
    labels = _titles_for(rows, titles)
    font = ImageFont.load_default()
    size = gif_size(len(kinds), fh, fw)
    images = []
    for fi in idx:
        canvas = Image.new("RGB", size, (255, 255, 255))
        draw = ImageDraw.Draw(canvas)
        y = 0
        for k in kinds:
            draw.text((1, y + 2), labels[k], fill=(0, 0, 0), font=font)
            y += TITLE_H
            canvas.paste(_pil_frame(rows[k], fi), (0, y))
            y += fh
        images.append(canvas)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    images[0].save(
        path,
        format="GIF",
        save_all=True,
        append_images=images[1:],
        duration=max(1, round(1000 / fps)),
        loop=0,
        disposal=1,
    )
    return path
