"""videomae.train.optim: weight-decay split, layer-wise lr decay, prefixes, AdamW construction."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from videomae.train.optim import build_optimizer, canonical_name, layer_id, param_groups


class _Layer(nn.Module):
    def __init__(self, d: int) -> None:
        super().__init__()
        self.layernorm_before = nn.LayerNorm(d)
        self.attention = nn.Module()
        self.attention.attention = nn.Module()
        self.attention.attention.query = nn.Linear(d, d, bias=False)
        self.attention.attention.q_bias = nn.Parameter(torch.zeros(d))
        self.intermediate = nn.Module()
        self.intermediate.dense = nn.Linear(d, 2 * d)


class _Backbone(nn.Module):
    def __init__(self, d: int, depth: int) -> None:
        super().__init__()
        self.embeddings = nn.Module()
        self.embeddings.patch_embeddings = nn.Module()
        self.embeddings.patch_embeddings.projection = nn.Conv3d(3, d, (2, 4, 4), (2, 4, 4))
        self.encoder = nn.Module()
        self.encoder.layer = nn.ModuleList(_Layer(d) for _ in range(depth))


class FakeClassifier(nn.Module):
    """Parameter names as in CONTRIBUTING.md (transformers' naming)."""

    def __init__(self, d: int = 8, depth: int = 3, classes: int = 5) -> None:
        super().__init__()
        self.videomae = _Backbone(d, depth)
        self.fc_norm = nn.LayerNorm(d)
        self.classifier = nn.Linear(d, classes)
        self.mask_token = nn.Parameter(torch.zeros(1, 1, d))  # 3-D, decay off by name


def _group_of(groups: list[dict], name: str) -> dict:
    hits = [g for g in groups if name in g["param_names"]]
    assert len(hits) == 1, name
    return hits[0]


def test_weight_decay_split() -> None:
    groups = param_groups(FakeClassifier(), 0.05)
    decayed = {n for g in groups if g["weight_decay"] > 0 for n in g["param_names"]}
    assert decayed == {
        "videomae.embeddings.patch_embeddings.projection.weight",
        *(f"videomae.encoder.layer.{i}.attention.attention.query.weight" for i in range(3)),
        *(f"videomae.encoder.layer.{i}.intermediate.dense.weight" for i in range(3)),
        "classifier.weight",
    }
    assert all(g["weight_decay"] in (0.0, 0.05) for g in groups)
    assert all(g["lr_scale"] == 1.0 for g in groups)
    # every trainable parameter appears exactly once
    model = FakeClassifier()
    total = sum(len(g["params"]) for g in param_groups(model, 0.05))
    assert total == len(list(model.parameters()))


def test_layer_decay_scales() -> None:
    model = FakeClassifier(depth=3)
    groups = param_groups(model, 0.05, layer_decay=0.75)
    n = 3
    cases = {
        "videomae.embeddings.patch_embeddings.projection.weight": 0,
        "videomae.encoder.layer.0.intermediate.dense.weight": 1,
        "videomae.encoder.layer.2.attention.attention.q_bias": 3,
        "fc_norm.weight": n + 1,
        "classifier.bias": n + 1,
    }
    for name, lid in cases.items():
        assert _group_of(groups, name)["lr_scale"] == pytest.approx(0.75 ** (n + 1 - lid))
    # explicit num_layers overrides the inferred one
    groups12 = param_groups(model, 0.05, layer_decay=0.75, num_layers=12)
    assert _group_of(groups12, "classifier.weight")["lr_scale"] == 1.0
    assert _group_of(groups12, "videomae.encoder.layer.0.intermediate.dense.weight")[
        "lr_scale"
    ] == pytest.approx(0.75**12)


def test_prefixes_ddp_compile_and_bare() -> None:
    for name in (
        "module.videomae.encoder.layer.4.x.weight",
        "_orig_mod.videomae.encoder.layer.4.x.weight",
        "module._orig_mod.encoder.layer.4.x.weight",
        "encoder.layer.4.x.weight",
    ):
        assert canonical_name(name) == "encoder.layer.4.x.weight"
        assert layer_id(name, 12) == 5
    assert layer_id("module.videomae.embeddings.cls_token", 12) == 0
    assert layer_id("_orig_mod.videomae.layernorm.weight", 12) == 13

    class Wrapped(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.module = FakeClassifier(depth=2)

    groups = param_groups(Wrapped(), 0.1, layer_decay=0.5)
    g = _group_of(groups, "module.videomae.encoder.layer.1.intermediate.dense.weight")
    assert g["lr_scale"] == pytest.approx(0.5) and g["weight_decay"] == 0.1


def test_layer_decay_needs_layers() -> None:
    with pytest.raises(ValueError, match="num_layers"):
        param_groups(nn.Linear(2, 2), 0.05, layer_decay=0.75)
    with pytest.raises(ValueError, match="layer_decay"):
        param_groups(FakeClassifier(), 0.05, layer_decay=1.5)


def test_frozen_parameters_skipped() -> None:
    model = FakeClassifier()
    model.videomae.requires_grad_(False)
    names = {n for g in param_groups(model, 0.05) for n in g["param_names"]}
    assert names == {
        "fc_norm.weight",
        "fc_norm.bias",
        "classifier.weight",
        "classifier.bias",
        "mask_token",
    }


def test_build_optimizer_lrs_and_step() -> None:
    torch.manual_seed(0)
    model = FakeClassifier(depth=2)
    opt = build_optimizer(model, lr=1e-3, weight_decay=0.05, layer_decay=0.5)
    assert isinstance(opt, torch.optim.AdamW)
    for g in opt.param_groups:
        assert g["lr"] == pytest.approx(1e-3 * g["lr_scale"])
        assert g["betas"] == (0.9, 0.95)
    assert {g["lr_scale"] for g in opt.param_groups} == {0.125, 0.25, 0.5, 1.0}
    before = model.classifier.weight.detach().clone()
    x = torch.randn(4, 8)
    model.classifier(model.fc_norm(x)).sum().backward()
    opt.step()
    assert not torch.equal(before, model.classifier.weight)
    # optimizer state round-trips through state_dict
    opt.load_state_dict(opt.state_dict())
