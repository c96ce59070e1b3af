"""Timelines of a long video: the top classes' scores window by window, time on x.

The top panel is the class each window ranks first (a coloured band: read the video's story at
a glance); below, the probability of each of the ``top`` classes that score highest anywhere in
the video, one line per class, each window drawn over the time it covers. Time is labelled in
seconds, or minutes for videos longer than two minutes.

matplotlib is imported when a plot is drawn (an optional heavy dependency) and used through its
object API (``Figure`` + the Agg canvas), so no global backend is switched.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import torch

__all__ = ["plot_timeline", "timeline_classes"]

_MINUTES_AFTER_S = 120.0


def timeline_classes(scores: torch.Tensor, top: int) -> list[int]:
    """The ``top`` classes with the highest score in any window, best first; (W, K) scores."""
    if scores.ndim != 2 or scores.shape[0] == 0:
        raise ValueError(f"scores must be (W, K) with W >= 1 windows, got {tuple(scores.shape)}")
    best = scores.max(dim=0).values  # (K,)
    return [int(i) for i in best.argsort(descending=True)[: max(1, int(top))]]


def plot_timeline(
    path: str | Path,
    starts: Sequence[float],
    ends: Sequence[float],
    scores: torch.Tensor,
    labels: Sequence[str],
    *,
    top: int = 5,
    title: str | None = None,
    colours: Mapping[str, str] | None = None,
) -> Path:
    """Draw the timeline of one video to ``path`` (.png); ``scores`` (W, K) per window, the
    window ``i`` covering ``starts[i]`` to ``ends[i]`` seconds. ``colours``: a matplotlib
    colour per class name (default: the standard cycle). Returns the path."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    scores = scores.detach().float().cpu()
    classes = timeline_classes(scores, top)
    if len(starts) != scores.shape[0] or len(ends) != scores.shape[0]:
        raise ValueError(f"{scores.shape[0]} windows of scores but {len(starts)} start times")
    minutes = max(ends) > _MINUTES_AFTER_S
    unit, scale = ("min", 60.0) if minutes else ("s", 1.0)
    fig = Figure(figsize=(9, 4.2))
    FigureCanvasAgg(fig)
    band, ax = fig.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": [1, 5]})
    chosen = colours or {}
    colours = {k: chosen.get(str(labels[k]), f"C{i % 10}") for i, k in enumerate(classes)}
    first = scores.argmax(dim=1).tolist()
    for s, e, k in zip(starts, ends, first):
        band.axvspan(s / scale, e / scale, color=colours.get(k, "0.7"), linewidth=0)
    band.set_yticks([])
    band.set_ylabel("top-1", rotation=0, ha="right", va="center")
    for k in classes:
        xs, ys = [], []
        for s, e, row in zip(starts, ends, scores):
            xs += [s / scale, e / scale]
            ys += [float(row[k]), float(row[k])]
        ax.plot(xs, ys, color=colours[k], label=str(labels[k]), linewidth=1.6)
    ax.set_xlabel(f"time ({unit})")
    ax.set_ylabel("class probability")
    ax.set_ylim(0.0, 1.02)
    ax.set_xlim(min(starts) / scale, max(ends) / scale)
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, title="class")
    band.set_title(title or "class probabilities per window")
    fig.tight_layout()
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=100)
    return out
