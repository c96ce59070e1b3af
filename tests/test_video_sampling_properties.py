"""Property-based tests of the clip samplers: any arguments either give ``num_clips`` arrays of
``num_frames`` indices inside the video, or raise the package's InputError."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from videomae.errors import InputError
from videomae.limits import MAX_NUM_FRAMES
from videomae.video.sampling import clip_indices, one_clip_indices

FAST = settings(max_examples=150, deadline=None)
COUNTS = st.integers(min_value=-3, max_value=10**7)
FRAMES = st.integers(min_value=-3, max_value=MAX_NUM_FRAMES + 3)
RATES = st.integers(min_value=-2, max_value=64)
CLIPS = st.integers(min_value=-2, max_value=12)
STRATEGIES = st.sampled_from(["dense", "uniform", "bogus", ""])


@FAST
@given(n=COUNTS, t=FRAMES, rate=RATES, clips=CLIPS, strategy=STRATEGIES, train=st.booleans(),
       seed=st.integers(0, 2**32 - 1))  # fmt: skip
def test_clip_indices_work_or_raise_input_error(n, t, rate, clips, strategy, train, seed) -> None:
    rng = np.random.default_rng(seed)
    try:
        groups = clip_indices(
            n, t, strategy=strategy, sampling_rate=rate, num_clips=clips, train=train, rng=rng
        )
    except InputError:
        assert n < 1 or not 1 <= t <= MAX_NUM_FRAMES or clips < 1 or strategy not in (
            "dense", "uniform"
        ) or (strategy == "dense" and rate < 1)  # fmt: skip
        return
    assert len(groups) == clips
    for g in groups:
        assert g.shape == (t,) and g.dtype == np.int64
        assert g.min() >= 0 and g.max() <= n - 1


@FAST
@given(n=COUNTS, t=FRAMES, rate=RATES, clips=CLIPS, idx=st.one_of(st.none(), st.integers(-2, 14)),
       strategy=STRATEGIES, train=st.booleans())  # fmt: skip
def test_one_clip_indices_work_or_raise_input_error(
    n, t, rate, clips, idx, strategy, train
) -> None:
    try:
        g = one_clip_indices(
            n, t, strategy=strategy, sampling_rate=rate, clip_idx=idx, num_clips=clips,
            train=train, rng=np.random.default_rng(0),
        )  # fmt: skip
    except InputError:
        return
    assert g.shape == (t,) and g.min() >= 0 and g.max() <= n - 1
