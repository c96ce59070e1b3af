"""The files of an evaluation: predictions CSV, confusion matrix (PNG + CSV) and summary JSON."""

from __future__ import annotations

import csv
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import torch

from videomae.evaluate.metrics import Outcome
from videomae.viz.confusion import plot_confusion

__all__ = ["write_confusion_csv", "write_predictions", "write_report"]


def write_report(
    out_dir: str | Path,
    summary: dict[str, Any],
    samples: Sequence[tuple[str, int]],
    outcome: Outcome,
    names: Mapping[int, str],
) -> dict[str, str]:
    """Write every file under ``out_dir``; ``summary`` gains ``"files"`` and is written last."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    files = {"summary": str(out / "summary.json")}
    pred_path = out / "predictions.csv"
    write_predictions(pred_path, samples, outcome.order, outcome.scores, outcome.k, names)
    files["predictions"] = str(pred_path)
    if outcome.confusion is not None:
        class_names = [names.get(i, str(i)) for i in range(outcome.num_classes)]
        files["confusion"] = str(
            plot_confusion(outcome.confusion, class_names, out / "confusion.png")
        )
        files["confusion_csv"] = str(out / "confusion.csv")
        write_confusion_csv(out / "confusion.csv", outcome.confusion, class_names)
    summary["files"] = files
    with open(out / "summary.json", "w") as f:
        json.dump(summary, f, indent=2)
    return files


def write_confusion_csv(path: Path, cm: torch.Tensor, class_names: Sequence[str]) -> None:
    """Rows are true classes, columns predictions, both named."""
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["true\\pred", *class_names])
        for i, row in enumerate(cm.tolist()):
            w.writerow([class_names[i], *row])


def write_predictions(
    path: Path,
    samples: Sequence[tuple[str, int]],
    order: Sequence[int],
    scores: torch.Tensor | None,
    k: int,
    names: Mapping[int, str],
) -> None:
    """One row per evaluated video: path, label, prediction, the top-k ids, names and scores."""
    header = ["path", "label", "label_name", "pred", "pred_name", "correct"]
    for j in range(1, k + 1):
        header += [f"top{j}", f"top{j}_name", f"top{j}_score"]
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(header)
        if scores is None:
            return
        vals, idx = scores.topk(k, dim=1)
        for row, i in enumerate(order):
            p, y = samples[i]
            pred = int(idx[row, 0])
            line: list[Any] = [p, y, names.get(y, ""), pred, names.get(pred, ""), int(pred == y)]
            for j in range(k):
                c = int(idx[row, j])
                line += [c, names.get(c, ""), f"{float(vals[row, j]):.6f}"]
            w.writerow(line)
