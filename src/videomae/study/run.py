"""`videomae demo --study`: the paper's three findings in miniature, as three tables in
``summary.json`` and one figure, ``study.png``.

Order of work, for every seed at once: (1) the datasets, each generated once per seed
(:mod:`videomae.study.data`); (2) every distinct pre-training of the plan, independent of each
other, so ``jobs`` of them run side by side; (3) every fine-tuning (scored on the test split,
no validation: nothing is selected) and linear probe, again side by side; (4) the tables and
the figure. The plan (:mod:`videomae.study.cells`) holds each piece of work once, however many
tables read it.
"""

from __future__ import annotations

import dataclasses
import json
import time
from pathlib import Path
from typing import Any

from videomae._io import atomic_write_text
from videomae.study.cells import TARGET, StudyPlan, plan_study, study_settings
from videomae.study.data import prepare_data, unlabeled_list
from videomae.study.figure import plot_study
from videomae.study.jobs import Job, run_jobs
from videomae.study.tables import build_tables, format_tables

__all__ = ["STUDY_JOBS", "run_study"]

# runs side by side by default: on 2 cores, 2 processes x 1 thread beat 1 process x 2 threads
# (benchmarks/bench_study_jobs.py, docs/demo.md)
STUDY_JOBS = 2


def _say(text: str) -> None:
    print(f"[study] {text}", flush=True)


def _pretrain_jobs(plan: StudyPlan, data: dict, seed_dir: dict, **opts: Any) -> list[Job]:
    jobs = []
    for seed, paths in data.items():
        for cell in plan.pretrain.values():
            own = paths[cell.data]
            lists = {
                "root": str(own["root"]),
                "unlabeled": str(unlabeled_list(own, cell.num_unlabeled)),
            }
            out = str(seed_dir[seed] / f"pretrain-{cell.key}")
            jobs.append(Job("pretrain", cell.key, seed, cell.settings, out, lists, **opts))
    return jobs


def _downstream_jobs(
    plan: StudyPlan, data: dict, seed_dir: dict, encoders: dict, **opts: Any
) -> list[Job]:
    """Every fine-tuning and probe of every seed; ``encoders[(seed, key)]`` the pre-trained
    folders they start from."""
    jobs = []
    s = plan.data[TARGET]
    for seed, paths in data.items():
        target = paths[TARGET]
        for kind, cells in (("finetune", plan.finetune), ("probe", plan.probe)):
            for cell in cells.values():
                pre = cell.init if kind == "finetune" else cell.encoder
                lists = {
                    "root": str(target["root"]),
                    "train": str(target[f"train-{cell.num_labels}"]),
                    "test": str(target["test"]),
                    "labels": str(target["labels"]),
                }
                init = encoders[(seed, pre)]["model_dir"] if pre else None
                out = str(seed_dir[seed] / cell.key)
                # the demo's step budget at every label count; a batch never exceeds the set
                own = dataclasses.replace(s, finetune_batch=min(s.finetune_batch, cell.num_labels))
                jobs.append(Job(kind, cell.key, seed, own, out, lists, init, **opts))
    return jobs


def _phase(name: str, jobs: list[Job], parallel: int, timings: dict[str, Any]) -> dict:
    """Run one phase's jobs, announcing each as it finishes; record wall and per-job times."""
    _say(f"{name}: {len(jobs)} runs, {min(parallel, max(1, len(jobs)))} at a time ...")
    start = time.perf_counter()
    count = [0]

    def report(job: Job, result: dict[str, Any]) -> None:
        count[0] += 1
        score = f", test top-1 {100 * result['top1']:.1f}%" if "top1" in result else ""
        _say(
            f"  [{count[0]}/{len(jobs)}] seed {job.seed} {job.key}: {result['seconds']:.0f} s{score}"
        )
        timings["per_run"][f"seed{job.seed}/{job.key}"] = result["seconds"]

    results = run_jobs(jobs, parallel, report)
    timings[name] = round(time.perf_counter() - start, 1)
    return results


def _suptitle(plan: StudyPlan, seeds: list[int]) -> str:
    s = plan.data[TARGET]
    m = s.model
    layers = m["num_hidden_layers"]
    model = f"ViT of {layers} layer{'s' if layers > 1 else ''} x {m['hidden_size']} wide"
    clips = f"{s.num_frames} frames of {s.size}x{s.size}"
    n = len(seeds)
    return (
        f"VideoMAE's findings in miniature: synthetic videos ({len(s.classes)} motion classes, "
        f"{clips}), {model}, {n} seed{'s' if n > 1 else ''}, test split of {s.num_test} clips\n"
        f"every encoder pre-trained for {s.pretrain_steps:,} steps of {s.pretrain_batch} clips; "
        f"every fine-tuning {s.finetune_steps} steps"
    )


def _write(out: Path, summary: dict[str, Any]) -> None:
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_text(out / "summary.json", json.dumps(summary, indent=2, default=str) + "\n")


def run_study(
    out_dir: str | Path = "demo_out",
    *,
    mode: str = "default",
    seeds: int | list[int] = 1,
    jobs: int = STUDY_JOBS,
    progress: bool = True,
    workers: int = 2,
) -> dict[str, Any]:
    """Run the study (``mode`` quick/default) for each seed; write summary.json and study.png.

    ``jobs``: independent runs side by side in that many spawned processes; ``workers``:
    data-loading processes of each run and processes that generate the videos.
    """
    st = study_settings(mode)
    plan = plan_study(st)
    seed_list = list(range(seeds)) if isinstance(seeds, int) else list(seeds)
    out = Path(out_dir)
    timings: dict[str, Any] = {"per_run": {}}
    start = time.perf_counter()
    seed_dir = {seed: out / f"seed{seed}" for seed in seed_list}
    _say(f"generate data ({', '.join(plan.data)}) for {len(seed_list)} seed(s) ...")
    data = {seed: prepare_data(seed_dir[seed] / "data", plan, seed, workers) for seed in seed_list}
    timings["generate data"] = round(time.perf_counter() - start, 1)
    opts = {"workers": workers, "progress": progress and jobs <= 1}
    encoders = _phase("pre-training", _pretrain_jobs(plan, data, seed_dir, **opts), jobs, timings)
    down = _downstream_jobs(plan, data, seed_dir, encoders, **opts)
    results = _phase("fine-tuning and probes", down, jobs, timings)
    tables = build_tables(plan.rows, results, seed_list)
    timings["total"] = round(time.perf_counter() - start, 1)
    summary = {
        "study": tables,
        "settings": {"mode": mode, "jobs": jobs, **dataclasses.asdict(st)},
        "timings_s": timings,
        "seeds": seed_list,
    }
    _write(out, summary)
    figure = plot_study(
        tables, out / "study.png", num_classes=plan.num_classes, title=_suptitle(plan, seed_list)
    )
    print(format_tables(tables))
    print(f"\n  the three findings in one picture: {figure}")
    print(f"\n  total {timings['total']:.0f} s; everything is in {out}/")
    return summary
