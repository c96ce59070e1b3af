"""videomae.train.schedule: warm-up + cosine as a function of the step, linear lr scaling."""

from __future__ import annotations

import math

import numpy as np
import pytest

from videomae.train.schedule import cosine_schedule, lr_for_batch


def _reference_table(base, final, total, warmup, start):
    # the original release's table, restated with numpy for comparison
    warm = np.linspace(start, base, warmup) if warmup > 0 else np.array([])
    iters = np.arange(total - warmup)
    cos = final + 0.5 * (base - final) * (1 + np.cos(np.pi * iters / len(iters)))
    return np.concatenate([warm, cos])


@pytest.mark.parametrize("warmup", [0, 1, 5, 40])
def test_matches_original_table(warmup: int) -> None:
    total, base, final, start = 100, 1.5e-3, 1e-6, 1e-7
    table = _reference_table(base, final, total, warmup, start)
    got = [
        cosine_schedule(
            s,
            base_value=base,
            final_value=final,
            total_steps=total,
            warmup_steps=warmup,
            warmup_start=start,
        )
        for s in range(total)
    ]
    np.testing.assert_allclose(got, table, rtol=1e-12, atol=1e-15)


def test_shape_of_curve() -> None:
    kw = dict(base_value=1.0, final_value=0.0, total_steps=110, warmup_steps=10)
    assert cosine_schedule(0, **kw) == 0.0
    assert cosine_schedule(9, **kw) == 1.0  # linspace includes its end point
    assert cosine_schedule(10, **kw) == 1.0
    assert math.isclose(cosine_schedule(60, **kw), 0.5)
    assert cosine_schedule(110, **kw) == 0.0  # past the end: final value
    values = [cosine_schedule(s, **kw) for s in range(10, 110)]
    assert all(a >= b for a, b in zip(values, values[1:]))


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="warmup_steps"):
        cosine_schedule(0, base_value=1, final_value=0, total_steps=5, warmup_steps=6)
    with pytest.raises(ValueError, match="total_steps"):
        cosine_schedule(0, base_value=1, final_value=0, total_steps=0)
    with pytest.raises(ValueError, match="step"):
        cosine_schedule(-1, base_value=1, final_value=0, total_steps=5)


def test_lr_for_batch() -> None:
    assert lr_for_batch(1.5e-4, 256) == pytest.approx(1.5e-4)
    assert lr_for_batch(1.5e-4, 1024) == pytest.approx(6e-4)
    assert lr_for_batch(1e-3, 64, reference=128) == pytest.approx(5e-4)
    with pytest.raises(ValueError, match="global_batch"):
        lr_for_batch(1e-3, 0)
