"""Timeline pictures of window scores."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from videomae.viz.timeline import plot_timeline, timeline_classes


def test_timeline_classes_are_the_best_anywhere() -> None:
    scores = torch.tensor([[0.9, 0.05, 0.05, 0.0], [0.1, 0.1, 0.0, 0.8], [0.2, 0.6, 0.1, 0.1]])
    assert timeline_classes(scores, 2) == [0, 3]
    assert timeline_classes(scores, 10) == [0, 3, 1, 2]
    with pytest.raises(ValueError, match="W >= 1"):
        timeline_classes(torch.zeros(0, 3), 2)


def test_plot_timeline_writes_a_png(tmp_path) -> None:
    w = 30
    scores = torch.softmax(torch.randn(w, 6, generator=torch.Generator().manual_seed(0)), dim=1)
    starts = [2.0 * i for i in range(w)]
    ends = [s + 2.0 for s in starts]
    out = plot_timeline(tmp_path / "t.png", starts, ends, scores, list("abcdef"), top=3)
    img = Image.open(out)
    assert img.size == (900, 420)
    assert len(np.unique(np.asarray(img.convert("RGB")).reshape(-1, 3), axis=0)) > 20  # drawn
    with pytest.raises(ValueError, match="start times"):
        plot_timeline(tmp_path / "u.png", starts[:-1], ends, scores, list("abcdef"))
