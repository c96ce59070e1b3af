"""`videomae demo`: the paper's central finding in miniature, on synthetic action videos.

One run generates labelled clips whose class is visible only in the motion, pre-trains a
small VideoMAE on the unlabeled pool, fine-tunes it on a small labelled set, fine-tunes the
same architecture from scratch on the same set, evaluates both with the multi-view protocol,
and writes a summary table. The settings are data (`SETTINGS`); `docs/demo.md` records how
they were chosen, without looking at the test split.
"""

from __future__ import annotations

import dataclasses
import json
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from videomae._io import atomic_write_text
from videomae.data.lists import read_samples
from videomae.data.synthetic import make_dataset
from videomae.evaluate.config import EvalConfig
from videomae.evaluate.protocol import evaluate
from videomae.inference.reconstruct import reconstruct_video
from videomae.modeling.models import VideoMAEForVideoClassification
from videomae.train.finetune import FinetuneConfig, finetune
from videomae.train.pretrain import PretrainConfig, pretrain
from videomae.viz.curves import plot_comparison, read_rows

_DIRECTIONS = ("move_left", "move_right", "move_up", "move_down")


@dataclass(frozen=True)
class DemoSettings:
    """Everything one demo run needs: data, model, and the three recipes' budgets.

    Defaults are the regime chosen in docs/demo.md (on the validation split): 32x32 clips of 8
    frames where the whole scene moves with the action, a 4-layer ViT with 64 tokens, a
    decoder as wide as the encoder, random masking at 75% with raw-pixel targets, 5,000 steps.
    """

    # data (videomae.data.synthetic.make_dataset)
    num_unlabeled: int = 2000
    num_train: int = 200
    num_val: int = 400
    num_test: int = 400
    num_frames: int = 8
    size: int = 32
    fps: int = 8
    classes: tuple[str, ...] = _DIRECTIONS
    style: dict[str, Any] = field(
        default_factory=lambda: {"background": "texture", "background_motion": 1.0}
    )
    # model (the same architecture for both rows)
    model: dict[str, Any] = field(
        default_factory=lambda: {
            "patch_size": 8,
            "tubelet_size": 2,
            "hidden_size": 128,
            "num_hidden_layers": 4,
            "num_attention_heads": 4,
            "intermediate_size": 512,
            "decoder_hidden_size": 128,
            "decoder_num_hidden_layers": 1,
            "decoder_num_attention_heads": 4,
            "decoder_intermediate_size": 512,
            "use_mean_pooling": True,
        }
    )
    # pre-training
    mask_ratio: float = 0.75
    mask_kind: str = "random"
    norm_pix_loss: bool = False
    pretrain_steps: int = 5000
    pretrain_batch: int = 32
    pretrain_lr: float = 1.5e-3
    pretrain_warmup: int = 200
    clip_grad: float | None = 1.0
    # fine-tuning (both rows; layer decay only where there are pre-trained layers to keep)
    finetune_steps: int = 520
    finetune_batch: int = 16
    finetune_lr: float = 1e-3
    finetune_warmup: int = 52
    layer_decay: float | None = 0.75
    # validation (on val, for the curves and the `best` folder) every 10 of the 40 epochs: the
    # test split is scored on the final model, and validating every epoch is costly
    eval_every: int = 10
    # a new head starts at normal(0.02) in both rows; the original recipe's 0.001 scaling is
    # made for pre-trained encoders and holds a scratch model back (docs/demo.md)
    head_init_scale: float = 1.0
    drop_path: float = 0.0
    smoothing: float = 0.1
    mixup: float = 0.0
    cutmix: float = 0.0
    # decoded clips kept in memory per data-loader process (docs/demo.md has the sizes)
    cache_mb: float = 512.0
    # evaluation: each video is exactly one clip of one full frame, so 1 x 1 view
    clips: int = 1
    crops: int = 1
    sampling_rate: int = 1


SETTINGS: dict[str, DemoSettings] = {
    # a few seconds: checks that every stage runs (the test suite uses it); shows nothing
    "quick": DemoSettings(
        num_unlabeled=64,
        num_train=16,
        num_val=16,
        num_test=16,
        pretrain_steps=20,
        pretrain_batch=8,
        pretrain_warmup=4,
        finetune_steps=10,
        finetune_batch=8,
        finetune_warmup=2,
        eval_every=1,
    ),
    "default": DemoSettings(),
}


def _stage(name: str, timings: dict[str, float], fn: Callable[..., Any], *args, **kwargs) -> Any:
    """Run ``fn(*args, **kwargs)`` as a named, timed stage (announced on stdout)."""
    print(f"[demo] {name} ...", flush=True)
    start = time.perf_counter()
    result = fn(*args, **kwargs)
    timings[name] = round(time.perf_counter() - start, 1)
    print(f"[demo] {name} done in {timings[name]:.1f} s", flush=True)
    return result


def _generate_data(out_dir: Path, s: DemoSettings, seed: int, workers: int) -> dict[str, Path]:
    """The synthetic videos and list files under ``out_dir/data``."""
    return make_dataset(
        out_dir / "data",
        num_unlabeled=s.num_unlabeled,
        num_train=s.num_train,
        num_val=s.num_val,
        num_test=s.num_test,
        num_frames=s.num_frames,
        size=s.size,
        fps=s.fps,
        seed=seed,
        classes=s.classes,
        workers=workers,
        **s.style,
    )


def _common_options(
    s: DemoSettings, root: str, *, seed: int, progress: bool, workers: int
) -> dict[str, Any]:
    """The recipe options pre-training and both fine-tunings share (data, model, run)."""
    overrides = {k: v for k, v in s.model.items() if k not in ("patch_size", "tubelet_size")}
    return dict(
        root=root,
        num_frames=s.num_frames,
        sampling_rate=s.sampling_rate,
        input_size=s.size,
        short_side=s.size,
        num_workers=workers,
        cache_mb=s.cache_mb,
        patch_size=s.model.get("patch_size", 4),
        tubelet_size=s.model.get("tubelet_size", 2),
        model_overrides=overrides,
        precision="auto",
        seed=seed,
        progress=progress,
        log_every=10,
        save_every=10**9,
    )


def _pretrain_config(
    s: DemoSettings, data: dict[str, Path], out_dir: Path, common: dict[str, Any]
) -> PretrainConfig:
    return PretrainConfig(
        data=str(data["unlabeled"]),
        out_dir=str(out_dir / "pretrain"),
        model="small",
        norm_pix_loss=s.norm_pix_loss,
        mask_kind=s.mask_kind,
        mask_ratio=s.mask_ratio,
        total_steps=s.pretrain_steps,
        warmup_steps=s.pretrain_warmup,
        batch_size=s.pretrain_batch,
        lr=s.pretrain_lr,
        clip_grad=s.clip_grad,
        crop_scales=(1.0,),  # whole frames: the clips are already the model's size
        flip=False,  # direction is the label: flipping would swap left and right
        **common,
    )


def _finetune_config(
    s: DemoSettings,
    data: dict[str, Path],
    out_dir: Path,
    common: dict[str, Any],
    name: str,
    init: str | None,
) -> FinetuneConfig:
    """Fine-tuning row ``name`` from ``init`` (a pre-trained folder) or from scratch (None)."""
    return FinetuneConfig(
        train_data=str(data["train"]),
        val_data=str(data["val"]),
        label_file=str(data["labels"]),
        out_dir=str(out_dir / f"finetune-{name}"),
        init=init,
        model="small",
        total_steps=s.finetune_steps,
        warmup_steps=s.finetune_warmup,
        batch_size=s.finetune_batch,
        lr=s.finetune_lr,
        layer_decay=s.layer_decay if init else None,
        eval_every=s.eval_every,
        init_scale=s.head_init_scale,
        drop_path=s.drop_path,
        smoothing=s.smoothing,
        mixup=s.mixup,
        cutmix=s.cutmix,
        flip=False,
        crop_scale=(1.0, 1.0),
        crop_ratio=(1.0, 1.0),
        rand_augment=False,
        erase_prob=0.0,
        repeats=1,
        **common,
    )


def _evaluate_row(
    final: Path, test_list: Path, root: str, out_dir: Path, s: DemoSettings, progress: bool
) -> dict[str, Any]:
    """Multi-view test accuracy of the fine-tuned model in ``final``."""
    model = VideoMAEForVideoClassification.from_pretrained(final)
    eval_cfg = EvalConfig(
        clips=s.clips, crops=s.crops, sampling_rate=s.sampling_rate, out_dir=out_dir
    )
    samples = read_samples(test_list, root=root)
    return evaluate(model, samples, eval_cfg, id2label=model.config.id2label, progress=progress)


def run_once(
    out_dir: Path, s: DemoSettings, *, seed: int, progress: bool, workers: int
) -> dict[str, Any]:
    """One seed: data -> pre-train -> two fine-tunings -> evaluation -> pictures."""
    timings: dict[str, float] = {}
    out_dir.mkdir(parents=True, exist_ok=True)
    data = _stage("generate data", timings, _generate_data, out_dir, s, seed, workers)
    root = str(out_dir / "data")
    common = _common_options(s, root, seed=seed, progress=progress, workers=workers)
    pre_cfg = _pretrain_config(s, data, out_dir, common)
    pretrained = _stage("pre-train", timings, pretrain, pre_cfg)
    rows = {}
    for name, init in (("pretrained", str(pretrained)), ("scratch", None)):
        ft_cfg = _finetune_config(s, data, out_dir, common, name, init)
        final = _stage(f"fine-tune ({name})", timings, finetune, ft_cfg)
        rows[name] = _stage(
            f"evaluate ({name})", timings, _evaluate_row,
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
