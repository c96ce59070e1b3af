"""Presets and hub checkpoints listed by `videomae models`: counts come from the configs."""

from __future__ import annotations

import torch

from videomae.cli.main import main
from videomae.config import VideoMAEConfig
from videomae.modeling.catalog import HUB_MODELS, count_parameters, models_table, preset_rows
from videomae.modeling.models import VideoMAEForPreTraining, VideoMAEForVideoClassification
from videomae.presets import PRESETS


def test_meta_count_equals_a_built_models_parameters() -> None:
    cfg = VideoMAEConfig.from_preset("tiny", image_size=32, num_frames=4, num_labels=7)
    torch.manual_seed(0)
    real_cls = sum(p.numel() for p in VideoMAEForVideoClassification(cfg).parameters())
    real_pre = sum(p.numel() for p in VideoMAEForPreTraining(cfg).parameters())
    assert count_parameters(cfg, "classifier") == real_cls
    assert count_parameters(cfg, "pre-training") == real_pre
    assert real_pre != real_cls


def test_preset_rows_grow_with_size_and_base_is_vit_b() -> None:
    rows = preset_rows()
    assert [r["name"] for r in rows] == list(PRESETS)
    counts = [r["classifier_params"] for r in rows]
    assert counts == sorted(counts)
    base = next(r for r in rows if r["name"] == "base")
    assert 86e6 < base["classifier_params"] < 87e6  # ViT-B/16 + a 400-class head
    assert next(r for r in rows if r["name"] == "tiny")["classifier_params"] < 2e6


def test_models_command_lists_presets_and_hub_ids(capsys) -> None:
    assert main(["models", "--num-labels", "10"]) == 0
    text = capsys.readouterr().out
    for name in PRESETS:
        assert f"\n  {name} " in text
    for m in HUB_MODELS:
        assert m.hub_id in text
    assert "10-class head" in text and text == models_table(10) + "\n"
