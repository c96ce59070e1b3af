"""Confusion-matrix plots."""

from __future__ import annotations

import pytest
import torch
from PIL import Image

from videomae.viz import confusion as viz


def test_plot_confusion_writes_png(tmp_path) -> None:
    cm = torch.tensor([[3, 1, 0], [0, 2, 2], [1, 0, 4]])
    out = viz.plot_confusion(cm, ["walk", "run", "jump"], tmp_path / "cm.png")
    assert Image.open(out).size[0] > 100
    with pytest.raises(ValueError, match="class names"):
        viz.plot_confusion(cm, ["a"], tmp_path / "cm2.png")
