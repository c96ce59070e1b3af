"""The sample cases of ``bench_data.py``: ours and the original-style datasets, timed two ways.

A :class:`Case` wraps one dataset. ``run_round`` builds the next ``items_per_round`` items in
this process (fresh indices every round, so clip positions, crops and masks vary as in
training); :func:`loader_rate` measures items per second through a ``torch`` DataLoader.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import original_loader
from torch.utils.data import DataLoader

from videomae.data.datasets import VideoClassificationDataset, VideoPretrainDataset
from videomae.data.formats.common import Sample
from videomae.train.data import worker_init

#: items in every dataset (files repeated): more than any run reads, so indices never wrap
DATASET_LENGTH = 100_000


@dataclass
class Case:
    dataset: Any
    items_per_round: int
    next_index: int = 0

    def run_round(self) -> None:
        start = self.next_index
        self.next_index += self.items_per_round
        for i in range(start, self.next_index):
            self.dataset[i]


def _cycled(paths: list[str]) -> list[str]:
    return list(itertools.islice(itertools.cycle(paths), DATASET_LENGTH))


def ours(task: str, paths: list[str], strategy: str, items_per_round: int) -> Case:
    """Our pre-training or fine-tuning (training mode) dataset with its defaults."""
    if task == "pretrain":
        samples = [Sample(p, None, None) for p in _cycled(paths)]
        ds = VideoPretrainDataset(samples, strategy=strategy, flip=strategy == "dense")
    else:
        samples = [Sample(p, 0, None) for p in _cycled(paths)]
        ds = VideoClassificationDataset(
            samples, train=True, strategy=strategy, flip=strategy == "dense"
        )
    return Case(ds, items_per_round)


def original(task: str, paths: list[str], strategy: str, items_per_round: int) -> Case:
    """The original-style dataset (``original_loader.py``) of the same task."""
    cls = (
        original_loader.OriginalPretrainDataset
        if task == "pretrain"
        else original_loader.OriginalFinetuneDataset
    )
    return Case(cls(_cycled(paths), strategy=strategy), items_per_round)


def cpu_timed(fn: Callable[[], Any], sink: list[float]) -> Callable[[], None]:
    """``fn`` that also appends the process CPU time it took (all threads) to ``sink``."""

    def run() -> None:
        start = time.process_time()
        fn()
        sink.append(time.process_time() - start)

    return run


def loader_rate(dataset: Any, batch_size: int, workers: int, batches: int, start: int = 0) -> float:
    """Items per second over ``batches`` batches of a fresh DataLoader, after 2 warm-up batches.

    The two warm-up batches (one per worker with 2 workers) cover the workers' start; the
    timed interval then spans ``batches`` inter-arrival times of the full pipeline.
    """
    loader_rate.calls = getattr(loader_rate, "calls", 0) + 1
    offset = start or loader_rate.calls * (batches + 2) * batch_size
    indices = range(offset, offset + (batches + 2) * batch_size)
    loader = DataLoader(
        dataset, batch_size=batch_size, sampler=indices, num_workers=workers,
        worker_init_fn=worker_init if workers else None,
    )  # fmt: skip
    it = iter(loader)
    for _ in range(2):
        next(it)
    t0 = time.perf_counter()
    for _ in range(batches):
        next(it)
    elapsed = time.perf_counter() - t0
    del it
    return batches * batch_size / elapsed
