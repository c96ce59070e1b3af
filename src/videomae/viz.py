"""Pictures people can look at: masked-autoencoder reconstructions, training curves, confusion.

``reconstruct`` runs a pre-training model on one clip and returns uint8 frames for each row kind;
``save_reconstruction_png`` / ``save_reconstruction_gif`` lay the rows out (PIL, exact pixel
sizes, see :func:`grid_size` and :func:`gif_size`); ``plot_curves`` and ``plot_confusion`` use
matplotlib (Agg backend, imported lazily).
"""

from __future__ import annotations

import csv
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import torch

from videomae.modeling.patches import patchify, unpatchify
from videomae.runtime import IMAGENET_DEFAULT_MEAN, IMAGENET_DEFAULT_STD

# The pre-training model builds its non-norm-pix target as ``pixel_values * std + mean`` with these
# fixed ImageNet statistics (transformers' VideoMAEForPreTraining does the same, 3 channels only).
MODEL_TARGET_MEAN = IMAGENET_DEFAULT_MEAN
MODEL_TARGET_STD = IMAGENET_DEFAULT_STD

ROW_KINDS: tuple[str, ...] = (
    "original",
    "masked",
    "reconstruction",
    "pasted",
    "normalized_prediction",
)

GREY = 0.5  # fill for patches a row does not show, in [0, 1]

# Layout constants of the PNG grid and the GIF (pixels).
PAD = 2
TITLE_H = 16
HEADER_H = 16
MIN_WIDTH = 256  # room for the longest row label in the default font


def default_titles(norm_pix_loss: bool) -> dict[str, str]:
    """Row labels; with ``norm_pix_loss`` the reconstruction borrows the true patch statistics."""
    if norm_pix_loss:
        rec = "reconstruction (uses true patch mean/std)"
        pasted = "pasted into visible patches (uses true patch mean/std)"
    else:
        rec = "reconstruction"
        pasted = "pasted into visible patches"
    return {
        "original": "original",
        "masked": "masked input (grey = hidden)",
        "reconstruction": rec,
        "pasted": pasted,
        "normalized_prediction": "raw normalised prediction (rescaled per patch)",
    }


class ReconstructionRows(dict):
    """``dict[str, Tensor]`` of uint8 (T, H, W, C) rows that also carries honest ``titles``."""

    def __init__(self, rows: Mapping[str, torch.Tensor], titles: Mapping[str, str]) -> None:
        super().__init__(rows)
        self.titles: dict[str, str] = dict(titles)


def _channel_stats(values: Sequence[float] | torch.Tensor, c: int, name: str) -> torch.Tensor:
    t = torch.as_tensor(values, dtype=torch.float32).flatten()
    if t.numel() == 1:
        t = t.expand(c)
    if t.numel() != c:
        raise ValueError(
            f"{name} has {t.numel()} values but the clip has {c} channels; pass one value per "
            "channel (the statistics used to normalise pixel_values)."
        )
    return t


def _to_uint8(frames01: torch.Tensor) -> torch.Tensor:
    """(T, C, H, W) float in [0, 1] -> (T, H, W, C) uint8."""
    return (frames01.clamp(0, 1) * 255).round().to(torch.uint8).permute(0, 2, 3, 1).contiguous()


@torch.inference_mode()
def reconstruct(
    model: torch.nn.Module,
    pixel_values: torch.Tensor,
    bool_masked_pos: torch.Tensor,
    *,
    mean: Sequence[float] | torch.Tensor = IMAGENET_DEFAULT_MEAN,
    std: Sequence[float] | torch.Tensor = IMAGENET_DEFAULT_STD,
) -> ReconstructionRows:
    """Run a pre-training model on one clip and return displayable rows.

    ``pixel_values``: (1, T, C, H, W) normalised with ``mean``/``std``; ``bool_masked_pos``: (1, N)
    or (N,) bool, True = masked. The model must return ``.logits`` of shape (1, num_masked, D) in
    ascending masked-token order. Returns uint8 (T, H, W, C) tensors under the keys of
    :data:`ROW_KINDS`; ``.titles`` holds matching labels. With ``config.norm_pix_loss`` each
    predicted patch is un-normalised with the mean/std of the *true* patch (as the original
    visualisation does), so that row borrows information the model never saw.
    """
    cfg = model.config
    p, ts = int(cfg.patch_size), int(cfg.tubelet_size)
    norm_pix = bool(getattr(cfg, "norm_pix_loss", False))
    if pixel_values.ndim != 5 or pixel_values.shape[0] != 1:
        raise ValueError(
            f"pixel_values must be (1, T, C, H, W), got {tuple(pixel_values.shape)}; "
            "pass one clip with a leading batch dimension of 1."
        )
    _, t, c, h, w = pixel_values.shape
    if c != int(cfg.num_channels):
        raise ValueError(
            f"pixel_values has {c} channels but config.num_channels={cfg.num_channels}"
        )
    if t % ts or h % p or w % p:
        raise ValueError(
            f"clip (T={t}, H={h}, W={w}) must divide by tubelet_size={ts} and patch_size={p}; "
            "crop or sample frames to a multiple."
        )
    n = (t // ts) * (h // p) * (w // p)
    mask = torch.as_tensor(bool_masked_pos, device=pixel_values.device).bool().reshape(1, -1)
    if mask.shape[1] != n:
        raise ValueError(
            f"bool_masked_pos has {mask.shape[1]} positions but this clip has N={n} tokens "
            f"((T/{ts}) * (H/{p}) * (W/{p})); make the mask for this clip size."
        )
    num_masked = int(mask.sum())

    was_training = model.training
    model.eval()
    try:
        logits = model(pixel_values, bool_masked_pos=mask).logits
    finally:
        model.train(was_training)
    d = ts * p * p * c
    if tuple(logits.shape) != (1, num_masked, d):
        raise ValueError(
            f"model returned logits {tuple(logits.shape)}, expected (1, {num_masked}, {d}) "
            "(one prediction per masked token); a decoder mask (dual masking) is not supported here."
        )
    logits = logits.float()

    device = pixel_values.device
    mean_t = _channel_stats(mean, c, "mean").to(device)
    std_t = _channel_stats(std, c, "std").to(device)
    x = pixel_values.float()
    frames01 = x * std_t.view(1, 1, c, 1, 1) + mean_t.view(1, 1, c, 1, 1)  # (1, T, C, H, W)
    true = patchify(frames01, p, ts).reshape(1, n, ts * p * p, c)  # (1, N, P, C)
    pred = logits.reshape(1, num_masked, ts * p * p, c)  # (1, M, P, C)
    m = mask[0]

    if norm_pix:
        t_mean = true.mean(dim=-2, keepdim=True)
        t_std = true.var(dim=-2, unbiased=True, keepdim=True).sqrt() + 1e-6
        pred01 = pred * t_std[:, m] + t_mean[:, m]
    elif c == 3:
        # target was pixel_values * MODEL_TARGET_STD + MODEL_TARGET_MEAN: go back to pixel_values,
        # then to [0, 1] with the caller's statistics (identity when they are ImageNet's).
        tm = torch.tensor(MODEL_TARGET_MEAN, device=device)
        tsd = torch.tensor(MODEL_TARGET_STD, device=device)
        pred01 = ((pred - tm) / tsd) * std_t + mean_t
    else:
        # non-RGB: the target is pixel_values itself.
        pred01 = pred * std_t + mean_t

    lo = pred.amin(dim=(-2, -1), keepdim=True)
    hi = pred.amax(dim=(-2, -1), keepdim=True)
    pred_vis = (pred - lo) / (hi - lo).clamp_min(1e-12)  # per-patch min-max to [0, 1]

    grey = torch.full_like(true, GREY)

    def fill(base: torch.Tensor, masked_values: torch.Tensor | None) -> torch.Tensor:
        out = base.clone()
        out[:, m] = grey[:, m] if masked_values is None else masked_values
        return out

    def image(patches: torch.Tensor) -> torch.Tensor:
        flat = patches.reshape(1, n, d)
        return _to_uint8(unpatchify(flat, p, ts, t, h, w, c)[0])

    rows = {
        "original": _to_uint8(frames01[0]),
        "masked": image(fill(true, None)),
        "reconstruction": image(fill(grey, pred01)),
        "pasted": image(fill(true, pred01)),
        "normalized_prediction": image(fill(grey, pred_vis)),
    }
    return ReconstructionRows(rows, default_titles(norm_pix))


# ---------------------------------------------------------------------------------------------
# Saving rows


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


def _pil_frame(row: torch.Tensor, i: int) -> Any:
    from PIL import Image

    arr = torch.as_tensor(row)[i].to(torch.uint8).cpu().numpy()
    if arr.shape[-1] == 1:
        arr = arr[..., 0]
        return Image.fromarray(arr, mode="L").convert("RGB")
    return Image.fromarray(arr, mode="RGB")


def grid_size(num_rows: int, num_cols: int, frame_h: int, frame_w: int) -> tuple[int, int]:
    """(width, height) in pixels of the PNG grid made by :func:`save_reconstruction_png`.

    Columns of ``frame_w + PAD``; at least ``MIN_WIDTH`` wide so the row labels fit.
    """
    width = max(PAD + num_cols * (frame_w + PAD), MIN_WIDTH)
    height = HEADER_H + num_rows * (TITLE_H + frame_h + PAD) + PAD
    return width, height


def gif_size(num_rows: int, frame_h: int, frame_w: int) -> tuple[int, int]:
    """(width, height) in pixels of each frame of :func:`save_reconstruction_gif`.

    Frames are left-aligned; at least ``MIN_WIDTH`` wide so the row labels fit.
    """
    return max(frame_w, MIN_WIDTH), num_rows * (TITLE_H + frame_h)


def _titles_for(rows: Mapping[str, torch.Tensor], titles: Mapping[str, str] | None) -> dict:
    base = dict(getattr(rows, "titles", None) or default_titles(False))
    if titles:
        base.update(titles)
    return {k: base.get(k, k) for k in rows}


def save_reconstruction_png(
    rows: Mapping[str, torch.Tensor],
    path: str | Path,
    *,
    frames: Sequence[int] | None = None,
    titles: Mapping[str, str] | None = None,
) -> Path:
    """Grid PNG: one labelled row per kind, one column per frame (all frames by default).

    Size is exactly :func:`grid_size` (rows, len(frames), H, W). ``titles`` overrides labels;
    by default the honest labels attached by :func:`reconstruct` are used.
    """
    from PIL import Image, ImageDraw, ImageFont

    kinds, t, fh, fw = _check_rows(rows)
    idx = _frame_indices(frames, t)
    labels = _titles_for(rows, titles)
    width, height = grid_size(len(kinds), len(idx), fh, fw)
    canvas = Image.new("RGB", (width, height), (255, 255, 255))
    draw = ImageDraw.Draw(canvas)
    font = ImageFont.load_default()
    for j, fi in enumerate(idx):
        draw.text((PAD + j * (fw + PAD), 2), f"t={fi}", fill=(0, 0, 0), font=font)
    y = HEADER_H
    for k in kinds:
        draw.text((PAD, y + 2), labels[k], fill=(0, 0, 0), font=font)
        y += TITLE_H
        for j, fi in enumerate(idx):
            canvas.paste(_pil_frame(rows[k], fi), (PAD + j * (fw + PAD), y))
        y += fh + PAD
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
) -> Path:
    """Animated GIF: each frame stacks the rows (with a label strip) vertically; loops forever."""
    from PIL import Image, ImageDraw, ImageFont

    if fps <= 0:
        raise ValueError(f"fps must be > 0, got {fps}")
    kinds, t, fh, fw = _check_rows(rows)
    idx = _frame_indices(frames, t)
    labels = _titles_for(rows, titles)
    font = ImageFont.load_default()
    size = gif_size(len(kinds), fh, fw)
    images = []
    for fi in idx:
        canvas = Image.new("RGB", size, (255, 255, 255))
        draw = ImageDraw.Draw(canvas)
        y = 0
        for k in kinds:
            draw.text((1, y + 2), labels[k], fill=(0, 0, 0), font=font)
            y += TITLE_H
            canvas.paste(_pil_frame(rows[k], fi), (0, y))
            y += fh
        images.append(canvas)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    images[0].save(
        path,
        format="GIF",
        save_all=True,
        append_images=images[1:],
        duration=max(1, round(1000 / fps)),
        loop=0,
        disposal=1,
    )
    return path


# ---------------------------------------------------------------------------------------------
# Curves and confusion matrix


def _read_rows(source: str | Path | Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    if isinstance(source, (str, Path)):
        with open(source, newline="") as f:
            return list(csv.DictReader(f))
    return list(source)


def _as_float(v: Any) -> float | None:
    if v is None or v == "":
        return None
    try:
        out = float(v)
    except (TypeError, ValueError):
        return None
    return out if math.isfinite(out) else None


def plot_curves(
    source: str | Path | Sequence[Mapping[str, Any]],
    path: str | Path,
    keys: Sequence[str] = ("loss",),
    x: str = "step",
    *,
    log_y: bool | Sequence[bool] = False,
    title: str | None = None,
) -> Path:
    """One stacked panel per key (e.g. loss, lr) against ``x`` from a metrics CSV or row dicts.

    Rows where a key is empty or non-numeric are skipped for that key (metrics logged at
    different intervals). ``log_y`` is one flag for all panels or one per key.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    data = _read_rows(source)
    if not data:
        raise ValueError(f"no rows to plot in {source!r}")
    if not keys:
        raise ValueError("keys is empty; name at least one column to plot, e.g. ('loss',)")
    logs = [bool(log_y)] * len(keys) if isinstance(log_y, bool) else [bool(v) for v in log_y]
    if len(logs) != len(keys):
        raise ValueError(f"log_y has {len(logs)} flags for {len(keys)} keys")
    columns = set().union(*(r.keys() for r in data))
    missing = [k for k in (*keys, x) if k not in columns]
    if missing:
        raise ValueError(f"columns {missing} not found; available: {sorted(columns)}")

    fig, axes = plt.subplots(len(keys), 1, figsize=(7, 2.6 * len(keys)), sharex=True, squeeze=False)
    try:
        for ax, key, lg in zip(axes[:, 0], keys, logs):
            pts = [(_as_float(r.get(x)), _as_float(r.get(key))) for r in data]
            pts = [(a, b) for a, b in pts if a is not None and b is not None]
            if lg:
                pts = [(a, b) for a, b in pts if b > 0]
            if pts:
                ax.plot([a for a, _ in pts], [b for _, b in pts], lw=1.2)
            if lg:
                ax.set_yscale("log")
            ax.set_ylabel(key)
            ax.grid(True, alpha=0.3)
        axes[-1, 0].set_xlabel(x)
        if title:
            axes[0, 0].set_title(title)
        fig.tight_layout()
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, dpi=100)
    finally:
        plt.close(fig)
    return path


def plot_confusion(
    matrix: torch.Tensor | Sequence[Sequence[int]],
    class_names: Sequence[str] | None,
    path: str | Path,
    *,
    normalize: bool = True,
    title: str = "confusion matrix\n(rows: true, columns: predicted)",
) -> Path:
    """Confusion-matrix PNG; colours are row-normalised (recall) when ``normalize``.

    Class names label the axes up to 60 classes and counts are written in cells up to 20.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    mat = torch.as_tensor(matrix, dtype=torch.float64)
    if mat.ndim != 2 or mat.shape[0] != mat.shape[1]:
        raise ValueError(f"matrix must be square (K, K), got {tuple(mat.shape)}")
    k = mat.shape[0]
    names = [str(i) for i in range(k)] if class_names is None else [str(s) for s in class_names]
    if len(names) != k:
        raise ValueError(f"{len(names)} class names for a {k}x{k} matrix")
    shown = mat / mat.sum(dim=1, keepdim=True).clamp_min(1) if normalize else mat
    side = min(max(4.0, 0.35 * k + 2.5), 40.0)
    fig, ax = plt.subplots(figsize=(side, side))
    try:
        im = ax.imshow(shown.numpy(), cmap="Blues", vmin=0, vmax=1 if normalize else None)
        fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04)
        if k <= 60:
            ax.set_xticks(range(k))
            ax.set_yticks(range(k))
            ax.set_xticklabels(names, rotation=90, fontsize=8)
            ax.set_yticklabels(names, fontsize=8)
        if k <= 20:
            for i in range(k):
                for j in range(k):
                    v = shown[i, j].item()
                    ax.text(
                        j,
                        i,
                        f"{int(mat[i, j].item())}",
                        ha="center",
                        va="center",
                        fontsize=7,
                        color="white" if v > 0.5 * (shown.max().item() or 1) else "black",
                    )
        ax.set_xlabel("predicted")
        ax.set_ylabel("true")
        ax.set_title(title, fontsize=10)
        fig.tight_layout()
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, dpi=100)
    finally:
        plt.close(fig)
    return path
