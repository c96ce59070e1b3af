"""Training-curve plots from a metrics CSV or row dicts."""

from __future__ import annotations

import pytest
from PIL import Image

from videomae.viz import curves as viz


def test_plot_curves_from_csv_and_rows(tmp_path) -> None:
    csv_path = tmp_path / "metrics.csv"
    csv_path.write_text("step,loss,lr\n0,1.0,0.001\n10,0.5,\n20,0.25,0.0005\n30,nan,0.0001\n")
    out = viz.plot_curves(
        csv_path, tmp_path / "curves.png", keys=("loss", "lr"), log_y=[True, False]
    )
    assert Image.open(out).size[0] > 100
    out2 = viz.plot_curves([{"step": 1, "loss": 2.0}], tmp_path / "c2.png")
    assert out2.exists()
    with pytest.raises(ValueError, match="not found"):
        viz.plot_curves(csv_path, tmp_path / "c3.png", keys=("acc",))


def test_comparison_draws_both_curves_and_test_lines(tmp_path) -> None:
    import numpy as np
    from matplotlib.image import imread

    rows_a = [{"step": s, "val_top1": 20 + 10 * i} for i, s in enumerate((10, 20, 30))]
    rows_b = [{"step": s, "val_top1": 25.0} for s in (10, 20, 30)]
    path = viz.plot_comparison(
        {"pre-trained": [rows_a, rows_a], "scratch": [rows_b]},
        {"pre-trained": [0.6, 0.7], "scratch": [0.3]},
        tmp_path / "c.png",
    )
    img = (imread(path)[..., :3] * 255).round().astype(int)

    def count(rgb: tuple[int, int, int]) -> int:
        return int((np.abs(img - np.array(rgb)).sum(-1) < 30).sum())

    assert count((31, 119, 180)) > 200 and count((255, 127, 14)) > 200  # blue and orange drawn
    with pytest.raises(ValueError, match="no curves"):
        viz.plot_comparison({}, {}, tmp_path / "x.png")
