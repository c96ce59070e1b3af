"""evaluate(): a classifier on (path, label) samples with the multi-view test protocol.

Each video is decoded once for all its clips and cut into ``clips x crops`` views
(:mod:`videomae.inference.views`); the views run through the same engine as
:class:`~videomae.inference.classifier.VideoClassifier`
(:class:`~videomae.inference.runner.MultiViewRunner`: prefetch, batches spanning videos, one
precision policy); each video's view softmaxes are averaged (``prob_mean``). Metrics: top-1,
top-k and mean per-class accuracy, plus a predictions CSV, a confusion matrix and a JSON summary.
The caller's model keeps its weights: reduced precision runs under autocast.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

import torch
from tqdm.auto import tqdm

from videomae.evaluate.config import EvalConfig
from videomae.evaluate.metrics import Outcome, evaluation_outcome
from videomae.evaluate.report import write_report
from videomae.inference.results import Failure
from videomae.inference.runner import MultiViewRunner, MultiViewTask
from videomae.inference.views import merge_views, square_size, video_views

__all__ = ["evaluate"]


def _model_device(model: torch.nn.Module) -> torch.device:
    for p in model.parameters():
        return p.device
    return torch.device("cpu")


def _view_sizes(mcfg: Any, cfg: EvalConfig) -> tuple[int, int]:
    """(num_frames, crop_size): the EvalConfig's, else the model config's."""
    num_frames = cfg.num_frames or (int(mcfg.num_frames) if mcfg is not None else None)
    crop_size = cfg.crop_size or (
        square_size(mcfg.image_size, "config.image_size", "pass EvalConfig.crop_size")
        if mcfg
        else None
    )
    if num_frames is None or crop_size is None:
        raise ValueError("model has no config: set EvalConfig.num_frames and EvalConfig.crop_size")
    return num_frames, crop_size


def _checked_samples(samples: Sequence[tuple[str | Path, int]], mcfg: Any) -> list[tuple[str, int]]:
    """(str path, int label) pairs; labels outside the model's classes raise ValueError."""
    samples = [(str(p), int(y)) for p, y in samples]
    known_k = int(getattr(mcfg, "num_labels", 0) or 0) if mcfg is not None else 0
    bad = [(p, y) for p, y in samples if y < 0 or (known_k and y >= known_k)]
    if bad:
        raise ValueError(
            f"labels must lie in [0, {known_k or 'K'}) for this model; got e.g. {bad[:3]}. "
            "Check the label file / class order against the model's id2label."
        )
    return samples


def _failure_reason(path: str, exc: BaseException) -> str:
    if not Path(path).is_file():
        return f"file not found: {path}"
    return f"{type(exc).__name__}: {exc}"


def _score(
    model: torch.nn.Module,
    paths: Sequence[str],
    cfg: EvalConfig,
    sizes: tuple[int, int],
    device: torch.device,
    progress: bool,
) -> tuple[dict[int, torch.Tensor], list[Failure]]:
    """Merged (K,) scores per decodable video (by index), and the videos that failed."""
    runner = MultiViewRunner(
        model,
        device=device,
        dtype=getattr(torch, cfg.dtype),
        batch_size=cfg.batch_size,
        num_workers=1 if cfg.prefetch else 0,
        prefetch=cfg.prefetch,
        progress=progress,
    )
    task = MultiViewTask(
        views=lambda path: video_views(path, cfg, *sizes),
        forward=lambda batch: model(batch).logits,
        merge=lambda rows: merge_views(rows, cfg.merge),
        views_per_input=cfg.views_per_video,
    )
    scored: dict[int, torch.Tensor] = {}
    failed: list[Failure] = []
    for result in runner.run(paths, task, names=paths, desc="evaluate"):
        if result.ok:
            scored[result.index] = result.value
            continue
        failed.append(Failure(result.name, _failure_reason(result.name, result.error)))
        if progress:
            tqdm.write(f"skipped {failed[-1]}", file=sys.stderr)
    return scored, failed


def _summary(
    cfg: EvalConfig,
    samples: Sequence[tuple[str, int]],
    outcome: Outcome,
    failed: Sequence[Failure],
    sizes: tuple[int, int],
    device: torch.device,
    elapsed: float,
) -> dict[str, Any]:
    num_frames, crop_size = sizes
    return {
        "num_videos": len(samples),
        "num_evaluated": len(outcome.order),
        "num_failed": len(failed),
        "failed": [asdict(f) for f in failed],
        "top1": outcome.top1,
        f"top{cfg.topk}": outcome.topk,
        "topk_k": outcome.k,
        "mean_class_accuracy": outcome.mean_class_accuracy,
        "num_classes": outcome.num_classes,
        "clips": cfg.clips,
        "crops": cfg.crops,
        "views_per_video": cfg.views_per_video,
        "views_run": cfg.views_per_video * len(outcome.order),
        "merge": cfg.merge,
        "num_frames": num_frames,
        "crop_size": crop_size,
        "short_side": cfg.short_side or crop_size,
        "sampling_rate": cfg.sampling_rate,
        "strategy": cfg.strategy,
        "dtype": cfg.dtype,
        "device": str(device),
        "elapsed_s": round(elapsed, 3),
        "videos_per_s": round(len(samples) / elapsed, 3) if elapsed > 0 else None,
        "config": {k: (str(v) if isinstance(v, Path) else v) for k, v in asdict(cfg).items()},
    }


def evaluate(
    model: torch.nn.Module,
    samples: Sequence[tuple[str | Path, int]],
    cfg: EvalConfig | None = None,
    *,
    id2label: Mapping[int, str] | None = None,
    progress: bool = True,
) -> dict[str, Any]:
    """Evaluate a classifier on ``samples`` (path, label) with the multi-view protocol.

    Returns the summary dict (also written as ``summary.json`` with ``predictions.csv`` and
    ``confusion.png`` when ``cfg.out_dir`` is set). Missing or undecodable videos are reported
    (path + reason), counted and skipped. Accuracies are fractions in [0, 1].
    """
    cfg = cfg or EvalConfig()
    cfg.validate()
    mcfg = getattr(model, "config", None)
    if id2label is None and mcfg is not None and getattr(mcfg, "id2label", None):
        id2label = mcfg.id2label
    sizes = _view_sizes(mcfg, cfg)
    samples = _checked_samples(samples, mcfg)
    device = torch.device(cfg.device) if cfg.device else _model_device(model)
    if device != _model_device(model):
        model.to(device)

    start = time.perf_counter()
    paths = [p for p, _ in samples]
    scored, failed = _score(model, paths, cfg, sizes, device, progress)
    elapsed = time.perf_counter() - start

    outcome = evaluation_outcome(samples, scored, cfg.topk)
    summary = _summary(cfg, samples, outcome, failed, sizes, device, elapsed)
    if cfg.out_dir is not None:
        names = {int(k): str(v) for k, v in (id2label or {}).items()}
        write_report(cfg.out_dir, summary, samples, outcome, names)
    return summary
