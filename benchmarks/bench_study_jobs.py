"""How `videomae demo --study` should share the cores, and how long the full study takes.

1. ``--jobs`` (default): two independent pre-trainings of the demo's model (default
   settings, ``--steps`` steps each, on a small pool of the demo's clips) run either in this
   process one after the other with all cores as torch threads (``1 x cores``), or side by
   side in two spawned processes with ``cores // 2`` threads each (``2 x 1`` on 2 cores).
   The two cases alternate (ABBA ...) so load from elsewhere hits both; medians are reported
   with the ratio (1 x cores time / 2 processes time: above 1 means processes win).
2. ``--estimate``: one default pre-training cell and one fine-tuning cell timed with one
   thread at two step counts; the slope is the time per step without the fixed costs
   (start, saving, plots). The full study's time follows from the plan's cell counts, with
   the cells spread over 2 processes on 2 cores.

Results are printed and appended to benchmarks/results/study_jobs.jsonl.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import os
import statistics
import tempfile
import time
from pathlib import Path

import torch
from common import write_result  # benchmarks/ is the script's folder

from videomae.demo_recipe import SETTINGS, generate_data
from videomae.study.cells import plan_study, study_settings
from videomae.study.jobs import Job, available_cores, run_jobs


def _data(tmp: Path) -> dict[str, Path]:
    small = dataclasses.replace(
        SETTINGS["default"], num_unlabeled=256, num_train=64, num_val=0, num_test=16
    )
    return generate_data(tmp / "data", small, seed=0, workers=2)


def _job(kind: str, tmp: Path, data: dict, steps: int, tag: str, init: str | None = None) -> Job:
    s = dataclasses.replace(
        SETTINGS["default"], pretrain_steps=steps, pretrain_warmup=min(10, steps - 1),
        finetune_steps=steps, finetune_warmup=min(10, steps - 1),
    )  # fmt: skip
    paths = {k: str(data[k]) for k in ("root", "unlabeled", "train", "test", "labels")}
    return Job(kind, tag, 0, s, str(tmp / tag), paths, init, workers=0, progress=False)


def _timed(jobs: list[Job], parallel: int) -> tuple[float, dict]:
    start = time.perf_counter()
    results = run_jobs(jobs, parallel)
    return time.perf_counter() - start, results


def bench_jobs(tmp: Path, data: dict, steps: int, rounds: int) -> dict:
    times: dict[str, list[float]] = {"1 x cores": [], "2 processes": []}
    order = ["1 x cores", "2 processes"]
    for r in range(rounds):
        for case in order if r % 2 == 0 else order[::-1]:
            parallel = 1 if case == "1 x cores" else 2
            jobs = [_job("pretrain", tmp, data, steps, f"r{r}-{parallel}-{i}") for i in (0, 1)]
            seconds, _ = _timed(jobs, parallel)
            times[case].append(seconds)
            print(f"round {r} {case}: {seconds:.1f} s", flush=True)
    med = {k: statistics.median(v) for k, v in times.items()}
    return {"steps": steps, "rounds": rounds, "seconds": times, "median_s": med,
            "ratio_1xcores_over_2proc": med["1 x cores"] / med["2 processes"]}  # fmt: skip


def _slope(tmp: Path, data: dict, kind: str, short: int, long: int, init: str | None) -> dict:
    torch.set_num_threads(1)
    out = {}
    for steps in (short, long):
        job = _job(kind, tmp, data, steps, f"est-{kind}-{steps}", init)
        start = time.perf_counter()
        result = run_jobs([job], 1)[(0, job.key)]
        out[steps] = time.perf_counter() - start
        if kind == "pretrain":
            init = result["model_dir"]
    return {"per_step_s": (out[long] - out[short]) / (long - short), "fixed_s": out[short],
            "model_dir": init, "runs_s": out}  # fmt: skip


def estimate(tmp: Path, data: dict, short: int, long: int) -> dict:
    pre = _slope(tmp, data, "pretrain", short, long, None)
    fine = _slope(tmp, data, "finetune", short, long, pre["model_dir"])
    s = study_settings("default")
    plan = plan_study(s)
    d = s.demo
    # on 2 cores two cells run side by side; every cell pays its step time plus a fixed cost
    work = len(plan.pretrain) * (d.pretrain_steps * pre["per_step_s"] + pre["fixed_s"])
    work += len(plan.finetune) * (d.finetune_steps * fine["per_step_s"] + fine["fixed_s"])
    return {"pretrain": pre, "finetune": fine, "pretrain_cells": len(plan.pretrain),
            "finetune_cells": len(plan.finetune), "estimate_min_on_2_cores": work / 2 / 60}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--estimate", action="store_true", help="the full study's time instead")
    parser.add_argument("--steps", type=int, default=100, help="pre-training steps per job")
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    record = {"benchmark": "study_jobs", "date": dt.datetime.now(dt.timezone.utc).isoformat(),
              "cores": available_cores(), "cpu_capability": torch.backends.cpu.get_cpu_capability(),
              "loadavg_1m_at_start": os.getloadavg()[0]}  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        data = _data(Path(tmp))
        if args.estimate:
            record["estimate"] = estimate(Path(tmp), data, args.steps, 3 * args.steps)
            record["estimate"]["pretrain"].pop("model_dir")
        else:
            record["jobs"] = bench_jobs(Path(tmp), data, args.steps, args.rounds)
    record["loadavg_1m_at_end"] = os.getloadavg()[0]
    print(record)
    write_result("study_jobs", record)


if __name__ == "__main__":
    main()
