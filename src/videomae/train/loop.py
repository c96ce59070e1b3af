"""The one training loop behind both recipes: set up, step, log, evaluate, checkpoint.

Determinism is designed in, so that a run resumed after SIGKILL ends with the same weights as an
uninterrupted one, and a run on W processes matches one process with the same global batch: the
data order and every sample's RNG depend on positions only (:mod:`videomae.train.data`), the
learning rate is a function of the step (:mod:`videomae.train.config`), and the checkpoint holds
everything else (:mod:`videomae.train.state`).
"""

from __future__ import annotations

import contextlib
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from videomae.runtime import resolve_device
from videomae.train import distributed as D
from videomae.train.best import check_early_stop, export_best, patience_spent, track_best
from videomae.train.config import (
    Schedule,
    TrainConfig,
    check_resume,
    config_dict,
    resolve_schedule,
)
from videomae.train.data import StepSampler, batch_size_of, build_loader, to_device
from videomae.train.interrupt import StopRequest
from videomae.train.memory import prepare_model
from videomae.train.metrics import (
    LossWindow,
    gather_bad_samples,
    plot_loss,
    write_final_logs,
    write_metrics_csv,
)
from videomae.train.optim import build_optimizer
from videomae.train.precision import ModelEMA, autocast_context, resolve_precision
from videomae.train.sharding import clip_gradients, plain_model
from videomae.train.state import (
    RunState,
    Trainables,
    latest_checkpoint,
    load_resumable,
    restore,
    save_checkpoint,
)
from videomae.train.watch import RunWatch

StepFn = Callable[[torch.nn.Module, Any], "torch.Tensor | tuple[torch.Tensor, Mapping[str, Any]]"]
EvalFn = Callable[[torch.nn.Module, int], Mapping[str, float]]
ExportFn = Callable[[torch.nn.Module, Path, Mapping[str, Any]], Any]
ImageFn = Callable[[torch.nn.Module], np.ndarray]


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
    stopped_early: bool = False
    ema_state: dict[str, torch.Tensor] | None = field(default=None, repr=False)

    @property
    def final_loss(self) -> float | None:
        return self.history[-1]["loss"] if self.history else None


@dataclass
class _Run:
    """Everything one call of :func:`train` sets up and then steps through."""

    cfg: TrainConfig
    info: D.DistInfo
    device: torch.device
    precision: str
    schedule: Schedule
    out_dir: Path
    parts: Trainables
    state: RunState
    model: torch.nn.Module  # what the step function sees: DDP- and compile-wrapped as asked
    sampler: StepSampler
    meta: dict[str, Any]  # the "loop" and "config" entries of every checkpoint
    watch: RunWatch
    stopped_early: bool = False


def train(
    model: torch.nn.Module,
    dataset: Any,
    step_fn: StepFn,
    cfg: TrainConfig,
    *,
    collate: Callable[[list[Any]], Any] | None = None,
    eval_fn: EvalFn | None = None,
    export_fn: ExportFn | None = None,
    best_metric: str | None = None,
    optimizer: torch.optim.Optimizer | None = None,
    image_fn: ImageFn | None = None,
    image_every: int = 0,
) -> TrainResult:
    """Train ``model`` on ``dataset`` with ``step_fn(model, batch) -> loss | (loss, metrics)``.

    Works in one process or under ``torchrun`` (call :func:`distributed.init_distributed` first,
    or let this do it). ``eval_fn(model, epoch) -> metrics`` runs on every rank at the end of
    every ``cfg.eval_every``-th epoch and of the last one; with ``best_metric`` set, the best
    value (higher is better) is tracked and ``export_fn(model, out_dir / "best", best_row)`` is
    called on rank 0 when it improves; ``cfg.early_stop`` ends the run after that many
    validations without a better value. With ``cfg.tensorboard``, ``image_fn(model)`` ->
    (H, W, 3) uint8 is logged every ``image_every`` steps. ``cfg`` is stored in every
    checkpoint. Returns a :class:`TrainResult`.
    """
    check_early_stop(cfg.early_stop, eval_fn, best_metric)
    run = _set_up(model, dataset, cfg, optimizer, best_metric)
    pin = run.device.type == "cuda"
    loader = build_loader(
        dataset, run.sampler, seed=cfg.seed, num_workers=cfg.num_workers, pin_memory=pin,
        collate=collate,
    )  # fmt: skip
    last_ckpt = latest_checkpoint(run.out_dir) if run.state.resumed_from else None
    run.model.train()
    with StopRequest() as stop:
        last_ckpt = _steps(
            run, loader, step_fn, eval_fn, export_fn, best_metric, stop, last_ckpt,
            image_fn=image_fn, image_every=image_every,
        )  # fmt: skip
    return _finish(run, last_ckpt)


def _steps(
    run: _Run,
    loader: Any,
    step_fn: StepFn,
    eval_fn: EvalFn | None,
    export_fn: ExportFn | None,
    best_metric: str | None,
    stop: StopRequest,
    last_ckpt: Path | None,
    *,
    image_fn: ImageFn | None = None,
    image_every: int = 0,
) -> Path | None:
    """The optimizer steps: forward/backward per micro-batch, then log, evaluate, checkpoint;
    on SIGINT/SIGTERM the finished step is saved and the run leaves (see train/interrupt.py)."""
    cfg, window = run.cfg, LossWindow(run.device)
    lr = run.schedule.lr
    for i, (batch, skipped) in enumerate(loader):
        run.state.count_skipped(skipped)
        micro = i % cfg.accum_steps
        if micro == 0:
            lr = run.schedule.lr_at(run.state.step)
            _set_lr(run.parts.optimizer, lr)
        _forward_backward(run, step_fn, batch, micro == cfg.accum_steps - 1, window)
        if micro < cfg.accum_steps - 1:
            continue
        grad_norm = _optimizer_step(run)
        window.steps += 1
        step = run.state.step
        if step % cfg.log_every == 0 or step == run.schedule.total_steps:
            _log(run, window, lr, grad_norm)
        _watch_step(run, image_fn, image_every)
        if eval_fn is not None and run.schedule.eval_due(step, cfg.eval_every):
            _evaluate(run, eval_fn, export_fn, best_metric)
            message = patience_spent(run.cfg.early_stop, run.state, run.out_dir / "best")
            if message:
                run.watch.say(message)
            run.stopped_early = bool(message)
        saved = run.stopped_early or step % cfg.save_every == 0 or step == run.schedule.total_steps
        if saved:
            last_ckpt = _checkpoint(run) or last_ckpt
        if run.stopped_early:
            break
        if step < run.schedule.total_steps and stop.agreed():
            if not saved:
                last_ckpt = _checkpoint(run) or last_ckpt
            run.watch.close()
            stop.exit(step, last_ckpt)
    return last_ckpt


# ----------------------------------------------------------------------------- set up


def _watch_step(run: _Run, image_fn: ImageFn | None, every: int) -> None:
    """Advance the progress bar; a TensorBoard picture every ``every`` steps when asked
    (drawn by every rank under FSDP, whose forward gathers weights from all of them)."""
    run.watch.stepped()
    step = run.state.step
    wanted = run.watch.wants_images or (run.cfg.fsdp and run.cfg.tensorboard is not None)
    if image_fn is not None and wanted and step % max(every, 1) == 0:
        run.watch.image("reconstruction", image_fn(run.parts.model), step)


def _set_up(
    model: torch.nn.Module,
    dataset: Any,
    cfg: TrainConfig,
    optimizer: torch.optim.Optimizer | None,
    best_metric: str | None,
) -> _Run:
    """Resolve the run, seed, build optimizer / scaler / EMA, resume, wrap, make the sampler."""
    info = D.init_distributed(device=cfg.device)
    device = resolve_device(cfg.device) if cfg.device else info.device
    precision = resolve_precision(cfg.precision, device)
    out_dir = Path(cfg.out_dir)
    if info.is_main:
        out_dir.mkdir(parents=True, exist_ok=True)
    schedule = resolve_schedule(cfg, len(dataset), info.world_size)
    # Training RNG (dropout, drop path): seeded per rank; data RNG is per sample (SeededDataset).
    torch.manual_seed(cfg.seed + info.rank)
    np.random.seed((cfg.seed + info.rank) % (2**32))
    random.seed(cfg.seed + info.rank)
    base = prepare_model(D.unwrap(model), cfg, info, device, precision, optimizer is not None)
    parts = Trainables(
        model=base,
        optimizer=optimizer or _build_optimizer(base, cfg, schedule),
        scaler=torch.amp.GradScaler(device.type, enabled=precision == "fp16"),
        ema=ModelEMA(base, cfg.ema_decay) if cfg.ema_decay else None,
    )
    state = RunState()
    found = load_resumable(out_dir, cfg.resume, info.is_main)
    if found is not None:
        check_resume(found[1].get("config"), cfg, found[0])
        state = restore(found[1], parts, info, device, schedule.total_steps)
        state.resumed_from = found[0]
    wrapped: torch.nn.Module = base if cfg.fsdp else D.wrap_ddp(base, info)
    if cfg.compile:
        wrapped = torch.compile(wrapped)
    sampler = StepSampler(
        len(dataset),
        batch_size=cfg.batch_size,
        accum_steps=cfg.accum_steps,
        world_size=info.world_size,
        rank=info.rank,
        seed=cfg.seed,
        total_steps=schedule.total_steps,
        start_step=state.step,
    )
    watch = RunWatch(cfg, schedule.total_steps, state.step, info.is_main)
    meta = _checkpoint_meta(cfg, schedule, info.world_size, best_metric)
    return _Run(cfg, info, device, precision, schedule, out_dir, parts, state, wrapped, sampler,
                meta, watch)  # fmt: skip


def _build_optimizer(
    model: torch.nn.Module, cfg: TrainConfig, schedule: Schedule
) -> torch.optim.Optimizer:
    return build_optimizer(
        model,
        lr=schedule.lr,
        weight_decay=cfg.weight_decay,
        betas=tuple(cfg.betas),
        layer_decay=cfg.layer_decay,
    )


def _checkpoint_meta(
    cfg: TrainConfig, schedule: Schedule, world_size: int, best_metric: str | None
) -> dict[str, Any]:
    """The "loop" (config with the resolved schedule) and "config" entries of every checkpoint."""
    resolved = {**config_dict(schedule), "world_size": world_size, "best_metric": best_metric}
    return {"loop": {**config_dict(cfg), **resolved}, "config": config_dict(cfg)}


# ----------------------------------------------------------------------------- one step


def _set_lr(optimizer: torch.optim.Optimizer, lr: float) -> None:
    for group in optimizer.param_groups:
        group["lr"] = lr * group.get("lr_scale", 1.0)


def _unpack(out: Any) -> tuple[torch.Tensor, Mapping[str, Any]]:
    if isinstance(out, tuple):
        loss, extra = out
        return loss, (extra or {})
    return out, {}


def _forward_backward(
    run: _Run, step_fn: StepFn, batch: Any, last_micro: bool, window: LossWindow
) -> None:
    """One micro-batch: loss under autocast, scaled backward (DDP syncs on the last one only)."""
    batch = to_device(batch, run.device)
    model, accum = run.model, run.cfg.accum_steps
    sync_ctx = (
        model.no_sync()
        if run.info.distributed and not last_micro and hasattr(model, "no_sync")
        else contextlib.nullcontext()
    )
    with sync_ctx:
        with autocast_context(run.precision, run.device):
            loss, extra = _unpack(step_fn(model, batch))
        run.parts.scaler.scale(loss.float() / accum).backward()
    window.add(loss, extra, batch_size_of(batch) * run.info.world_size, accum)


def _optimizer_step(run: _Run) -> float | None:
    """Clip (when set), step, zero the gradients, update the EMA; returns the gradient norm."""
    parts, clip = run.parts, run.cfg.clip_grad
    grad_norm = None
    if clip:
        parts.scaler.unscale_(parts.optimizer)
        grad_norm = clip_gradients(parts.model, clip)
    parts.scaler.step(parts.optimizer)
    parts.scaler.update()
    parts.optimizer.zero_grad(set_to_none=True)
    if parts.ema is not None:
        parts.ema.update(parts.model)
    run.state.step += 1
    return grad_norm


# ----------------------------------------------------------------------------- log, evaluate, save


def _log(run: _Run, window: LossWindow, lr: float, grad_norm: float | None) -> None:
    """Average the window into a metrics row, append it, rewrite metrics.csv, reset the window."""
    step = run.state.step
    row = window.row(step, run.sampler.position(step - 1)[0], lr, grad_norm)
    run.state.history.append(row)
    if run.info.is_main:
        write_metrics_csv(run.state.history, run.out_dir / "metrics.csv")
    run.watch.logged(row)
    window.reset()


def _evaluate(
    run: _Run, eval_fn: EvalFn, export_fn: ExportFn | None, best_metric: str | None
) -> None:
    """Validate after an epoch, record the row, export the model when ``best_metric`` improves."""
    state = run.state
    epoch_done = state.step // run.schedule.steps_per_epoch - 1
    run.model.eval()
    with torch.no_grad(), autocast_context(run.precision, run.device):
        metrics = dict(eval_fn(run.parts.model, epoch_done))
    run.model.train()
    eval_row = {"step": state.step, "epoch": epoch_done, **metrics}
    state.eval_history.append(eval_row)
    improved = track_best(state, best_metric, eval_row)
    if run.info.is_main:
        write_metrics_csv(state.eval_history, run.out_dir / "eval_metrics.csv")
        plot_loss(state.history, run.out_dir / "loss.png", state.eval_history)
    run.watch.validated(eval_row, state.best)
    if not improved:
        return
    if export_fn is not None:
        whole = plain_model(run.parts.model, run.info.is_main)  # every rank gathers under FSDP
        if run.info.is_main:
            export_best(run.out_dir / "best", whole, export_fn, state.best)
    D.barrier()


def _checkpoint(run: _Run) -> Path | None:
    """Save the checkpoint of the current step (and metrics.csv) on rank 0; all ranks wait."""
    state = run.state
    position = run.sampler.position(state.step)
    path = save_checkpoint(
        run.out_dir, run.parts, state, position, run.meta, keep_last=run.cfg.keep_last
    )
    if run.info.is_main and state.history:
        write_metrics_csv(state.history, run.out_dir / "metrics.csv")
    D.barrier()
    return path


def _finish(run: _Run, last_ckpt: Path | None) -> TrainResult:
    """Close the bar, merge the ranks' bad files, write the final logs, report the result."""
    state = run.state
    run.watch.close()
    if state.resumed_from is not None and state.step == run.schedule.total_steps:
        last_ckpt = last_ckpt or state.resumed_from
    state.bad_samples = gather_bad_samples(state.bad_samples)
    if run.info.is_main:
        write_final_logs(state.history, state.bad_samples, run.out_dir, state.eval_history)
    ema = run.parts.ema
    return TrainResult(
        out_dir=run.out_dir,
        step=state.step,
        history=state.history,
        eval_history=state.eval_history,
        last_checkpoint=last_ckpt,
        bad_samples=state.bad_samples,
        best=state.best,
        resumed_from=state.resumed_from,
        stopped_early=run.stopped_early,
        ema_state=ema.state if ema else None,
    )
