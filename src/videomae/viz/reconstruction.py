"""Masked-autoencoder reconstruction pictures.

``reconstruct`` runs a pre-training model on one clip and returns uint8 frames for each row kind,
their labels and the hidden patches' error; :mod:`videomae.viz.picture` lays the rows out.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import torch

from videomae.modeling.patches import normalize_patches, patchify, unpatchify
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


def default_titles(norm_pix_loss: bool) -> dict[str, str]:
    """Row labels that say what each row is made of (nothing the model never saw is used)."""
    if norm_pix_loss:
        pred = "model's guess of hidden patches (normalised; shown with visible patches' mean/std)"
    else:
        pred = "model's guess of hidden patches (pixels)"
    return {
        "original": "original clip (the model never sees the grey patches below)",
        "masked": "model input: visible patches only (grey = hidden)",
        "reconstruction": pred,
        "pasted": "visible patches + model's guess of the hidden ones",
        "normalized_prediction": "model's guess, each hidden patch stretched to full contrast",
    }


class ReconstructionRows(dict):
    """``dict[str, Tensor]`` of uint8 (T, H, W, C) rows with honest ``titles`` and ``error``.

    ``error``: ``{"mse", "baseline", "space"}``: the mean squared error of the model's
    prediction on the hidden patches, in the space the model is trained in (its loss), and
    that of a constant guess (zero for normalised patches, the visible pixels' mean colour
    otherwise), so a picture tells at a glance whether the model learned anything.
    """

    def __init__(
        self,
        rows: Mapping[str, torch.Tensor],
        titles: Mapping[str, str],
        error: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(rows)
        self.titles: dict[str, str] = dict(titles)
        self.error: dict[str, Any] | None = dict(error) if error else None


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

    ``norm_pix``: the model predicts each hidden patch standardised, so its mean and spread are
    not the model's to know; they are taken from the VISIBLE patches (the average per-channel
    mean and std over them), never from the hidden patch itself. Otherwise undo the model's
    fixed target statistics, then apply the caller's.
    """
    c = pred.shape[-1]
    if norm_pix:
        visible = true[:, ~m]  # (1, V, P, C)
        v_mean = visible.mean(dim=-2, keepdim=True).mean(dim=1, keepdim=True)  # (1, 1, 1, C)
        v_std = visible.var(dim=-2, unbiased=True, keepdim=True).sqrt().mean(dim=1, keepdim=True)
        return pred * v_std + v_mean
    if c == 3:
        # target was pixel_values * MODEL_TARGET_STD + MODEL_TARGET_MEAN: go back to pixel_values,
        # then to [0, 1] with the caller's statistics (identity when they are ImageNet's).
        tm = torch.tensor(MODEL_TARGET_MEAN, device=pred.device)
        tsd = torch.tensor(MODEL_TARGET_STD, device=pred.device)
        return ((pred - tm) / tsd) * std_t + mean_t
    # non-RGB: the target is pixel_values itself.
    return pred * std_t + mean_t


def masked_error(
    pred: torch.Tensor, pred01: torch.Tensor, true: torch.Tensor, m: torch.Tensor, norm_pix: bool
) -> dict[str, Any]:
    """The hidden patches' MSE and a constant guess's (see :class:`ReconstructionRows`).

    ``pred`` (1, M, P, C) raw model output; ``pred01`` in pixel space; ``true`` (1, N, P, C).
    """
    n, c = true.shape[1], true.shape[-1]
    if norm_pix:
        target = normalize_patches(true.reshape(1, n, -1), c).reshape(true.shape)[:, m]
        mse, base = (pred - target).pow(2).mean(), target.pow(2).mean()
        return {"mse": float(mse), "baseline": float(base), "space": "normalised patches"}
    target = true[:, m]
    guess = true[:, ~m].mean(dim=(1, 2), keepdim=True)  # the visible pixels' mean colour
    mse, base = (pred01 - target).pow(2).mean(), (guess - target).pow(2).mean()
    return {"mse": float(mse), "baseline": float(base), "space": "pixels in [0, 1]"}


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
    :data:`ROW_KINDS`; ``.titles`` holds matching labels and ``.error`` the hidden patches'
    error against a constant guess. With ``config.norm_pix_loss`` the model predicts each hidden
    patch standardised; it is shown with the visible patches' average mean/std, so no row uses
    anything the model did not see (the original release's picture borrows each hidden patch's
    true mean/std, which makes a random model look almost as good as a trained one).
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
    error = masked_error(pred, pred01, true, m, norm_pix)
    return ReconstructionRows(rows, default_titles(norm_pix), error)
