"""The parsers of the subcommands that manage models and data: ``convert``, ``push``, ``export``,
``synth``, ``demo`` and ``models`` (see :mod:`videomae.cli.parser` for the others).
"""

from __future__ import annotations

import argparse
import inspect
from typing import Any

from videomae.cli.commands import (
    SYNTH_PARAMS,
    run_convert,
    run_demo,
    run_export,
    run_models,
    run_push,
    run_synth,
)
from videomae.cli.types import FRAMES_FLAG, HEADS_FLAG, SEED_FLAG, SIDE_FLAG, Formatter, number
from videomae.data.synthetic import make_dataset
from videomae.limits import Range
from videomae.runtime import DTYPE_NAMES

__all__ = ["add_convert", "add_demo", "add_export", "add_models", "add_push", "add_synth"]

# measured once: 71 minutes for one seed on 2 AVX-512 BF16 cores shared with other jobs
# (docs/demo.md, "The study's results")
STUDY_TIME = "about 70 minutes per seed on 2 cores"

# `videomae synth`'s integer flags: counts of videos, frames, pixels, fps, worker processes
SYNTH_RANGES = {
    "num_unlabeled": Range(0, 10**6, integer=True),
    "num_train": Range(1, 10**6, integer=True),
    "num_val": Range(0, 10**6, integer=True),
    "num_test": Range(0, 10**6, integer=True),
    "num_frames": Range(2, 1024, integer=True),
    "size": Range(8, 4096, integer=True),
    "fps": Range(1, 1000, integer=True),
    "workers": Range(1, 256, integer=True),
}


def _synth_defaults() -> dict[str, Any]:
    """make_dataset's defaults, for the help text of `videomae synth`."""
    return {
        name: p.default
        for name, p in inspect.signature(make_dataset).parameters.items()
        if p.default is not inspect.Parameter.empty
    }


def add_convert(sub: argparse._SubParsersAction) -> None:
    """`videomae convert SRC OUT`: an original .pth to a checkpoint folder."""
    p = sub.add_parser(
        "convert",
        help="original MCG-NJU / VideoMAEv2 .pth -> checkpoint folder",
        formatter_class=Formatter,
        description="Convert an original-release .pth into a save_pretrained folder. The "
        "config is read off the tensor shapes; flags override what the file does not store.",
    )
    p.add_argument("src", metavar="SRC", help="original .pth file")
    p.add_argument("out", metavar="OUT", help="output folder")
    p.add_argument("--label-file", default=None, help="class names, one per line")
    p.add_argument("--num-frames", type=FRAMES_FLAG, default=None, help="(default: 16 or inferred)")
    p.add_argument("--image-size", type=SIDE_FLAG, default=None, help="(default: 224)")
    p.add_argument(
        "--num-heads", type=HEADS_FLAG, default=None, help="encoder heads (default: by width)"
    )
    p.add_argument(
        "--decoder-num-heads", type=HEADS_FLAG, default=None, help="decoder heads (by width)"
    )
    p.add_argument("--dtype", choices=DTYPE_NAMES, default=None, help="(default: the file's dtype)")
    p.set_defaults(func=run_convert)


def add_push(sub: argparse._SubParsersAction) -> None:
    """`videomae push DIR REPO_ID`: upload a saved folder to the Hugging Face Hub."""
    p = sub.add_parser(
        "push",
        help="upload a checkpoint folder to the Hugging Face Hub",
        formatter_class=Formatter,
        description="Create the hub repo (kept if it exists) and upload every file of DIR. The "
        "token comes from --token, else HF_TOKEN or `hf auth login`.",
    )
    p.add_argument("dir", metavar="DIR", help="folder written by save_pretrained / a command")
    p.add_argument("repo_id", metavar="REPO_ID", help="hub repo, e.g. user/videomae-finetuned")
    p.add_argument("--private", action="store_true", help="create the repo private")
    p.add_argument("--token", default=None, help="hub token (default: HF_TOKEN or saved login)")
    p.add_argument("--message", default=None, help="commit message")
    p.add_argument("--revision", default=None, help="branch to push to (default: main)")
    p.add_argument("--create-pr", action="store_true", help="open a pull request instead")
    p.set_defaults(func=run_push)


def add_export(sub: argparse._SubParsersAction) -> None:
    """`videomae export MODEL_DIR OUT`: ONNX or torch.export file for deployment."""
    p = sub.add_parser(
        "export",
        help="ONNX / torch.export (.pt2) file for deployment",
        formatter_class=Formatter,
        description="Write the classifier of MODEL_DIR (or with --embed its pooled features) to "
        "OUT: ONNX (opset 17) or a torch.export program (.pt2).\n"
        "Input 'pixel_values' (B, T, C, S, S) float32, normalised clips. The batch axis B is "
        "dynamic; the clip shape is STATIC, taken from the model's config.json (T = "
        "num_frames, C = num_channels, S = image_size): export again to change it.\n"
        "The file stores the config and the preprocessing, so `videomae classify --backend "
        "onnxruntime --model OUT.onnx VIDEO` runs it end to end. After writing, the file is run "
        "(onnxruntime / torch.export.load) against the eager model on random inputs and the "
        "largest difference printed; exit status 1 if above 1e-4.",
    )
    p.add_argument("model_dir", metavar="MODEL_DIR", help="checkpoint folder (or hub id)")
    p.add_argument("out", metavar="OUT", help="output file, .onnx or .pt2")
    p.add_argument(
        "--format", choices=("onnx", "pt2"), default=None, help="(default: by OUT's suffix)"
    )
    p.add_argument("--embed", action="store_true", help="export the pooled features (B, D)")
    p.add_argument(
        "--pooling",
        choices=("mean", "head"),
        default="mean",
        help="with --embed: mean of the tokens, or a classifier's own pooled feature",
    )
    p.add_argument("--no-check", action="store_true", help="skip the check against eager")
    p.set_defaults(func=run_export)


def add_synth(sub: argparse._SubParsersAction) -> None:
    """`videomae synth OUT`: synthetic motion videos (flags and defaults from make_dataset)."""
    defaults = _synth_defaults()
    p = sub.add_parser(
        "synth",
        help="synthetic motion videos + list files",
        formatter_class=Formatter,
        description="Write labelled clips whose class shows only in the motion (mp4), with "
        "train/val/test list files, an unlabeled list and labels.txt.",
    )
    p.add_argument("out", metavar="OUT", help="output folder")
    p.add_argument("--seed", type=SEED_FLAG, default=defaults.get("seed", 0), help="random seed")
    for name in SYNTH_PARAMS:
        flag = "--" + name.replace("_", "-")
        default = defaults.get(name)
        p.add_argument(
            flag,
            dest=name,
            type=number(SYNTH_RANGES[name]),
            default=None,
            help=f"(default: {default if default is not None else 'make_dataset default'})",
        )
    p.set_defaults(func=run_synth)


def add_demo(sub: argparse._SubParsersAction) -> None:
    """`videomae demo`: the paper's finding in miniature."""
    p = sub.add_parser(
        "demo",
        help="the paper's finding in miniature (pre-train vs scratch)",
        formatter_class=Formatter,
    )
    p.add_argument("--out", default="demo_out", help="output folder")
    p.add_argument("--quick", action="store_true", help="a few seconds: every stage, no result")
    p.add_argument("--seed", type=SEED_FLAG, default=0, help="first random seed")
    p.add_argument(
        "--seeds",
        type=number(Range(1, 100, integer=True)),
        default=1,
        help="number of seeds (mean ± std)",
    )
    p.add_argument(
        "--workers",
        type=number(Range(1, 256, integer=True)),
        default=2,
        help="data-loading processes",
    )
    p.add_argument(
        "--study",
        action="store_true",
        help="the paper's three findings instead: masking ratio x strategy, labelled-set size, "
        "pre-training data (tables in summary.json, figure study.png); "
        f"{STUDY_TIME}; with --quick, 35 tiny runs that check every stage and show nothing",
    )
    p.add_argument(
        "--jobs",
        type=number(Range(1, 64, integer=True)),
        default=None,
        help="--study: independent runs side by side in this many processes, each with "
        "cores/jobs torch threads (default: 2; measured: 2 processes x 1 thread beat 1 x 2 "
        "threads on 2 cores)",
    )
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bars")
    p.set_defaults(func=run_demo)


def add_models(sub: argparse._SubParsersAction) -> None:
    """`videomae models`: the presets with parameter counts and the well-known hub ids."""
    p = sub.add_parser(
        "models",
        help="list model presets (parameter counts) and well-known hub checkpoints",
        formatter_class=Formatter,
        description="Presets for `pretrain/finetune --model NAME` with parameter counts computed "
        "from their configs, and the MCG-NJU checkpoints on the hub with frames, size, classes.",
    )
    p.add_argument(
        "--num-labels",
        type=number(Range(1, 10**6, integer=True)),
        default=400,
        help="classes of the counted classifier head",
    )
    p.set_defaults(func=run_models)
