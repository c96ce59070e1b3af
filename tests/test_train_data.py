"""The data order of a run: step sampler over ranks and steps, per-sample seeding, collation."""

from __future__ import annotations

import pytest
import torch

from videomae.train.data import SeededDataset, StepSampler, collate_samples, sample_seed

# ----------------------------------------------------------------------------- sampler / seeding


@pytest.mark.parametrize("world,accum", [(2, 1), (4, 1), (2, 2)])
def test_sampler_ranks_split_the_single_process_global_batch(world: int, accum: int) -> None:
    n, per_rank = 37, 2
    gb = per_rank * accum * world
    single = StepSampler(
        n, batch_size=gb, accum_steps=1, world_size=1, rank=0, seed=3, total_steps=30
    )
    singles = list(single)
    shards = [
        list(
            StepSampler(
                n,
                batch_size=per_rank,
                accum_steps=accum,
                world_size=world,
                rank=r,
                seed=3,
                total_steps=30,
            )
        )
        for r in range(world)
    ]
    for step, full in enumerate(singles):
        parts = [
            k
            for r in range(world)
            for mb in shards[r][step * accum : (step + 1) * accum]
            for k in mb
        ]
        assert sorted(parts) == sorted(full)
        assert len(set(full)) == gb
    # epochs: steps_per_epoch = 37 // gb; the epoch id advances and the permutation changes
    spe = n // gb
    assert singles[spe][0][0] == 1 and singles[0][0][0] == 0
    assert [i for _, i in singles[0]] != [i for _, i in singles[spe]]


def test_sampler_starts_at_saved_step() -> None:
    full = list(
        StepSampler(20, batch_size=3, accum_steps=1, world_size=1, rank=0, seed=1, total_steps=12)
    )
    tail = list(
        StepSampler(
            20,
            batch_size=3,
            accum_steps=1,
            world_size=1,
            rank=0,
            seed=1,
            total_steps=12,
            start_step=5,
        )
    )
    assert tail == full[5:]


def test_sampler_rejects_a_dataset_smaller_than_one_step() -> None:
    with pytest.raises(ValueError, match="one optimizer step needs 8"):
        StepSampler(5, batch_size=4, accum_steps=1, world_size=2, rank=0, seed=0, total_steps=1)


class _Rand(torch.utils.data.Dataset):
    def __len__(self) -> int:
        return 10

    def __getitem__(self, i: int) -> torch.Tensor:
        return torch.rand(3)


def test_seeded_dataset_depends_on_position_only_and_spares_main_rng() -> None:
    ds = SeededDataset(_Rand(), seed=5)
    torch.manual_seed(0)
    before = torch.get_rng_state()
    a = ds[(1, 4)]
    assert torch.equal(torch.get_rng_state(), before)
    assert torch.equal(a, ds[(1, 4)])
    assert not torch.equal(a, ds[(2, 4)]) and not torch.equal(a, ds[(1, 5)])
    assert sample_seed(5, 1, 4) != sample_seed(6, 1, 4)


def test_collate_flattens_repeats_and_collects_skipped() -> None:
    items = [
        [{"x": torch.zeros(2)}, {"x": torch.ones(2)}],
        [{"x": torch.ones(2), "_skipped": [{"path": "bad.mp4", "line": 3, "reason": "missing"}]}],
    ]
    batch, skipped = collate_samples(items)
    assert batch["x"].shape == (3, 2)
    assert skipped == [{"path": "bad.mp4", "line": 3, "reason": "missing"}]
