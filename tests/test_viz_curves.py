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
