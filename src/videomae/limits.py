"""The documented bounds of every size a user or a file controls, and the checks that apply them.

Each run config, view setting and CLI flag is checked against a :class:`Range` (or a set of
choices) before any work starts, so a mistyped ``--clip-grad -1`` or ``--num-frames 100000`` fails
at once with one message naming the setting, the value and the accepted range instead of
training wrongly or allocating gigabytes. The bounds (docs/reliability.md lists them):

* frames per clip: 1..``MAX_NUM_FRAMES``; crop / resize sides: 1..``MAX_IMAGE_SIDE`` pixels;
* clips per video: 1..``MAX_CLIPS``; batch sizes: 1..``MAX_BATCH_SIZE``;
* decoded pixels of one read: at most ``MAX_DECODED_BYTES`` (RGB, uint8);
* a video's frame size: 1..``MAX_VIDEO_SIDE`` pixels each side.

A leaf module: it imports nothing of this package but its errors.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from videomae.errors import ConfigError, VideoMAEError

__all__ = [
    "MAX_BATCH_SIZE",
    "MAX_CLIPS",
    "MAX_DECODED_BYTES",
    "MAX_IMAGE_SIDE",
    "MAX_NUM_FRAMES",
    "MAX_VIDEO_SIDE",
    "Range",
    "check_choice",
    "check_fields",
    "check_range",
]

MAX_NUM_FRAMES = 1024
MAX_IMAGE_SIDE = 4096
MAX_CLIPS = 100
MAX_BATCH_SIZE = 65536
MAX_DECODED_BYTES = 4 * 1024**3  # 4 GiB of RGB frames in one read
MAX_VIDEO_SIDE = 16384
MAX_COUNT = 10**9  # steps, epochs, intervals: anything beyond is a typo


@dataclass(frozen=True)
class Range:
    """Accepted values of one number: ``lo``..``hi`` (each bound inclusive unless ``*_open``).

    ``integer`` requires an int (bools refused); ``optional`` accepts None. Floats must be finite.
    """

    lo: float | None = None
    hi: float | None = None
    integer: bool = False
    optional: bool = False
    lo_open: bool = False
    hi_open: bool = False

    def describe(self) -> str:
        kind = "an integer" if self.integer else "a finite number"
        lo = "" if self.lo is None else f"{'>' if self.lo_open else '>='} {self.lo:g}"
        hi = "" if self.hi is None else f"{'<' if self.hi_open else '<='} {self.hi:g}"
        bounds = " and ".join(b for b in (lo, hi) if b)
        return f"{kind}{' ' + bounds if bounds else ''}{' (or None)' if self.optional else ''}"

    def accepts(self, value: Any) -> bool:
        if value is None:
            return self.optional
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return False
        if self.integer and not isinstance(value, int):
            return False
        if isinstance(value, float) and not math.isfinite(value):
            return False
        if self.lo is not None and (value <= self.lo if self.lo_open else value < self.lo):
            return False
        return self.hi is None or not (value >= self.hi if self.hi_open else value > self.hi)


# shorthands for the tables of the config classes
COUNT = Range(1, MAX_COUNT, integer=True)
OPT_COUNT = Range(1, MAX_COUNT, integer=True, optional=True)
FRACTION = Range(0.0, 1.0)
FRAMES = Range(1, MAX_NUM_FRAMES, integer=True)
SIDE = Range(1, MAX_IMAGE_SIDE, integer=True)
OPT_FRAMES = Range(1, MAX_NUM_FRAMES, integer=True, optional=True)
OPT_SIDE = Range(1, MAX_IMAGE_SIDE, integer=True, optional=True)
BATCH = Range(1, MAX_BATCH_SIZE, integer=True)
WORKERS = Range(0, 256, integer=True)
SEED = Range(0, 2**32 - 1, integer=True)
LEARNING_RATE = Range(0.0, 10.0)


def check_range(
    name: str, value: Any, rng: Range, error: type[VideoMAEError] = ConfigError
) -> None:
    """Raise ``error`` naming ``name``, the value and the accepted range unless ``rng`` accepts it."""
    if not rng.accepts(value):
        raise error(f"{name} must be {rng.describe()}, got {value!r}")


def check_choice(
    name: str, value: Any, choices: Collection[Any], error: type[VideoMAEError] = ConfigError
) -> None:
    """Raise ``error`` naming ``name`` and the accepted choices unless ``value`` is one of them."""
    if value not in choices:
        raise error(f"{name} must be one of {', '.join(map(str, choices))}; got {value!r}")


def check_fields(
    obj: Any, ranges: Mapping[str, Range], error: type[VideoMAEError] = ConfigError
) -> None:
    """Check every attribute ``obj.<name>`` against ``ranges[name]``; tuples element-wise."""
    for name, rng in ranges.items():
        value = getattr(obj, name)
        if isinstance(value, (tuple, list)):
            if not value:
                raise error(f"{name} must hold at least one value, got {value!r}")
            for v in value:
                check_range(name, v, rng, error)
        else:
            check_range(name, value, rng, error)
