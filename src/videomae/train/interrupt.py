"""Ctrl-C (SIGINT) and SIGTERM during training: finish the step, save a checkpoint, then exit.

A preempted cluster job gets SIGTERM; a person presses Ctrl-C. Either way the loop learns of it
through :class:`StopRequest`, saves the checkpoint of the step it has just finished (``--resume``
continues from there exactly), and leaves with the usual exit: ``KeyboardInterrupt`` for SIGINT
(the CLI exits 130), ``SystemExit(143)`` for SIGTERM. A second signal while the checkpoint is
being written takes the default way out at once (the previous checkpoints stay intact).
Data-loader workers ignore both signals (:func:`ignore_in_worker`): the main process decides.
"""

from __future__ import annotations

import logging
import signal
import threading
from pathlib import Path
from types import FrameType
from typing import Any

import torch

from videomae.train import distributed as D

__all__ = ["StopRequest", "ignore_in_worker"]

logger = logging.getLogger("videomae")

SIGNALS = (signal.SIGINT, signal.SIGTERM)


def ignore_in_worker() -> None:
    """In a data-loader worker: let the main process handle Ctrl-C / SIGTERM sent to the group."""
    for sig in SIGNALS:
        signal.signal(sig, signal.SIG_IGN)


class StopRequest:
    """Records SIGINT / SIGTERM while active (a context manager; main thread only, else inert)."""

    def __init__(self) -> None:
        self.signum: int | None = None
        self._previous: dict[int, Any] = {}

    def __enter__(self) -> StopRequest:
        if threading.current_thread() is threading.main_thread():
            for sig in SIGNALS:
                self._previous[sig] = signal.signal(sig, self._handle)
        return self

    def __exit__(self, *exc: object) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)
        self._previous.clear()

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        self.signum = signum
        for sig in SIGNALS:  # a second signal is not caught: it stops the process at once
            signal.signal(
                sig, signal.SIG_DFL if sig != signal.SIGINT else signal.default_int_handler
            )

    def agreed(self) -> bool:
        """Whether any rank was signalled (all ranks must call this at the same step)."""
        if not D.is_initialized():
            return self.signum is not None
        flag = torch.tensor([0.0 if self.signum is None else float(self.signum)])
        total = float(D.all_reduce_sum(flag))
        if total and self.signum is None:
            self.signum = int(signal.SIGTERM)
        return total > 0

    def exit(self, step: int, checkpoint: Path | None) -> None:
        """Report where the run stopped and leave: KeyboardInterrupt or SystemExit(128 + signum)."""
        signum = self.signum or int(signal.SIGTERM)
        if D.get_info().is_main:
            logger.warning(
                "%s received: stopped after step %d, checkpoint %s; continue with --resume",
                signal.Signals(signum).name,
                step,
                checkpoint,
            )
        if signum == signal.SIGINT:
            raise KeyboardInterrupt
        raise SystemExit(128 + signum)
