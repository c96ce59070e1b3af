"""The one multi-view engine: classification, embedding and evaluation all run through it.

Given a model and a list of inputs, :class:`MultiViewRunner` decodes inputs ahead in background
threads (bounded), builds each input's views, packs views of several inputs into batches of
``batch_size``, runs the forward under one precision policy, merges each input's rows once all
its views are scored, and yields one :class:`~videomae.inference.results.Result` per input, in
input order. An input that fails (missing file, undecodable video, bad frames) becomes a Result
with its error; it never stops the others.

Precision policy: the run computes in ``dtype``. Inputs are cast to the weights' dtype; when
the weights already are in ``dtype`` (or ``dtype`` is float32) autocast is off, otherwise the
forward runs under ``torch.autocast(dtype)``. Whether to cast the weights is the loader's
choice (:mod:`videomae.inference.pipeline` casts bf16, and fp16 on accelerators; evaluation
keeps the caller's float32 model and so runs under autocast).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any

import torch
from tqdm.auto import tqdm

from videomae.errors import InputError
from videomae.inference.results import Result, name_of
from videomae.limits import BATCH, WORKERS, check_range

__all__ = [
    "MultiViewRunner",
    "MultiViewTask",
    "decode_ahead",
    "default_batch_size",
    "default_num_workers",
    "precision_context",
    "weights_dtype",
]


def default_batch_size(device: torch.device | str) -> int:
    """Views per forward pass when none is given: 1 on CPU, 8 on accelerators.

    On CPU a batch is no faster per view; it only holds more activations and delays the first
    result. A GPU needs batches to fill it. Measurements: docs/performance.md.
    """
    return 1 if torch.device(device).type == "cpu" else 8


def default_num_workers(device: torch.device | str) -> int:
    """Decoding threads when none are given: 0 (inline) on CPU, 2 on accelerators.

    On CPU the model's forward already keeps every core busy, and FFmpeg decodes with its own
    threads, so decoding ahead only competes for the same cores and holds decoded videos in
    memory. Next to a GPU the threads decode while the device computes. Measurements:
    docs/performance.md.
    """
    return 0 if torch.device(device).type == "cpu" else 2


# ---------------------------------------------------------------------------------------------
# Precision


def weights_dtype(model: torch.nn.Module) -> torch.dtype:
    """The dtype of the model's first parameter (float32 for a model without any)."""
    for p in model.parameters():
        return p.dtype
    return torch.float32


def precision_context(
    weights: torch.dtype, dtype: torch.dtype, device: torch.device
) -> AbstractContextManager:
    """Autocast to ``dtype`` unless the weights already are in it (or ``dtype`` is float32)."""
    if dtype == torch.float32 or weights == dtype:
        return torch.autocast(device.type, enabled=False)
    return torch.autocast(device.type, dtype=dtype)


# ---------------------------------------------------------------------------------------------
# Decoding ahead


def decode_ahead(
    items: Sequence[Any], build: Callable[[Any], Any], *, workers: int, ahead: int
) -> Iterator[tuple[Any, BaseException | None]]:
    """``(build(item), None)`` or ``(None, exception)`` per item, in order.

    With ``workers`` > 0 (and more than one item) up to ``ahead`` items are built in background
    threads while the caller consumes earlier ones; 0 builds inline.
    """

    def job(item: Any) -> tuple[Any, BaseException | None]:
        try:
            return build(item), None
        except Exception as exc:  # noqa: BLE001 - every per-input failure is reported
            return None, exc

    if workers == 0 or len(items) == 1:
        for item in items:
            yield job(item)
        return
    with ThreadPoolExecutor(workers, thread_name_prefix="videomae-decode") as pool:
        queue: deque[Future] = deque()
        pending = iter(items)
        for item in pending:
            queue.append(pool.submit(job, item))
            if len(queue) >= ahead:
                break
        while queue:
            result = queue.popleft().result()
            nxt = next(pending, None)
            if nxt is not None:
                queue.append(pool.submit(job, nxt))
            yield result


# ---------------------------------------------------------------------------------------------
# Batching across inputs


@dataclass(frozen=True)
class MultiViewTask:
    """What a run computes.

    ``views``: one input -> its (V, T, C, S, S) views; ``forward``: a (B, T, C, S, S) batch ->
    (B, ...) rows (called on the device, under the run's precision); ``merge``: the (V, ...)
    rows of one input -> its result; ``views_per_input``: V, the same for every input.
    """

    views: Callable[[Any], torch.Tensor]
    forward: Callable[[torch.Tensor], torch.Tensor]
    merge: Callable[[torch.Tensor], Any]
    views_per_input: int


class _ViewBatches:
    """Views of several inputs waiting for a forward pass, and the rows of unfinished inputs."""

    def __init__(self, task: MultiViewTask, batch_size: int, run: Callable[[torch.Tensor], Any]):
        self.task = task
        self.batch_size = batch_size
        self.run = run  # (B, T, C, S, S) -> (B, ...) float32 rows on the CPU
        self.views: list[torch.Tensor] = []
        self.owners: list[int] = []
        self.rows: dict[int, list[torch.Tensor]] = {}

    def add(self, owner: int, views: torch.Tensor) -> list[tuple[int, Any]]:
        """Queue one input's views; run every full batch; -> the inputs now complete."""
        self.views.extend(views.unbind(0))
        self.owners.extend([owner] * views.shape[0])
        done: list[tuple[int, Any]] = []
        while len(self.views) >= self.batch_size:
            done += self._run_batch(self.batch_size)
        return done

    def flush(self) -> list[tuple[int, Any]]:
        """Run what is left in smaller batches; -> the inputs now complete."""
        done: list[tuple[int, Any]] = []
        while self.views:
            done += self._run_batch(min(self.batch_size, len(self.views)))
        return done

    def _run_batch(self, n: int) -> list[tuple[int, Any]]:
        batch = torch.stack(self.views[:n])  # (n, T, C, S, S)
        owners = self.owners[:n]
        del self.views[:n], self.owners[:n]
        done: list[tuple[int, Any]] = []
        for owner, row in zip(owners, self.run(batch)):
            self.rows.setdefault(owner, []).append(row)
            if len(self.rows[owner]) == self.task.views_per_input:
                done.append((owner, self.task.merge(torch.stack(self.rows.pop(owner)))))
        return done


class _InOrder:
    """Results that complete out of order, released in input order."""

    def __init__(self) -> None:
        self.done: dict[int, Result] = {}
        self.next = 0

    def put(self, result: Result) -> None:
        self.done[result.index] = result

    def ready(self) -> Iterator[Result]:
        while self.next in self.done:
            result = self.done.pop(self.next)
            self.next += 1
            yield result


# ---------------------------------------------------------------------------------------------
# The runner


class MultiViewRunner:
    """Runs a :class:`MultiViewTask` over many inputs with ``model`` on ``device``.

    ``batch_size`` counts views (default :func:`default_batch_size`); ``num_workers`` decoding
    threads, 0 = inline (default :func:`default_num_workers`); ``prefetch`` inputs decoded
    ahead (default twice the workers, at least 2); ``dtype`` the compute precision (see the
    module doc); ``progress``: a bar, None = only for more than one input.
    """

    def __init__(
        self,
        model: torch.nn.Module,
        *,
        device: torch.device,
        dtype: torch.dtype = torch.float32,
        batch_size: int | None = None,
        num_workers: int | None = None,
        prefetch: int | None = None,
        progress: bool | None = None,
    ) -> None:
        batch_size = default_batch_size(device) if batch_size is None else batch_size
        num_workers = default_num_workers(device) if num_workers is None else num_workers
        check_range("batch_size", batch_size, BATCH, InputError)
        check_range("num_workers (0 decodes inline)", num_workers, WORKERS, InputError)
        self.model = model
        self.device = torch.device(device)
        self.dtype = dtype
        self.batch_size = int(batch_size)
        self.num_workers = int(num_workers)
        self.prefetch = max(2, 2 * self.num_workers) if prefetch is None else int(prefetch)
        self.progress = progress

    def forward_rows(
        self, forward: Callable[[torch.Tensor], torch.Tensor], batch: torch.Tensor
    ) -> torch.Tensor:
        """Run ``forward`` on a CPU batch under the precision policy -> float32 rows on the CPU."""
        weights = weights_dtype(self.model)
        batch = batch.to(self.device, dtype=weights, non_blocking=True)
        with torch.inference_mode(), precision_context(weights, self.dtype, self.device):
            rows = forward(batch)
        if rows.shape[0] != batch.shape[0]:
            raise ValueError(
                f"the model returned {tuple(rows.shape)} for a batch of {batch.shape[0]} views"
            )
        return rows.float().cpu()

    def run(
        self,
        items: Sequence[Any],
        task: MultiViewTask,
        *,
        names: Sequence[str] | None = None,
        desc: str = "",
    ) -> Iterator[Result]:
        """One :class:`Result` per item, in order, each as soon as it and those before are done.

        ``Result.value`` is ``task.merge`` of the item's rows; a failed item has ``value=None``
        and the exception in ``error``. ``names`` default to :func:`name_of`.
        """
        names = list(names) if names is not None else [name_of(x, i) for i, x in enumerate(items)]
        show = len(items) > 1 if self.progress is None else self.progress
        bar = tqdm(total=len(items), disable=not show, unit="video", desc=desc)
        was_training = self.model.training
        self.model.eval()
        failed = 0
        try:
            for result in self._results(items, task, names):
                if not result.ok:
                    failed += 1
                    bar.set_postfix(failed=failed, refresh=False)
                bar.update(1)
                yield result
        finally:
            bar.close()
            self.model.train(was_training)

    def _results(
        self, items: Sequence[Any], task: MultiViewTask, names: Sequence[str]
    ) -> Iterator[Result]:
        batches = _ViewBatches(task, self.batch_size, lambda b: self.forward_rows(task.forward, b))
        ordered = _InOrder()
        decoded = decode_ahead(items, task.views, workers=self.num_workers, ahead=self.prefetch)
        for i, (views, error) in enumerate(decoded):
            if views is None:
                ordered.put(Result(i, names[i], None, error))
            else:
                if views.shape[0] != task.views_per_input:
                    raise ValueError(
                        f"{names[i]}: got {views.shape[0]} views, expected {task.views_per_input}"
                    )
                for owner, value in batches.add(i, views):
                    ordered.put(Result(owner, names[owner], value))
            yield from ordered.ready()
        for owner, value in batches.flush():
            ordered.put(Result(owner, names[owner], value))
        yield from ordered.ready()
