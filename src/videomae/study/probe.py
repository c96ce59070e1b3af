"""Linear probe: how much of the task a frozen encoder's features already separate.

The encoder is not trained: each video's feature is the mean of its tokens (the package's
:class:`~videomae.inference.embedder.VideoEmbedder`, under ``torch.no_grad``); features are
standardised with the training clips' statistics, and a multinomial logistic regression is
fitted full-batch with L-BFGS in float64 from zero weights, so the fit is deterministic (the
problem is convex with the L2 term, and the start does not depend on any seed).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import torch

from videomae.errors import InputError
from videomae.inference.embedder import VideoEmbedder

__all__ = ["encoder_features", "fit_linear_probe", "probe_accuracy", "standardise"]


def encoder_features(
    model_dir: str | Path, paths: Sequence[str | Path], *, sampling_rate: int = 1
) -> torch.Tensor:
    """(N, D) float64 mean-pooled encoder features of ``paths`` (one centre clip each)."""
    embedder = VideoEmbedder.from_pretrained(model_dir, sampling_rate=sampling_rate, progress=False)
    with torch.no_grad():
        out = embedder.embed([str(p) for p in paths])
    if out.failures:
        first = out.failures[0]
        raise InputError(
            f"{len(out.failures)} of {len(paths)} videos could not be read for the linear probe "
            f"(first: {first}); regenerate the study's data folder"
        )
    return out.features.to(torch.float64)


def standardise(train: torch.Tensor, *others: torch.Tensor) -> list[torch.Tensor]:
    """Each feature to zero mean, unit variance with the statistics of ``train`` only."""
    mean = train.mean(0, keepdim=True)  # (1, D)
    std = train.std(0, keepdim=True).clamp_min(1e-6)  # (1, D); constant features stay 0
    return [(t - mean) / std for t in (train, *others)]


def fit_linear_probe(
    x: torch.Tensor,
    y: torch.Tensor,
    num_classes: int,
    *,
    weight_decay: float = 1e-3,
    max_iter: int = 500,
) -> tuple[torch.Tensor, torch.Tensor]:
    """(weight (K, D), bias (K,)) of a logistic regression on (N, D) ``x`` and (N,) labels.

    Full batch, L-BFGS with a strong-Wolfe line search, cross-entropy plus
    ``weight_decay / 2 * |W|^2``; starts from zeros, so equal inputs give equal weights.
    """
    if x.ndim != 2 or y.shape != (x.shape[0],) or x.shape[0] == 0:
        raise ValueError(
            f"expected x (N, D) and y (N,) with N > 0, got {tuple(x.shape)}, {tuple(y.shape)}"
        )
    if int(y.min()) < 0 or int(y.max()) >= num_classes:
        raise ValueError(
            f"labels must lie in [0, {num_classes}), got {int(y.min())}..{int(y.max())}"
        )
    x = x.to(torch.float64)
    weight = torch.zeros(num_classes, x.shape[1], dtype=torch.float64, requires_grad=True)
    bias = torch.zeros(num_classes, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.LBFGS(
        [weight, bias], lr=1.0, max_iter=max_iter, line_search_fn="strong_wolfe",
        tolerance_grad=1e-9, tolerance_change=1e-12,
    )  # fmt: skip

    def closure() -> torch.Tensor:
        opt.zero_grad()
        logits = x @ weight.T + bias  # (N, K)
        loss = torch.nn.functional.cross_entropy(logits, y)
        loss = loss + 0.5 * weight_decay * weight.pow(2).sum()
        loss.backward()
        return loss

    opt.step(closure)
    return weight.detach(), bias.detach()


def probe_accuracy(
    train_x: torch.Tensor,
    train_y: torch.Tensor,
    test_x: torch.Tensor,
    test_y: torch.Tensor,
    num_classes: int,
) -> float:
    """Top-1 accuracy in [0, 1] on the test features of a probe fitted on the train features."""
    train_x, test_x = standardise(train_x, test_x)
    weight, bias = fit_linear_probe(train_x, train_y, num_classes)
    predicted = (test_x @ weight.T + bias).argmax(-1)  # (M,)
    return float((predicted == test_y).to(torch.float64).mean())
