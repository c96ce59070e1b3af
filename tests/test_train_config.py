"""videomae.train.config: the one run config resolves steps and batch-scaled learning rates."""

from __future__ import annotations

import pytest

from videomae.train.config import TrainConfig, resolve_schedule


def test_schedule_scales_lr_by_clips_per_step_and_counts_warmup_in_epochs() -> None:
    cfg = TrainConfig(epochs=3, warmup_epochs=1.5, batch_size=4, accum_steps=2, repeats=2)
    s = resolve_schedule(cfg, num_samples=50, world_size=2)  # 16 samples per step
    assert (s.steps_per_epoch, s.total_steps, s.warmup_steps) == (3, 9, 5)
    assert s.lr == cfg.base_lr * 32 / 256
    assert s.min_lr == cfg.min_lr * (1.0 * 32 / 256)
    assert s.lr_at(0) == s.warmup_lr and s.lr_at(4) == s.lr and s.lr_at(9) == s.min_lr


def test_explicit_lr_and_total_steps_win() -> None:
    cfg = TrainConfig(lr=0.1, total_steps=7, warmup_steps=20, batch_size=2)
    s = resolve_schedule(cfg, num_samples=10, world_size=1)
    assert (s.lr, s.min_lr, s.total_steps, s.warmup_steps) == (0.1, cfg.min_lr, 7, 7)


def test_checks_run_before_the_dataset_is_needed() -> None:
    with pytest.raises(ValueError, match="one optimizer step needs 8"):
        resolve_schedule(TrainConfig(batch_size=4), num_samples=5, world_size=2)
    with pytest.raises(ValueError, match="eval_every"):
        resolve_schedule(TrainConfig(eval_every=0), num_samples=100, world_size=1)
