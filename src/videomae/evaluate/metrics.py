"""Classification metrics: top-k hits, confusion matrix, mean per-class accuracy, and the
metrics of one evaluation (:class:`Outcome`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import torch

__all__ = [
    "Outcome",
    "confusion_matrix",
    "evaluation_outcome",
    "mean_class_accuracy",
    "topk_correct",
]


def _check_scores_labels(scores: torch.Tensor, labels: torch.Tensor) -> None:
    if scores.ndim != 2:
        raise ValueError(f"scores must be (N, K), got {tuple(scores.shape)}")
    if labels.ndim != 1 or labels.shape[0] != scores.shape[0]:
        raise ValueError(
            f"labels must be (N,) with N={scores.shape[0]} matching scores, got {tuple(labels.shape)}"
        )


def topk_correct(
    scores: torch.Tensor, labels: torch.Tensor, ks: Sequence[int] = (1, 5)
) -> dict[int, int]:
    """Number of samples whose label is among the top-k scores, for each requested k.

    scores (N, K), labels (N,). A k larger than K is capped at K (top-5 with 3 classes is top-3);
    the result stays keyed by the requested k.
    """
    _check_scores_labels(scores, labels)
    n, k_all = scores.shape
    if n == 0:
        return {int(k): 0 for k in ks}
    if any(int(k) < 1 for k in ks):
        raise ValueError(f"every k must be >= 1, got {tuple(ks)}")
    kmax = min(max(int(k) for k in ks), k_all)
    top = scores.topk(kmax, dim=1).indices  # (N, kmax)
    hit = top == labels.to(top.device).view(-1, 1)  # (N, kmax)
    return {int(k): int(hit[:, : min(int(k), k_all)].any(dim=1).sum()) for k in ks}


def confusion_matrix(preds: torch.Tensor, labels: torch.Tensor, num_classes: int) -> torch.Tensor:
    """(K, K) int64 counts; rows are true labels, columns are predictions."""
    preds = torch.as_tensor(preds).long().flatten()
    labels = torch.as_tensor(labels).long().flatten()
    if preds.shape != labels.shape:
        raise ValueError(f"preds {tuple(preds.shape)} and labels {tuple(labels.shape)} differ")
    for name, v in (("preds", preds), ("labels", labels)):
        if v.numel() and (int(v.min()) < 0 or int(v.max()) >= num_classes):
            raise ValueError(
                f"{name} must lie in [0, {num_classes}), got [{int(v.min())}, {int(v.max())}]"
            )
    flat = labels * num_classes + preds
    return torch.bincount(flat, minlength=num_classes * num_classes).reshape(
        num_classes, num_classes
    )


def mean_class_accuracy(preds: torch.Tensor, labels: torch.Tensor, num_classes: int) -> float:
    """Mean over classes present in ``labels`` of the per-class accuracy (recall).

    Classes without any test sample are left out of the mean. Returns 0.0 for no samples.
    """
    return mean_class_from_confusion(confusion_matrix(preds, labels, num_classes))


def mean_class_from_confusion(cm: torch.Tensor) -> float:
    """Mean per-class recall of a (K, K) confusion matrix over the classes with samples."""
    support = cm.sum(dim=1)
    present = support > 0
    if not bool(present.any()):
        return 0.0
    per_class = cm.diag()[present].double() / support[present].double()
    return float(per_class.mean())


@dataclass
class Outcome:
    """The metrics of one evaluation over the videos that were scored.

    ``order``: the sample indices evaluated (ascending); ``scores`` (N, K) their merged scores
    and ``confusion`` (K, K), both None when nothing was scored; ``k``: the requested top-k
    capped at K. Accuracies are fractions in [0, 1].
    """

    order: list[int]
    scores: torch.Tensor | None
    confusion: torch.Tensor | None
    num_classes: int
    k: int
    top1: float
    topk: float
    mean_class_accuracy: float


def evaluation_outcome(
    samples: Sequence[tuple[str, int]], scored: Mapping[int, torch.Tensor], topk: int
) -> Outcome:
    """Metrics of the samples in ``scored`` (sample index -> (K,) scores)."""
    order = sorted(scored)
    if not order:
        return Outcome(order, None, None, 0, 0, 0.0, 0.0, 0.0)
    scores = torch.stack([scored[i] for i in order])  # (N, K)
    labels = torch.tensor([samples[i][1] for i in order])
    k_all = scores.shape[1]
    bad = [(samples[i][0], samples[i][1]) for i in order if not 0 <= samples[i][1] < k_all]
    if bad:
        raise ValueError(
            f"labels must lie in [0, {k_all}) for this {k_all}-class model; got e.g. {bad[:3]}"
        )
    preds = scores.argmax(dim=1)
    correct = topk_correct(scores, labels, ks=(1, topk))
    return Outcome(
        order=order,
        scores=scores,
        confusion=confusion_matrix(preds, labels, k_all),
        num_classes=k_all,
        k=min(topk, k_all),
        top1=correct[1] / len(order),
        topk=correct[topk] / len(order),
        mean_class_accuracy=mean_class_accuracy(preds, labels, k_all),
    )
