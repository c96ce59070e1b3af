"""Views of one video (frames arrays) and how the views of a video merge."""

from __future__ import annotations

import math

import pytest
import torch
from _inference_helper import _frames

from videomae.inference.views import Preprocessing, frames_views, merge_views
from videomae.runtime import IMAGENET_DEFAULT_MEAN, IMAGENET_DEFAULT_STD


def test_frames_views_shapes_for_long_and_non_square_frames() -> None:
    pre = Preprocessing(
        num_frames=4,
        crop_size=32,
        short_side=32,
        mean=IMAGENET_DEFAULT_MEAN,
        std=IMAGENET_DEFAULT_STD,
        crops=3,
    )
    views = frames_views(_frames(20, 36, 60), pre)
    assert views.shape == (3, 4, 3, 32, 32)
    assert views.dtype == torch.float32


def test_prob_mean_and_logit_mean_disagree_on_a_known_case() -> None:
    # true class 0: one view is very confident and wrong, two views are moderately right
    views = torch.tensor([[0.0, 20.0, 0.0], [2.0, 0.0, 0.0], [2.0, 0.0, 0.0]])
    e2 = math.exp(2.0)
    p_right = e2 / (e2 + 2)  # softmax([2, 0, 0])[0]
    p_wrong_view = 1 / (1 + 2 * math.exp(-20.0))  # softmax([0, 20, 0])[1]
    expected0 = (2 * p_right + (1 - p_wrong_view) / 2) / 3
    probs = merge_views(views)  # default: prob_mean
    assert probs.shape == (3,)
    assert probs.sum().item() == pytest.approx(1.0, abs=1e-6)
    assert probs[0].item() == pytest.approx(expected0, abs=1e-6)
    assert probs.argmax().item() == 0
    logits = merge_views(views, "logit_mean")
    assert torch.allclose(logits, torch.tensor([4 / 3, 20 / 3, 0.0]))
    assert logits.argmax().item() == 1


def test_merge_views_single_view_and_errors() -> None:
    v = torch.tensor([[1.0, 3.0]])
    assert torch.allclose(merge_views(v), v.softmax(-1)[0])
    with pytest.raises(ValueError, match="unknown merge method"):
        merge_views(v, "max")
    with pytest.raises(ValueError, match=r"\(V, K\)"):
        merge_views(torch.zeros(0, 3))
