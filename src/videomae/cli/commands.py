"""One function per subcommand: parsed arguments in, one library call, printed result out.

  classify     VideoClassifier.predict          top-k labels per video (table or JSON lines)
  embed        VideoEmbedder.embed_to_file             (N, D) features + file list
  evaluate     inference.evaluate_checkpoint    multi-clip x multi-crop test protocol
  reconstruct  inference.reconstruct_video      masked-autoencoder reconstruction PNG / GIF
  pretrain     videomae.train.pretrain.main     (flags forwarded; see `videomae pretrain -h`)
  finetune     videomae.train.finetune.main     (flags forwarded; see `videomae finetune -h`)
  convert      videomae.convert.convert_checkpoint   original .pth -> save_pretrained folder
  push         videomae.push.push_folder        a checkpoint folder -> Hugging Face Hub repo
  export       videomae.export.export_model     ONNX / torch.export file, checked against eager
  synth        videomae.data.synthetic.make_dataset  synthetic motion videos + list files
  demo         videomae.demo.run_demo           the paper's finding in miniature
               (--study: videomae.study.run.run_study, its three findings)
  models       modeling.catalog.models_table    presets (parameter counts) and hub checkpoints

Each returns the exit status (see :mod:`videomae.cli.main`).
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
from collections.abc import Callable, Sequence
from typing import Any

from videomae.checkpoints.convert import convert_checkpoint
from videomae.cli.contract import CLIError
from videomae.cli.output import err, out, quiet_library_warnings
from videomae.cli.windows import classify_windows, embed_windows
from videomae.data.lists import expand_videos
from videomae.data.synthetic import make_dataset
from videomae.demo import run_demo as demo
from videomae.errors import VideoDecodeError
from videomae.evaluate.checkpoint import evaluate_checkpoint
from videomae.export import check_export, export_model, load_for_export
from videomae.inference.classifier import VideoClassifier
from videomae.inference.embedder import VideoEmbedder
from videomae.inference.embeddings_io import check_embedding_path
from videomae.inference.reconstruct import reconstruct_video
from videomae.modeling.catalog import models_table
from videomae.push import push_folder
from videomae.runtime import parse_dtype
from videomae.study.run import STUDY_JOBS
from videomae.study.run import run_study as study

# subcommands whose flags belong to another module's parser: name -> module with main(argv)
FORWARDED = {
    "pretrain": "videomae.train.pretrain",
    "finetune": "videomae.train.finetune",
}

# make_dataset arguments that `videomae synth` exposes as integer flags of the same name
SYNTH_PARAMS = (
    "num_unlabeled",
    "num_train",
    "num_val",
    "num_test",
    "num_frames",
    "size",
    "fps",
    "workers",
)


def _progress(args: argparse.Namespace) -> bool | None:
    return False if getattr(args, "quiet", False) else None


def _runner_options(args: argparse.Namespace) -> dict[str, Any]:
    """The loading options shared by `classify` and `embed` (the parser's view/runtime flags)."""
    return dict(
        device=args.device,
        dtype=args.dtype,
        clips=args.clips,
        crops=args.crops,
        num_frames=args.num_frames,
        sampling_rate=args.sampling_rate,
        strategy=args.strategy,
        batch_size=args.batch_size,
        num_workers=args.workers,
        progress=_progress(args),
    )


def _top_k_table(name: str, top: list[tuple[str, float]]) -> str:
    """The human-readable ranking of one video: its path, then ``rank. label  score`` lines."""
    lines = [name]
    width = max(len(label) for label, _ in top)
    for rank, (label, score) in enumerate(top, 1):
        lines.append(f"  {rank:>2}. {label:<{width}}  {score:.4f}")
    return "\n".join(lines)


def _check_window_flags(args: argparse.Namespace) -> None:
    """--stride, --window-frames, --csv and --timeline belong to --windows."""
    for flag in ("stride", "window_frames", "csv", "timeline"):
        if getattr(args, flag, None) is not None and not args.windows:
            raise CLIError(f"--{flag.replace('_', '-')} needs --windows")
    if getattr(args, "timeline", None) is not None:
        if not str(args.timeline).lower().endswith(".png"):
            raise CLIError(f"--timeline must end in .png, got {args.timeline!r}")
        if len(args.videos) != 1:
            raise CLIError(f"--timeline draws one video; got {len(args.videos)} videos")


def _classifier(args: argparse.Namespace) -> VideoClassifier:
    """The torch classifier of --model, or the exported file --model run by --backend."""
    if args.backend == "torch":
        return VideoClassifier.from_pretrained(args.model, **_runner_options(args))
    if args.num_frames is not None or args.device != "cpu" or args.dtype != "fp32":
        raise CLIError(
            f"--backend {args.backend} runs the exported file as written (its clip shape, CPU, "
            "fp32): drop --num-frames / --device / --dtype, or re-export the model"
        )
    options = _runner_options(args)
    for key in ("device", "dtype", "num_frames"):
        options.pop(key)
    return VideoClassifier.from_exported(args.model, backend=args.backend, **options)


def run_classify(args: argparse.Namespace) -> int:
    _check_window_flags(args)
    quiet_library_warnings()
    videos = args.videos = expand_videos(args.videos, args.pattern)
    clf = _classifier(args)
    if args.windows:
        return classify_windows(args, clf)
    failed = 0
    for result in clf.predict(videos, top_k=args.top_k):
        if not result.ok:
            failed += 1
            reason = clf.failures[-1].reason if clf.failures else str(result.error)
            err(f"{result.name}: {reason}")
            if args.json:
                out(json.dumps({"path": result.name, "error": reason}))
        elif args.json:
            top = [{"label": label, "score": round(score, 6)} for label, score in result.value]
            out(json.dumps({"path": result.name, "top_k": top}))
        else:
            out(_top_k_table(result.name, result.value))
    if failed:
        err(f"{failed} of {len(videos)} videos failed")
        return 1
    return 0


def run_embed(args: argparse.Namespace) -> int:
    _check_window_flags(args)
    check_embedding_path(args.out)
    args.videos = videos = expand_videos(args.videos, args.pattern)
    if args.windows and not str(args.out).lower().endswith(".safetensors"):
        raise CLIError(f"--windows writes .safetensors (several tensors), got {args.out!r}")
    quiet_library_warnings()
    emb = VideoEmbedder.from_pretrained(args.model, **_runner_options(args), pooling=args.pooling)
    if args.windows:
        return embed_windows(args, emb)
    result, files = emb.embed_to_file(videos, args.out)
    for failure in result.failures:
        err(str(failure))
    n, d = result.features.shape
    print(f"wrote {n} x {d} features to {', '.join(str(f) for f in files)}", file=sys.stderr)
    if result.failures:
        err(f"{len(result.failures)} of {len(videos)} videos failed")
        return 1
    return 0


def _print_summary(summary: dict[str, Any]) -> None:
    k = summary.get("topk_k", 5)
    capped = f" (top-{k}: the model has {summary['num_classes']} classes)" if k < 5 else ""
    print(f"videos       {summary['num_evaluated']} evaluated, {summary['num_failed']} failed")
    print(f"views        {summary['clips']} clips x {summary['crops']} crops")
    print(f"top-1        {100 * summary['top1']:.2f}%")
    print(f"top-5        {100 * summary.get('top5', 0.0):.2f}%{capped}")
    print(f"mean class   {100 * summary['mean_class_accuracy']:.2f}%")


def run_evaluate(args: argparse.Namespace) -> int:
    summary = evaluate_checkpoint(
        args.model,
        args.data,
        root=args.root,
        fmt=args.format,
        label_file=args.label_file,
        clips=args.clips,
        crops=args.crops,
        num_frames=args.num_frames,
        sampling_rate=args.sampling_rate,
        strategy=args.strategy,
        batch_size=args.batch_size,
        device=args.device,
        dtype=args.dtype,
        out_dir=args.out,
        progress=not args.quiet,
        allow_outside_root=args.allow_outside_root,
    )
    _print_summary(summary)
    if args.quiet:  # with a progress bar, evaluate() already reported each skipped file
        for failure in summary["failed"]:
            err(f"{failure['path']}: {failure['reason']}")
    if args.out:
        print(f"wrote {os.path.join(args.out, 'summary.json')}")
    if summary["num_failed"]:
        err(
            f"{summary['num_failed']} of {summary['num_failed'] + summary['num_evaluated']} videos failed"
        )
        return 1
    return 0 if summary["num_evaluated"] > 0 else 1


def _picture_paths(videos: list[str], out: str, suffix: str) -> list[str]:
    """One picture per video in the folder ``out``: the video's stem, numbered on clashes."""
    seen: dict[str, int] = {}
    paths = []
    for video in videos:
        stem = os.path.splitext(os.path.basename(video))[0]
        seen[stem] = seen.get(stem, 0) + 1
        name = stem if seen[stem] == 1 else f"{stem}_{seen[stem]}"
        paths.append(os.path.join(out, name + suffix))
    return paths


def run_reconstruct(args: argparse.Namespace) -> int:
    videos = expand_videos(args.videos, args.pattern)
    single = len(args.videos) == 1 and not os.path.isdir(args.videos[0])
    if single:
        outs = [args.out or "recon.png"]
    else:
        os.makedirs(args.out or "recon", exist_ok=True)
        outs = _picture_paths(videos, args.out or "recon", args.suffix)
    options = dict(
        mask_ratio=args.mask_ratio,
        mask_kind=args.mask_kind,
        seed=args.seed,
        start_frame=args.start_frame,
        sampling_rate=args.sampling_rate,
        fps=args.fps,
        device=args.device,
        scale=args.scale,
    )
    failed = 0
    for video, target in zip(videos, outs, strict=True):
        try:
            path = reconstruct_video(args.model, video, target, **options)
        except (VideoDecodeError, FileNotFoundError) as exc:
            if single:
                raise
            failed += 1
            err(f"{video}: {exc}")
            continue
        print(f"wrote {path}")
    if failed:
        err(f"{failed} of {len(videos)} videos failed")
        return 1
    return 0


def run_convert(args: argparse.Namespace) -> int:
    path = convert_checkpoint(
        args.src,
        args.out,
        label_file=args.label_file,
        dtype=None if args.dtype is None else parse_dtype(args.dtype),
        num_frames=args.num_frames,
        image_size=args.image_size,
        num_attention_heads=args.num_heads,
        decoder_num_attention_heads=args.decoder_num_heads,
    )
    print(f"wrote {path}")
    return 0


def run_push(args: argparse.Namespace) -> int:
    url = push_folder(
        args.dir,
        args.repo_id,
        private=args.private or None,
        token=args.token,
        commit_message=args.message,
        revision=args.revision,
        create_pr=args.create_pr,
    )
    print(f"pushed {args.dir} -> {url}")
    return 0


def run_export(args: argparse.Namespace) -> int:
    path = export_model(
        args.model_dir, args.out, format=args.format, embed=args.embed, pooling=args.pooling
    )
    print(f"wrote {path}")
    if args.no_check:
        return 0
    eager = load_for_export(args.model_dir, embed=args.embed, pooling=args.pooling)
    diff = check_export(path, eager)
    print(f"max |exported - eager| = {diff:.2e} (random float32 inputs, batch 1 and 3)")
    if diff > 1e-4:
        err(f"{path} differs from the eager model by {diff:.2e} (> 1e-4)")
        return 1
    return 0


def run_synth(args: argparse.Namespace) -> int:
    given = {name: getattr(args, name) for name in SYNTH_PARAMS if getattr(args, name) is not None}
    paths = make_dataset(args.out, seed=args.seed, **given)
    for name, path in paths.items():
        print(f"{name:<10} {path}")
    return 0


def run_demo(args: argparse.Namespace) -> int:
    mode = "quick" if args.quick else "default"
    seeds = list(range(args.seed, args.seed + args.seeds))
    progress = _progress(args) is not False
    if args.study:
        jobs = STUDY_JOBS if args.jobs is None else args.jobs
        study(args.out, mode=mode, seeds=seeds, jobs=jobs, progress=progress,
              workers=args.workers)  # fmt: skip
        return 0
    if args.jobs is not None:
        raise CLIError("--jobs applies to --study only; drop it, or add --study")
    demo(args.out, mode=mode, seeds=seeds, progress=progress, workers=args.workers)
    return 0


def run_models(args: argparse.Namespace) -> int:
    out(models_table(num_labels=args.num_labels))
    return 0


def run_forwarded(command: str, argv: Sequence[str]) -> int:
    """``videomae pretrain|finetune ...``: the training module parses its own flags."""
    main = _optional(FORWARDED[command], "main", f"`videomae {command}` needs {FORWARDED[command]}")
    code = main(list(argv))
    return int(code or 0)


def _optional(module: str, attr: str, what: str) -> Callable[..., Any]:
    """``module.attr``, or a CLIError when that module is not part of this installation."""
    try:
        mod = importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name != module:
            raise
        raise CLIError(f"{what}, which is not in this version of the package") from None
    func = getattr(mod, attr, None)
    if func is None:
        raise CLIError(f"{module} has no {attr}(); {what}")
    return func
