"""argparse ``type`` functions that check a flag against its documented range (videomae.limits),
the ones several subcommands share, and the help formatter of every subcommand."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from videomae.limits import FRAMES, MAX_CLIPS, SEED, SIDE, WORKERS, Range

__all__ = [
    "CLIPS_FLAG",
    "FRAMES_FLAG",
    "HEADS_FLAG",
    "RATE_FLAG",
    "SEED_FLAG",
    "SIDE_FLAG",
    "WORKERS_FLAG",
    "Formatter",
    "number",
]


def number(rng: Range) -> Callable[[str], Any]:
    """An argparse ``type`` reading an int (or float) and checking it against ``rng``."""

    def parse(text: str) -> Any:
        try:
            value = int(text) if rng.integer else float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {rng.describe()}, got {text!r}") from None
        if not rng.accepts(value):
            raise argparse.ArgumentTypeError(f"must be {rng.describe()}, got {text}")
        return value

    parse.__name__ = "integer" if rng.integer else "number"
    parse.range = rng  # type: ignore[attr-defined]  # read by the tests that enumerate flags
    return parse


class Formatter(argparse.ArgumentDefaultsHelpFormatter, argparse.RawDescriptionHelpFormatter):
    """Shows defaults (unless None/False: the help text says it) and keeps line breaks."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        if action.default in (None, False):
            return action.help
        return super()._get_help_string(action)


CLIPS_FLAG = number(Range(1, MAX_CLIPS, integer=True))
FRAMES_FLAG = number(FRAMES)
SIDE_FLAG = number(SIDE)
RATE_FLAG = number(Range(1, 1024, integer=True))
HEADS_FLAG = number(Range(1, 1024, integer=True))
WORKERS_FLAG = number(WORKERS)
SEED_FLAG = number(SEED)
