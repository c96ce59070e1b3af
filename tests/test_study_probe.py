"""The linear probe (videomae.study.probe): separates what is linearly separable, finds
nothing in shuffled labels, and gives the same answer twice."""

from __future__ import annotations

import pytest
import torch

from videomae.study.probe import fit_linear_probe, probe_accuracy, standardise


def _blobs(n: int, seed: int, dim: int = 16, classes: int = 4):
    g = torch.Generator().manual_seed(seed)
    centres = 6.0 * torch.randn(classes, dim, generator=torch.Generator().manual_seed(99))
    y = torch.arange(n) % classes
    x = centres[y] + torch.randn(n, dim, generator=g)
    return x.double(), y


def test_probe_separates_linearly_separable_features():
    tx, ty = _blobs(200, 0)
    vx, vy = _blobs(200, 1)
    assert probe_accuracy(tx, ty, vx, vy, 4) >= 0.98


def test_probe_is_at_chance_on_shuffled_labels():
    tx, ty = _blobs(400, 0)
    vx, vy = _blobs(2000, 1)
    g = torch.Generator().manual_seed(5)
    shuffled = ty[torch.randperm(len(ty), generator=g)]
    acc = probe_accuracy(tx, shuffled, vx, vy, 4)
    assert abs(acc - 0.25) < 0.06  # chance is 25%; 2000 test clips: std about 1%


def test_probe_is_deterministic():
    tx, ty = _blobs(100, 3)
    w1, b1 = fit_linear_probe(tx, ty, 4)
    w2, b2 = fit_linear_probe(tx, ty, 4)
    assert torch.equal(w1, w2) and torch.equal(b1, b2)
    assert w1.abs().sum() > 0


def test_standardise_uses_train_statistics():
    train = torch.tensor([[0.0, 10.0], [2.0, 10.0]], dtype=torch.float64)
    test = torch.tensor([[1.0, 11.0]], dtype=torch.float64)
    st, sv = standardise(train, test)
    assert torch.allclose(st.mean(0), torch.zeros(2, dtype=torch.float64))
    assert sv[0, 0] == 0.0 and sv[0, 1] > 1e5  # a constant train feature: divided by 1e-6


def test_probe_refuses_bad_labels():
    x = torch.zeros(4, 3)
    with pytest.raises(ValueError, match="labels must lie"):
        fit_linear_probe(x, torch.tensor([0, 1, 2, 5]), 4)
    with pytest.raises(ValueError, match="expected x"):
        fit_linear_probe(x, torch.tensor([0, 1]), 4)
