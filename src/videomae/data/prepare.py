"""``videomae prepare``: re-encode a dataset once into files built for training.

Every input video becomes ``DST/<its path under the root>.mp4`` (H.264, short side scaled down,
a keyframe every ``gop`` frames: :mod:`videomae.video.transcode`), and every input list (or
split, or folder) becomes a list file in DST naming the new files with the same labels, which
``videomae pretrain`` / ``finetune`` / ``evaluate`` read directly.

- Resumable: finished outputs are recorded in ``DST/prepare_manifest.jsonl``
  (:mod:`videomae.data.prepare_manifest`) and skipped by the next run; an output is written
  under a temp name and renamed in when complete, so none is ever half written.
- A file at an output path that this command did not write is refused before any work (unless
  ``force``), so nothing you put in DST is lost.
- A video that fails is reported (its path and why), left out of the lists, and does not stop
  the others. Ctrl-C stops the workers; their temp files are removed.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import sys
import time
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path
from typing import Any

from tqdm.auto import tqdm

from videomae._io import atomic_write_text, remove_stale_temp_files
from videomae.data.prepare_manifest import Manifest, source_stamp
from videomae.data.prepare_plan import LABELS_NAME, MANIFEST_NAME, Plan, list_lines, make_plan
from videomae.errors import InputError, VideoDecodeError
from videomae.video.transcode import EncodeSettings, read_tag, transcode_video

__all__ = ["PrepareResult", "prepare_dataset"]

logger = logging.getLogger("videomae.data.prepare")

# a plain progress line at most this often (seconds) when stderr is not a terminal
_LINE_EVERY = 10.0
_IN_WORKER = False  # set by the pool's initializer


@dataclass
class PrepareResult:
    """What one run did; paths of outputs are relative to ``dst``."""

    dst: Path
    done: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)  # (source, reason)
    lists: list[Path] = field(default_factory=list)
    labels: list[Path] = field(default_factory=list)
    left_out: int = 0  # list entries left out because their video failed

    @property
    def ok(self) -> bool:
        return not self.failed


def _encode_one(task: tuple[str, str, EncodeSettings]) -> tuple[int, int] | str:
    """(frames, bytes) of one re-encode, or the reason it failed (runs in a worker)."""
    source, output, settings = task
    try:
        encoded = transcode_video(source, output, settings)
    except VideoDecodeError as exc:
        return exc.cause  # the caller names the file
    except (InputError, OSError) as exc:
        return str(exc)
    except SystemExit:  # SIGTERM from the parent, after the temp file was removed
        if _IN_WORKER:
            os._exit(1)
        raise
    return encoded.frames, encoded.bytes


def _worker_init(pids: Any) -> None:
    """Workers leave Ctrl-C to the parent; SIGTERM (the parent stopping them) unwinds, so the
    temp file of the video being written is removed."""
    global _IN_WORKER
    _IN_WORKER = True
    signal.signal(signal.SIGINT, signal.SIG_IGN)

    def stop(signum: int, frame: Any) -> None:
        raise SystemExit(1)

    signal.signal(signal.SIGTERM, stop)
    pids.put(os.getpid())


class _Progress:
    """A bar in a terminal, a plain line every few seconds otherwise, nothing when quiet."""

    def __init__(self, total: int, show: bool) -> None:
        self.total, self.count, self.failed = total, 0, 0
        self.t0 = self.last = time.monotonic()
        self.bar = None
        self.lines = show and not sys.stderr.isatty()
        if show and not self.lines:
            self.bar = tqdm(total=total, unit="video", desc="prepare", dynamic_ncols=True)

    def step(self, failed: bool) -> None:
        self.count += 1
        self.failed += failed
        if self.bar is not None:
            self.bar.update(1)
            if failed:
                self.bar.set_postfix(failed=self.failed, refresh=False)
        now = time.monotonic()
        if self.lines and (now - self.last >= _LINE_EVERY or self.count == self.total):
            self.last = now
            eta = (now - self.t0) / self.count * (self.total - self.count)
            print(
                f"prepare {self.count}/{self.total} ({100 * self.count / self.total:.0f}%)  "
                f"failed {self.failed}  eta {eta:.0f} s",
                file=sys.stderr,
                flush=True,
            )

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _check_foreign(plan: Plan, manifest: Manifest, todo: list[Any], force: bool) -> None:
    """Refuse outputs that exist but were not written by prepare (files someone put there)."""
    if force:
        return
    for job in todo:
        out = plan.dst / job.rel
        if out.exists() and read_tag(out) is None and job.rel not in manifest.entries:
            raise InputError(
                f"{out} exists and was not written by videomae prepare; move it away (or pass "
                "--force / force=True to replace it) so that nothing of yours is overwritten"
            )


class _Runner:
    """Runs the jobs that are not finished, in-process or in a process pool."""

    def __init__(
        self,
        plan: Plan,
        manifest: Manifest,
        settings: EncodeSettings,
        report: Callable[[str, str], None],
    ) -> None:
        self.plan, self.manifest, self.settings, self.report = plan, manifest, settings, report
        self.failed_rel: set[str] = set()

    def _finish(self, job: Any, stamp: Any, outcome: Any, result: PrepareResult) -> bool:
        if isinstance(outcome, str):
            result.failed.append((job.source, outcome))
            self.failed_rel.add(job.rel)
            self.report(job.source, outcome)
            return True
        frames, nbytes = outcome
        self.manifest.record(job.rel, job.source, stamp, nbytes, frames)
        result.done.append(job.rel)
        return False

    def run(
        self, todo: list[Any], workers: int, progress: _Progress, result: PrepareResult
    ) -> None:
        tasks = [(job, source_stamp(job.source)) for job in todo]
        if workers <= 1 or len(todo) <= 1:
            for job, stamp in tasks:
                outcome = _encode_one((job.source, str(self.plan.dst / job.rel), self.settings))
                progress.step(self._finish(job, stamp, outcome, result))
            return
        self._pool(tasks, workers, progress, result)

    def _pool(self, tasks: list, workers: int, progress: _Progress, result: PrepareResult) -> None:
        ctx = get_context()
        pids = ctx.SimpleQueue()
        pool = ProcessPoolExecutor(
            workers, mp_context=ctx, initializer=_worker_init, initargs=(pids,)
        )
        pending: dict[Future, tuple] = {}
        queue = list(reversed(tasks))
        try:
            while queue or pending:
                while queue and len(pending) < 2 * workers:
                    job, stamp = queue.pop()
                    task = (job.source, str(self.plan.dst / job.rel), self.settings)
                    pending[pool.submit(_encode_one, task)] = (job, stamp)
                finished, _ = wait(pending, return_when=FIRST_COMPLETED)
                for fut in finished:
                    job, stamp = pending.pop(fut)
                    progress.step(self._finish(job, stamp, fut.result(), result))
        except BaseException:
            self._stop(pool, pids, [job for job, _ in pending.values()])
            raise
        pool.shutdown()

    def _stop(self, pool: ProcessPoolExecutor, pids: Any, running: list[Any]) -> None:
        """Stop the workers at once and remove the temp files of the videos they were writing."""
        pool.shutdown(wait=False, cancel_futures=True)
        while not pids.empty():
            with contextlib.suppress(OSError):  # a worker that already exited
                os.kill(pids.get(), signal.SIGTERM)
        deadline = time.monotonic() + 10
        for job in running:
            folder = (self.plan.dst / job.rel).parent
            while time.monotonic() < deadline and any(folder.glob(f".{Path(job.rel).name}.*.tmp")):
                time.sleep(0.05)
            remove_stale_temp_files(folder)


def _write_lists(plan: Plan, failed: set[str], result: PrepareResult) -> None:
    """One list file per input list; class names in labels.txt (one per list if they differ)."""
    distinct = {tuple(lst.names) for lst in plan.lists if lst.names is not None}
    for lst in plan.lists:
        text, left_out = list_lines(lst, failed)
        result.left_out += left_out
        result.lists.append(atomic_write_text(plan.dst / lst.name, text))
        if lst.names is None:
            continue
        name = LABELS_NAME if len(distinct) == 1 else f"{Path(lst.name).stem}_{LABELS_NAME}"
        path = plan.dst / name
        if path not in result.labels:
            result.labels.append(atomic_write_text(path, "".join(n + "\n" for n in lst.names)))


def prepare_dataset(
    sources: str | os.PathLike | Sequence[str | os.PathLike],
    dst: str | os.PathLike,
    *,
    short_side: int = 320,
    gop: int = 16,
    crf: int = 23,
    preset: str = "veryfast",
    workers: int | None = None,
    fmt: str = "auto",
    root: str | os.PathLike | None = None,
    label_file: str | os.PathLike | None = None,
    force: bool = False,
    progress: bool | None = None,
    on_failure: Callable[[str, str], None] | None = None,
) -> PrepareResult:
    """Re-encode the videos of ``sources`` into ``dst`` and write list files there (see the
    module doc). ``sources``: list files, annotation files (``fmt``, ``root``, ``label_file`` as
    in :func:`~videomae.data.lists.load_samples`), class folders or video folders.
    ``workers`` processes encode (default: ``os.cpu_count()``, at most one per video).
    ``on_failure(source, reason)`` hears of each failed video as it fails (default: a log
    warning). ``progress``: None shows it, False hides it.
    """
    srcs = [sources] if isinstance(sources, (str, os.PathLike)) else list(sources)
    settings = EncodeSettings(short_side, gop, crf, preset).check()
    plan = make_plan(srcs, dst, fmt=fmt, root=root, label_file=label_file)
    manifest = Manifest(plan.dst, MANIFEST_NAME, settings.identity(), force)
    result = PrepareResult(plan.dst)
    todo = []
    for job in plan.jobs:
        if manifest.finished(job.rel, job.source, plan.dst):
            result.skipped.append(job.rel)
        else:
            todo.append(job)
    _check_foreign(plan, manifest, todo, force)
    manifest.start()
    for folder in {(plan.dst / job.rel).parent for job in todo}:
        if folder.is_dir():
            remove_stale_temp_files(folder)  # left by a killed run
    cpus = os.cpu_count() or 1
    workers = max(1, min(cpus if workers is None else workers, len(todo) or 1))
    threads = max(1, cpus // workers)  # the cores left to each worker's encoder
    runner = _Runner(
        plan,
        manifest,
        EncodeSettings(short_side, gop, crf, preset, threads),
        on_failure or (lambda source, reason: logger.warning("%s: %s", source, reason)),
    )
    bar = _Progress(len(todo), progress is not False and len(todo) > 0)
    try:
        runner.run(todo, workers, bar, result)
    finally:
        bar.close()
    _write_lists(plan, runner.failed_rel, result)
    return result
