"""videomae.video.threads: one thread in data-loader workers and for small frames."""

from __future__ import annotations

import torch
from torch.utils.data import DataLoader, Dataset

from videomae.video.threads import thread_plan


class _Plans(Dataset):
    def __len__(self) -> int:
        return 2

    def __getitem__(self, i: int) -> torch.Tensor:
        return torch.tensor(thread_plan(1920, 1080) if i else thread_plan(64, 48))


def test_main_process_threads_only_large_frames() -> None:
    assert thread_plan(64, 48) == (1, 1)
    assert thread_plan(340, 256) == (1, 1)
    assert thread_plan(640, 360) == (1, 1)
    assert thread_plan(1280, 720) == (0, 0)


def test_loader_workers_decode_on_their_own_thread() -> None:
    plans = list(DataLoader(_Plans(), batch_size=None, num_workers=1))
    assert [p.tolist() for p in plans] == [[1, 1], [1, 1]]
