"""Mask generators in videomae.masking: counts, structure, seeding, statistics, dual masking."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from videomae.errors import InputError, VideoMAEError
from videomae.masking import (
    make_mask,
    num_masked,
    random_mask,
    running_cell_mask,
    tube_mask,
)


def _gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def test_tube_counts_and_structure() -> None:
    t, h, w = 8, 14, 14
    m = tube_mask(5, (t, h, w), 0.9, generator=_gen(0))
    assert m.shape == (5, t * h * w) and m.dtype == torch.bool
    per_slice = round(0.9 * h * w)
    assert m.sum(dim=1).tolist() == [per_slice * t] * 5
    grid = m.view(5, t, h * w)
    # the same spatial mask in every temporal slice
    assert torch.equal(grid, grid[:, :1].expand_as(grid))
    assert grid.sum(dim=2).eq(per_slice).all()


def test_random_counts_and_not_tube() -> None:
    m = random_mask(4, 8 * 14 * 14, 0.9, generator=_gen(1))
    assert m.sum(dim=1).tolist() == [round(0.9 * 8 * 14 * 14)] * 4
    grid = m.view(4, 8, 196)
    assert not torch.equal(grid, grid[:, :1].expand_as(grid))


@settings(max_examples=40, deadline=None)
@given(
    b=st.integers(1, 4),
    t=st.integers(1, 4),
    h=st.integers(1, 6),
    w=st.integers(1, 6),
    ratio=st.floats(0.0, 0.99),
    seed=st.integers(0, 2**31),
)
def test_counts_property(b: int, t: int, h: int, w: int, ratio: float, seed: int) -> None:
    tube = tube_mask(b, (t, h, w), ratio, generator=_gen(seed))
    assert tube.shape == (b, t * h * w)
    assert tube.sum(dim=1).eq(round(ratio * h * w) * t).all()
    rnd = random_mask(b, t * h * w, ratio, generator=_gen(seed))
    assert rnd.sum(dim=1).eq(round(ratio * t * h * w)).all()


def test_determinism_and_samples_differ() -> None:
    a = tube_mask(4, (2, 8, 8), 0.75, generator=_gen(123))
    b = tube_mask(4, (2, 8, 8), 0.75, generator=_gen(123))
    c = tube_mask(4, (2, 8, 8), 0.75, generator=_gen(124))
    assert torch.equal(a, b)
    assert not torch.equal(a, c)
    # different samples of one batch get different masks
    assert len({tuple(row.tolist()) for row in a}) == 4
    r1 = random_mask(3, 64, 0.5, generator=_gen(5))
    assert torch.equal(r1, random_mask(3, 64, 0.5, generator=_gen(5)))
    assert not torch.equal(r1[0], r1[1])


def test_each_position_masked_with_ratio_frequency() -> None:
    draws, ratio, grid = 4000, 0.75, (2, 4, 4)
    tube = tube_mask(draws, grid, ratio, generator=_gen(7)).float()
    freq = tube.mean(dim=0)  # (N,)
    # binomial std at p=0.75, n=4000 is ~0.007: 0.03 is > 4 sigma, still catches a biased sampler
    assert (freq - ratio).abs().max() < 0.03
    rnd = random_mask(draws, 32, ratio, generator=_gen(8)).float()
    assert (rnd.mean(dim=0) - ratio).abs().max() < 0.03


def test_frequency_check_can_fail() -> None:
    # a biased "mask" (always the first k positions) must violate the tolerance used above
    biased = torch.zeros(100, 16)
    biased[:, :12] = 1
    assert (biased.mean(dim=0) - 0.75).abs().max() >= 0.03


def test_device_argument_respected() -> None:
    assert tube_mask(2, (1, 2, 2), 0.5, device="meta").device.type == "meta"
    assert random_mask(2, 4, 0.5, device="cpu").device.type == "cpu"
    assert running_cell_mask(1, (2, 2, 2), device=torch.device("cpu")).device.type == "cpu"
    # a CPU generator still serves another target device (drawn on CPU, then moved)
    m = tube_mask(2, (1, 2, 2), 0.5, generator=_gen(0), device="meta")
    assert m.device.type == "meta"


@pytest.mark.parametrize("ratio", [-0.1, 1.0, 1.5])
def test_bad_ratio_raises(ratio: float) -> None:
    with pytest.raises(ValueError, match="ratio"):
        tube_mask(1, (1, 4, 4), ratio)
    with pytest.raises(ValueError, match="ratio"):
        random_mask(1, 16, ratio)
    with pytest.raises(ValueError, match="ratio"):
        num_masked(16, ratio)


def test_bad_grid_and_kind() -> None:
    with pytest.raises(ValueError, match="grid"):
        tube_mask(1, (0, 4, 4), 0.5)
    with pytest.raises(ValueError, match="'tube' or 'random'"):
        make_mask("block", 1, (1, 4, 4), 0.5)  # type: ignore[arg-type]


def test_make_mask_dispatch() -> None:
    assert torch.equal(
        make_mask("tube", 2, (2, 4, 4), 0.5, generator=_gen(3)),
        tube_mask(2, (2, 4, 4), 0.5, generator=_gen(3)),
    )
    assert torch.equal(
        make_mask("random", 2, (2, 4, 4), 0.5, generator=_gen(3)),
        random_mask(2, 32, 0.5, generator=_gen(3)),
    )


def test_running_cell_pattern_matches_v2() -> None:
    t, h, w = 4, 4, 6
    m = running_cell_mask(64, (t, h, w), 0.5, generator=_gen(0)).view(64, t, h, w)
    # half of every slice is reconstructed
    assert m.sum(dim=(2, 3)).eq(h * w // 2).all()
    # every slice is the 2x2 cell tiled over the frame
    cell = m[:, :, :2, :2]
    assert torch.equal(m, cell.repeat(1, 1, h // 2, w // 2))
    # V2 queue [drop, drop, keep, keep] read at (slot + ptr + i + 1) % 4; find each sample's ptr
    slots = torch.arange(4)
    seen = set()
    for sample in m:
        matches = []
        for ptr in range(4):
            want = torch.stack([((slots + ptr + i + 1) % 4) >= 2 for i in range(t)])
            if torch.equal(sample[:, :2, :2].reshape(t, 4), want):
                matches.append(ptr)
        assert len(matches) == 1
        seen.add(matches[0])
    assert seen == {0, 1, 2, 3}  # all four phases occur over 64 samples


def test_running_cell_checks() -> None:
    with pytest.raises(ValueError, match="even"):
        running_cell_mask(1, (2, 3, 4))
    with pytest.raises(ValueError, match="keep_ratio"):
        running_cell_mask(1, (2, 4, 4), keep_ratio=0.6)
    assert running_cell_mask(1, (4, 2, 2), keep_ratio=0.25).sum() == 4


_ANY = st.one_of(
    st.integers(min_value=-3, max_value=12),
    st.integers(min_value=-(2**62), max_value=2**62),
    st.floats(allow_nan=True, allow_infinity=True),
    st.none(),
    st.text(max_size=3),
    st.booleans(),
)
_GRIDS = st.one_of(
    st.tuples(st.integers(-2, 6), st.integers(-2, 8), st.integers(-2, 8)),
    st.lists(_ANY, max_size=4),
    st.tuples(st.integers(1, 10**6), st.integers(1, 10**6), st.integers(1, 10**6)),
    _ANY,
)


@settings(max_examples=50, deadline=None)
@given(
    kind=st.sampled_from(["tube", "random", "running", "bogus"]),
    batch=_ANY,
    grid=_GRIDS,
    ratio=st.one_of(st.floats(allow_nan=True, allow_infinity=True), _ANY),
)
def test_mask_generators_work_or_raise_input_error(kind, batch, grid, ratio):
    """Any arguments give a valid mask or our InputError (never a raw exception, never a
    huge allocation: sizes are bounded by MAX_TOKENS and MAX_MASK_ELEMENTS)."""
    try:
        if kind == "running":
            mask = running_cell_mask(batch, grid, ratio)
        else:
            mask = make_mask(kind, batch, grid, ratio)
    except VideoMAEError as err:
        assert isinstance(err, InputError)
        return
    t, h, w = (int(g) for g in grid)
    assert mask.dtype == torch.bool and mask.shape == (int(batch), t * h * w)
    if kind != "running":
        assert bool((mask.sum(1) == mask.sum(1)[0]).all())


def test_huge_masks_are_refused_before_allocating():
    with pytest.raises(InputError, match="grid must be"):
        tube_mask(1, (10**4, 10**4, 10**4))
    with pytest.raises(InputError, match="more than"):
        random_mask(10**6, 60000, 0.5)
    with pytest.raises(InputError, match="batch_size must be an integer"):
        random_mask("8", 16, 0.5)
