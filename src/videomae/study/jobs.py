"""The study's units of work (one pre-training, one fine-tuning + test score, one linear probe)
and how a list of independent ones runs: in this process, or in J spawned processes with
``max(1, cores // J)`` torch threads each.

A job is plain data (picklable), so a spawned process needs nothing but the job to run it.
Small models keep two cores busier as two single-threaded processes than as one process with
two threads (docs/demo.md has the measurement).
"""

from __future__ import annotations

import multiprocessing
import os
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from videomae.data.lists import read_samples
from videomae.demo_recipe import (
    DemoSettings,
    common_options,
    evaluate_row,
    finetune_config,
    pretrain_config,
)
from videomae.study.probe import encoder_features, probe_accuracy
from videomae.train.finetune import finetune
from videomae.train.pretrain import pretrain

__all__ = ["Job", "available_cores", "run_job", "run_jobs"]

KINDS = ("pretrain", "finetune", "probe")


@dataclass(frozen=True)
class Job:
    """One unit of work for ``seed``: ``kind`` in KINDS, ``key`` the plan's cell key, ``out``
    its folder, ``paths`` the lists it reads (``root`` of the data, ``unlabeled`` /
    ``train`` / ``test`` / ``labels``) and ``init``, a pre-trained folder (or None)."""

    kind: str
    key: str
    seed: int
    settings: DemoSettings
    out: str
    paths: dict[str, str]
    init: str | None = None
    workers: int = 0
    progress: bool = False


def available_cores() -> int:
    """CPU cores this process may use (its affinity mask where the OS has one)."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


def _common(job: Job) -> dict[str, Any]:
    return common_options(
        job.settings, job.paths["root"], seed=job.seed, progress=job.progress, workers=job.workers
    )


def _pretrain(job: Job) -> dict[str, Any]:
    cfg = pretrain_config(job.settings, Path(job.paths["unlabeled"]), Path(job.out), _common(job))
    return {"model_dir": str(pretrain(cfg))}


def _finetune(job: Job) -> dict[str, Any]:
    data = {k: Path(job.paths[k]) for k in ("train", "labels")}  # no "val": no validation
    cfg = finetune_config(job.settings, data, Path(job.out), _common(job), job.init)
    final = finetune(cfg)
    row = evaluate_row(
        final, Path(job.paths["test"]), job.paths["root"], Path(job.out) / "eval",
        job.settings, job.progress,
    )  # fmt: skip
    return {"top1": float(row["top1"]), "model_dir": str(final)}


def _probe(job: Job) -> dict[str, Any]:
    if job.init is None:
        raise ValueError(f"probe job {job.key!r} needs a pre-trained encoder folder (init)")
    root, rate = job.paths["root"], job.settings.sampling_rate
    train = read_samples(job.paths["train"], root=root)
    test = read_samples(job.paths["test"], root=root)
    tx = encoder_features(job.init, [p for p, _ in train], sampling_rate=rate)
    vx = encoder_features(job.init, [p for p, _ in test], sampling_rate=rate)
    ty = torch.tensor([y for _, y in train])
    vy = torch.tensor([y for _, y in test])
    return {"top1": probe_accuracy(tx, ty, vx, vy, len(job.settings.classes))}


_RUNNERS: dict[str, Callable[[Job], dict[str, Any]]] = {
    "pretrain": _pretrain,
    "finetune": _finetune,
    "probe": _probe,
}


def run_job(job: Job) -> dict[str, Any]:
    """Run ``job``; its result (``model_dir`` and/or ``top1``) with ``seconds`` added."""
    if job.kind not in _RUNNERS:
        raise ValueError(f"unknown job kind {job.kind!r}: expected one of {KINDS}")
    start = time.perf_counter()
    result = _RUNNERS[job.kind](job)
    result["seconds"] = round(time.perf_counter() - start, 1)
    return result


def _set_threads(threads: int) -> None:
    torch.set_num_threads(threads)


def run_jobs(
    jobs: Sequence[Job],
    parallel: int,
    on_done: Callable[[Job, dict[str, Any]], None] | None = None,
) -> dict[tuple[int, str], dict[str, Any]]:
    """Run independent ``jobs``; results by (seed, key). ``parallel`` > 1: that many spawned
    processes (never more than there are jobs), each with ``max(1, cores // parallel)``
    threads; ``on_done`` is called in this process as each job finishes."""
    results: dict[tuple[int, str], dict[str, Any]] = {}

    def done(job: Job, result: dict[str, Any]) -> None:
        results[(job.seed, job.key)] = result
        if on_done is not None:
            on_done(job, result)

    threads = max(1, available_cores() // parallel)
    if parallel <= 1 or len(jobs) <= 1:
        torch.set_num_threads(threads)
        for job in jobs:
            done(job, run_job(job))
        return results
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(
        min(parallel, len(jobs)), mp_context=context, initializer=_set_threads,
        initargs=(threads,),
    ) as pool:  # fmt: skip
        futures = {pool.submit(run_job, job): job for job in jobs}
        for future in as_completed(futures):
            done(futures[future], future.result())
    return results
