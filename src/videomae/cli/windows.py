"""`classify --windows` and `embed --windows`: long videos window by window.

Each video's windows are printed as soon as they are computed (a table, or one JSON object per
window per line); ``--csv`` and ``--timeline`` are written at the end; ``embed --windows``
writes every video's window features to one .safetensors file. A video that cannot be read is
reported and skipped (exit status 1).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import torch

from videomae.cli.output import err, out
from videomae.errors import VideoDecodeError
from videomae.inference.classifier import VideoClassifier
from videomae.inference.embedder import VideoEmbedder
from videomae.inference.embeddings_io import save_window_embeddings
from videomae.inference.windows import WindowResult, save_windows_csv, window_record
from videomae.viz.timeline import plot_timeline

__all__ = ["classify_windows", "embed_windows"]


def _clock(seconds: float) -> str:
    minutes, s = divmod(seconds, 60.0)
    return f"{int(minutes):02d}:{s:05.2f}"


def _line(result: WindowResult) -> str:
    """``  00:01.00-00:02.00  label 0.9100  label 0.0500`` for one window."""
    labels = "  ".join(f"{name} {score:.4f}" for name, score in result.labels or [])
    return f"  {_clock(result.start_s)}-{_clock(result.end_s)}  {labels}"


def _timeline(args: argparse.Namespace, clf: VideoClassifier, path: str, rows: list) -> None:
    scores = torch.stack([r.value for r in rows])  # (W, K)
    starts = [r.start_s for r in rows]
    ends = [r.end_s for r in rows]
    plot_timeline(args.timeline, starts, ends, scores, clf.labels, title=Path(path).name)
    print(f"wrote {args.timeline}", file=sys.stderr)


def classify_windows(args: argparse.Namespace, clf: VideoClassifier) -> int:
    """Print every window of every video; write --csv / --timeline at the end."""
    done: list[WindowResult] = []
    failed = 0
    for path in args.videos:
        rows: list[WindowResult] = []
        if not args.json:
            out(path)
        try:
            for result in clf.windows(
                path, stride=args.stride, window_frames=args.window_frames, top_k=args.top_k
            ):
                rows.append(result)
                out(json.dumps(window_record(result)) if args.json else _line(result))
        except VideoDecodeError as exc:
            failed += 1
            err(f"{path}: {exc.cause}")
            continue
        done += rows
        if args.timeline:
            _timeline(args, clf, path, rows)
    if args.csv:
        save_windows_csv(args.csv, done)
        print(f"wrote {args.csv}", file=sys.stderr)
    if failed:
        err(f"{failed} of {len(args.videos)} videos failed")
        return 1
    return 0


def embed_windows(args: argparse.Namespace, emb: VideoEmbedder) -> int:
    """Window features of every video to one .safetensors file (layout: save_window_embeddings)."""
    videos: dict[str, list[WindowResult]] = {}  # a path given twice is written once
    failed = 0
    for path in args.videos:
        try:
            videos[path] = list(
                emb.windows(path, stride=args.stride, window_frames=args.window_frames)
            )
        except VideoDecodeError as exc:
            failed += 1
            err(f"{path}: {exc.cause}")
    meta = {"model": str(args.model), "pooling": args.pooling, "crops": args.crops}
    if videos:
        save_window_embeddings(args.out, videos, dim=emb.dim, metadata=meta)
        counts = ", ".join(f"{len(v)}" for v in videos.values())
        print(f"wrote {counts} windows x {emb.dim} features to {args.out}", file=sys.stderr)
    if failed:
        err(f"{failed} of {len(args.videos)} videos failed")
        return 1
    return 0
