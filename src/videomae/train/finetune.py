"""Supervised fine-tuning recipe (``videomae finetune``), on the same loop as pre-training.

Defaults are the original release's for ViT-B: lr 1e-3 x global_batch / 256, layer-wise lr decay
0.75, drop path 0.1, mixup 0.8 / cutmix 1.0 with label smoothing 0.1, RandAugment m7 n4,
random erasing 0.25, repeated augmentation 2, AdamW betas (0.9, 0.999), weight decay 0.05,
5 warm-up epochs then cosine, EMA off. The new classification head is initialised small
(``init_scale`` 0.001, as the original). Validation each epoch: single centre clip, top-1/top-5;
the best model is kept in ``out_dir/best`` and the final one in ``out_dir/final``.

Note: mixup/cutmix and drop path draw per batch / per rank, so unlike pre-training, a W-process
run matches a 1-process run only in distribution, not bit for bit (resume is still exact).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from videomae.cli.contract import guarded
from videomae.config import VideoMAEConfig
from videomae.data.datasets import VideoClassificationDataset
from videomae.data.lists import load_samples
from videomae.data.mixup import Mixup, smooth_one_hot
from videomae.errors import ConfigError, InputError
from videomae.evaluate.metrics import confusion_matrix, mean_class_from_confusion, topk_correct
from videomae.limits import BATCH, FRACTION, Range, check_fields
from videomae.modeling.losses import cross_entropy, soft_target_cross_entropy
from videomae.modeling.models import VideoMAEForVideoClassification
from videomae.train import distributed as D
from videomae.train.config import TrainConfig, helped, model_overrides
from videomae.train.data import collate_samples
from videomae.train.loop import train
from videomae.train.recipe import export_run, inherit_geometry, run_cli, save_model


@dataclass
class FinetuneConfig(TrainConfig):
    """Every knob of the fine-tuning recipe; each field is also a CLI flag."""

    train_data: str = helped(
        "list file ('path label'), class folders, or UCF101 / HMDB51 / Kinetics / SSv2 "
        "annotation file (see --format)",
        "",
    )
    val_data: str | None = helped(
        "validation data, same kinds as --train-data (None: no validation)"
    )
    label_file: str | None = helped(
        "class names: one per line, 'index name' (0- or 1-based, UCF101 classInd.txt) or JSON "
        "(SSv2 labels.json) (default: from the data)"
    )
    # defaults of the original fine-tuning recipe for ViT-B (TrainConfig holds the rest)
    out_dir: str = "runs/finetune"
    short_side: int | None = helped(
        "training: resize short side first; validation default input_size"
    )
    repeats: int = helped("augmented clips per decoded video (repeated augmentation)", 2)
    init: str | None = helped("pre-training folder (decoder dropped) or classifier folder")
    model: str = helped(
        "preset when training from scratch: tiny/small/base/large/huge/giant (videomae models)",
        "base",
    )
    drop_path: float = 0.1
    # augmentation and regularisation
    crop_scale: tuple[float, float] = helped(
        "random resized crop: area range as a fraction of the frame (1 1: whole frame)",
        (0.08, 1.0),
    )
    crop_ratio: tuple[float, float] = helped("random resized crop: aspect range", (0.75, 1.3333))
    rand_augment: bool = True
    rand_aug_ops: int = 4
    rand_aug_magnitude: float = 7.0
    erase_prob: float = 0.25
    val_batch_size: int = 8
    eval_every: int = helped("validate every N epochs (and after the last one)", 1)  # a flag here
    init_scale: float = 0.001
    mixup: float = 0.8
    cutmix: float = 1.0
    mixup_prob: float = 1.0
    mixup_switch_prob: float = 0.5
    smoothing: float = 0.1
    layer_decay: float | None = 0.75  # re-declared without cli=False: a flag of this recipe

    def validate(self) -> None:
        super().validate()
        check_fields(self, FINETUNE_RANGES)
        for name in ("crop_scale", "crop_ratio"):
            low, high = getattr(self, name)
            if low > high:
                raise ConfigError(f"{name} must be (low, high) with low <= high, got {(low, high)}")


FINETUNE_RANGES = {
    "crop_scale": Range(0.0, 1.0, lo_open=True),
    "crop_ratio": Range(0.0, 100.0, lo_open=True),
    "rand_aug_ops": Range(0, 16, integer=True),
    "rand_aug_magnitude": Range(0.0, 10.0),
    "erase_prob": FRACTION,
    "val_batch_size": BATCH,
    "init_scale": Range(0.0, 1e3),
    "mixup": Range(0.0, 100.0),
    "cutmix": Range(0.0, 100.0),
    "mixup_prob": FRACTION,
    "mixup_switch_prob": FRACTION,
    "smoothing": Range(0.0, 1.0, hi_open=True),
}


def resolve_labels(cfg: FinetuneConfig) -> tuple[list, list | None, list[str]]:
    """(train samples, val samples or None, class names): the training set decides the classes
    (or ``label_file``); validation labels are matched to them by name."""
    if not cfg.train_data:
        raise ValueError(
            "set train_data: a list file, class folders or an annotation file (--train-data)"
        )
    train_samples, names = load_samples(
        cfg.train_data,
        cfg.root,
        labeled=True,
        fmt=cfg.format,
        label_file=cfg.label_file,
        allow_outside_root=cfg.allow_outside_root,
    )
    val_samples = None
    if cfg.val_data:
        val_samples, val_names = load_samples(
            cfg.val_data,
            cfg.root,
            names,
            labeled=True,
            fmt=cfg.format,
            label_file=cfg.label_file,
            subset="test",
            allow_outside_root=cfg.allow_outside_root,
        )
        names = names or val_names
    if names is None:
        names = _indices_as_names(cfg, train_samples, val_samples or [])
    return train_samples, val_samples, list(names)


def describe_labels(names: Sequence[str], shown: int = 8) -> str:
    """``12 classes: a, b, c, ... (first 8)``: the label set a run trains, for the console."""
    more = f", ... (first {shown} of {len(names)})" if len(names) > shown else ""
    return f"{len(names)} classes: {', '.join(names[:shown])}{more}"


def _indices_as_names(cfg: FinetuneConfig, train: list, val: list) -> list[str]:
    """Class names "0".."K-1" for integer labels; every index must occur in the training list,
    so a mistyped label (99 among 0..9) is an error naming its line, not a 100-class head."""
    top = max(train + val, key=lambda s: s.label)
    seen = {s.label for s in train}
    missing = [i for i in range(top.label + 1) if i not in seen]
    source = cfg.train_data
    if missing:
        where = (
            top.path
            if top.line is None
            else f"{source if top in train else cfg.val_data}:{top.line}"
        )
        raise InputError(
            f"{where}: label {top.label} implies {top.label + 1} classes, but labels "
            f"{missing[:5]}{'...' if len(missing) > 5 else ''} never occur in the training list "
            f"{source}; fix the label, or pass --label-file with every class name"
        )
    return [str(i) for i in range(top.label + 1)]


def _dataset(cfg: FinetuneConfig, samples: list, train: bool) -> VideoClassificationDataset:
    return VideoClassificationDataset(
        samples,
        train=train,
        num_frames=cfg.num_frames,
        sampling_rate=cfg.sampling_rate,
        strategy=cfg.strategy,
        input_size=cfg.input_size,
        short_side=cfg.short_side if train else None,
        flip=cfg.flip,
        rand_augment=(cfg.rand_aug_ops, cfg.rand_aug_magnitude) if cfg.rand_augment else None,
        erase_prob=cfg.erase_prob,
        scale=tuple(cfg.crop_scale),
        ratio=tuple(cfg.crop_ratio),
        repeats=cfg.repeats,
        cache_mb=cfg.cache_mb,
    )


def build_model(cfg: FinetuneConfig, class_names: Sequence[str]) -> torch.nn.Module:
    """A classifier from ``cfg.init`` (pre-training or classifier folder) or a preset.

    A head that is not in the loaded folder is re-initialised like the original release:
    normal(0.02) weights times ``init_scale`` and zero bias.
    """
    torch.manual_seed(cfg.seed)
    id2label = {i: n for i, n in enumerate(class_names)}
    labels = {
        "num_labels": len(class_names),
        "id2label": id2label,
        "label2id": {n: i for i, n in id2label.items()},
    }
    shape = {
        "image_size": cfg.input_size,
        "num_frames": cfg.num_frames,
        "patch_size": cfg.patch_size,
        "tubelet_size": cfg.tubelet_size,
    }
    if cfg.init:
        model, info = VideoMAEForVideoClassification.from_pretrained(
            cfg.init,
            **labels,
            **shape,
            drop_path_rate=cfg.drop_path,
            dtype=torch.float32,  # master weights; a bf16 checkpoint would load as bf16
            ignore_mismatched_sizes=True,
            output_loading_info=True,
            **model_overrides(cfg),
        )
        fresh = {
            *info.get("missing_keys", []),
            *(k[0] if isinstance(k, tuple) else k for k in info.get("mismatched_keys", [])),
        }
        new_head = any(k.startswith("classifier.") for k in fresh)
    else:
        fields = {**labels, **shape, "drop_path_rate": cfg.drop_path}
        config = VideoMAEConfig.from_preset(cfg.model, **{**fields, **model_overrides(cfg)})
        model, new_head = VideoMAEForVideoClassification(config), True
    head = getattr(model, "classifier", None)
    if new_head and isinstance(head, torch.nn.Linear):
        with torch.no_grad():
            torch.nn.init.normal_(head.weight, std=0.02)
            head.weight.mul_(cfg.init_scale)
            head.bias.zero_()
    return model


def make_step_fn(cfg: FinetuneConfig, num_classes: int) -> Any:
    """step_fn(model, batch) -> (loss, metrics): mixup/cutmix + soft-target CE, or plain CE."""
    mixer = Mixup(
        cfg.mixup,
        cfg.cutmix,
        cfg.mixup_prob,
        cfg.mixup_switch_prob,
        cfg.smoothing,
        num_classes=num_classes,
    )

    def step(model: torch.nn.Module, batch: dict[str, torch.Tensor]) -> Any:
        x, y = batch["pixel_values"], batch["labels"]
        if mixer.enabled:
            x, targets = mixer(x, y)
        elif cfg.smoothing > 0:
            targets = smooth_one_hot(y, num_classes, cfg.smoothing).to(x.device)
        else:
            logits = model(x).logits
            loss = cross_entropy(logits.float(), y)
            return loss, {"train_acc": float((logits.argmax(-1) == y).float().mean())}
        logits = model(x).logits
        return soft_target_cross_entropy(logits.float(), targets), {}

    return step


def make_eval_fn(cfg: FinetuneConfig, dataset: Any, num_classes: int) -> Any:
    """eval_fn(model, epoch) -> {val_loss, val_top1, val_top5, val_mean_class} (accuracies in
    %, one centre clip per video), sharded over ranks."""

    def evaluate_epoch(model: torch.nn.Module, epoch: int) -> dict[str, float]:
        info = D.get_info()
        device = next(model.parameters()).device
        ids = list(range(info.rank, len(dataset), info.world_size))
        sums = torch.zeros(4, dtype=torch.float64)  # loss, top1, top5, count
        cm = torch.zeros(num_classes, num_classes, dtype=torch.int64)
        # every rank runs as many forwards as the busiest one: under FSDP each one gathers
        # weights from all ranks; a rank out of videos runs one and ignores it
        rounds = math.ceil(math.ceil(len(dataset) / info.world_size) / cfg.val_batch_size)
        for start in range(0, rounds * cfg.val_batch_size, cfg.val_batch_size):
            chunk = ids[start : start + cfg.val_batch_size]
            if not chunk:
                model(collate_samples([dataset.getitem_seeded(0, 0)])[0]["pixel_values"].to(device))
                continue
            batch, _ = collate_samples([dataset.getitem_seeded(i, 0) for i in chunk])
            x, y = batch["pixel_values"].to(device), batch["labels"].to(device)
            logits = model(x).logits.float()
            hits = topk_correct(logits, y, (1, 5))
            loss = cross_entropy(logits, y, reduction="sum")
            sums += torch.tensor([float(loss), hits[1], hits[5], len(y)], dtype=torch.float64)
            cm += confusion_matrix(logits.argmax(-1).cpu(), y.cpu(), num_classes)
        sums, cm = D.all_reduce_sum(sums), D.all_reduce_sum(cm)
        n = max(float(sums[3]), 1.0)
        return {
            "val_loss": float(sums[0]) / n,
            "val_top1": 100.0 * float(sums[1]) / n,
            "val_top5": 100.0 * float(sums[2]) / n,
            "val_mean_class": 100.0 * mean_class_from_confusion(cm),
        }

    return evaluate_epoch


def finetune(cfg: FinetuneConfig) -> Path:
    """Run (or resume) fine-tuning; returns the exported ``out_dir/final`` folder.

    Unset clip and model geometry (frames, input size, patch, tubelet, sampling) comes from the
    ``--init`` folder (:func:`~videomae.train.recipe.inherit_geometry`).
    """
    cfg = inherit_geometry(cfg)
    D.init_distributed(device=cfg.device)
    train_samples, val_samples, names = resolve_labels(cfg)
    if D.get_info().rank == 0:
        print(f"training {describe_labels(names)}", flush=True)
    train_set = _dataset(cfg, train_samples, train=True)
    val_set = _dataset(cfg, val_samples, train=False) if val_samples else None
    model = build_model(cfg, names)
    result = train(
        model,
        train_set,
        make_step_fn(cfg, len(names)),
        cfg,
        eval_fn=make_eval_fn(cfg, val_set, len(names)) if val_set is not None else None,
        export_fn=functools.partial(save_model, cfg=cfg),
        best_metric="val_top1" if val_set is not None else None,
    )
    last_eval = result.eval_history[-1] if result.eval_history else {}
    extra = {"classes": names, "last_eval": last_eval}
    return export_run(model, result, cfg, extra, metrics=last_eval)


def main(argv: Sequence[str] | None = None) -> int:
    """CLI entry: ``python -m videomae.train.finetune --train-data LIST --val-data LIST [...]``."""
    return run_cli(FinetuneConfig, "videomae finetune", finetune, "fine-tuned model saved to", argv)


if __name__ == "__main__":
    raise SystemExit(guarded(main))
