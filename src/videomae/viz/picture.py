"""Laying out reconstruction rows as pictures: a labelled PNG grid or an animated GIF (PIL).

Sizes are exact (see :func:`grid_size` and :func:`gif_size`): frames are enlarged ``scale``
times (nearest neighbour, so small clips stay readable), the picture is at least as wide as
its longest row label, and rows that carry an ``error`` (from
:func:`videomae.viz.reconstruction.reconstruct`) get a line stating it above the grid.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import torch
from PIL import Image, ImageDraw, ImageFont

PAD = 2
TITLE_H = 16
HEADER_H = 16
NOTE_H = 16  # the error line, when the rows carry one
MIN_WIDTH = 256
AUTO_FRAME_PX = 128  # --scale default: enlarge small frames to about this height


def error_text(error: Mapping[str, Any]) -> str:
    """One line for the picture: the model's error on hidden patches against a constant guess."""
    return (
        f"hidden-patch MSE ({error['space']}): model {error['mse']:.4f}, "
        f"constant guess {error['baseline']:.4f}"
    )


def auto_scale(frame_h: int) -> int:
    """The enlargement that brings a frame to about :data:`AUTO_FRAME_PX` pixels (at least 1)."""
    return max(1, math.floor(AUTO_FRAME_PX / max(frame_h, 1)))


def _font() -> Any:
    return ImageFont.load_default()


def text_width(texts: Sequence[str]) -> int:
    """Pixels the widest of ``texts`` needs in the picture's font (plus padding)."""
    draw = ImageDraw.Draw(Image.new("RGB", (1, 1)))
    return max((math.ceil(draw.textlength(t, font=_font())) for t in texts), default=0) + 2 * PAD


def grid_size(
    num_rows: int,
    num_cols: int,
    frame_h: int,
    frame_w: int,
    *,
    scale: int = 1,
    label_width: int = 0,
    note: bool = False,
) -> tuple[int, int]:
    """(width, height) in pixels of the PNG grid made by :func:`save_reconstruction_png`."""
    width = max(PAD + num_cols * (frame_w * scale + PAD), MIN_WIDTH, label_width)
    height = HEADER_H + (NOTE_H if note else 0) + num_rows * (TITLE_H + frame_h * scale + PAD)
    return width, height + PAD


def gif_size(
    num_rows: int, frame_h: int, frame_w: int, *, scale: int = 1, label_width: int = 0,
    note: bool = False,
) -> tuple[int, int]:  # fmt: skip
    """(width, height) in pixels of each frame of :func:`save_reconstruction_gif`."""
    width = max(frame_w * scale, MIN_WIDTH, label_width)
    return width, (NOTE_H if note else 0) + num_rows * (TITLE_H + frame_h * scale)


def _check_rows(rows: Mapping[str, torch.Tensor]) -> tuple[list[str], int, int, int]:
    if not rows:
        raise ValueError("rows is empty; pass the dict returned by reconstruct()")
    kinds = list(rows)
    shapes = {tuple(torch.as_tensor(rows[k]).shape) for k in kinds}
    if len(shapes) != 1:
        raise ValueError(f"all rows must have the same (T, H, W, C) shape, got {sorted(shapes)}")
    shape = shapes.pop()
    if len(shape) != 4 or shape[3] not in (1, 3):
        raise ValueError(f"rows must be uint8 (T, H, W, C) with C in (1, 3), got {shape}")
    t, h, w, _ = shape
    return kinds, t, h, w


def _frame_indices(frames: Sequence[int] | None, t: int) -> list[int]:
    if frames is None:
        return list(range(t))
    out = []
    for f in frames:
        if not -t <= int(f) < t:
            raise ValueError(f"frame index {f} is out of range for a clip of {t} frames")
        out.append(int(f) % t)
    if not out:
        raise ValueError("frames is empty; pass at least one frame index or None for all")
    return out


def _pil_frame(row: torch.Tensor, i: int, scale: int) -> Any:
    arr = torch.as_tensor(row)[i].to(torch.uint8).cpu().numpy()
    if arr.shape[-1] == 1:
        img = Image.fromarray(arr[..., 0], mode="L").convert("RGB")
    else:
        img = Image.fromarray(arr, mode="RGB")
    if scale > 1:
        img = img.resize((img.width * scale, img.height * scale), Image.NEAREST)
    return img


def _layout(
    rows: Mapping[str, torch.Tensor], titles: Mapping[str, str] | None, scale: int | None
) -> tuple[list[str], int, int, int, dict[str, str], str | None, int, int]:
    """(kinds, T, H, W, labels, error line or None, scale, label width) of ``rows``."""
    kinds, t, fh, fw = _check_rows(rows)
    base = dict(getattr(rows, "titles", None) or {})
    base.update(titles or {})
    labels = {k: base.get(k, k) for k in kinds}
    error = getattr(rows, "error", None)
    note = error_text(error) if error else None
    scale = auto_scale(fh) if scale is None else int(scale)
    if scale < 1:
        raise ValueError(f"scale must be >= 1, got {scale}")
    width = text_width([*labels.values(), *([note] if note else [])])
    return kinds, t, fh, fw, labels, note, scale, width


def reconstruction_grid(
    rows: Mapping[str, torch.Tensor],
    *,
    frames: Sequence[int] | None = None,
    titles: Mapping[str, str] | None = None,
    scale: int | None = 1,
) -> Image.Image:
    """The PNG grid of :func:`save_reconstruction_png` as a PIL image (exactly :func:`grid_size`)."""
    kinds, t, fh, fw, labels, note, scale, lw = _layout(rows, titles, scale)
    idx = _frame_indices(frames, t)
    size = grid_size(len(kinds), len(idx), fh, fw, scale=scale, label_width=lw, note=bool(note))
    canvas = Image.new("RGB", size, (255, 255, 255))
    draw, font = ImageDraw.Draw(canvas), _font()
    y = 0
    if note:
        draw.text((PAD, 2), note, fill=(160, 0, 0), font=font)
        y += NOTE_H
    for j, fi in enumerate(idx):
        draw.text((PAD + j * (fw * scale + PAD), y + 2), f"t={fi}", fill=(0, 0, 0), font=font)
    y += HEADER_H
    for k in kinds:
        draw.text((PAD, y + 2), labels[k], fill=(0, 0, 0), font=font)
        y += TITLE_H
        for j, fi in enumerate(idx):
            canvas.paste(_pil_frame(rows[k], fi, scale), (PAD + j * (fw * scale + PAD), y))
        y += fh * scale + PAD
    return canvas


def save_reconstruction_png(
    rows: Mapping[str, torch.Tensor],
    path: str | Path,
    *,
    frames: Sequence[int] | None = None,
    titles: Mapping[str, str] | None = None,
    scale: int | None = 1,
) -> Path:
    """Grid PNG: one labelled row per kind, one column per frame (all frames by default).

    Size is exactly :func:`grid_size`. ``titles`` overrides labels (by default the honest
    labels attached by ``reconstruct``); ``scale`` enlarges frames (None: :func:`auto_scale`).
    """
    canvas = reconstruction_grid(rows, frames=frames, titles=titles, scale=scale)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    canvas.save(path, format="PNG")
    return path


def save_reconstruction_gif(
    rows: Mapping[str, torch.Tensor],
    path: str | Path,
    fps: float = 4.0,
    *,
    frames: Sequence[int] | None = None,
    titles: Mapping[str, str] | None = None,
    scale: int | None = 1,
) -> Path:
    """Animated GIF: each frame stacks the rows (with a label strip) vertically; loops forever."""
    if fps <= 0:
        raise ValueError(f"fps must be > 0, got {fps}")
    kinds, t, fh, fw, labels, note, scale, lw = _layout(rows, titles, scale)
    idx = _frame_indices(frames, t)
    font = _font()
    size = gif_size(len(kinds), fh, fw, scale=scale, label_width=lw, note=bool(note))
    images = []
    for fi in idx:
        canvas = Image.new("RGB", size, (255, 255, 255))
        draw = ImageDraw.Draw(canvas)
        y = 0
        if note:
            draw.text((1, 2), note, fill=(160, 0, 0), font=font)
            y += NOTE_H
        for k in kinds:
            draw.text((1, y + 2), labels[k], fill=(0, 0, 0), font=font)
            y += TITLE_H
            canvas.paste(_pil_frame(rows[k], fi, scale), (0, y))
            y += fh * scale
        images.append(canvas)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    images[0].save(
        path, format="GIF", save_all=True, append_images=images[1:],
        duration=max(1, round(1000 / fps)), loop=0, disposal=1,
    )  # fmt: skip
    return path
