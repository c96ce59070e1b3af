"""`videomae prepare SRC... DST`: its flags and the one library call
(:func:`videomae.data.prepare.prepare_dataset`)."""

from __future__ import annotations

import argparse

from videomae.cli.output import err
from videomae.cli.types import Formatter, number
from videomae.data.formats.detect import FORMAT_HELP, FORMATS
from videomae.data.prepare import prepare_dataset
from videomae.limits import Range
from videomae.video.transcode import PRESETS

__all__ = ["add_prepare", "run_prepare"]


def add_prepare(sub: argparse._SubParsersAction) -> None:
    """Add the ``prepare`` subcommand to ``sub``."""
    p = sub.add_parser(
        "prepare",
        help="re-encode a dataset once into files built for training",
        formatter_class=Formatter,
        description="Re-encode every video of SRC (list files, annotation files, class folders "
        "or video folders) into DST: H.264 mp4, short side scaled down to --short-side (never "
        "up), a keyframe every --gop frames, no audio, frames upright, every frame and its "
        "timestamp kept. a/b/c.avi under the root becomes DST/a/b/c.mp4. Writes one list file "
        "per input list (same labels) into DST, for pretrain / finetune / evaluate.\n"
        "Rerun the same command to resume: finished files are skipped. Videos that fail are "
        "reported and left out of the lists (exit status 1).",
    )
    p.add_argument("sources", nargs="+", metavar="SRC", help="list / annotation file or folder")
    p.add_argument("dst", metavar="DST", help="output folder (new, or one prepare wrote)")
    p.add_argument(
        "--short-side",
        type=number(Range(2, 16384, integer=True)),
        default=320,
        help="scale the short side down to this many pixels (smaller videos keep their size)",
    )
    p.add_argument(
        "--gop", type=number(Range(1, 1000, integer=True)), default=16, help="keyframe interval"
    )
    p.add_argument(
        "--crf",
        type=number(Range(0, 51, integer=True)),
        default=23,
        help="libx264 quality: lower is better and larger",
    )
    p.add_argument("--preset", choices=PRESETS, default="veryfast", help="libx264 speed preset")
    p.add_argument(
        "--workers",
        type=number(Range(1, 1024, integer=True)),
        default=None,
        help="encoding processes (default: one per CPU core)",
    )
    p.add_argument("--format", choices=FORMATS, default="auto", help=FORMAT_HELP)
    p.add_argument(
        "--root", default=None, help="folder holding the videos (default: the data file's folder)"
    )
    p.add_argument("--label-file", default=None, help="the data's class names (as in evaluate)")
    p.add_argument(
        "--force",
        action="store_true",
        help="re-encode with new settings, replacing outputs of earlier runs and files in DST",
    )
    p.add_argument("-q", "--quiet", action="store_true", help="no progress")
    p.set_defaults(func=run_prepare)


def run_prepare(args: argparse.Namespace) -> int:
    try:
        result = prepare_dataset(
            args.sources,
            args.dst,
            short_side=args.short_side,
            gop=args.gop,
            crf=args.crf,
            preset=args.preset,
            workers=args.workers,
            fmt=args.format,
            root=args.root,
            label_file=args.label_file,
            force=args.force,
            progress=not args.quiet,
            on_failure=lambda source, reason: err(f"{source}: {reason}"),
        )
    except KeyboardInterrupt:
        err("interrupted; finished videos are kept: rerun the same command to resume")
        return 130
    print(
        f"prepared {len(result.done)}, skipped {len(result.skipped)} (already done), "
        f"failed {len(result.failed)}"
    )
    for path in result.lists + result.labels:
        print(f"wrote {path}")
    if result.failed:
        err(
            f"{len(result.failed)} videos failed; {result.left_out} list entries left out "
            "(rerun to retry them)"
        )
        return 1
    return 0
