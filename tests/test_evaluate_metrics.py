"""Top-k, mean per-class accuracy and the confusion matrix on hand-made scores."""

from __future__ import annotations

import pytest
import torch

from videomae.evaluate.metrics import confusion_matrix, mean_class_accuracy, topk_correct


def test_topk_correct_on_hand_made_scores() -> None:
    scores = torch.tensor(
        [
            [0.9, 0.05, 0.03, 0.02],  # label 0: top-1
            [0.1, 0.2, 0.3, 0.4],  # label 2: rank 2
            [0.4, 0.3, 0.2, 0.1],  # label 3: rank 4
            [0.25, 0.35, 0.3, 0.1],  # label 0: rank 3
        ]
    )
    labels = torch.tensor([0, 2, 3, 0])
    assert topk_correct(scores, labels, ks=(1, 2, 3)) == {1: 1, 2: 2, 3: 3}
    assert topk_correct(scores, labels, ks=(1, 5)) == {1: 1, 5: 4}  # k=5 capped at K=4
    with pytest.raises(ValueError, match="labels must be"):
        topk_correct(scores, labels[:2])


def test_mean_class_accuracy_and_confusion() -> None:
    labels = torch.tensor([0, 0, 0, 0, 1, 2, 2])
    preds = torch.tensor([0, 0, 0, 1, 1, 0, 2])
    cm = confusion_matrix(preds, labels, 4)
    expected = torch.tensor([[3, 1, 0, 0], [0, 1, 0, 0], [1, 0, 1, 0], [0, 0, 0, 0]])
    assert torch.equal(cm, expected)
    # classes 0,1,2 present: (3/4 + 1 + 1/2) / 3; class 3 (no samples) is left out
    assert mean_class_accuracy(preds, labels, 4) == pytest.approx((0.75 + 1.0 + 0.5) / 3)
    # overall accuracy differs (5/7), so the two metrics are not confused
    assert (preds == labels).float().mean().item() == pytest.approx(5 / 7)
    with pytest.raises(ValueError, match="preds must lie"):
        confusion_matrix(torch.tensor([5]), torch.tensor([0]), 4)
