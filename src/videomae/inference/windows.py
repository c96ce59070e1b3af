"""A model over a long video, window by window: one result per window, produced lazily.

The windows come from :func:`~videomae.video.windows.read_windows` (one forward pass over the
file, bounded memory). Each window is one clip: its frames are resized, cropped and normalised
like any clip (:func:`~videomae.inference.views.frames_views`, ``crops`` views), several
windows share a forward pass (``batch_size`` views), and each window's view rows merge into one
value: class probabilities (classifier) or a feature (embedder).

Results are also written as tables: :func:`window_record` (one JSON object per window),
:func:`save_windows_csv`.
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Any

import torch

from videomae._io import atomic_write_text
from videomae.inference.views import Preprocessing, frames_views
from videomae.video.windows import VideoWindow, read_windows

__all__ = [
    "WindowResult",
    "run_windows",
    "save_windows_csv",
    "top_labels",
    "window_record",
]


@dataclass
class WindowResult:
    """The model's output for one window of a video.

    ``value``: the window's class probabilities (K,) (classifier) or feature (D,) (embedder);
    ``labels``: the classifier's top-k ``[(name, score), ...]`` (None for the embedder).
    """

    path: str
    index: int
    start_s: float
    end_s: float
    value: torch.Tensor
    labels: list[tuple[str, float]] | None = None


def top_labels(probs: torch.Tensor, names: Sequence[str], k: int) -> list[tuple[str, float]]:
    """The ``k`` best ``(name, score)`` of (K,) scores, best first."""
    vals, idx = probs.topk(min(int(k), probs.shape[0]))
    return [(names[int(i)], float(v)) for v, i in zip(vals, idx)]


def run_windows(
    path: str | os.PathLike,
    pre: Preprocessing,
    forward_rows: Callable[[torch.Tensor], torch.Tensor],
    merge: Callable[[torch.Tensor], torch.Tensor],
    *,
    batch_size: int = 1,
    stride_s: float | None = None,
    window_frames: int | None = None,
) -> Iterator[WindowResult]:
    """Yield one :class:`WindowResult` per window of the video at ``path``, in order.

    ``pre``: the checkpoint's preprocessing (``num_frames`` samples every ``sampling_rate``
    frames per window; ``clips`` is ignored: each window is one clip). ``forward_rows``: a
    (B, T, C, S, S) batch -> (B, ...) rows; ``merge``: one window's (crops, ...) rows -> its
    value. ``batch_size`` counts views. ``stride_s`` / ``window_frames``: see
    :func:`~videomae.video.windows.plan_windows`.
    """
    pre = replace(pre, clips=1)
    name = os.fspath(path)
    per_batch = max(1, batch_size // pre.crops)
    waiting: list[tuple[VideoWindow, torch.Tensor]] = []
    windows = read_windows(
        path,
        pre.num_frames,
        sampling_rate=pre.sampling_rate,
        stride_s=stride_s,
        window_frames=window_frames,
    )
    for window in windows:
        waiting.append((window, frames_views(window.frames, pre)))
        if len(waiting) == per_batch:
            yield from _run_batch(name, waiting, forward_rows, merge)
            waiting = []
    if waiting:
        yield from _run_batch(name, waiting, forward_rows, merge)


def _run_batch(
    name: str,
    waiting: list[tuple[VideoWindow, torch.Tensor]],
    forward_rows: Callable[[torch.Tensor], torch.Tensor],
    merge: Callable[[torch.Tensor], torch.Tensor],
) -> Iterator[WindowResult]:
    rows = forward_rows(torch.cat([views for _, views in waiting]))  # (sum V, ...)
    start = 0
    for window, views in waiting:
        n = views.shape[0]
        value = merge(rows[start : start + n])
        start += n
        yield WindowResult(name, window.index, window.start_s, window.end_s, value)


def window_record(result: WindowResult) -> dict[str, Any]:
    """The JSON object of one window: ``{"path", "start_s", "end_s", "labels": [[name, score],
    ...]}`` (times rounded to the microsecond, scores to 6 digits)."""
    return {
        "path": result.path,
        "start_s": round(result.start_s, 6),
        "end_s": round(result.end_s, 6),
        "labels": [[n, round(s, 6)] for n, s in (result.labels or [])],
    }


def save_windows_csv(path: str | os.PathLike, results: Iterable[WindowResult]) -> None:
    """One row per window: ``path, window, start_s, end_s, label_1, score_1, ...`` (written
    atomically)."""
    rows = list(results)
    k = max((len(r.labels or []) for r in rows), default=0)
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    header = ["path", "window", "start_s", "end_s"]
    for i in range(1, k + 1):
        header += [f"label_{i}", f"score_{i}"]
    writer.writerow(header)
    for r in rows:
        rec = window_record(r)
        cells: list[Any] = [rec["path"], r.index, rec["start_s"], rec["end_s"]]
        for name, score in rec["labels"]:
            cells += [name, score]
        writer.writerow(cells)
    atomic_write_text(path, buf.getvalue())
