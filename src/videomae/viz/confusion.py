"""Confusion-matrix pictures (rows: true class, columns: predicted class).

matplotlib is imported when a plot is drawn (an optional heavy dependency) and used through
its object API (``Figure`` + the Agg canvas), so no global backend is switched.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch

MAX_TICK_LABELS = 60  # class names label the axes up to this many classes
MAX_CELL_COUNTS = 20  # counts are written in the cells up to this many classes


def _write_counts(ax: Any, mat: torch.Tensor, shown: torch.Tensor) -> None:
    """Write each cell's count, white on dark cells and black on light ones."""
    k = mat.shape[0]
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
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    mat = torch.as_tensor(matrix, dtype=torch.float64)
    if mat.ndim != 2 or mat.shape[0] != mat.shape[1]:
        raise ValueError(f"matrix must be square (K, K), got {tuple(mat.shape)}")
    k = mat.shape[0]
    names = [str(i) for i in range(k)] if class_names is None else [str(s) for s in class_names]
    if len(names) != k:
        raise ValueError(f"{len(names)} class names for a {k}x{k} matrix")
    shown = mat / mat.sum(dim=1, keepdim=True).clamp_min(1) if normalize else mat
    side = min(max(4.0, 0.35 * k + 2.5), 40.0)
    fig = Figure(figsize=(side, side))
    FigureCanvasAgg(fig)
    ax = fig.subplots()
    im = ax.imshow(shown.numpy(), cmap="Blues", vmin=0, vmax=1 if normalize else None)
    fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04)
    if k <= MAX_TICK_LABELS:
        ax.set_xticks(range(k))
        ax.set_yticks(range(k))
        ax.set_xticklabels(names, rotation=90, fontsize=8)
        ax.set_yticklabels(names, fontsize=8)
    if k <= MAX_CELL_COUNTS:
        _write_counts(ax, mat, shown)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title, fontsize=10)
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    return path
