"""The training objectives as small pure functions, used by the models, the recipes and validation.

- pre-training: :func:`reconstruction_loss` (MAE's objective: the squared error between the
  decoder's prediction and the pixels of the hidden patches, optionally standardised per patch);
- fine-tuning and validation: :func:`cross_entropy` (hard labels) and
  :func:`soft_target_cross_entropy` (label smoothing / mixup targets);
- :func:`classification_loss`: transformers' rules for ``VideoMAEForVideoClassification(labels=)``
  (regression, single-label, multi-label).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from videomae.modeling.patches import normalize_patches, patchify
from videomae.runtime import IMAGENET_DEFAULT_MEAN, IMAGENET_DEFAULT_STD

PROBLEM_TYPES = ("regression", "single_label_classification", "multi_label_classification")
_INTEGER_LABELS = (torch.long, torch.int, torch.int16, torch.int8, torch.uint8)


# ----------------------------------------------------------------------------- pre-training


def reconstruction_targets(
    pixel_values: torch.Tensor,
    selected: torch.Tensor,
    *,
    patch_size: int,
    tubelet_size: int,
    norm_pix_loss: bool,
) -> torch.Tensor:
    """The pixels the decoder must predict: (B, T, C, H, W), (B, N) bool -> (B, n, ts*p*p*C).

    ``selected`` marks the n tokens per sample to reconstruct (the same count in every row), in
    ascending token order. With 3 channels the input is first un-normalised with ImageNet
    statistics (as transformers and the original release do); with ``norm_pix_loss`` each patch
    is then standardised per channel. Only the selected patches are computed; no gradient flows.
    """
    channels = pixel_values.shape[2]
    with torch.no_grad():
        frames = pixel_values
        if channels == 3:
            mean = torch.tensor(IMAGENET_DEFAULT_MEAN, device=frames.device, dtype=frames.dtype)
            std = torch.tensor(IMAGENET_DEFAULT_STD, device=frames.device, dtype=frames.dtype)
            frames = frames * std.view(1, 1, 3, 1, 1) + mean.view(1, 1, 3, 1, 1)
        patches = patchify(frames, patch_size, tubelet_size)  # (B, N, K)
        b, _, k = patches.shape
        patches = patches[selected].reshape(b, -1, k)
        if norm_pix_loss:
            patches = normalize_patches(patches, channels)
    return patches


def reconstruction_loss(
    prediction: torch.Tensor, target: torch.Tensor, weight: torch.Tensor | None = None
) -> torch.Tensor:
    """Mean squared error over the hidden patches: (B, n, K), (B, n, K) [, (B, n) bool] -> ().

    ``prediction`` is the decoder's output for the n reconstructed tokens, ``target`` the
    matching :func:`reconstruction_targets`; the target is cast to the prediction's dtype.
    ``weight`` (VideoMAE V2 dual masking) keeps only some tokens: the per-token error is
    averaged over the tokens where it is True, across the batch, as V2 does.
    """
    target = target.to(prediction.dtype)
    if weight is None:
        return F.mse_loss(prediction, target)
    per_token = (prediction - target).pow(2).mean(dim=-1)  # (B, n)
    w = weight.to(per_token.dtype)
    return (per_token * w).sum() / w.sum()


# ----------------------------------------------------------------------------- classification


def cross_entropy(
    logits: torch.Tensor, labels: torch.Tensor, reduction: str = "mean"
) -> torch.Tensor:
    """Hard-label cross-entropy: (B, K) logits, (B,) class ids -> () (or (B,) with "none").

    Labels equal to -100 are ignored (torch's default ``ignore_index``).
    """
    return F.cross_entropy(logits, labels, reduction=reduction)


def soft_target_cross_entropy(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Mean over the batch of ``-sum_k targets_k * log_softmax(logits)_k``; (B, K), (B, K) -> ().

    ``targets`` are class distributions: label-smoothed one-hot rows or mixup/cutmix mixtures
    (see :mod:`videomae.data.mixup`). The log-softmax is computed in float32.
    """
    if logits.shape != targets.shape:
        raise ValueError(
            f"logits {tuple(logits.shape)} and soft targets {tuple(targets.shape)} must match; "
            "build targets with smooth_one_hot or Mixup"
        )
    loss = -(targets * F.log_softmax(logits.float(), dim=-1)).sum(dim=-1)  # (B,)
    return loss.mean()


def infer_problem_type(num_labels: int, labels: torch.Tensor) -> str:
    """transformers' guess: one output is regression, integer labels single-label, else multi."""
    if num_labels == 1:
        return "regression"
    if labels.dtype in _INTEGER_LABELS:
        return "single_label_classification"
    return "multi_label_classification"


def classification_loss(
    logits: torch.Tensor, labels: torch.Tensor, problem_type: str, num_labels: int
) -> torch.Tensor:
    """The loss of a classifier's (B, K) logits under transformers' ``problem_type`` rules.

    regression: MSE against (B,) or (B, K) float targets; single-label: :func:`cross_entropy`
    against (B,) class ids in [0, K) (or -100); multi-label: binary cross-entropy with logits
    against (B, K) targets in [0, 1].
    """
    if problem_type == "regression":
        if num_labels == 1:
            return F.mse_loss(logits.squeeze(), labels.squeeze().to(logits.dtype))
        return F.mse_loss(logits, labels.to(logits.dtype))
    if problem_type == "single_label_classification":
        _check_class_ids(logits, labels, num_labels)
        return cross_entropy(logits.view(-1, num_labels), labels.view(-1))
    if problem_type == "multi_label_classification":
        if labels.shape != logits.shape:
            raise ValueError(
                f"multi-label targets must have shape {tuple(logits.shape)}, "
                f"got {tuple(labels.shape)}"
            )
        return F.binary_cross_entropy_with_logits(logits, labels.to(logits.dtype))
    raise ValueError(f"unknown problem_type {problem_type!r}")


def _check_class_ids(logits: torch.Tensor, labels: torch.Tensor, num_labels: int) -> None:
    if labels.is_floating_point():
        raise ValueError(
            f"single-label classification needs integer class labels, got {labels.dtype}"
        )
    if labels.numel() != logits.shape[0]:
        raise ValueError(
            f"labels has {labels.numel()} entries for a batch of {logits.shape[0]} videos"
        )
    bad = (labels >= num_labels) | ((labels < 0) & (labels != -100))
    if bool(bad.any()):
        raise ValueError(
            f"labels must be in [0, {num_labels}) (or -100 to ignore), got "
            f"{labels[bad].unique().tolist()}; the model has num_labels={num_labels}"
        )
