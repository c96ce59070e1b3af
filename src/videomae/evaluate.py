"""The paper's test protocol: multi-clip x multi-crop evaluation of a video classifier.

Each video is decoded once for all its clips; every clip is resized (short side) and cut into
``crops`` spatial views spanning the longer side; the classifier scores all views, and the
softmax of each view is averaged per video (``prob_mean``; averaging logits is worse and was the
original release's early behaviour). Metrics: top-1, top-5 and mean per-class accuracy, plus a
predictions CSV, a confusion-matrix PNG and a JSON summary.
"""

from __future__ import annotations

import csv
import json
import sys
import time
from collections import deque
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from itertools import islice
from pathlib import Path
from typing import Any

import torch

from videomae.runtime import IMAGENET_DEFAULT_MEAN, IMAGENET_DEFAULT_STD

MERGE_METHODS = ("prob_mean", "logit_mean")

# ---------------------------------------------------------------------------------------------
# Pure metrics


def merge_views(view_logits: torch.Tensor, method: str = "prob_mean") -> torch.Tensor:
    """Merge the (V, K) logits of one video's views into (K,) scores.

    ``prob_mean`` (default, the paper's protocol): softmax per view, then the mean — a sum of
    probabilities. ``logit_mean``: mean of raw logits (for comparison only).
    """
    if view_logits.ndim != 2 or view_logits.shape[0] == 0:
        raise ValueError(f"view_logits must be (V, K) with V >= 1, got {tuple(view_logits.shape)}")
    x = view_logits.float()
    if method == "prob_mean":
        return x.softmax(dim=-1).mean(dim=0)  # (K,)
    if method == "logit_mean":
        return x.mean(dim=0)  # (K,)
    raise ValueError(f"unknown merge method {method!r}; expected one of {MERGE_METHODS}")


def _check_scores_labels(scores: torch.Tensor, labels: torch.Tensor) -> None:
    if scores.ndim != 2:
        raise ValueError(f"scores must be (N, K), got {tuple(scores.shape)}")
    if labels.ndim != 1 or labels.shape[0] != scores.shape[0]:
        raise ValueError(
            f"labels must be (N,) with N={scores.shape[0]} matching scores, got {tuple(labels.shape)}"
        )


def topk_correct(
    scores: torch.Tensor, labels: torch.Tensor, ks: Sequence[int] = (1, 5)
) -> dict[int, int]:
    """Number of samples whose label is among the top-k scores, for each requested k.

    scores (N, K), labels (N,). A k larger than K is capped at K (top-5 with 3 classes is top-3);
    the result stays keyed by the requested k.
    """
    _check_scores_labels(scores, labels)
    n, k_all = scores.shape
    if n == 0:
        return {int(k): 0 for k in ks}
    if any(int(k) < 1 for k in ks):
        raise ValueError(f"every k must be >= 1, got {tuple(ks)}")
    kmax = min(max(int(k) for k in ks), k_all)
    top = scores.topk(kmax, dim=1).indices  # (N, kmax)
    hit = top == labels.to(top.device).view(-1, 1)  # (N, kmax)
    return {int(k): int(hit[:, : min(int(k), k_all)].any(dim=1).sum()) for k in ks}


def confusion_matrix(preds: torch.Tensor, labels: torch.Tensor, num_classes: int) -> torch.Tensor:
    """(K, K) int64 counts; rows are true labels, columns are predictions."""
    preds = torch.as_tensor(preds).long().flatten()
    labels = torch.as_tensor(labels).long().flatten()
    if preds.shape != labels.shape:
        raise ValueError(f"preds {tuple(preds.shape)} and labels {tuple(labels.shape)} differ")
    for name, v in (("preds", preds), ("labels", labels)):
        if v.numel() and (int(v.min()) < 0 or int(v.max()) >= num_classes):
            raise ValueError(
                f"{name} must lie in [0, {num_classes}), got [{int(v.min())}, {int(v.max())}]"
            )
    flat = labels * num_classes + preds
    return torch.bincount(flat, minlength=num_classes * num_classes).reshape(
        num_classes, num_classes
    )


def mean_class_accuracy(preds: torch.Tensor, labels: torch.Tensor, num_classes: int) -> float:
    """Mean over classes present in ``labels`` of the per-class accuracy (recall).

    Classes without any test sample are left out of the mean. Returns 0.0 for no samples.
    """
    cm = confusion_matrix(preds, labels, num_classes)
    support = cm.sum(dim=1)
    present = support > 0
    if not bool(present.any()):
        return 0.0
    per_class = cm.diag()[present].double() / support[present].double()
    return float(per_class.mean())


# ---------------------------------------------------------------------------------------------
# Configuration


@dataclass
class EvalConfig:
    """Options of the multi-view test protocol.

    ``num_frames`` / ``crop_size`` default to the model's ``config.num_frames`` /
    ``config.image_size``; ``short_side`` defaults to ``crop_size`` (resize the short side to the
    crop size, then take ``crops`` crops spanning the longer side). ``dtype``: "float32",
    "bfloat16" (autocast) or "float16" (autocast, CUDA). ``out_dir=None`` writes no files.
    """

    clips: int = 1
    crops: int = 1
    num_frames: int | None = None
    sampling_rate: int = 4
    strategy: str = "dense"
    short_side: int | None = None
    crop_size: int | None = None
    batch_size: int = 8
    mean: tuple[float, ...] = IMAGENET_DEFAULT_MEAN
    std: tuple[float, ...] = IMAGENET_DEFAULT_STD
    device: str | None = None
    dtype: str = "float32"
    out_dir: str | Path | None = None
    merge: str = "prob_mean"
    topk: int = 5
    prefetch: int = 2  # videos decoded ahead in a background thread; 0 = decode inline
    extra: dict[str, Any] = field(default_factory=dict)  # free-form, copied into the summary

    def validate(self) -> None:
        """Raise ValueError naming the bad field and the fix."""
        if self.clips < 1:
            raise ValueError(f"clips must be >= 1, got {self.clips}")
        if self.crops not in (1, 3):
            raise ValueError(
                f"crops must be 1 (centre) or 3 (spanning the longer side), got {self.crops}"
            )
        if self.batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {self.batch_size}")
        if self.sampling_rate < 1:
            raise ValueError(f"sampling_rate must be >= 1, got {self.sampling_rate}")
        if self.strategy not in ("dense", "uniform"):
            raise ValueError(f"strategy must be 'dense' or 'uniform', got {self.strategy!r}")
        if self.dtype not in ("float32", "bfloat16", "float16"):
            raise ValueError(f"dtype must be float32, bfloat16 or float16, got {self.dtype!r}")
        if self.merge not in MERGE_METHODS:
            raise ValueError(f"merge must be one of {MERGE_METHODS}, got {self.merge!r}")
        if self.topk < 1:
            raise ValueError(f"topk must be >= 1, got {self.topk}")
        if self.prefetch < 0:
            raise ValueError(f"prefetch must be >= 0, got {self.prefetch}")
        if len(self.mean) != len(self.std):
            raise ValueError(f"mean has {len(self.mean)} values but std has {len(self.std)}")

    @property
    def views_per_video(self) -> int:
        return self.clips * self.crops


# ---------------------------------------------------------------------------------------------
# Views of one video


def _first_int(value: Any, name: str) -> int:
    if isinstance(value, (list, tuple)):
        if len(set(value)) != 1:
            raise ValueError(f"config.{name}={value} is not square; pass EvalConfig.crop_size")
        value = value[0]
    return int(value)


def video_views(path: str | Path, cfg: EvalConfig, num_frames: int, crop_size: int) -> torch.Tensor:
    """Decode ``path`` once and return its normalised views, (clips*crops, T, C, S, S) float.

    Views are ordered clip-major (all crops of clip 0, then clip 1, ...).
    """
    from videomae.processing import normalize, resize_short_side, spatial_crops
    from videomae.video import read_clips

    clips = read_clips(
        path,
        num_frames,
        strategy=cfg.strategy,
        sampling_rate=cfg.sampling_rate,
        num_clips=cfg.clips,
        train=False,
    )
    if len(clips) != cfg.clips:
        raise ValueError(f"read_clips returned {len(clips)} clips, expected {cfg.clips}")
    short = cfg.short_side or crop_size
    views: list[torch.Tensor] = []
    for clip in clips:
        frames = clip.frames.permute(0, 3, 1, 2)  # (T, C, H, W) uint8
        frames = resize_short_side(frames, short)
        crops = spatial_crops(frames, crop_size, cfg.crops)
        views.extend(normalize(c, cfg.mean, cfg.std) for c in crops)  # (T, C, S, S) float
    out = torch.stack(views)  # (V, T, C, S, S)
    if out.shape[1] != num_frames or out.shape[-2:] != (crop_size, crop_size):
        raise ValueError(
            f"views have shape {tuple(out.shape[1:])}, expected ({num_frames}, C, {crop_size}, {crop_size})"
        )
    return out


def _decoded(
    samples: Sequence[tuple[str | Path, int]],
    cfg: EvalConfig,
    num_frames: int,
    crop_size: int,
) -> Iterator[tuple[int, torch.Tensor | None, str | None]]:
    """Yield (index, views or None, failure reason or None), decoding ``cfg.prefetch`` ahead."""

    def job(path: str | Path) -> tuple[torch.Tensor | None, str | None]:
        if not Path(path).is_file():
            return None, f"file not found: {path}"
        try:
            return video_views(path, cfg, num_frames, crop_size), None
        except Exception as exc:  # noqa: BLE001 - any decode/preprocess failure is reported
            return None, f"{type(exc).__name__}: {exc}"

    if cfg.prefetch == 0:
        for i, (path, _) in enumerate(samples):
            yield (i, *job(path))
        return
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="videomae-decode") as pool:
        queue: deque[Future] = deque()
        ahead = iter(samples)
        for path, _ in islice(ahead, cfg.prefetch):
            queue.append(pool.submit(job, path))
        i = 0
        while queue:
            fut = queue.popleft()
            nxt = next(ahead, None)
            if nxt is not None:
                queue.append(pool.submit(job, nxt[0]))
            yield (i, *fut.result())
            i += 1


# ---------------------------------------------------------------------------------------------
# The evaluation loop


def _autocast(device: torch.device, dtype: str):
    if dtype == "float32":
        return torch.autocast(device.type, enabled=False)
    return torch.autocast(device.type, dtype=getattr(torch, dtype))


def _model_device(model: torch.nn.Module) -> torch.device:
    for p in model.parameters():
        return p.device
    return torch.device("cpu")


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
    num_frames = cfg.num_frames or (int(mcfg.num_frames) if mcfg is not None else None)
    crop_size = cfg.crop_size or (_first_int(mcfg.image_size, "image_size") if mcfg else None)
    if num_frames is None or crop_size is None:
        raise ValueError("model has no config: set EvalConfig.num_frames and EvalConfig.crop_size")

    samples = [(str(p), int(y)) for p, y in samples]
    known_k = int(getattr(mcfg, "num_labels", 0) or 0) if mcfg is not None else 0
    bad = [(p, y) for p, y in samples if y < 0 or (known_k and y >= known_k)]
    if bad:
        raise ValueError(
            f"labels must lie in [0, {known_k or 'K'}) for this model; got e.g. {bad[:3]}. "
            "Check the label file / class order against the model's id2label."
        )
    device = torch.device(cfg.device) if cfg.device else _model_device(model)
    if device != _model_device(model):
        model.to(device)
    was_training = model.training
    model.eval()

    num_classes: int | None = None
    names: dict[int, str] = {int(k): str(v) for k, v in (id2label or {}).items()}
    v_per = cfg.views_per_video
    # per-video accumulation of view logits; batches may span videos
    buf_views: list[torch.Tensor] = []
    buf_owner: list[int] = []
    pieces: dict[int, list[torch.Tensor]] = {}
    results: dict[int, torch.Tensor] = {}  # video index -> merged (K,) scores
    failed: list[dict[str, str]] = []
    views_run = 0

    def run_batch(n: int) -> None:
        nonlocal views_run, num_classes
        batch = torch.stack(buf_views[:n]).to(device, non_blocking=True)  # (B, T, C, S, S)
        owners = buf_owner[:n]
        del buf_views[:n], buf_owner[:n]
        with torch.inference_mode(), _autocast(device, cfg.dtype):
            logits = model(batch).logits.float().cpu()  # (B, K)
        if logits.ndim != 2 or logits.shape[0] != n:
            raise ValueError(f"classifier returned logits {tuple(logits.shape)}, expected ({n}, K)")
        num_classes = num_classes or logits.shape[1]
        views_run += n
        for owner, row in zip(owners, logits):
            pieces.setdefault(owner, []).append(row)
            if len(pieces[owner]) == v_per:
                results[owner] = merge_views(torch.stack(pieces.pop(owner)), cfg.merge)

    from tqdm.auto import tqdm

    start = time.perf_counter()
    bar = tqdm(total=len(samples), disable=not progress, unit="video", desc="evaluate")
    try:
        for i, views, reason in _decoded(samples, cfg, num_frames, crop_size):
            if views is None:
                failed.append({"path": samples[i][0], "reason": str(reason)})
                msg = f"skipped {samples[i][0]}: {reason}"
                if progress:
                    tqdm.write(msg, file=sys.stderr)
            else:
                if views.shape[0] != v_per:
                    raise ValueError(
                        f"{samples[i][0]}: got {views.shape[0]} views, expected {v_per}"
                    )
                buf_views.extend(views.unbind(0))
                buf_owner.extend([i] * v_per)
                while len(buf_views) >= cfg.batch_size:
                    run_batch(cfg.batch_size)
            bar.update(1)
            bar.set_postfix(failed=len(failed), refresh=False)
        while buf_views:
            run_batch(min(cfg.batch_size, len(buf_views)))
    finally:
        bar.close()
        model.train(was_training)
    elapsed = time.perf_counter() - start

    order = sorted(results)
    if order:
        scores = torch.stack([results[i] for i in order])  # (N, K)
        labels = torch.tensor([samples[i][1] for i in order])
        k_all = scores.shape[1]
        bad = [(samples[i][0], samples[i][1]) for i in order if not 0 <= samples[i][1] < k_all]
        if bad:
            raise ValueError(
                f"labels must lie in [0, {k_all}) for this {k_all}-class model; got e.g. {bad[:3]}"
            )
        preds = scores.argmax(dim=1)
        k5 = min(cfg.topk, k_all)
        correct = topk_correct(scores, labels, ks=(1, cfg.topk))
        n_ok = len(order)
        top1, top5 = correct[1] / n_ok, correct[cfg.topk] / n_ok
        mca = mean_class_accuracy(preds, labels, k_all)
        cm = confusion_matrix(preds, labels, k_all)
    else:
        scores, labels, preds, cm = None, None, None, None
        k_all, k5, top1, top5, mca = num_classes or 0, 0, 0.0, 0.0, 0.0

    summary: dict[str, Any] = {
        "num_videos": len(samples),
        "num_evaluated": len(order),
        "num_failed": len(failed),
        "failed": failed,
        "top1": top1,
        f"top{cfg.topk}": top5,
        "topk_k": k5,
        "mean_class_accuracy": mca,
        "num_classes": k_all,
        "clips": cfg.clips,
        "crops": cfg.crops,
        "views_per_video": v_per,
        "views_run": views_run,
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

    if cfg.out_dir is not None:
        out = Path(cfg.out_dir)
        out.mkdir(parents=True, exist_ok=True)
        files = {"summary": str(out / "summary.json")}
        pred_path = out / "predictions.csv"
        _write_predictions(pred_path, samples, order, scores, k5, names)
        files["predictions"] = str(pred_path)
        if cm is not None:
            from videomae.viz.confusion import plot_confusion

            class_names = [names.get(i, str(i)) for i in range(k_all)]
            files["confusion"] = str(plot_confusion(cm, class_names, out / "confusion.png"))
            files["confusion_csv"] = str(out / "confusion.csv")
            with open(out / "confusion.csv", "w", newline="") as f:
                w = csv.writer(f)
                w.writerow(["true\\pred", *class_names])
                for i, row in enumerate(cm.tolist()):
                    w.writerow([class_names[i], *row])
        summary["files"] = files
        with open(out / "summary.json", "w") as f:
            json.dump(summary, f, indent=2)
    return summary


def _write_predictions(
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
