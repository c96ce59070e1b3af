"""The data order of a run: per-sample seeding, the step sampler, collation and the loader.

The order is a pure function of (seed, epoch): an epoch-seeded permutation, cut into global
steps of ``batch_size * accum_steps * world_size`` samples, each rank taking its slice; the
sampler starts at any saved step. Every sample is produced under RNG seeded from
(seed, epoch, index) (:class:`SeededDataset`), so augmentation and masks depend on the sample's
position, not on the worker or the rank. Together these make resume and multi-process runs exact.
"""

from __future__ import annotations

import functools
import random
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset, get_worker_info
from torch.utils.data._utils.collate import default_collate

from videomae.train.config import steps_per_epoch
from videomae.train.interrupt import ignore_in_worker


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
            # formats a stack trace on every call
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
        self.steps_per_epoch = steps_per_epoch(self.n, self.batch_size, self.accum, self.world)

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


def worker_init(_: int) -> None:
    """One thread per loader worker (the workers run in parallel already); Ctrl-C and SIGTERM
    sent to the process group are left to the main process, which saves a checkpoint first."""
    torch.set_num_threads(1)
    ignore_in_worker()


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


def build_loader(
    dataset: Any,
    sampler: StepSampler,
    *,
    seed: int,
    num_workers: int,
    pin_memory: bool,
    collate: Callable[[list[Any]], Any] | None = None,
) -> DataLoader:
    """A loader of ``(batch, skipped)`` micro-batches in ``sampler``'s order, seeded per sample."""
    return DataLoader(
        SeededDataset(dataset, seed),
        batch_sampler=sampler,
        num_workers=num_workers,
        collate_fn=functools.partial(collate_samples, collate=collate),
        worker_init_fn=worker_init if num_workers > 0 else None,
        generator=torch.Generator().manual_seed(seed),
        pin_memory=pin_memory,
    )


def to_device(batch: Any, device: torch.device) -> Any:
    """``batch`` (a tensor or nested dicts / lists / tuples of them) moved to ``device``."""
    if isinstance(batch, torch.Tensor):
        return batch.to(device, non_blocking=True)
    if isinstance(batch, Mapping):
        return {k: to_device(v, device) for k, v in batch.items()}
    if isinstance(batch, (list, tuple)):
        return type(batch)(to_device(v, device) for v in batch)
    return batch


def batch_size_of(batch: Any) -> int:
    """The leading dimension of the first tensor found in ``batch`` (0 if none)."""
    if isinstance(batch, torch.Tensor):
        return int(batch.shape[0])
    if isinstance(batch, Mapping):
        for v in batch.values():
            if isinstance(v, torch.Tensor):
                return int(v.shape[0])
    if isinstance(batch, (list, tuple)) and batch:
        return batch_size_of(batch[0])
    return 0
