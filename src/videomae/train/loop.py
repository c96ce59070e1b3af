"""The one training loop behind both recipes (pre-training and fine-tuning).

Determinism is designed in, so that a run resumed after SIGKILL ends with the same weights as an
uninterrupted one, and a run on W processes matches one process with the same global batch:

- the data order is a pure function of (seed, epoch): an epoch-seeded permutation, cut into
  global steps of ``batch_size * accum_steps * world_size`` samples, each rank taking its slice;
  the sampler starts at any saved step;
- every sample is produced under RNG seeded from (seed, epoch, index) (see :class:`SeededDataset`),
  so augmentation and masks depend on the sample's position, not on the worker or the rank;
- the schedule is a function of the step; the checkpoint holds model, optimizer, scaler, EMA,
  every rank's RNG states, the step and the metrics so far.
"""

from __future__ import annotations

import contextlib
import csv
import functools
import io
import math
import random
import time
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset, get_worker_info
from torch.utils.data._utils.collate import default_collate

from videomae._io import atomic_write_text, remove_stale_temp_files
from videomae.runtime import DTYPE_NAMES
from videomae.train import distributed as D
from videomae.train.checkpointing import (
    latest_checkpoint,
    load_training_state,
    rng_state,
    save_training_state,
    set_rng_state,
)

StepFn = Callable[[torch.nn.Module, Any], "torch.Tensor | tuple[torch.Tensor, Mapping[str, Any]]"]
EvalFn = Callable[[torch.nn.Module, int], Mapping[str, float]]

PRECISIONS = DTYPE_NAMES


@dataclass
class TrainLoopConfig:
    """Everything the loop needs; recipes fill it from their own configs.

    ``lr`` is the absolute peak learning rate (already scaled for the batch). One *step* is one
    optimizer update over ``batch_size * accum_steps * world_size`` samples. Give ``total_steps``
    or ``epochs`` (total_steps wins when both are set).
    """

    out_dir: str = "runs/train"
    total_steps: int | None = None
    epochs: int | None = None
    batch_size: int = 8
    accum_steps: int = 1
    lr: float = 1e-3
    min_lr: float = 1e-6
    warmup_lr: float = 1e-6
    warmup_steps: int = 0
    weight_decay: float = 0.05
    betas: tuple[float, float] = (0.9, 0.999)
    layer_decay: float | None = None
    clip_grad: float | None = None
    precision: str = "fp32"
    compile: bool = False
    log_every: int = 10
    save_every: int = 500
    keep_last: int = 2
    seed: int = 0
    num_workers: int = 0
    ema_decay: float | None = None
    resume: bool = False
    progress: bool = True
    best_metric: str | None = None
    eval_every: int = 1
    device: str | None = None


@dataclass
class TrainResult:
    """What a finished (or resumed-and-finished) run reports."""

    out_dir: Path
    step: int
    history: list[dict[str, Any]]
    eval_history: list[dict[str, Any]]
    last_checkpoint: Path | None
    bad_samples: dict[str, dict[str, Any]]
    best: dict[str, Any] | None = None
    resumed_from: Path | None = None
    ema_state: dict[str, torch.Tensor] | None = field(default=None, repr=False)

    @property
    def final_loss(self) -> float | None:
        return self.history[-1]["loss"] if self.history else None


# ----------------------------------------------------------------------------- seeding / data


def sample_seed(seed: int, epoch: int, index: int) -> int:
    """A 63-bit seed that depends only on (seed, epoch, index)."""
    state = np.random.SeedSequence([int(seed) & 0xFFFFFFFF, int(epoch), int(index)])
    words = state.generate_state(2, dtype=np.uint32)
    return (int(words[0]) << 31) ^ int(words[1])


class SeededDataset(Dataset):
    """Wraps a dataset so item ``(epoch, index)`` is produced under RNG seeded from the position.

    If the wrapped dataset has ``getitem_seeded(index, seed)`` it receives the seed; in any case the
    global torch / numpy / python RNGs are seeded for the call (in the main process their previous
    states are restored afterwards, so training RNG is untouched).
    """

    def __init__(self, dataset: Any, seed: int) -> None:
        self.dataset = dataset
        self.seed = int(seed)

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, key: tuple[int, int]) -> Any:
        epoch, index = key
        s = sample_seed(self.seed, epoch, index)
        in_worker = get_worker_info() is not None
        saved = None
        if not in_worker:
            saved = (torch.get_rng_state(), np.random.get_state(), random.getstate())
        try:
            # the CPU generator only: torch.manual_seed would also queue a lazy CUDA seeding that
            # formats a stack trace on every call (half the cost of a cached demo clip)
            torch.default_generator.manual_seed(s)
            np.random.seed(s % (2**32))
            random.seed(s)
            getter = getattr(self.dataset, "getitem_seeded", None)
            return getter(index, s) if getter is not None else self.dataset[index]
        finally:
            if saved is not None:
                torch.set_rng_state(saved[0])
                np.random.set_state(saved[1])
                random.setstate(saved[2])


class StepSampler:
    """Batch sampler over global steps: yields lists of ``(epoch, index)`` keys, one micro-batch each.

    Epoch e uses ``randperm(n)`` seeded from (seed, e), truncated to whole global steps. Global
    step s of the epoch takes samples ``[s*G, (s+1)*G)``; rank r takes the r-th slice of
    ``batch_size * accum_steps`` and cuts it into ``accum_steps`` micro-batches. Iteration starts at
    ``start_step`` and stops at ``total_steps``.
    """

    def __init__(
        self,
        num_samples: int,
        *,
        batch_size: int,
        accum_steps: int,
        world_size: int,
        rank: int,
        seed: int,
        total_steps: int,
        start_step: int = 0,
        shuffle: bool = True,
    ) -> None:
        self.n = int(num_samples)
        self.batch_size, self.accum = int(batch_size), int(accum_steps)
        self.world, self.rank = int(world_size), int(rank)
        self.seed, self.shuffle = int(seed), shuffle
        self.total_steps, self.start_step = int(total_steps), int(start_step)
        self.global_batch = self.batch_size * self.accum * self.world
        self.steps_per_epoch = self.n // self.global_batch
        if self.steps_per_epoch < 1:
            raise ValueError(
                f"the dataset has {self.n} samples but one optimizer step needs "
                f"{self.global_batch} (batch_size {self.batch_size} x accum_steps {self.accum} x "
                f"world_size {self.world}); use a smaller batch or more data"
            )

    def permutation(self, epoch: int) -> torch.Tensor:
        if not self.shuffle:
            return torch.arange(self.n)
        g = torch.Generator().manual_seed((self.seed * 1_000_003 + epoch) % (2**63))
        return torch.randperm(self.n, generator=g)

    def position(self, step: int) -> tuple[int, int]:
        """(epoch, sample index within the epoch) where global step ``step`` starts."""
        return step // self.steps_per_epoch, (step % self.steps_per_epoch) * self.global_batch

    def __len__(self) -> int:
        return max(0, self.total_steps - self.start_step) * self.accum

    def __iter__(self) -> Iterator[list[tuple[int, int]]]:
        perm_epoch, perm = -1, None
        per_rank = self.batch_size * self.accum
        for step in range(self.start_step, self.total_steps):
            epoch, offset = self.position(step)
            if epoch != perm_epoch:
                perm_epoch, perm = epoch, self.permutation(epoch).tolist()
            start = offset + self.rank * per_rank
            mine = perm[start : start + per_rank]
            for m in range(self.accum):
                chunk = mine[m * self.batch_size : (m + 1) * self.batch_size]
                yield [(epoch, i) for i in chunk]


def _eval_due(step: int, steps_per_epoch: int, every: int, total_steps: int) -> bool:
    """Validate after every ``every``-th epoch and after the run's last whole epoch."""
    if step % steps_per_epoch:
        return False
    last = step + steps_per_epoch > total_steps
    return last or (step // steps_per_epoch) % every == 0


def _worker_init(_: int) -> None:
    torch.set_num_threads(1)


def collate_samples(
    items: Sequence[Any], collate: Callable[[list[Any]], Any] | None = None
) -> tuple[Any, list[dict[str, Any]]]:
    """Flatten repeated-augmentation lists, pull out skipped-sample reports, then collate.

    An item is a dict (or any collatable value) or a list of them (several clips of one video);
    dict items may carry ``"_skipped"``: a list of {path, line, reason} for bad files passed over.
    """
    flat: list[Any] = []
    skipped: list[dict[str, Any]] = []
    for item in items:
        for x in item if isinstance(item, list) else [item]:
            if isinstance(x, dict) and "_skipped" in x:
                x = dict(x)
                skipped.extend(x.pop("_skipped"))
            flat.append(x)
    if not flat:
        raise RuntimeError("every sample of a batch was bad; check the data list")
    return (collate or default_collate)(flat), skipped


def _to_device(batch: Any, device: torch.device) -> Any:
    if isinstance(batch, torch.Tensor):
        return batch.to(device, non_blocking=True)
    if isinstance(batch, Mapping):
        return {k: _to_device(v, device) for k, v in batch.items()}
    if isinstance(batch, (list, tuple)):
        return type(batch)(_to_device(v, device) for v in batch)
    return batch


def _batch_size_of(batch: Any) -> int:
    if isinstance(batch, torch.Tensor):
        return int(batch.shape[0])
    if isinstance(batch, Mapping):
        for v in batch.values():
            if isinstance(v, torch.Tensor):
                return int(v.shape[0])
    if isinstance(batch, (list, tuple)) and batch:
        return _batch_size_of(batch[0])
    return 0


# ----------------------------------------------------------------------------- EMA / precision


class ModelEMA:
    """Exponential moving average of a model's floating-point parameters and buffers."""

    def __init__(self, model: torch.nn.Module, decay: float) -> None:
        if not 0.0 < decay < 1.0:
            raise ValueError(f"ema_decay must be in (0, 1), got {decay}")
        self.decay = float(decay)
        self.state = {k: v.detach().clone() for k, v in model.state_dict().items()}

    @torch.no_grad()
    def update(self, model: torch.nn.Module) -> None:
        for k, v in model.state_dict().items():
            e = self.state[k]
            if e.is_floating_point():
                e.lerp_(v.detach().to(e.dtype), 1.0 - self.decay)
            else:
                e.copy_(v)

    def copy_to(self, model: torch.nn.Module) -> None:
        model.load_state_dict(self.state)


def cpu_has_fast_bf16() -> bool:
    """True when this CPU computes bf16 matmuls natively (AVX-512 BF16 or AMX)."""
    try:
        return bool(torch.cpu._is_avx512_bf16_supported() or torch.cpu._is_amx_tile_supported())
    except AttributeError:  # older torch without the probes
        return False


def resolve_precision(precision: str, device: torch.device) -> str:
    """Validate ``precision``; "auto" means bf16 autocast where the hardware has fast bf16
    (CUDA with bf16 support, CPUs with AVX-512 BF16 / AMX), fp32 otherwise."""
    if precision == "auto":
        if device.type == "cuda" and torch.cuda.is_bf16_supported():
            return "bf16"
        if device.type == "cpu" and cpu_has_fast_bf16():
            return "bf16"
        return "fp32"
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {PRECISIONS} or 'auto', got {precision!r}")
    if precision == "fp16" and device.type != "cuda":
        raise ValueError(
            "precision 'fp16' needs CUDA (it uses a gradient scaler); on CPU use 'bf16' or 'fp32'"
        )
    return precision


def autocast_context(precision: str, device: torch.device) -> contextlib.AbstractContextManager:
    if precision == "fp32":
        return contextlib.nullcontext()
    dtype = torch.bfloat16 if precision == "bf16" else torch.float16
    return torch.autocast(device_type=device.type, dtype=dtype)


# ----------------------------------------------------------------------------- outputs


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


def _plot(rows: Sequence[Mapping[str, Any]], path: Path) -> Path | None:
    if not rows:
        return None
    keys = ("loss", "lr") if any("lr" in r for r in rows) else ("loss",)
    try:
        from videomae.viz.curves import plot_curves
    except ImportError:  # pragma: no cover - viz is part of the package
        plot_curves = None
    if plot_curves is not None:
        return plot_curves(list(rows), path, keys=keys)
    import matplotlib  # pragma: no cover

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3))
    ax.plot([r["step"] for r in rows], [r["loss"] for r in rows])
    ax.set_xlabel("step")
    ax.set_ylabel("loss")
    fig.savefig(path)
    plt.close(fig)
    return path


def _config_dict(cfg: Any) -> dict[str, Any]:
    """A dataclass as plain values the safe loader accepts (tuples become lists)."""
    out = {}
    for k, v in asdict(cfg).items():
        if isinstance(v, tuple):
            v = list(v)
        if v is None or isinstance(v, (bool, int, float, str, list, dict)):
            out[k] = v
        else:
            out[k] = str(v)
    return out


# ----------------------------------------------------------------------------- the loop


def _build_optimizer(model: torch.nn.Module, cfg: TrainLoopConfig) -> torch.optim.Optimizer:
    from videomae.train.optim import build_optimizer

    return build_optimizer(
        model,
        lr=cfg.lr,
        weight_decay=cfg.weight_decay,
        betas=tuple(cfg.betas),
        layer_decay=cfg.layer_decay,
    )


def _set_lr(optimizer: torch.optim.Optimizer, lr: float) -> None:
    for group in optimizer.param_groups:
        group["lr"] = lr * group.get("lr_scale", 1.0)


def _unpack(out: Any) -> tuple[torch.Tensor, Mapping[str, Any]]:
    if isinstance(out, tuple):
        loss, extra = out
        return loss, (extra or {})
    return out, {}


def train(
    model: torch.nn.Module,
    dataset: Any,
    step_fn: StepFn,
    cfg: TrainLoopConfig,
    *,
    collate: Callable[[list[Any]], Any] | None = None,
    eval_fn: EvalFn | None = None,
    export_fn: Callable[[torch.nn.Module, Path], Any] | None = None,
    run_config: Mapping[str, Any] | Any | None = None,
    optimizer: torch.optim.Optimizer | None = None,
) -> TrainResult:
    """Train ``model`` on ``dataset`` with ``step_fn(model, batch) -> loss | (loss, metrics)``.

    Works in one process or under ``torchrun`` (call :func:`distributed.init_distributed` first,
    or let this do it). ``eval_fn(model, epoch) -> metrics`` runs on every rank at the end of
    every ``cfg.eval_every``-th epoch and of the last one; with ``cfg.best_metric`` set, the best
    value (higher is better) is tracked and ``export_fn(model, out_dir / "best")`` is called on
    rank 0 when it improves. ``run_config`` (a dataclass or dict) is stored in every checkpoint.
    Returns a :class:`TrainResult`.
    """
    info = D.init_distributed(device=cfg.device)
    device = torch.device(cfg.device) if cfg.device else info.device
    precision = resolve_precision(cfg.precision, device)
    out_dir = Path(cfg.out_dir)
    if info.is_main:
        out_dir.mkdir(parents=True, exist_ok=True)
    if cfg.accum_steps < 1 or cfg.batch_size < 1:
        raise ValueError(
            f"batch_size and accum_steps must be >= 1, got {cfg.batch_size}, {cfg.accum_steps}"
        )
    if cfg.eval_every < 1:
        raise ValueError(
            f"eval_every (epochs between validations) must be >= 1, got {cfg.eval_every}"
        )

    n = len(dataset)
    global_batch = cfg.batch_size * cfg.accum_steps * info.world_size
    steps_per_epoch = n // global_batch
    if steps_per_epoch < 1:
        raise ValueError(
            f"the dataset has {n} samples but one optimizer step needs {global_batch} "
            f"(batch_size {cfg.batch_size} x accum_steps {cfg.accum_steps} x world_size "
            f"{info.world_size}); use a smaller batch or more data"
        )
    if cfg.total_steps is not None:
        total_steps = int(cfg.total_steps)
    elif cfg.epochs is not None:
        total_steps = int(cfg.epochs) * steps_per_epoch
    else:
        raise ValueError("set total_steps or epochs in TrainLoopConfig")
    if total_steps < 1:
        raise ValueError(f"total_steps must be >= 1, got {total_steps}")

    # Training RNG (dropout, drop path): seeded per rank; data RNG is per sample (SeededDataset).
    torch.manual_seed(cfg.seed + info.rank)
    np.random.seed((cfg.seed + info.rank) % (2**32))
    random.seed(cfg.seed + info.rank)

    base = D.unwrap(model)
    base.to(device)
    if optimizer is None:
        optimizer = _build_optimizer(base, cfg)
    scaler = torch.amp.GradScaler(device.type, enabled=precision == "fp16")
    ema = ModelEMA(base, cfg.ema_decay) if cfg.ema_decay else None

    step = 0
    history: list[dict[str, Any]] = []
    eval_history: list[dict[str, Any]] = []
    bad: dict[str, dict[str, Any]] = {}
    best: dict[str, Any] | None = None
    resumed_from = None
    if not cfg.resume and latest_checkpoint(out_dir) is not None:
        raise FileExistsError(
            f"{out_dir} already holds checkpoints ({latest_checkpoint(out_dir).name}); pass "
            "resume=True (--resume) to continue that run, or choose a new out_dir"
        )
    if cfg.resume:
        if info.is_main:
            remove_stale_temp_files(out_dir)  # left by a write that a kill interrupted
        ckpt_path = latest_checkpoint(out_dir)
        if ckpt_path is not None:
            state = load_training_state(ckpt_path, map_location="cpu")
            base.load_state_dict(state["model"])
            optimizer.load_state_dict(state["optimizer"])
            scaler.load_state_dict(state["scaler"])
            if ema is not None and state.get("ema") is not None:
                ema.state = {k: v.to(device) for k, v in state["ema"].items()}
            rngs = state["rng"]
            if len(rngs) != info.world_size:
                warnings.warn(
                    f"checkpoint was written by {len(rngs)} processes, now {info.world_size}; "
                    "the data order is preserved but dropout RNG streams restart",
                    stacklevel=2,
                )
            set_rng_state(rngs[info.rank % len(rngs)])
            step = int(state["step"])
            history = list(state.get("history", []))
            eval_history = list(state.get("eval_history", []))
            bad = dict(state.get("bad_samples", {}))
            best = state.get("best")
            resumed_from = ckpt_path
            old_total = state.get("loop", {}).get("total_steps")
            if old_total is not None and old_total != total_steps:
                warnings.warn(
                    f"resuming a run planned for {old_total} steps with {total_steps}; "
                    "the learning-rate schedule changes",
                    stacklevel=2,
                )

    train_model: torch.nn.Module = D.wrap_ddp(base, info)
    if cfg.compile:
        train_model = torch.compile(train_model)

    sampler = StepSampler(
        n,
        batch_size=cfg.batch_size,
        accum_steps=cfg.accum_steps,
        world_size=info.world_size,
        rank=info.rank,
        seed=cfg.seed,
        total_steps=total_steps,
        start_step=step,
    )
    loader = DataLoader(
        SeededDataset(dataset, cfg.seed),
        batch_sampler=sampler,
        num_workers=cfg.num_workers,
        collate_fn=functools.partial(collate_samples, collate=collate),
        worker_init_fn=_worker_init if cfg.num_workers > 0 else None,
        generator=torch.Generator().manual_seed(cfg.seed),
        pin_memory=device.type == "cuda",
    )

    loop_cfg = {**_config_dict(cfg), "total_steps": total_steps, "world_size": info.world_size}
    if run_config is None:
        run_cfg: dict[str, Any] = {}
    elif isinstance(run_config, Mapping):
        run_cfg = dict(run_config)
    else:
        run_cfg = _config_dict(run_config)

    def save(at_step: int) -> Path | None:
        rngs = [rng_state()]
        if info.distributed:
            gathered: list[Any] = [None] * info.world_size
            torch.distributed.all_gather_object(gathered, rngs[0])
            rngs = gathered
        path = None
        if info.is_main:
            state = {
                "model": {k: v.detach().cpu() for k, v in base.state_dict().items()},
                "optimizer": optimizer.state_dict(),
                "scaler": scaler.state_dict(),
                "ema": {k: v.cpu() for k, v in ema.state.items()} if ema else None,
                "rng": rngs,
                "epoch": sampler.position(at_step)[0],
                "index_in_epoch": sampler.position(at_step)[1],
                "history": history,
                "eval_history": eval_history,
                "bad_samples": bad,
                "best": best,
                "loop": loop_cfg,
                "config": run_cfg,
            }
            path = save_training_state(out_dir, at_step, state, keep_last=cfg.keep_last)
            write_metrics_csv(history, out_dir / "metrics.csv") if history else None
        D.barrier()
        return path

    bar = None
    if cfg.progress and info.is_main:
        from tqdm.auto import tqdm

        bar = tqdm(total=total_steps, initial=step, desc="train", dynamic_ncols=True)

    last_ckpt = latest_checkpoint(out_dir) if resumed_from else None
    window_loss = torch.zeros((), dtype=torch.float64, device=device)
    window_extra: dict[str, float] = {}
    window_steps, window_samples, window_t0 = 0, 0, time.perf_counter()
    micro = 0
    lr = cfg.lr
    train_model.train()
    for batch, skipped in loader:
        for s in skipped:
            key = str(s.get("path"))
            entry = bad.setdefault(key, {**s, "hits": 0})
            entry["hits"] += 1
        if micro == 0:
            lr = cosine_schedule_lr(step, cfg, total_steps)
            _set_lr(optimizer, lr)
        batch = _to_device(batch, device)
        last_micro = micro == cfg.accum_steps - 1
        sync_ctx = (
            train_model.no_sync()
            if info.distributed and not last_micro and hasattr(train_model, "no_sync")
            else contextlib.nullcontext()
        )
        with sync_ctx:
            with autocast_context(precision, device):
                loss, extra = _unpack(step_fn(train_model, batch))
            scaler.scale(loss.float() / cfg.accum_steps).backward()
        window_loss += loss.detach().double() / cfg.accum_steps
        for k, v in extra.items():
            window_extra[k] = window_extra.get(k, 0.0) + float(v) / cfg.accum_steps
        window_samples += _batch_size_of(batch) * info.world_size
        micro += 1
        if not last_micro:
            continue

        micro = 0
        grad_norm = None
        if cfg.clip_grad:
            scaler.unscale_(optimizer)
            grad_norm = float(torch.nn.utils.clip_grad_norm_(base.parameters(), cfg.clip_grad))
        scaler.step(optimizer)
        scaler.update()
        optimizer.zero_grad(set_to_none=True)
        if ema is not None:
            ema.update(base)
        step += 1
        window_steps += 1

        if step % cfg.log_every == 0 or step == total_steps:
            mean_loss = float(D.all_reduce_mean(window_loss / window_steps))
            if not math.isfinite(mean_loss):
                raise FloatingPointError(
                    f"loss is {mean_loss} at step {step}; lower the learning rate, enable "
                    "clip_grad, or use fp32/bf16 instead of fp16"
                )
            elapsed = max(time.perf_counter() - window_t0, 1e-9)
            epoch_now = sampler.position(step - 1)[0]
            row: dict[str, Any] = {
                "step": step,
                "epoch": epoch_now,
                "loss": mean_loss,
                "lr": lr,
                "clips_per_s": window_samples / elapsed,
            }
            if grad_norm is not None:
                row["grad_norm"] = grad_norm
            for k, v in window_extra.items():
                row[k] = float(D.all_reduce_mean(v / window_steps))
            history.append(row)
            if info.is_main:
                write_metrics_csv(history, out_dir / "metrics.csv")
            if bar is not None:
                bar.set_postfix(
                    loss=f"{mean_loss:.4f}", lr=f"{lr:.2e}", clips_s=f"{row['clips_per_s']:.1f}"
                )
            window_loss.zero_()
            window_extra = {}
            window_steps, window_samples, window_t0 = 0, 0, time.perf_counter()
        if bar is not None:
            bar.update(1)

        if eval_fn is not None and _eval_due(step, steps_per_epoch, cfg.eval_every, total_steps):
            epoch_done = step // steps_per_epoch - 1
            train_model.eval()
            with torch.no_grad(), autocast_context(precision, device):
                metrics = dict(eval_fn(base, epoch_done))
            train_model.train()
            eval_row = {"step": step, "epoch": epoch_done, **metrics}
            eval_history.append(eval_row)
            if info.is_main:
                write_metrics_csv(eval_history, out_dir / "eval_metrics.csv")
            if cfg.best_metric and cfg.best_metric in metrics:
                value = float(metrics[cfg.best_metric])
                if best is None or value > best["value"]:
                    best = {"metric": cfg.best_metric, "value": value, **eval_row}
                    if export_fn is not None and info.is_main:
                        export_fn(base, out_dir / "best")
                        atomic_write_text(
                            out_dir / "best" / "best.txt",
                            "".join(f"{k}: {v}\n" for k, v in best.items()),
                        )
                    D.barrier()

        if step % cfg.save_every == 0 or step == total_steps:
            last_ckpt = save(step) or last_ckpt

    if bar is not None:
        bar.close()
    if resumed_from is not None and step == total_steps and last_ckpt is None:
        last_ckpt = resumed_from
    if info.distributed:
        gathered_bad: list[Any] = [None] * info.world_size
        torch.distributed.all_gather_object(gathered_bad, bad)
        merged: dict[str, dict[str, Any]] = {}
        for part in gathered_bad:
            for k, v in part.items():
                if k in merged:
                    merged[k]["hits"] += v["hits"]
                else:
                    merged[k] = dict(v)
        bad = merged
    if info.is_main:
        if history:
            write_metrics_csv(history, out_dir / "metrics.csv")
            try:
                _plot(history, out_dir / "loss.png")
            except Exception as exc:  # a plot must never lose a finished run
                warnings.warn(f"could not plot the loss curve: {exc}", stacklevel=2)
        if bad:
            lines = [
                f"{v.get('path')}\tline {v.get('line')}\t{v.get('reason')}\thits {v['hits']}"
                for v in bad.values()
            ]
            atomic_write_text(out_dir / "bad_samples.tsv", "\n".join(lines) + "\n")
            warnings.warn(
                f"{len(bad)} bad sample file(s) were skipped; see {out_dir / 'bad_samples.tsv'}",
                stacklevel=2,
            )
    return TrainResult(
        out_dir=out_dir,
        step=step,
        history=history,
        eval_history=eval_history,
        last_checkpoint=last_ckpt,
        bad_samples=bad,
        best=best,
        resumed_from=resumed_from,
        ema_state=ema.state if ema else None,
    )


def cosine_schedule_lr(step: int, cfg: TrainLoopConfig, total_steps: int) -> float:
    """The learning rate of ``step``: linear warm-up from ``warmup_lr`` then cosine to ``min_lr``."""
    from videomae.train.schedule import cosine_schedule

    return cosine_schedule(
        step,
        base_value=cfg.lr,
        final_value=cfg.min_lr,
        total_steps=total_steps,
        warmup_steps=min(cfg.warmup_steps, total_steps),
        warmup_start=cfg.warmup_lr,
    )


# ----------------------------------------------------------------------------- generic CLI


def _flag_type(tp: Any) -> tuple[Any, bool]:
    """(inner type, optional) of an annotation such as ``int | None``."""
    import types
    import typing

    args = typing.get_args(tp)
    if typing.get_origin(tp) in (typing.Union, types.UnionType) and type(None) in args:
        inner = [a for a in args if a is not type(None)]
        return (inner[0] if len(inner) == 1 else str), True
    return tp, False


def _none_or(parse: Callable[[str], Any]) -> Callable[[str], Any]:
    def inner(text: str) -> Any:
        return None if text.lower() in ("none", "null", "") else parse(text)

    inner.__name__ = getattr(parse, "__name__", "value")
    return inner


def _parse_bool(text: str) -> bool:
    low = text.lower()
    if low in ("1", "true", "yes", "on"):
        return True
    if low in ("0", "false", "no", "off"):
        return False
    raise ValueError(f"expected a boolean (true/false), got {text!r}")


def add_dataclass_args(parser: Any, cls: type) -> None:
    """One ``--field value`` flag per field of dataclass ``cls`` (bools also take ``--no-field``).

    ``X | None`` fields accept ``none``; tuples take several values; dicts take JSON.
    """
    import argparse
    import dataclasses
    import json
    import typing

    hints = typing.get_type_hints(cls)
    for f in dataclasses.fields(cls):
        tp, optional = _flag_type(hints[f.name])
        default = (
            f.default
            if f.default is not dataclasses.MISSING
            else f.default_factory()  # type: ignore[misc]
            if f.default_factory is not dataclasses.MISSING
            else None
        )
        helptext = f.metadata.get("help", "")
        helptext = f"{helptext} (default: {default})".strip()
        flag = "--" + f.name.replace("_", "-")
        flags = [flag] if flag == "--" + f.name else [flag, "--" + f.name]
        if tp is bool and not optional:
            parser.add_argument(
                *flags,
                dest=f.name,
                action=argparse.BooleanOptionalAction,
                default=default,
                help=helptext,
            )
            continue
        origin = typing.get_origin(tp)
        kwargs: dict[str, Any] = {"dest": f.name, "default": default, "help": helptext}
        if origin is tuple:
            elem = typing.get_args(tp)[0]
            n = len(typing.get_args(tp)) if ... not in typing.get_args(tp) else "+"
            kwargs.update(nargs=n, type=elem, metavar=elem.__name__.upper())
        elif tp is dict or origin is dict:
            kwargs["type"] = json.loads
        else:
            base_t = _parse_bool if tp is bool else tp
            kwargs["type"] = _none_or(base_t) if optional else base_t
        parser.add_argument(*flags, **kwargs)


def dataclass_from_args(cls: type, namespace: Any) -> Any:
    """Build ``cls`` from the parsed flags of :func:`add_dataclass_args` (tuples restored)."""
    import dataclasses

    values = {}
    for f in dataclasses.fields(cls):
        v = getattr(namespace, f.name)
        values[f.name] = tuple(v) if isinstance(v, list) else v
    return cls(**values)
