"""Reconstruction pictures laid out: exact PNG grid / GIF sizes, placement, scale, labels."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from videomae.viz import picture as viz
from videomae.viz.reconstruction import ROW_KINDS, ReconstructionRows, default_titles


def _rows(t: int = 5, h: int = 6, w: int = 10, kinds: int = 3) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    names = ROW_KINDS[:kinds]
    return {k: torch.randint(0, 256, (t, h, w, 3), generator=g, dtype=torch.uint8) for k in names}


@pytest.mark.parametrize("fw", [10, 100])  # narrower / wider than the label minimum
def test_png_grid_size_and_pixel_placement(tmp_path, fw: int) -> None:
    rows = _rows(w=fw)
    path = viz.save_reconstruction_png(rows, tmp_path / "sub" / "recon.png", frames=[4, 0, -2])
    img = Image.open(path)
    cols, fh = 3, 6
    pad, title_h, header_h = viz.PAD, viz.TITLE_H, viz.HEADER_H
    width = max(pad + cols * (fw + pad), viz.MIN_WIDTH)  # the short labels fit in MIN_WIDTH
    expected = (width, header_h + len(rows) * (title_h + fh + pad) + pad)
    assert img.size == expected == viz.grid_size(len(rows), cols, fh, fw)
    arr = torch.from_numpy(np.array(img.convert("RGB")))
    # the 2nd row, 3rd column holds frame -2 (= 3) of the 2nd kind
    y0 = header_h + 1 * (title_h + fh + pad) + title_h
    x0 = pad + 2 * (fw + pad)
    assert torch.equal(arr[y0 : y0 + fh, x0 : x0 + fw], rows["masked"][3])
    with pytest.raises(ValueError, match="out of range"):
        viz.save_reconstruction_png(rows, tmp_path / "x.png", frames=[5])


def test_gif_frames_size_and_order(tmp_path) -> None:
    rows = _rows(t=4, kinds=5)
    for k in rows:  # flat colours survive GIF quantisation exactly
        rows[k] = torch.zeros_like(rows[k])
    for i in range(4):  # distinct frames (PIL merges identical consecutive frames)
        rows["original"][i] = 10 * i
    rows["pasted"][2] = 200
    path = viz.save_reconstruction_gif(rows, tmp_path / "recon.gif", fps=5)
    img = Image.open(path)
    assert img.n_frames == 4
    assert img.size == (viz.MIN_WIDTH, 5 * (viz.TITLE_H + 6)) == viz.gif_size(5, 6, 10)
    assert img.info["duration"] == 200
    img.seek(2)
    frame = img.convert("RGB")
    y = 3 * (viz.TITLE_H + 6) + viz.TITLE_H  # top of the 4th row ("pasted")
    assert frame.getpixel((5, y + 3)) == (200, 200, 200)
    assert frame.getpixel((5, y - viz.TITLE_H - 3)) == (0, 0, 0)


def test_single_channel_rows_are_saved_as_rgb(tmp_path) -> None:
    rows = {"original": torch.full((2, 4, 4, 1), 77, dtype=torch.uint8)}
    img = Image.open(viz.save_reconstruction_png(rows, tmp_path / "g.png"))
    assert img.mode == "RGB"
    assert img.getpixel((viz.PAD, viz.HEADER_H + viz.TITLE_H)) == (77, 77, 77)


def test_scale_enlarges_frames_and_the_error_line_and_long_labels_widen(tmp_path) -> None:
    rows = ReconstructionRows(
        _rows(t=2, h=4, w=4, kinds=2),
        default_titles(True),
        {"mse": 0.25, "baseline": 1.0, "space": "normalised patches"},
    )
    img = Image.open(viz.save_reconstruction_png(rows, tmp_path / "s.png", scale=None))
    scale = viz.auto_scale(4)
    assert scale == 32
    width = viz.text_width([*default_titles(True).values()][:2] + [viz.error_text(rows.error)])
    assert width > viz.MIN_WIDTH  # the honest labels are long: the picture grows to fit them
    assert img.size == viz.grid_size(2, 2, 4, 4, scale=32, label_width=width, note=True)
    arr = np.array(img)
    y0 = viz.NOTE_H + viz.HEADER_H + viz.TITLE_H  # first row, first frame
    block = arr[y0 : y0 + 4 * 32, viz.PAD : viz.PAD + 4 * 32]
    expected = rows["original"][0].numpy().repeat(32, 0).repeat(32, 1)
    assert np.array_equal(block, expected)
    assert "model 0.2500, constant guess 1.0000" in viz.error_text(rows.error)
    with pytest.raises(ValueError, match="scale"):
        viz.save_reconstruction_png(rows, tmp_path / "bad.png", scale=0)
