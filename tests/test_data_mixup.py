"""videomae.data.mixup: soft targets, lambda / box consistency, smoothing, seeding."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from videomae.data.mixup import (
    Mixup,
    _beta,
    cutmix_box,
    smooth_one_hot,
)
from videomae.modeling.losses import soft_target_cross_entropy


def _gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _batch(b: int = 4, t: int = 3, h: int = 16, w: int = 20) -> tuple[torch.Tensor, torch.Tensor]:
    # each clip is constant = its index, so the mix is readable from the pixels
    clips = torch.arange(b, dtype=torch.float32).view(b, 1, 1, 1, 1).expand(b, t, 3, h, w).clone()
    return clips, torch.arange(b) % 5


def test_smooth_one_hot_values_exact() -> None:
    y = smooth_one_hot(torch.tensor([2, 0]), 5, 0.1)
    assert y.shape == (2, 5)
    assert y[0, 2].item() == pytest.approx(0.9 + 0.02)
    assert y[0, 0].item() == pytest.approx(0.02)
    assert torch.allclose(y.sum(dim=1), torch.ones(2))
    assert torch.equal(smooth_one_hot(torch.tensor([1]), 3, 0.0), torch.tensor([[0.0, 1.0, 0.0]]))
    with pytest.raises(ValueError, match="num_classes"):
        smooth_one_hot(torch.tensor([5]), 5, 0.1)


def test_soft_target_cross_entropy_matches_hard_ce() -> None:
    logits = torch.randn(6, 7, generator=_gen(0))
    labels = torch.randint(0, 7, (6,), generator=_gen(1))
    hard = F.cross_entropy(logits, labels)
    soft = soft_target_cross_entropy(logits, smooth_one_hot(labels, 7, 0.0))
    assert torch.allclose(soft, hard, atol=1e-6)
    smoothed = F.cross_entropy(logits, labels, label_smoothing=0.1)
    assert torch.allclose(
        soft_target_cross_entropy(logits, smooth_one_hot(labels, 7, 0.1)), smoothed, atol=1e-6
    )
    with pytest.raises(ValueError, match="must match"):
        soft_target_cross_entropy(logits, torch.zeros(6, 3))


def test_mixup_only_blends_with_flipped_batch() -> None:
    mix = Mixup(mixup_alpha=0.8, cutmix_alpha=0.0, num_classes=5, label_smoothing=0.0)
    clips, labels = _batch()
    out, targets = mix(clips, labels, generator=_gen(3))
    lam = mix.last_lam
    assert 0.0 < lam < 1.0 and mix.last_box is None
    expected = torch.arange(4.0) * lam + torch.arange(3.0, -1.0, -1.0) * (1 - lam)
    assert torch.allclose(out[:, 0, 0, 0, 0], expected, atol=1e-6)
    assert torch.allclose(targets.sum(dim=1), torch.ones(4))
    assert targets[0, 0].item() == pytest.approx(lam) and targets[0, 3].item() == pytest.approx(
        1 - lam
    )


def test_cutmix_box_same_in_every_frame_and_lambda_is_area() -> None:
    mix = Mixup(mixup_alpha=0.0, cutmix_alpha=1.0, num_classes=5, label_smoothing=0.1)
    for seed in range(20):
        clips, labels = _batch()
        out, targets = mix(clips, labels, generator=_gen(seed))
        y0, y1, x0, x1 = mix.last_box
        pasted = out[0] == 3.0  # sample 0 receives sample 3 inside the box: (T, C, H, W)
        for t in range(1, out.shape[1]):
            assert torch.equal(pasted[0], pasted[t])
        assert int(pasted[0, 0].sum()) == (y1 - y0) * (x1 - x0)
        area = (y1 - y0) * (x1 - x0) / (16 * 20)
        assert mix.last_lam == pytest.approx(1 - area)
        assert torch.allclose(targets.sum(dim=1), torch.ones(4))
        # sample 0 (label 0) and its partner (label 3) share the mass lam / 1 - lam plus smoothing
        assert targets[0, 0].item() == pytest.approx(mix.last_lam * 0.9 + 0.02)
        assert targets[0, 3].item() == pytest.approx((1 - mix.last_lam) * 0.9 + 0.02)


def test_alpha_zero_or_prob_zero_disables() -> None:
    clips, labels = _batch()
    for mix in (
        Mixup(mixup_alpha=0.0, cutmix_alpha=0.0, num_classes=5),
        Mixup(prob=0.0, num_classes=5),
    ):
        out, targets = mix(clips.clone(), labels, generator=_gen(0))
        assert torch.equal(out, clips)
        assert torch.allclose(targets, smooth_one_hot(labels, 5, 0.1))


def test_switch_and_seeding() -> None:
    mix = Mixup(num_classes=5)
    kinds = [mix.sample_params(_gen(s))[1] for s in range(200)]
    assert 60 < sum(kinds) < 140  # switch_prob 0.5
    a = mix(*_batch(), generator=_gen(7))
    b = mix(*_batch(), generator=_gen(7))
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])


def test_beta_sampler_statistics() -> None:
    g = _gen(11)
    for alpha in (0.8, 1.0):
        draws = torch.tensor([_beta(alpha, g) for _ in range(3000)])
        var = 1 / (4 * (2 * alpha + 1))  # Beta(a, a) variance
        assert abs(draws.mean().item() - 0.5) < 0.02
        assert abs(draws.var().item() - var) < 0.01
        assert draws.min() >= 0 and draws.max() <= 1


def test_cutmix_box_bounds() -> None:
    for seed in range(50):
        y0, y1, x0, x1 = cutmix_box(16, 20, 0.3, generator=_gen(seed))
        assert 0 <= y0 <= y1 <= 16 and 0 <= x0 <= x1 <= 20


def test_bad_inputs() -> None:
    mix = Mixup(num_classes=5)
    with pytest.raises(ValueError, match=r"\(B, T, C, H, W\)"):
        mix(torch.zeros(2, 3, 8, 8), torch.zeros(2, dtype=torch.long))
    with pytest.raises(ValueError, match="labels"):
        mix(torch.zeros(2, 1, 3, 8, 8), torch.zeros(3, dtype=torch.long))
