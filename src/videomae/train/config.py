"""The one run config (:class:`TrainConfig`) and what it resolves to for a dataset (:class:`Schedule`).

Every knob of a training run is a field of :class:`TrainConfig`, read directly by the loop, the
data pipeline and the recipes; :class:`~videomae.train.pretrain.PretrainConfig` and
:class:`~videomae.train.finetune.FinetuneConfig` extend it with their own fields and override
defaults. Each field is also a CLI flag (see :mod:`videomae.train.args`) unless its metadata says
``cli=False``. Quantities that depend on the dataset size and the number of processes (steps per
epoch, total and warm-up steps, the batch-scaled learning rates) are resolved once by
:func:`resolve_schedule`.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

from videomae.config import PRESETS
from videomae.data.formats.detect import FORMATS
from videomae.errors import ConfigError
from videomae.limits import (
    BATCH,
    COUNT,
    LEARNING_RATE,
    OPT_COUNT,
    OPT_FRAMES,
    OPT_SIDE,
    SEED,
    WORKERS,
    Range,
    check_choice,
    check_fields,
)
from videomae.train.precision import PRECISIONS
from videomae.train.schedule import cosine_schedule, lr_for_batch

STRATEGIES = ("dense", "uniform")

# Architecture fields a recipe offers as flags of the same name; set ones override the preset.
ARCH_FIELDS = (
    "hidden_size",
    "num_hidden_layers",
    "num_attention_heads",
    "intermediate_size",
    "decoder_hidden_size",
    "decoder_num_hidden_layers",
    "decoder_num_attention_heads",
    "decoder_intermediate_size",
)


#: the accepted range of every numeric field of :class:`TrainConfig` (docs/reliability.md)
TRAIN_RANGES: dict[str, Range] = {
    "num_frames": OPT_FRAMES,
    "sampling_rate": Range(1, 1024, integer=True, optional=True),
    "input_size": OPT_SIDE,
    "short_side": Range(1, 4096, integer=True, optional=True),
    "repeats": Range(1, 64, integer=True),
    "num_workers": WORKERS,
    "cache_mb": Range(0.0, 1e7),
    "patch_size": OPT_SIDE,
    "tubelet_size": OPT_FRAMES,
    **{name: Range(1, 65536, integer=True, optional=True) for name in ARCH_FIELDS},
    "drop_path": Range(0.0, 1.0, hi_open=True),
    "epochs": COUNT,
    "total_steps": OPT_COUNT,
    "warmup_epochs": Range(0.0, 1e6),
    "warmup_steps": Range(0, 10**9, integer=True, optional=True),
    "batch_size": BATCH,
    "accum_steps": Range(1, 65536, integer=True),
    "base_lr": Range(0.0, 10.0, lo_open=True),
    "lr": Range(0.0, 10.0, lo_open=True, optional=True),
    "min_lr": LEARNING_RATE,
    "warmup_lr": LEARNING_RATE,
    "weight_decay": Range(0.0, 10.0),
    "betas": Range(0.0, 1.0, hi_open=True),
    "layer_decay": Range(0.0, 1.0, lo_open=True, optional=True),
    "clip_grad": Range(0.0, 1e6, lo_open=True, optional=True),
    "ema_decay": Range(0.0, 1.0, hi_open=True, optional=True),
    "eval_every": COUNT,
    "early_stop": OPT_COUNT,
    "log_every": COUNT,
    "save_every": COUNT,
    "keep_last": Range(0, 10**6, integer=True),
    "seed": SEED,
}

#: fields that do not change what a run computes: they may differ when resuming
RESUME_FREE = frozenset(
    {"resume", "allow_config_change", "progress", "out_dir", "num_workers", "device",
     "log_every", "save_every", "keep_last", "eval_every", "cache_mb", "compile",
     "epochs", "total_steps", "val_data", "val_batch_size", "allow_outside_root",
     "early_stop", "tensorboard", "fsdp", "grad_checkpointing"}
)  # fmt: skip


def helped(text: str, default: Any = None) -> Any:
    """A dataclass field with a help text (shown by the generated CLI)."""
    return field(default=default, metadata={"help": text})


def hidden(text: str, default: Any = None) -> Any:
    """A field the loop reads that is not a CLI flag (a recipe may re-declare it with ``helped``)."""
    return field(default=default, metadata={"help": text, "cli": False})


@dataclass
class TrainConfig:
    """Every knob of a training run; each field is also a CLI flag of the recipes.

    One *step* is one optimizer update over ``batch_size * accum_steps * world_size`` samples.
    ``total_steps`` wins over ``epochs``. Without ``lr``, the peak, final and warm-up learning
    rates are ``base_lr`` / ``min_lr`` / ``warmup_lr`` times clips per step / 256.
    """

    # data
    root: str | None = helped(
        "folder holding the videos named by the data files (default: each list file's folder)"
    )
    format: str = helped(
        "data format: auto (from the content), list, folders, ucf101, hmdb51, kinetics, ssv2",
        "auto",
    )
    allow_outside_root: bool = helped(
        "accept list paths that are absolute or climb out of the root with '..'", False
    )
    out_dir: str = "runs/train"
    num_frames: int | None = helped("frames per clip (default: the --init model's, else 16)")
    sampling_rate: int | None = helped(
        "stride between sampled frames (default: the --init folder's, else 4)"
    )
    strategy: str | None = helped("dense or uniform (default: the --init folder's, else dense)")
    input_size: int | None = helped("crop side (default: the --init model's image size, else 224)")
    short_side: int | None = helped("resize the short side before cropping (None: as decoded)")
    flip: bool = helped("random horizontal flip; off for direction-sensitive data (SSv2)", True)
    repeats: int = helped("augmented clips per decoded video (repeated augmentation)", 1)
    num_workers: int = 4
    cache_mb: float = helped(
        "keep whole decoded videos in memory, up to this many MB per process (0 = off)", 0.0
    )
    # model
    model: str = helped(
        "preset: tiny/small/base/large/huge/giant (`videomae models` lists them)", "base"
    )
    hidden_size: int | None = helped("encoder width (None: the preset's)")
    num_hidden_layers: int | None = helped("encoder layers (None: the preset's)")
    num_attention_heads: int | None = helped("encoder heads (None: the preset's)")
    intermediate_size: int | None = helped("encoder MLP width (None: the preset's)")
    decoder_hidden_size: int | None = helped("decoder width (None: the preset's)")
    decoder_num_hidden_layers: int | None = helped("decoder layers (None: the preset's)")
    decoder_num_attention_heads: int | None = helped("decoder heads (None: the preset's)")
    decoder_intermediate_size: int | None = helped("decoder MLP width (None: the preset's)")
    model_overrides: dict = field(
        default_factory=dict,
        metadata={"help": "any other VideoMAEConfig fields as JSON (the named flags win)"},
    )
    init: str | None = helped("start from this save_pretrained folder")
    patch_size: int | None = helped("patch side (default: the --init model's, else 16)")
    tubelet_size: int | None = helped("frames per tubelet (default: the --init model's, else 2)")
    drop_path: float = 0.0
    # optimisation
    epochs: int = 30
    total_steps: int | None = helped("optimizer steps (overrides epochs)")
    warmup_epochs: float = 5
    warmup_steps: int | None = helped("warm-up steps (overrides warmup_epochs)")
    batch_size: int = helped("clips per process per micro-step", 8)
    accum_steps: int = 1
    base_lr: float = 1e-3
    lr: float | None = helped("absolute peak lr (default base_lr x global_batch / 256)")
    min_lr: float = 1e-6
    warmup_lr: float = 1e-6
    weight_decay: float = 0.05
    betas: tuple[float, float] = (0.9, 0.999)
    layer_decay: float | None = hidden("layer-wise lr decay (None: off)")
    clip_grad: float | None = None
    precision: str = helped("auto (bf16 where the CPU or GPU has it)/fp32/bf16/fp16", "auto")
    compile: bool = helped(
        "torch.compile the model (opt-in: the first step compiles for a while and needs a C++ "
        "compiler on CPU, Triton on GPU; speed-ups in docs/performance.md)",
        False,
    )
    ema_decay: float | None = None
    # memory
    fsdp: bool = helped(
        "shard parameters, gradients and optimizer state over the processes (FSDP2, under "
        "torchrun with >= 2 processes; for the large/huge/giant presets, docs/recipes.md)",
        False,
    )
    grad_checkpointing: bool = helped(
        "keep only each transformer block's input and recompute the block in backward "
        "(activation checkpointing: less memory, one more block forward per step)",
        False,
    )
    # bookkeeping
    eval_every: int = hidden("validate every N epochs (and after the last one)", 1)
    early_stop: int | None = helped(
        "stop after this many validations in a row without a better best metric (None: off)"
    )
    tensorboard: str | None = helped(
        "write TensorBoard event files to this folder (pip install 'videomae[tensorboard]')"
    )
    log_every: int = helped(
        "average the loss over N steps per metrics row (and per plain line when not a terminal)",
        20,
    )
    save_every: int = 1000
    keep_last: int = 2
    seed: int = 0
    resume: bool = False
    allow_config_change: bool = helped(
        "with --resume: continue although settings that change the run (seed, batch size, "
        "learning rates, data...) differ from the checkpoint's",
        False,
    )
    progress: bool = helped(
        "progress bar in a terminal, a plain line every log_every steps otherwise (-q: off)", True
    )
    device: str | None = helped("cpu / cuda (default: CUDA when available)")

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        """Raise :class:`~videomae.errors.ConfigError` naming the first field out of its range
        (:data:`TRAIN_RANGES`) or not among its choices; recipes extend it with their fields."""
        check_fields(self, TRAIN_RANGES)
        if self.strategy is not None:
            check_choice("strategy", self.strategy, STRATEGIES)
        check_choice("format", self.format, FORMATS)
        check_choice("precision", self.precision, ("auto", *PRECISIONS))
        if self.init is None:
            check_choice("model", self.model, sorted(PRESETS))
        if not isinstance(self.model_overrides, dict):
            raise ConfigError(
                f"model_overrides must be a JSON object, got {self.model_overrides!r}"
            )


def model_overrides(cfg: TrainConfig) -> dict[str, Any]:
    """``cfg.model_overrides`` plus every architecture flag that is set (the flags win)."""
    named = {k: getattr(cfg, k) for k in ARCH_FIELDS if getattr(cfg, k) is not None}
    return {**cfg.model_overrides, **named}


def steps_per_epoch(num_samples: int, batch_size: int, accum_steps: int, world_size: int) -> int:
    """Whole optimizer steps in one pass over ``num_samples``; at least one, or ValueError."""
    global_batch = batch_size * accum_steps * world_size
    steps = num_samples // global_batch
    if steps < 1:
        raise ValueError(
            f"the dataset has {num_samples} samples but one optimizer step needs "
            f"{global_batch} (batch_size {batch_size} x accum_steps {accum_steps} x "
            f"world_size {world_size}); use a smaller batch or more data"
        )
    return steps


@dataclass(frozen=True)
class Schedule:
    """A run's length and learning rates, resolved for its dataset size and process count."""

    steps_per_epoch: int
    total_steps: int
    warmup_steps: int
    lr: float
    min_lr: float
    warmup_lr: float

    def lr_at(self, step: int) -> float:
        """Linear warm-up from ``warmup_lr``, then cosine from ``lr`` to ``min_lr``."""
        return cosine_schedule(
            step,
            base_value=self.lr,
            final_value=self.min_lr,
            total_steps=self.total_steps,
            warmup_steps=self.warmup_steps,
            warmup_start=self.warmup_lr,
        )

    def eval_due(self, step: int, every: int) -> bool:
        """Validate after every ``every``-th epoch and after the run's last whole epoch."""
        if step % self.steps_per_epoch:
            return False
        last = step + self.steps_per_epoch > self.total_steps
        return last or (step // self.steps_per_epoch) % every == 0


def check_config(cfg: TrainConfig) -> None:
    """Validate ``cfg`` again (fields may have been changed since it was built)."""
    cfg.validate()


def check_resume(saved: Any, cfg: TrainConfig, checkpoint: Any) -> None:
    """Refuse to resume ``checkpoint`` (whose stored config is ``saved``) with settings that change
    the run, unless ``cfg.allow_config_change``; the message lists each differing setting."""
    if not isinstance(saved, dict) or cfg.allow_config_change:
        return
    now = config_dict(cfg)
    changed = [
        f"{k} {saved[k]!r} -> {now[k]!r}"
        for k in sorted(now)
        if k in saved and k not in RESUME_FREE and saved[k] != now[k]
    ]
    if changed:
        raise ConfigError(
            f"cannot resume {checkpoint}: it was written with different settings "
            f"({'; '.join(changed)}); resume with the checkpoint's settings, or pass "
            "--allow-config-change (allow_config_change=True) to continue anyway"
        )


def resolve_schedule(cfg: TrainConfig, num_samples: int, world_size: int) -> Schedule:
    """Steps and learning rates of ``cfg`` on ``num_samples`` samples over ``world_size`` ranks.

    Without an explicit ``lr``, lr / min_lr / warmup_lr are the configured values times clips
    per step / 256 (clips = samples x ``repeats``, the repeated augmentation), as the original
    release scales them.
    """
    check_config(cfg)
    per_epoch = steps_per_epoch(num_samples, cfg.batch_size, cfg.accum_steps, world_size)
    if cfg.total_steps is not None:
        total = int(cfg.total_steps)
    elif cfg.epochs is not None:
        total = int(cfg.epochs) * per_epoch
    else:
        raise ValueError("set total_steps or epochs in TrainConfig")
    if total < 1:
        raise ValueError(f"total_steps must be >= 1, got {total}")
    if cfg.warmup_steps is not None:
        warmup = int(cfg.warmup_steps)
    else:
        warmup = int(math.ceil(cfg.warmup_epochs * per_epoch))
    clips_per_step = cfg.batch_size * cfg.accum_steps * world_size * cfg.repeats
    factor = 1.0 if cfg.lr is not None else lr_for_batch(1.0, clips_per_step)
    lr = cfg.lr if cfg.lr is not None else lr_for_batch(cfg.base_lr, clips_per_step)
    return Schedule(
        steps_per_epoch=per_epoch,
        total_steps=total,
        warmup_steps=min(warmup, total),
        lr=lr,
        min_lr=cfg.min_lr * factor,
        warmup_lr=cfg.warmup_lr * factor,
    )


def config_dict(cfg: Any) -> dict[str, Any]:
    """A dataclass as plain values the safe checkpoint loader accepts (tuples become lists)."""
    out = {}
    for k, v in asdict(cfg).items():
        if isinstance(v, tuple):
            v = list(v)
        if v is None or isinstance(v, (bool, int, float, str, list, dict)):
            out[k] = v
        else:
            out[k] = str(v)
    return out
