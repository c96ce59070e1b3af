"""Splitting the frames of a clip across threads.

torch's uint8 antialiased resize runs on one core, so on CPU the frames of a clip are cut
into contiguous parts: the calling thread processes the first part and a shared worker pool
the others. The calling thread is already awake while waking a pool thread costs, most of all
after the cores were idle (measurements in docs/performance.md, "Preprocessing").

The pool belongs to a :class:`FramePool`; the package uses one documented instance,
:data:`frame_pool`. Nothing is started at import: the pool's threads are created on the first
split that needs them, and ``frame_pool.shutdown()`` stops them (the next split starts a new
pool). A forked child forgets its parent's pool and starts its own.
"""

from __future__ import annotations

import os
import threading
import weakref
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import torch

__all__ = ["FramePool", "chunks", "frame_pool", "map_split", "num_workers"]


def num_workers(num_frames: int, device: torch.device) -> int:
    """How many parts to cut ``num_frames`` into: one per torch thread on CPU, else one."""
    if device.type != "cpu" or num_frames < 2:
        return 1
    return max(1, min(torch.get_num_threads(), num_frames))


def chunks(n: int, parts: int) -> list[slice]:
    """``range(n)`` cut into at most ``parts`` contiguous, non-empty, near-equal slices."""
    bounds = [round(i * n / parts) for i in range(parts + 1)]
    return [slice(a, b) for a, b in zip(bounds[:-1], bounds[1:]) if b > a]


class FramePool:
    """A lazily started thread pool that runs the parts of a frame split.

    The pool grows (a new, larger pool replaces it) when a split asks for more workers than it
    has. ``shutdown()`` stops it; a later split starts a fresh one.
    """

    def __init__(self, thread_name_prefix: str = "videomae-resize") -> None:
        self._thread_name_prefix = thread_name_prefix
        self._pool: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()
        self._fork_hook_registered = False

    def executor(self, workers: int) -> ThreadPoolExecutor:
        """The pool, started (or replaced by a larger one) to hold at least ``workers`` threads."""
        with self._lock:
            if self._pool is None or self._pool._max_workers < workers:
                self._register_fork_hook()
                self._pool = ThreadPoolExecutor(
                    max_workers=workers, thread_name_prefix=self._thread_name_prefix
                )
            return self._pool

    def map_split(self, fn: Callable[[slice], Any], n: int, workers: int) -> list[Any]:
        """``fn`` over ``workers`` slices of ``range(n)``, results in order.

        The first slice runs on the calling thread, the others on the pool (none with one
        worker; ``n == 0`` gives one empty slice). When the calling thread's part fails, the
        pool's parts are waited for before its error is raised.
        """
        first, *rest = chunks(n, workers) or [slice(0, n)]
        futures = [self.executor(workers).submit(fn, part) for part in rest]
        try:
            head = fn(first)
        except BaseException:
            for future in futures:
                future.exception()  # wait for the others, but raise the first error
            raise
        return [head, *(future.result() for future in futures)]

    def shutdown(self, wait: bool = True) -> None:
        """Stop the pool's threads (after their queued parts); the next split starts a new pool."""
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=wait)

    def _register_fork_hook(self) -> None:
        # a forked child inherits the pool object but not its threads: it must start a fresh one
        if self._fork_hook_registered or not hasattr(os, "register_at_fork"):
            return
        ref = weakref.ref(self)

        def forget_after_fork() -> None:
            owner = ref()
            if owner is not None:
                owner._pool, owner._lock = None, threading.Lock()

        os.register_at_fork(after_in_child=forget_after_fork)
        self._fork_hook_registered = True


#: The pool the processors and :func:`videomae.processing.ops.resize_short_side` split frames
#: on. Its threads start on first use; ``frame_pool.shutdown()`` stops them.
frame_pool = FramePool()


def map_split(fn: Callable[[slice], Any], n: int, workers: int) -> list[Any]:
    """:meth:`FramePool.map_split` on the shared :data:`frame_pool`."""
    return frame_pool.map_split(fn, n, workers)
