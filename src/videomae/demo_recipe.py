"""The demo's settings (`SETTINGS`) and the data and recipe configs they make.

`videomae demo` (:mod:`videomae.demo`) and its study (:mod:`videomae.study`) run the same
regime: one `DemoSettings` says how the synthetic videos are generated, what the model is,
and the budgets of pre-training and fine-tuning; the functions below turn it into the calls
of `make_dataset`, `PretrainConfig` and `FinetuneConfig`, so both read one recipe.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from videomae.data.lists import read_samples
from videomae.data.synthetic import make_dataset
from videomae.evaluate.config import EvalConfig
from videomae.evaluate.protocol import evaluate
from videomae.modeling.models import VideoMAEForVideoClassification
from videomae.train.finetune import FinetuneConfig
from videomae.train.pretrain import PretrainConfig

_DIRECTIONS = ("move_left", "move_right", "move_up", "move_down")


@dataclass(frozen=True)
class DemoSettings:
    """Everything one demo run needs: data, model, and the three recipes' budgets.

    Defaults are the regime chosen in docs/demo.md (on the validation split): 32x32 clips of 8
    frames where the whole scene moves with the action, a 4-layer ViT with 64 tokens, a
    decoder as wide as the encoder, random masking at 75% with raw-pixel targets, 5,000 steps.
    """

    # data (videomae.data.synthetic.make_dataset)
    num_unlabeled: int = 2000
    num_train: int = 200
    num_val: int = 400
    num_test: int = 400
    num_frames: int = 8
    size: int = 32
    fps: int = 8
    classes: tuple[str, ...] = _DIRECTIONS
    style: dict[str, Any] = field(
        default_factory=lambda: {"background": "texture", "background_motion": 1.0}
    )
    # model (the same architecture for both rows)
    model: dict[str, Any] = field(
        default_factory=lambda: {
            "patch_size": 8,
            "tubelet_size": 2,
            "hidden_size": 128,
            "num_hidden_layers": 4,
            "num_attention_heads": 4,
            "intermediate_size": 512,
            "decoder_hidden_size": 128,
            "decoder_num_hidden_layers": 1,
            "decoder_num_attention_heads": 4,
            "decoder_intermediate_size": 512,
            "use_mean_pooling": True,
        }
    )
    # pre-training
    mask_ratio: float = 0.75
    mask_kind: str = "random"
    norm_pix_loss: bool = False
    pretrain_steps: int = 5000
    pretrain_batch: int = 32
    pretrain_lr: float = 1.5e-3
    pretrain_warmup: int = 200
    clip_grad: float | None = 1.0
    # fine-tuning (both rows; layer decay only where there are pre-trained layers to keep)
    finetune_steps: int = 520
    finetune_batch: int = 16
    finetune_lr: float = 1e-3
    finetune_warmup: int = 52
    layer_decay: float | None = 0.75
    # validation (on val, for the curves and the `best` folder) every 10 of the 40 epochs: the
    # test split is scored on the final model, and validating every epoch is costly
    eval_every: int = 10
    # a new head starts at normal(0.02) in both rows; the original recipe's 0.001 scaling is
    # made for pre-trained encoders and holds a scratch model back (docs/demo.md)
    head_init_scale: float = 1.0
    drop_path: float = 0.0
    smoothing: float = 0.1
    mixup: float = 0.0
    cutmix: float = 0.0
    # decoded clips kept in memory per data-loader process (docs/demo.md has the sizes)
    cache_mb: float = 512.0
    # evaluation: each video is exactly one clip of one full frame, so 1 x 1 view
    clips: int = 1
    crops: int = 1
    sampling_rate: int = 1


SETTINGS: dict[str, DemoSettings] = {
    # a few seconds: checks that every stage runs (the test suite uses it); shows nothing
    "quick": DemoSettings(
        num_unlabeled=64,
        num_train=16,
        num_val=16,
        num_test=16,
        pretrain_steps=20,
        pretrain_batch=8,
        pretrain_warmup=4,
        finetune_steps=10,
        finetune_batch=8,
        finetune_warmup=2,
        eval_every=1,
    ),
    "default": DemoSettings(),
}


def generate_data(data_dir: Path, s: DemoSettings, seed: int, workers: int) -> dict[str, Path]:
    """The synthetic videos and list files of ``s`` (counts, classes, style) under ``data_dir``."""
    return make_dataset(
        data_dir,
        num_unlabeled=s.num_unlabeled,
        num_train=s.num_train,
        num_val=s.num_val,
        num_test=s.num_test,
        num_frames=s.num_frames,
        size=s.size,
        fps=s.fps,
        seed=seed,
        classes=s.classes,
        workers=workers,
        **s.style,
    )


def common_options(
    s: DemoSettings, root: str, *, seed: int, progress: bool, workers: int
) -> dict[str, Any]:
    """The recipe options pre-training and both fine-tunings share (data, model, run)."""
    overrides = {k: v for k, v in s.model.items() if k not in ("patch_size", "tubelet_size")}
    return dict(
        root=root,
        num_frames=s.num_frames,
        sampling_rate=s.sampling_rate,
        input_size=s.size,
        short_side=s.size,
        num_workers=workers,
        cache_mb=s.cache_mb,
        patch_size=s.model.get("patch_size", 4),
        tubelet_size=s.model.get("tubelet_size", 2),
        model_overrides=overrides,
        precision="auto",
        seed=seed,
        progress=progress,
        log_every=10,
        save_every=10**9,
    )


def pretrain_config(
    s: DemoSettings, unlabeled: Path, out_dir: Path, common: dict[str, Any]
) -> PretrainConfig:
    """Pre-training on the list ``unlabeled`` into ``out_dir`` with ``s``'s masking and budget."""
    return PretrainConfig(
        data=str(unlabeled),
        out_dir=str(out_dir),
        model="small",
        norm_pix_loss=s.norm_pix_loss,
        mask_kind=s.mask_kind,
        mask_ratio=s.mask_ratio,
        total_steps=s.pretrain_steps,
        warmup_steps=s.pretrain_warmup,
        batch_size=s.pretrain_batch,
        lr=s.pretrain_lr,
        clip_grad=s.clip_grad,
        crop_scales=(1.0,),  # whole frames: the clips are already the model's size
        flip=False,  # direction is the label: flipping would swap left and right
        **common,
    )


def finetune_config(
    s: DemoSettings,
    data: dict[str, Path],
    out_dir: Path,
    common: dict[str, Any],
    init: str | None,
) -> FinetuneConfig:
    """Fine-tuning into ``out_dir`` from ``init`` (a pre-trained folder) or from scratch (None)
    on ``data["train"]``; validation on ``data["val"]`` when given, none without it."""
    return FinetuneConfig(
        train_data=str(data["train"]),
        val_data=str(data["val"]) if data.get("val") else None,
        label_file=str(data["labels"]),
        out_dir=str(out_dir),
        init=init,
        model="small",
        total_steps=s.finetune_steps,
        warmup_steps=s.finetune_warmup,
        batch_size=s.finetune_batch,
        lr=s.finetune_lr,
        layer_decay=s.layer_decay if init else None,
        eval_every=s.eval_every,
        init_scale=s.head_init_scale,
        drop_path=s.drop_path,
        smoothing=s.smoothing,
        mixup=s.mixup,
        cutmix=s.cutmix,
        flip=False,
        crop_scale=(1.0, 1.0),
        crop_ratio=(1.0, 1.0),
        rand_augment=False,
        erase_prob=0.0,
        repeats=1,
        **common,
    )


def evaluate_row(
    final: Path, test_list: Path, root: str, out_dir: Path, s: DemoSettings, progress: bool
) -> dict[str, Any]:
    """Multi-view test accuracy of the fine-tuned model in ``final``."""
    model = VideoMAEForVideoClassification.from_pretrained(final)
    eval_cfg = EvalConfig(
        clips=s.clips, crops=s.crops, sampling_rate=s.sampling_rate, out_dir=out_dir
    )
    samples = read_samples(test_list, root=root)
    return evaluate(model, samples, eval_cfg, id2label=model.config.id2label, progress=progress)
