"""What a run logs: the loss window averaged into rows, the metrics CSV, the loss plot, bad files.

Files in ``out_dir``: ``metrics.csv`` (one row per logged step: step, epoch, loss, lr,
clips_per_s, grad_norm when clipping, the step function's own metrics), ``eval_metrics.csv``,
``loss.png`` (training and validation curves) and ``bad_samples.tsv`` (files skipped as unreadable, with their list-file line).
"""

from __future__ import annotations

import csv
import io
import math
import time
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import torch

from videomae._io import atomic_write_text
from videomae.train import distributed as D
from videomae.viz.curves import plot_training


class LossWindow:
    """Sums the loss and step metrics since the last logged row (loss kept on the device)."""

    def __init__(self, device: torch.device) -> None:
        self.loss = torch.zeros((), dtype=torch.float64, device=device)
        self.reset()

    def reset(self) -> None:
        self.loss.zero_()
        self.extra: dict[str, float] = {}
        self.steps, self.samples, self.t0 = 0, 0, time.perf_counter()

    def add(
        self, loss: torch.Tensor, extra: Mapping[str, Any], samples: int, accum_steps: int
    ) -> None:
        """One micro-batch's loss and metrics (each weighted 1 / ``accum_steps``)."""
        self.loss += loss.detach().double() / accum_steps
        for k, v in extra.items():
            self.extra[k] = self.extra.get(k, 0.0) + float(v) / accum_steps
        self.samples += samples

    def row(self, step: int, epoch: int, lr: float, grad_norm: float | None) -> dict[str, Any]:
        """The window's means over all ranks as a metrics row; FloatingPointError on a NaN loss."""
        mean_loss = float(D.all_reduce_mean(self.loss / self.steps))
        if not math.isfinite(mean_loss):
            raise FloatingPointError(
                f"loss is {mean_loss} at step {step}; lower the learning rate, enable "
                "clip_grad, or use fp32/bf16 instead of fp16"
            )
        elapsed = max(time.perf_counter() - self.t0, 1e-9)
        row: dict[str, Any] = {
            "step": step,
            "epoch": epoch,
            "loss": mean_loss,
            "lr": lr,
            "clips_per_s": self.samples / elapsed,
        }
        if grad_norm is not None:
            row["grad_norm"] = grad_norm
        for k, v in self.extra.items():
            row[k] = float(D.all_reduce_mean(v / self.steps))
        return row


def write_metrics_csv(rows: Sequence[Mapping[str, Any]], path: str | Path) -> Path:
    """All rows as one CSV (union of keys, ``step`` first), written atomically."""
    keys: list[str] = []
    for r in rows:
        keys.extend(k for k in r if k not in keys)
    if "step" in keys:
        keys.remove("step")
        keys.insert(0, "step")
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=keys, lineterminator="\n")
    w.writeheader()
    w.writerows(rows)
    return atomic_write_text(path, buf.getvalue())


def plot_loss(
    rows: Sequence[Mapping[str, Any]],
    path: Path,
    eval_rows: Sequence[Mapping[str, Any]] = (),
) -> Path | None:
    """Training loss (with the validation loss), validation metrics and lr against step.

    None when there is nothing to plot or the plot failed (a warning: a plot never loses a run).
    """
    if not rows:
        return None
    try:
        return plot_training(list(rows), list(eval_rows), path)
    except Exception as exc:
        warnings.warn(f"could not plot the loss curve: {exc}", stacklevel=3)
        return None


def gather_bad_samples(bad: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Every rank's bad-file records merged (hits summed); unchanged in a single process."""
    info = D.get_info()
    if not info.distributed:
        return bad
    parts: list[Any] = [None] * info.world_size
    torch.distributed.all_gather_object(parts, bad)
    merged: dict[str, dict[str, Any]] = {}
    for part in parts:
        for k, v in part.items():
            if k in merged:
                merged[k]["hits"] += v["hits"]
            else:
                merged[k] = dict(v)
    return merged


def write_final_logs(
    history: Sequence[Mapping[str, Any]],
    bad: Mapping[str, Mapping[str, Any]],
    out_dir: Path,
    eval_history: Sequence[Mapping[str, Any]] = (),
) -> None:
    """The finished run's metrics.csv, loss.png and bad_samples.tsv (warning when there are any)."""
    if history:
        write_metrics_csv(history, out_dir / "metrics.csv")
        plot_loss(history, out_dir / "loss.png", eval_history)
    if bad:
        lines = [
            f"{v.get('path')}\tline {v.get('line')}\t{v.get('reason')}\thits {v['hits']}"
            for v in bad.values()
        ]
        atomic_write_text(out_dir / "bad_samples.tsv", "\n".join(lines) + "\n")
        warnings.warn(
            f"{len(bad)} bad sample file(s) were skipped; see {out_dir / 'bad_samples.tsv'}",
            stacklevel=3,
        )
