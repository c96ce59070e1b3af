"""`videomae demo`: the paper's central finding in miniature, on synthetic action videos.

One run generates labelled clips whose class is visible only in the motion, pre-trains a
small VideoMAE on the unlabeled pool, fine-tunes it on a small labelled set, fine-tunes the
same architecture from scratch on the same set, evaluates both with the multi-view protocol,
and writes a summary table. The settings are data (`SETTINGS`, in
:mod:`videomae.demo_recipe`); `docs/demo.md` records how they were chosen, without looking at
the test split.
"""

from __future__ import annotations

import dataclasses
import json
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from videomae._io import atomic_write_text
from videomae.data.lists import read_samples
from videomae.demo_recipe import (
    SETTINGS,
    DemoSettings,
    common_options,
    evaluate_row,
    finetune_config,
    generate_data,
    pretrain_config,
)
from videomae.inference.reconstruct import reconstruct_video
from videomae.train.finetune import finetune
from videomae.train.pretrain import pretrain
from videomae.viz.curves import plot_comparison, read_rows

__all__ = ["SETTINGS", "DemoSettings", "run_demo", "run_once"]


def _stage(name: str, timings: dict[str, float], fn: Callable[..., Any], *args, **kwargs) -> Any:
    """Run ``fn(*args, **kwargs)`` as a named, timed stage (announced on stdout)."""
    print(f"[demo] {name} ...", flush=True)
    start = time.perf_counter()
    result = fn(*args, **kwargs)
    timings[name] = round(time.perf_counter() - start, 1)
    print(f"[demo] {name} done in {timings[name]:.1f} s", flush=True)
    return result


def run_once(
    out_dir: Path, s: DemoSettings, *, seed: int, progress: bool, workers: int
) -> dict[str, Any]:
    """One seed: data -> pre-train -> two fine-tunings -> evaluation -> pictures."""
    timings: dict[str, float] = {}
    out_dir.mkdir(parents=True, exist_ok=True)
    data = _stage("generate data", timings, generate_data, out_dir / "data", s, seed, workers)
    root = str(out_dir / "data")
    common = common_options(s, root, seed=seed, progress=progress, workers=workers)
    pre_cfg = pretrain_config(s, data["unlabeled"], out_dir / "pretrain", common)
    pretrained = _stage("pre-train", timings, pretrain, pre_cfg)
    rows = {}
    for name, init in (("pretrained", str(pretrained)), ("scratch", None)):
        ft_cfg = finetune_config(s, data, out_dir / f"finetune-{name}", common, init)
        final = _stage(f"fine-tune ({name})", timings, finetune, ft_cfg)
        rows[name] = _stage(
            f"evaluate ({name})", timings, evaluate_row,
            final, data["test"], root, out_dir / f"eval-{name}", s, progress,
        )  # fmt: skip
        rows[name]["model_dir"] = str(final)
    _stage(
        "reconstruction picture", timings, _reconstruction, pretrained, data["test"], root,
        out_dir, s,
    )  # fmt: skip
    return {"seed": seed, "timings_s": timings, "results": rows}


def _reconstruction(
    model_dir: Path, list_file: Path, root: str, out_dir: Path, s: DemoSettings
) -> None:
    path, _ = read_samples(list_file, root=root)[0]
    reconstruct_video(
        model_dir, path, out_dir / "reconstruction.png", mask_ratio=s.mask_ratio,
        mask_kind=s.mask_kind, sampling_rate=1,
    )  # fmt: skip


ROW_NAMES = {"pretrained": "VideoMAE pre-trained", "scratch": "from scratch"}


def _comparison_figure(runs: list[dict[str, Any]], out: Path) -> Path:
    """``comparison.png``: validation top-1 over fine-tuning steps and the test top-1 of both
    rows (every seed; the validation curves come from each run's eval_metrics.csv)."""
    curves, tests = {}, {}
    for name, label in ROW_NAMES.items():
        folders = [Path(r["results"][name]["model_dir"]).parent for r in runs]
        curves[label] = [read_rows(f / "eval_metrics.csv") for f in folders]
        tests[label] = [r["results"][name]["top1"] for r in runs]
    seeds = f"{len(runs)} seed{'s' if len(runs) > 1 else ''}"
    title = f"same model, same labelled videos: pre-trained vs from scratch ({seeds})"
    return plot_comparison(curves, tests, out / "comparison.png", title=title)


def _table(runs: list[dict[str, Any]]) -> str:
    lines = ["", "             top-1 accuracy on the test split (multi-view)"]
    for name in ("pretrained", "scratch"):
        accs = [r["results"][name]["top1"] for r in runs]
        spread = f" ± {statistics.stdev(accs) * 100:.1f}" if len(accs) > 1 else ""
        label = "VideoMAE pre-trained" if name == "pretrained" else "from scratch        "
        lines.append(
            f"  {label}   {statistics.mean(accs) * 100:5.1f}%{spread}   (seeds: {len(accs)})"
        )
    stages = runs[0]["timings_s"]
    lines.append("")
    lines.append(
        "  time per stage (first seed): " + ", ".join(f"{k} {v:.0f} s" for k, v in stages.items())
    )
    return "\n".join(lines)


def run_demo(
    out_dir: str | Path = "demo_out",
    *,
    mode: str = "default",
    seeds: int | list[int] = 1,
    progress: bool = True,
    workers: int = 2,
) -> dict[str, Any]:
    """Run the demo (`mode` quick/default) for one or more seeds; write summary.json."""
    if mode not in SETTINGS:
        raise ValueError(f"mode must be one of {sorted(SETTINGS)}, got {mode!r}")
    settings = SETTINGS[mode]
    seed_list = list(range(seeds)) if isinstance(seeds, int) else list(seeds)
    out = Path(out_dir)
    start = time.perf_counter()
    runs = []
    for seed in seed_list:
        run_dir = out if len(seed_list) == 1 else out / f"seed{seed}"
        runs.append(run_once(run_dir, settings, seed=seed, progress=progress, workers=workers))
    summary = {
        "mode": mode,
        "settings": dataclasses.asdict(settings),
        "runs": runs,
        "total_s": round(time.perf_counter() - start, 1),
    }
    for name in ("pretrained", "scratch"):
        accs = [r["results"][name]["top1"] for r in runs]
        summary[f"{name}_top1_mean"] = statistics.mean(accs)
        summary[f"{name}_top1_std"] = statistics.stdev(accs) if len(accs) > 1 else 0.0
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_text(out / "summary.json", json.dumps(summary, indent=2, default=str) + "\n")
    figure = _comparison_figure(runs, out)
    print(_table(runs))
    print(f"\n  the comparison in one picture: {figure}")
    print(f"\n  total {summary['total_s']:.0f} s; everything is in {out}/")
    return summary
