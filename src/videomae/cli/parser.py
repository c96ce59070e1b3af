"""The ``videomae`` argument parser: one small function per subcommand adds its flags.

Each subcommand's ``func`` default is its function in :mod:`videomae.cli.commands`.
"""

from __future__ import annotations

import argparse

from videomae import __version__
from videomae.cli.commands import (
    run_classify,
    run_embed,
    run_evaluate,
    run_reconstruct,
)
from videomae.cli.manage import (
    add_convert,
    add_demo,
    add_export,
    add_models,
    add_push,
    add_synth,
)
from videomae.cli.prepare import add_prepare
from videomae.cli.serve import add_serve
from videomae.cli.types import (
    CLIPS_FLAG,
    FRAMES_FLAG,
    RATE_FLAG,
    SEED_FLAG,
    WORKERS_FLAG,
    Formatter,
)
from videomae.cli.types import number as _number
from videomae.data.formats.detect import FORMAT_HELP, FORMATS
from videomae.limits import BATCH, Range
from videomae.runtime import DTYPE_NAMES

DEFAULT_MODEL = "MCG-NJU/videomae-base-finetuned-kinetics"


def _add_views(p: argparse.ArgumentParser) -> None:
    p.add_argument("--clips", type=CLIPS_FLAG, default=1, help="temporal clips per video")
    p.add_argument(
        "--crops", type=int, choices=(1, 3), default=1, help="spatial crops per clip (3 = span)"
    )
    p.add_argument(
        "--num-frames",
        type=FRAMES_FLAG,
        default=None,
        help="frames per clip (default: the checkpoint's)",
    )
    p.add_argument(
        "--sampling-rate",
        type=RATE_FLAG,
        default=None,
        help="stride between sampled frames for dense sampling (default: the folder's, else 4)",
    )
    p.add_argument(
        "--strategy",
        choices=("dense", "uniform"),
        default=None,
        help="dense (Kinetics) or uniform segments (Something-Something) (default: the folder's, "
        "else dense)",
    )
    p.add_argument(
        "--batch-size",
        type=_number(BATCH),
        default=None,
        help="views per forward pass (default: 1 on CPU, where batching is no faster, 8 on GPU)",
    )


def _add_windows(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--windows",
        action="store_true",
        help="run over the whole video as consecutive windows (one clip each), decoding it once",
    )
    p.add_argument(
        "--stride",
        type=_number(Range(0.0, 1e6, lo_open=True)),
        default=None,
        help="seconds between window starts (default: the window's span; smaller overlaps)",
    )
    p.add_argument(
        "--window-frames",
        type=_number(Range(1, 10**6, integer=True)),
        default=None,
        help="video frames one window spans, its clip spread over them "
        "(default: num_frames x sampling_rate)",
    )


def _add_runtime(p: argparse.ArgumentParser) -> None:
    p.add_argument("--device", default="cpu", help="cpu, cuda, cuda:1, or auto")
    p.add_argument(
        "--dtype",
        choices=DTYPE_NAMES,
        default="fp32",
        help="precision: bf16 is ~2x faster on recent CPUs (autocast), fp16 for GPUs",
    )


def _add_workers(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--workers",
        type=WORKERS_FLAG,
        default=None,
        help="decoding threads, 0 = inline (default: inline on CPU, 2 on GPU)",
    )


def _add_inputs(p: argparse.ArgumentParser, what: str = "VIDEO") -> None:
    p.add_argument(
        "videos",
        nargs="+",
        metavar=what,
        help="video files or folders (folders: every video under them, recursively)",
    )
    p.add_argument(
        "--pattern",
        default="*",
        help="glob on file names inside folders, e.g. '*.mp4' or 'v_*_g01_*'",
    )


def _add_classify(sub: argparse._SubParsersAction) -> None:
    """`videomae classify VIDEO...`: top-k labels per video."""
    p = sub.add_parser(
        "classify",
        help="top-k labels for video files",
        formatter_class=Formatter,
        description="Print the top-k labels of each video (softmax averaged over the views). "
        "Unreadable files are reported and skipped; the exit status is 1 if any failed.\n"
        "With --windows, one line per window of each video: with --json one object "
        '{"path", "start_s", "end_s", "labels": [[name, score], ...]} per window per line.',
    )
    _add_inputs(p)
    p.add_argument(
        "--model",
        default=DEFAULT_MODEL,
        help="checkpoint folder, hub id, or .pth; with --backend onnxruntime/pt2 the exported file",
    )
    p.add_argument(
        "--backend",
        choices=("torch", "onnxruntime", "pt2"),
        default="torch",
        help="run the eager model, or a file written by `videomae export` (CPU, fp32)",
    )
    p.add_argument(
        "--top-k",
        type=_number(Range(1, 1000, integer=True)),
        default=5,
        help="labels per video (or window)",
    )
    _add_views(p)
    _add_runtime(p)
    _add_workers(p)
    _add_windows(p)
    p.add_argument("--csv", default=None, help="with --windows: also a table, one row per window")
    p.add_argument(
        "--timeline", default=None, help="with --windows: FILE.png of the top classes over time"
    )
    p.add_argument("--json", action="store_true", help="one JSON object per line")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=run_classify)


def _add_embed(sub: argparse._SubParsersAction) -> None:
    """`videomae embed VIDEO... --out FILE`: features to .npy / .safetensors."""
    p = sub.add_parser(
        "embed",
        help="video features to .npy / .safetensors",
        formatter_class=Formatter,
        description="Write mean-pooled encoder features (N, D) of the videos that decoded.\n"
        "  FILE.npy: the array, plus FILE.json with {'paths': [...], 'failures': [...], ...};\n"
        "  FILE.safetensors: tensor 'features'; metadata 'paths' is a JSON list.\n"
        "Row i belongs to paths[i]. Exit status 1 if any video failed.\n"
        "With --windows (.safetensors only): per video, tensors 'features' (W, D), 'start_s' "
        "(W,), 'end_s' (W,) in seconds; with several videos each key is prefixed by the "
        "video's path as given and '/' ('a.mp4/features'); metadata 'paths' lists them.",
    )
    _add_inputs(p)
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
    _add_workers(p)
    _add_windows(p)
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=run_embed)


def _add_evaluate(sub: argparse._SubParsersAction) -> None:
    """`videomae evaluate LIST_OR_FOLDER`: the multi-view test protocol."""
    p = sub.add_parser(
        "evaluate",
        help="multi-clip x multi-crop test accuracy",
        formatter_class=Formatter,
        description="The paper's test protocol on a list file ('path label' per line), a "
        "folder per class, or a benchmark's annotation file: top-1, top-5, mean class "
        "accuracy; with --out also summary.json, predictions.csv and a confusion matrix.\n"
        "The model's id2label decides the classes: class names in the data are matched to it "
        "by name; unknown names or integer labels outside its range are errors. Unreadable or "
        "missing videos are reported and skipped; the exit status is 1 if any failed.",
    )
    p.add_argument(
        "data",
        metavar="DATA",
        help="list file, class folders, or UCF101 testlist0N.txt / HMDB51 split folder or "
        "file (test part) / Kinetics CSV / SSv2 validation.json",
    )
    p.add_argument("--model", required=True, help="classifier checkpoint folder (or hub id)")
    p.add_argument(
        "--root", default=None, help="folder holding the videos (default: the data file's folder)"
    )
    p.add_argument("--format", choices=FORMATS, default="auto", help=FORMAT_HELP)
    p.add_argument(
        "--label-file",
        default=None,
        help="the data's class names: one per line, 'index name' (0- or 1-based: UCF101 "
        "classInd.txt) or JSON (SSv2 labels.json); default: beside the data or from it",
    )
    p.add_argument(
        "--allow-outside-root",
        action="store_true",
        help="accept list paths that are absolute or climb out of the root with '..'",
    )
    _add_views(p)
    _add_runtime(p)
    p.add_argument("--out", default=None, help="folder for summary.json, predictions, confusion")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=run_evaluate)


def _add_reconstruct(sub: argparse._SubParsersAction) -> None:
    """`videomae reconstruct VIDEO`: a masked-autoencoder reconstruction picture."""
    p = sub.add_parser(
        "reconstruct",
        help="picture of a masked-autoencoder reconstruction",
        formatter_class=Formatter,
        description="Mask one clip, reconstruct it with a pre-training checkpoint and save "
        "labelled rows: the original, what the model sees, its guess of the hidden patches, "
        "the two pasted together, and its guess at full contrast (.png grid or .gif). No row "
        "uses anything the model did not see; the picture prints the hidden patches' error "
        "next to a constant guess's, so an untrained model is easy to tell apart."
        "\nWith a folder or several videos, --out is a folder (default recon/) receiving one "
        "picture per video; unreadable videos are reported and skipped (exit status 1).",
    )
    _add_inputs(p)
    p.add_argument("--model", required=True, help="pre-training checkpoint folder")
    p.add_argument(
        "--out",
        default=None,
        help="output .png or .gif (default recon.png); a folder for several videos",
    )
    p.add_argument(
        "--suffix", choices=(".png", ".gif"), default=".png", help="picture type in a folder"
    )
    p.add_argument(
        "--mask-ratio",
        type=_number(Range(0.0, 1.0, hi_open=True)),
        default=0.9,
        help="fraction of tokens hidden",
    )
    p.add_argument(
        "--mask-kind",
        choices=("tube", "random"),
        default="tube",
        help="hide whole tubes or single tubelets (as the model was pre-trained)",
    )
    p.add_argument("--seed", type=SEED_FLAG, default=0, help="seed of the mask")
    p.add_argument(
        "--start-frame",
        type=_number(Range(0, 10**9, integer=True)),
        default=None,
        help="first frame (default: centred clip)",
    )
    p.add_argument("--sampling-rate", type=RATE_FLAG, default=4, help="stride between frames")
    p.add_argument(
        "--fps",
        type=_number(Range(0.0, 1000.0, lo_open=True)),
        default=4.0,
        help="frames per second of a .gif",
    )
    p.add_argument(
        "--scale",
        type=_number(Range(1, 64, integer=True)),
        default=None,
        help="enlarge frames N times (default: small clips to about 128 px, so labels fit)",
    )
    p.add_argument("--device", default="cpu", help="cpu, cuda, or auto")
    p.set_defaults(func=run_reconstruct)


def _add_forwarded(sub: argparse._SubParsersAction) -> None:
    """`videomae pretrain|finetune`: listed for help; the training modules parse the flags."""
    for name, text in (
        ("pretrain", "self-supervised pre-training (flags: videomae pretrain -h)"),
        ("finetune", "fine-tuning on labelled videos (flags: videomae finetune -h)"),
    ):
        p = sub.add_parser(name, help=text, add_help=False)
        p.add_argument("args", nargs=argparse.REMAINDER)


def build_parser() -> argparse.ArgumentParser:
    """The ``videomae`` parser with every subcommand (``--help`` lists flags and defaults)."""
    parser = argparse.ArgumentParser(
        prog="videomae",
        description="VideoMAE end to end: classify, embed, evaluate, reconstruct, train, convert, "
        "export, push, serve, prepare.",
        epilog=(
            "Exit status: 0 ok, 1 some inputs failed (the others were processed), 2 the command "
            "could not run. A hub id needs network; offline, pass a local checkpoint folder."
        ),
    )
    parser.add_argument("--version", action="version", version=f"videomae {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    _add_classify(sub)
    _add_embed(sub)
    _add_evaluate(sub)
    _add_reconstruct(sub)
    _add_forwarded(sub)
    add_convert(sub)
    add_push(sub)
    add_export(sub)
    add_synth(sub)
    add_prepare(sub)
    add_demo(sub)
    add_serve(sub, Formatter)
    add_models(sub)
    return parser
