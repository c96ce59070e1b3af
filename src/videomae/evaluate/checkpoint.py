"""evaluate_checkpoint(): the CLI's ``evaluate``, a checkpoint on any dataset load_samples reads."""

from __future__ import annotations

import os
from typing import Any

import torch

from videomae.data.lists import read_samples
from videomae.evaluate.config import EvalConfig
from videomae.evaluate.protocol import evaluate
from videomae.inference.classifier import VideoClassifier
from videomae.runtime import parse_dtype

__all__ = ["evaluate_checkpoint"]


def evaluate_checkpoint(
    id_or_dir: str | os.PathLike,
    source: str | os.PathLike,
    *,
    root: str | os.PathLike | None = None,
    fmt: str = "auto",
    label_file: str | os.PathLike | None = None,
    clips: int = 1,
    crops: int = 1,
    num_frames: int | None = None,
    sampling_rate: int | None = None,
    strategy: str | None = None,
    batch_size: int | None = None,
    device: str | torch.device | None = "cpu",
    dtype: str = "fp32",
    out_dir: str | os.PathLike | None = None,
    progress: bool = True,
    allow_outside_root: bool = False,
) -> dict[str, Any]:
    """The paper's multi-view test protocol on a list file, class folders or an annotation file
    (``fmt``, see :func:`~videomae.data.lists.load_samples`; see
    :func:`~videomae.evaluate.protocol.evaluate`); preprocessing as
    :class:`~videomae.inference.classifier.VideoClassifier`'s.

    The model's ``id2label`` is the authority: class names in the data (folders, annotation
    files, ``label_file``) are matched to it by name; unknown names and integer labels outside
    its range are errors naming the first offenders.

    Reduced precision runs under autocast with float32 weights. Returns the summary dict
    (``summary.json`` with predictions and a confusion matrix under ``out_dir`` when given).
    List paths must stay under ``root`` unless ``allow_outside_root`` (see ``read_list_file``).
    """
    dt = parse_dtype(dtype)
    clf = VideoClassifier.from_pretrained(
        id_or_dir,
        device=device,
        dtype="fp32",
        clips=clips,
        crops=crops,
        num_frames=num_frames,
        sampling_rate=sampling_rate,
        strategy=strategy,
        batch_size=batch_size,
    )
    data = {"fmt": fmt, "label_file": label_file, "allow_outside_root": allow_outside_root}
    samples = read_samples(source, root=root, label_names=clf.labels, **data)
    cfg = EvalConfig.from_preprocessing(
        clf.preprocessing,
        batch_size=clf.batch_size,
        device=str(clf.device),
        dtype=str(dt).replace("torch.", ""),
        out_dir=out_dir,
        extra={"model": os.fspath(id_or_dir), "data": os.fspath(source)},
    )
    return evaluate(clf.model, samples, cfg, progress=progress)
