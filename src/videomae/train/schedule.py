"""Learning-rate (and other hyper-parameter) schedules as pure functions of the global step.

A function of the step, rather than a precomputed table, resumes exactly: the value at step s
depends on s alone, not on what happened before.
"""

from __future__ import annotations

import math


def cosine_schedule(
    step: int,
    *,
    base_value: float,
    final_value: float,
    total_steps: int,
    warmup_steps: int = 0,
    warmup_start: float = 0.0,
) -> float:
    """Linear warm-up then half-cosine decay, the original release's ``cosine_scheduler``.

    Warm-up: ``warmup_steps`` values evenly spaced from ``warmup_start`` to ``base_value`` with both
    end points included (``np.linspace``), so step ``warmup_steps - 1`` is already ``base_value``.
    Then, with ``i = step - warmup_steps`` and ``L = total_steps - warmup_steps``:
    ``final + 0.5 * (base - final) * (1 + cos(pi * i / L))``. Steps at or after ``total_steps``
    return ``final_value``.
    """
    if total_steps <= 0:
        raise ValueError(f"total_steps must be positive, got {total_steps}")
    if not 0 <= warmup_steps <= total_steps:
        raise ValueError(
            f"warmup_steps must be in [0, total_steps={total_steps}], got {warmup_steps}; "
            "shorten the warm-up or train longer"
        )
    if step < 0:
        raise ValueError(f"step must be >= 0, got {step}")
    if step < warmup_steps:
        if warmup_steps == 1:
            return float(warmup_start)
        frac = step / (warmup_steps - 1)
        return float(warmup_start + (base_value - warmup_start) * frac)
    if step >= total_steps:
        return float(final_value)
    i = step - warmup_steps
    length = total_steps - warmup_steps
    return float(
        final_value + 0.5 * (base_value - final_value) * (1.0 + math.cos(math.pi * i / length))
    )


def lr_for_batch(base_lr: float, global_batch: int, reference: int = 256) -> float:
    """Linear scaling rule: ``base_lr * global_batch / reference`` (the paper's lr definition).

    ``global_batch`` is the per-step batch over all processes and accumulation steps.
    """
    if global_batch <= 0 or reference <= 0:
        raise ValueError(
            f"global_batch and reference must be positive, got {global_batch} and {reference}"
        )
    return float(base_lr) * global_batch / reference
