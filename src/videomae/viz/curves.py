"""Training curves: one panel per metric against the step, from a metrics CSV or row dicts.

matplotlib is imported when a plot is drawn (an optional heavy dependency) and used through
its object API (``Figure`` + the Agg canvas), so no global backend is switched.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any


def read_rows(source: str | Path | Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """The rows of a metrics CSV (as strings), or the given rows."""
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


def _check(
    data: list[Mapping[str, Any]],
    source: Any,
    keys: Sequence[str],
    x: str,
    log_y: bool | Sequence[bool],
) -> list[bool]:
    """Validate the request; returns one log-scale flag per key."""
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
    return logs


def _panel(ax: Any, data: list[Mapping[str, Any]], x: str, key: str, log: bool) -> None:
    """Plot the numeric (x, key) points of ``data`` on ``ax``; positive ones only when ``log``."""
    pts = [(_as_float(r.get(x)), _as_float(r.get(key))) for r in data]
    pts = [(a, b) for a, b in pts if a is not None and b is not None]
    if log:
        pts = [(a, b) for a, b in pts if b > 0]
    if pts:
        ax.plot([a for a, _ in pts], [b for _, b in pts], lw=1.2)
    if log:
        ax.set_yscale("log")
    ax.set_ylabel(key)
    ax.grid(True, alpha=0.3)


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
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    data = read_rows(source)
    logs = _check(data, source, keys, x, log_y)
    fig = Figure(figsize=(7, 2.6 * len(keys)))
    FigureCanvasAgg(fig)
    axes = fig.subplots(len(keys), 1, sharex=True, squeeze=False)
    for ax, key, lg in zip(axes[:, 0], keys, logs):
        _panel(ax, data, x, key, lg)
    axes[-1, 0].set_xlabel(x)
    if title:
        axes[0, 0].set_title(title)
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    return path


def _line(ax: Any, rows: list[Mapping[str, Any]], key: str, label: str, **style: Any) -> bool:
    """Plot ``key`` against step on ``ax``; False when no row has a number for it."""
    pts = [(_as_float(r.get("step")), _as_float(r.get(key))) for r in rows]
    pts = [(a, b) for a, b in pts if a is not None and b is not None]
    if len(pts) <= 20:  # few points (a short run): markers, so a single point still shows
        style.setdefault("marker", "o")
    if pts:
        ax.plot([a for a, _ in pts], [b for _, b in pts], label=label, **style)
    return bool(pts)


def plot_training(
    train_rows: Sequence[Mapping[str, Any]],
    eval_rows: Sequence[Mapping[str, Any]],
    path: str | Path,
) -> Path:
    """A run's ``loss.png``: training loss with the validation loss, the other validation
    metrics (accuracies in %), and the learning rate, each against the optimizer step."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    train_rows, eval_rows = list(train_rows), list(eval_rows)
    if not train_rows:
        raise ValueError("no training rows to plot")
    val_keys = [k for k in dict.fromkeys(k for r in eval_rows for k in r) if k.startswith("val_")]
    metric_keys = [k for k in val_keys if k != "val_loss"]
    panels = ["loss", *(["val"] if metric_keys else []), "lr"]
    fig = Figure(figsize=(7, 2.6 * len(panels)))
    FigureCanvasAgg(fig)
    axes = fig.subplots(len(panels), 1, sharex=True, squeeze=False)[:, 0]
    ax = axes[0]
    _line(ax, train_rows, "loss", "training loss (window mean)", lw=1.2)
    if _line(ax, eval_rows, "val_loss", "validation loss", marker="o", lw=1.2):
        ax.legend(fontsize=8)
    ax.set_ylabel("loss")
    if metric_keys:
        ax = axes[1]
        for key, dash in zip(metric_keys, ("-", "--", ":", "-.") * len(metric_keys)):
            _line(ax, eval_rows, key, key.removeprefix("val_"), marker="o", lw=1.2, ls=dash)
        ax.set_ylabel("validation (%)" if "val_top1" in metric_keys else "validation")
        ax.legend(fontsize=8)
    _line(axes[-1], train_rows, "lr", "lr", lw=1.2)
    axes[-1].set_ylabel("learning rate")
    axes[-1].set_xlabel("optimizer step")
    for ax in axes:
        ax.grid(True, alpha=0.3)
    axes[0].set_title("training run")
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    return path


def plot_comparison(
    curves: Mapping[str, Sequence[Sequence[Mapping[str, Any]]]],
    test_scores: Mapping[str, Sequence[float]],
    path: str | Path,
    *,
    metric: str = "val_top1",
    title: str = "pre-trained vs from scratch",
) -> Path:
    """Validation ``metric`` (%) over fine-tuning steps, one colour per run kind, with the test
    accuracy of each as a dashed line: one picture of a pre-training claim.

    ``curves[name]`` holds one list of validation rows per seed (thin lines; their mean bold);
    ``test_scores[name]`` the seeds' test top-1 as fractions in [0, 1].
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    if not curves:
        raise ValueError("no curves to compare")
    fig = Figure(figsize=(7, 4.2))
    FigureCanvasAgg(fig)
    ax = fig.subplots()
    colours = ("tab:blue", "tab:orange", "tab:green", "tab:red")
    for colour, (name, runs) in zip(colours, curves.items()):
        series = [
            [
                (float(r["step"]), float(r[metric]))
                for r in rows
                if _as_float(r.get(metric)) is not None
            ]
            for rows in runs
        ]
        for pts in series if len(series) > 1 else []:
            ax.plot([a for a, _ in pts], [b for _, b in pts], color=colour, lw=0.6, alpha=0.4)
        steps = [a for a, _ in series[0]]
        same = all([a for a, _ in s] == steps for s in series)
        mean = (
            [sum(s[i][1] for s in series) / len(series) for i in range(len(steps))] if same else []
        )
        ax.plot(
            steps[: len(mean)], mean, color=colour, lw=2, marker="o", label=f"{name}: validation"
        )
        scores = [100.0 * v for v in test_scores.get(name, [])]
        if scores:
            avg = sum(scores) / len(scores)
            ax.axhline(avg, color=colour, ls="--", lw=1.2, label=f"{name}: test {avg:.1f}%")
    ax.set_xlabel("fine-tuning step")
    ax.set_ylabel(f"{metric.removeprefix('val_')} accuracy (%)")
    ax.set_ylim(0, 100)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8, loc="lower right")
    ax.set_title(title)
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    return path
