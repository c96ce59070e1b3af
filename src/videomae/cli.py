"""The ``videomae`` command (also ``python -m videomae``): argument parsing only.

Each subcommand parses its flags and calls one function of the library:

  classify     VideoClassifier.predict          top-k labels per video (table or JSON lines)
  embed        VideoEmbedder.embed + save_embeddings   (N, D) features + file list
  evaluate     inference.evaluate_checkpoint    multi-clip x multi-crop test protocol
  reconstruct  inference.reconstruct_video      masked-autoencoder reconstruction PNG / GIF
  pretrain     videomae.train.pretrain.main     (flags forwarded; see `videomae pretrain -h`)
  finetune     videomae.train.finetune.main     (flags forwarded; see `videomae finetune -h`)
  convert      videomae.convert.convert_checkpoint   original .pth -> save_pretrained folder
  synth        videomae.data.synthetic.make_dataset  synthetic motion videos + list files
  demo         videomae.demo.run_demo           the paper's finding in miniature

Exit status: 0 success; 1 the command ran but some inputs failed (each reported on stderr as
``error: PATH: reason``; the other inputs are still processed); 2 the command could not run
(bad arguments, a checkpoint that cannot be loaded such as a hub id without network, an
unreadable single input): one ``error: ...`` line on stderr, no traceback. Set
``VIDEOMAE_DEBUG=1`` to get the traceback instead.
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import json
import logging
import os
import sys
from collections.abc import Callable, Sequence
from typing import Any

from videomae.runtime import DTYPE_NAMES, parse_dtype

DEFAULT_MODEL = "MCG-NJU/videomae-base-finetuned-kinetics"

# subcommands whose flags belong to another module's parser: name -> module with main(argv)
FORWARDED = {
    "pretrain": "videomae.train.pretrain",
    "finetune": "videomae.train.finetune",
}


class CLIError(Exception):
    """A user-facing failure: printed as one ``error: ...`` line, exit status 2."""


# ---------------------------------------------------------------------------------------------
# Output helpers


def _err(message: str) -> None:
    """``error: ...`` on stderr, without breaking a progress bar."""
    from tqdm.auto import tqdm

    tqdm.write(f"error: {message}", file=sys.stderr)


def _out(line: str) -> None:
    """Print a result line on stdout without breaking a progress bar on stderr."""
    from tqdm.auto import tqdm

    tqdm.write(line, file=sys.stdout)


def _quiet_library_warnings() -> None:
    # The CLI reports skipped files itself; avoid a second copy from the library's logger.
    logging.getLogger("videomae.inference").setLevel(logging.ERROR)
    # huggingface_hub logs each failed request; our CheckpointError says it in one line.
    from huggingface_hub.utils import logging as hub_logging

    hub_logging.set_verbosity_error()


def _progress(args: argparse.Namespace) -> bool | None:
    return False if getattr(args, "quiet", False) else None


# ---------------------------------------------------------------------------------------------
# Subcommands: one function each


def _runner_options(args: argparse.Namespace) -> dict[str, Any]:
    """The loading options shared by `classify` and `embed` (see `_add_views`/`_add_runtime`)."""
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


def run_classify(args: argparse.Namespace) -> int:
    from videomae.inference.classifier import VideoClassifier

    _quiet_library_warnings()
    clf = VideoClassifier.from_pretrained(args.model, **_runner_options(args))
    failed = 0
    for result in clf.predict(args.videos, top_k=args.top_k):
        if not result.ok:
            failed += 1
            reason = clf.failures[-1].reason if clf.failures else str(result.error)
            _err(f"{result.name}: {reason}")
            if args.json:
                _out(json.dumps({"path": result.name, "error": reason}))
            continue
        if args.json:
            top = [{"label": label, "score": round(score, 6)} for label, score in result.value]
            _out(json.dumps({"path": result.name, "top_k": top}))
        else:
            lines = [result.name]
            width = max(len(label) for label, _ in result.value)
            for rank, (label, score) in enumerate(result.value, 1):
                lines.append(f"  {rank:>2}. {label:<{width}}  {score:.4f}")
            _out("\n".join(lines))
    if failed:
        _err(f"{failed} of {len(args.videos)} videos failed")
        return 1
    return 0


def run_embed(args: argparse.Namespace) -> int:
    from videomae.inference.embedder import VideoEmbedder
    from videomae.inference.embeddings_io import EMBEDDING_SUFFIXES, save_embeddings

    if not str(args.out).lower().endswith(EMBEDDING_SUFFIXES):
        raise CLIError(f"--out must end in .npy or .safetensors, got {args.out!r}")
    _quiet_library_warnings()
    emb = VideoEmbedder.from_pretrained(args.model, **_runner_options(args), pooling=args.pooling)
    result = emb.embed(args.videos)
    for failure in result.failures:
        _err(str(failure))
    meta = {
        "model": str(args.model),
        "pooling": args.pooling,
        "clips": args.clips,
        "crops": args.crops,
        "dim": emb.dim,
    }
    files = save_embeddings(args.out, result, metadata=meta)
    n, d = result.features.shape
    print(f"wrote {n} x {d} features to {', '.join(str(f) for f in files)}", file=sys.stderr)
    if result.failures:
        _err(f"{len(result.failures)} of {len(args.videos)} videos failed")
        return 1
    return 0


def run_evaluate(args: argparse.Namespace) -> int:
    from videomae.evaluate.checkpoint import evaluate_checkpoint

    summary = evaluate_checkpoint(
        args.model,
        args.data,
        root=args.root,
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
    )
    k = summary.get("topk_k", 5)
    capped = f" (top-{k}: the model has {summary['num_classes']} classes)" if k < 5 else ""
    print(f"videos       {summary['num_evaluated']} evaluated, {summary['num_failed']} failed")
    print(f"views        {summary['clips']} clips x {summary['crops']} crops")
    print(f"top-1        {100 * summary['top1']:.2f}%")
    print(f"top-5        {100 * summary.get('top5', 0.0):.2f}%{capped}")
    print(f"mean class   {100 * summary['mean_class_accuracy']:.2f}%")
    if args.quiet:  # with a progress bar, evaluate() already reported each skipped file
        for failure in summary["failed"]:
            _err(f"{failure['path']}: {failure['reason']}")
    if args.out:
        print(f"wrote {os.path.join(args.out, 'summary.json')}")
    return 0 if summary["num_evaluated"] > 0 else 1


def run_reconstruct(args: argparse.Namespace) -> int:
    from videomae.inference.reconstruct import reconstruct_video

    path = reconstruct_video(
        args.model,
        args.video,
        args.out,
        mask_ratio=args.mask_ratio,
        mask_kind=args.mask_kind,
        seed=args.seed,
        start_frame=args.start_frame,
        sampling_rate=args.sampling_rate,
        fps=args.fps,
        device=args.device,
    )
    print(f"wrote {path}")
    return 0


def run_convert(args: argparse.Namespace) -> int:
    from videomae.checkpoints.convert import convert_checkpoint

    out = convert_checkpoint(
        args.src,
        args.out,
        label_file=args.label_file,
        dtype=None if args.dtype is None else parse_dtype(args.dtype),
        num_frames=args.num_frames,
        image_size=args.image_size,
        num_attention_heads=args.num_heads,
        decoder_num_attention_heads=args.decoder_num_heads,
    )
    print(f"wrote {out}")
    return 0


def run_synth(args: argparse.Namespace) -> int:
    from videomae.data.synthetic import make_dataset

    given = {name: getattr(args, name) for name in _SYNTH_PARAMS if getattr(args, name) is not None}
    paths = make_dataset(args.out, seed=args.seed, **given)
    for name, path in paths.items():
        print(f"{name:<10} {path}")
    return 0


def run_demo(args: argparse.Namespace) -> int:
    from videomae.demo import run_demo as demo

    mode = "quick" if args.quick else "default"
    seeds = list(range(args.seed, args.seed + args.seeds))
    demo(
        args.out,
        mode=mode,
        seeds=seeds,
        progress=_progress(args) is not False,
        workers=args.workers,
    )
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
    except ModuleNotFoundError as err:
        if err.name != module:
            raise
        raise CLIError(f"{what}, which is not in this version of the package") from None
    func = getattr(mod, attr, None)
    if func is None:
        raise CLIError(f"{module} has no {attr}(); {what}")
    return func


# ---------------------------------------------------------------------------------------------
# Parsers


class _Formatter(argparse.ArgumentDefaultsHelpFormatter, argparse.RawDescriptionHelpFormatter):
    """Shows defaults (unless None/False: the help text says it) and keeps line breaks."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        if action.default in (None, False):
            return action.help
        return super()._get_help_string(action)


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {value}")
    return value


def _add_views(p: argparse.ArgumentParser) -> None:
    p.add_argument("--clips", type=_positive, default=1, help="temporal clips per video")
    p.add_argument(
        "--crops", type=int, choices=(1, 3), default=1, help="spatial crops per clip (3 = span)"
    )
    p.add_argument(
        "--num-frames",
        type=_positive,
        default=None,
        help="frames per clip (default: the checkpoint's)",
    )
    p.add_argument(
        "--sampling-rate",
        type=_positive,
        default=None,
        help="stride between sampled frames for dense sampling (default: 4)",
    )
    p.add_argument(
        "--strategy",
        choices=("dense", "uniform"),
        default=None,
        help="dense (Kinetics) or uniform segments (Something-Something) (default: dense)",
    )
    p.add_argument(
        "--batch-size",
        type=_positive,
        default=None,
        help="views per forward pass (default: 1 on CPU, where batching is no faster, 8 on GPU)",
    )


def _add_runtime(p: argparse.ArgumentParser) -> None:
    p.add_argument("--device", default="cpu", help="cpu, cuda, cuda:1, or auto")
    p.add_argument(
        "--dtype",
        choices=DTYPE_NAMES,
        default="fp32",
        help="precision: bf16 is ~2x faster on recent CPUs (autocast), fp16 for GPUs",
    )


_SYNTH_PARAMS = (
    "num_unlabeled",
    "num_train",
    "num_val",
    "num_test",
    "num_frames",
    "size",
    "fps",
    "workers",
)


def _synth_defaults() -> dict[str, Any]:
    try:
        from videomae.data.synthetic import make_dataset
    except ImportError:
        return {}
    return {
        name: p.default
        for name, p in inspect.signature(make_dataset).parameters.items()
        if p.default is not inspect.Parameter.empty
    }


def build_parser() -> argparse.ArgumentParser:
    """The ``videomae`` parser with every subcommand (``--help`` lists flags and defaults)."""
    from videomae import __version__

    parser = argparse.ArgumentParser(
        prog="videomae",
        description="VideoMAE end to end: classify, embed, evaluate, reconstruct, train, convert.",
        epilog=(
            "Exit status: 0 ok, 1 some inputs failed (the others were processed), 2 the command "
            "could not run. A hub id needs network; offline, pass a local checkpoint folder."
        ),
    )
    parser.add_argument("--version", action="version", version=f"videomae {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser(
        "classify",
        help="top-k labels for video files",
        formatter_class=_Formatter,
        description="Print the top-k labels of each video (softmax averaged over the views). "
        "Unreadable files are reported and skipped; the exit status is 1 if any failed.",
    )
    p.add_argument("videos", nargs="+", metavar="VIDEO", help="video files")
    p.add_argument("--model", default=DEFAULT_MODEL, help="checkpoint folder, hub id, or .pth")
    p.add_argument("--top-k", type=_positive, default=5, help="labels per video")
    _add_views(p)
    _add_runtime(p)
    p.add_argument(
        "--workers",
        type=int,
        default=None,
        help="decoding threads, 0 = inline (default: inline on CPU, 2 on GPU)",
    )
    p.add_argument("--json", action="store_true", help="one JSON object per line")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=run_classify)

    p = sub.add_parser(
        "embed",
        help="video features to .npy / .safetensors",
        formatter_class=_Formatter,
        description="Write mean-pooled encoder features (N, D) of the videos that decoded.\n"
        "  FILE.npy: the array, plus FILE.json with {'paths': [...], 'failures': [...], ...};\n"
        "  FILE.safetensors: tensor 'features'; metadata 'paths' is a JSON list.\n"
        "Row i belongs to paths[i]. Exit status 1 if any video failed.",
    )
    p.add_argument("videos", nargs="+", metavar="VIDEO", help="video files")
    p.add_argument("--model", default=DEFAULT_MODEL, help="checkpoint folder, hub id, or .pth")
    p.add_argument("--out", required=True, help="output file, .npy or .safetensors")
    p.add_argument(
        "--pooling",
        choices=("mean", "head"),
        default="mean",
        help="mean: raw token mean; head: a classifier's own pooled feature (fc_norm)",
    )
    _add_views(p)
    _add_runtime(p)
    p.add_argument(
        "--workers",
        type=int,
        default=None,
        help="decoding threads, 0 = inline (default: inline on CPU, 2 on GPU)",
    )
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=run_embed)

    p = sub.add_parser(
        "evaluate",
        help="multi-clip x multi-crop test accuracy",
        formatter_class=_Formatter,
        description="The paper's test protocol on a list file ('path label' per line) or a "
        "folder per class: top-1, top-5, mean class accuracy; with --out also summary.json, "
        "predictions.csv and a confusion matrix.",
    )
    p.add_argument("data", metavar="LIST_OR_FOLDER", help="list file or class folders")
    p.add_argument("--model", required=True, help="classifier checkpoint folder (or hub id)")
    p.add_argument(
        "--root", default=None, help="prefix of relative list paths (default: the list's folder)"
    )
    _add_views(p)
    _add_runtime(p)
    p.add_argument("--out", default=None, help="folder for summary.json, predictions, confusion")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=run_evaluate)

    p = sub.add_parser(
        "reconstruct",
        help="picture of a masked-autoencoder reconstruction",
        formatter_class=_Formatter,
        description="Mask one clip, reconstruct it with a pre-training checkpoint and save "
        "rows of original, masked, reconstruction, pasted and raw prediction (.png grid or .gif).",
    )
    p.add_argument("video", metavar="VIDEO")
    p.add_argument("--model", required=True, help="pre-training checkpoint folder")
    p.add_argument("--out", default="recon.png", help="output .png or .gif")
    p.add_argument("--mask-ratio", type=float, default=0.9, help="fraction of tokens hidden")
    p.add_argument(
        "--mask-kind",
        choices=("tube", "random"),
        default="tube",
        help="hide whole tubes or single tubelets (as the model was pre-trained)",
    )
    p.add_argument("--seed", type=int, default=0, help="seed of the mask")
    p.add_argument(
        "--start-frame", type=int, default=None, help="first frame (default: centred clip)"
    )
    p.add_argument("--sampling-rate", type=_positive, default=4, help="stride between frames")
    p.add_argument("--fps", type=float, default=4.0, help="frames per second of a .gif")
    p.add_argument("--device", default="cpu", help="cpu, cuda, or auto")
    p.set_defaults(func=run_reconstruct)

    for name, text in (
        ("pretrain", "self-supervised pre-training (flags: videomae pretrain -h)"),
        ("finetune", "fine-tuning on labelled videos (flags: videomae finetune -h)"),
    ):
        p = sub.add_parser(name, help=text, add_help=False)
        p.add_argument("args", nargs=argparse.REMAINDER)

    p = sub.add_parser(
        "convert",
        help="original MCG-NJU / VideoMAEv2 .pth -> checkpoint folder",
        formatter_class=_Formatter,
        description="Convert an original-release .pth into a save_pretrained folder. The "
        "config is read off the tensor shapes; flags override what the file does not store.",
    )
    p.add_argument("src", metavar="SRC", help="original .pth file")
    p.add_argument("out", metavar="OUT", help="output folder")
    p.add_argument("--label-file", default=None, help="class names, one per line")
    p.add_argument("--num-frames", type=_positive, default=None, help="(default: 16 or inferred)")
    p.add_argument("--image-size", type=_positive, default=None, help="(default: 224)")
    p.add_argument(
        "--num-heads", type=_positive, default=None, help="encoder heads (default: by width)"
    )
    p.add_argument(
        "--decoder-num-heads", type=_positive, default=None, help="decoder heads (by width)"
    )
    p.add_argument("--dtype", choices=DTYPE_NAMES, default=None, help="(default: the file's dtype)")
    p.set_defaults(func=run_convert)

    defaults = _synth_defaults()
    p = sub.add_parser(
        "synth",
        help="synthetic motion videos + list files",
        formatter_class=_Formatter,
        description="Write labelled clips whose class shows only in the motion (mp4), with "
        "train/val/test list files, an unlabeled list and labels.txt.",
    )
    p.add_argument("out", metavar="OUT", help="output folder")
    p.add_argument("--seed", type=int, default=defaults.get("seed", 0), help="random seed")
    for name in _SYNTH_PARAMS:
        flag = "--" + name.replace("_", "-")
        default = defaults.get(name)
        p.add_argument(
            flag,
            dest=name,
            type=int,
            default=None,
            help=f"(default: {default if default is not None else 'make_dataset default'})",
        )
    p.set_defaults(func=run_synth)

    p = sub.add_parser(
        "demo",
        help="the paper's finding in miniature (pre-train vs scratch)",
        formatter_class=_Formatter,
    )
    p.add_argument("--out", default="demo_out", help="output folder")
    p.add_argument("--quick", action="store_true", help="a few seconds: every stage, no result")
    p.add_argument("--seed", type=int, default=0, help="first random seed")
    p.add_argument("--seeds", type=_positive, default=1, help="number of seeds (mean ± std)")
    p.add_argument("--workers", type=_positive, default=2, help="data-loading processes")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bars")
    p.set_defaults(func=run_demo)
    return parser


# ---------------------------------------------------------------------------------------------
# Entry point


def _user_errors() -> tuple[type[BaseException], ...]:
    from videomae.errors import CheckpointError, VideoDecodeError

    return (CLIError, CheckpointError, VideoDecodeError, OSError, ValueError)


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text if "\n" not in text else text.replace("\n", " | ")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``videomae`` command; returns the exit status (see the module doc)."""
    args_list = list(sys.argv[1:] if argv is None else argv)
    debug = os.environ.get("VIDEOMAE_DEBUG", "") not in ("", "0")
    try:
        if args_list and args_list[0] in FORWARDED:
            return run_forwarded(args_list[0], args_list[1:])
        parser = build_parser()
        args = parser.parse_args(args_list)
        if args.command is None:
            parser.print_help(sys.stderr)
            return 2
        return int(args.func(args) or 0)
    except SystemExit as exit_:  # argparse errors and --help, also from forwarded parsers
        code = exit_.code
        if code is None or isinstance(code, int):
            return int(code or 0)
        _err(str(code))
        return 2
    except KeyboardInterrupt:
        _err("interrupted")
        return 130
    except _user_errors() as exc:
        if debug:
            raise
        _err(_one_line(exc))
        return 2


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
