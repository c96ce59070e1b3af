"""What every annotation format shares: the sample record, video suffixes, safe path joins."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

from videomae.errors import InputError

VIDEO_EXTENSIONS = (".mp4", ".avi", ".mkv", ".webm", ".mov", ".m4v", ".mpg", ".mpeg", ".wmv")

# the subsets a reader may be asked for: training data, or evaluation (validation / test) data
SUBSETS = ("train", "test")


class Sample(NamedTuple):
    """One entry of a data list: file path, integer label (None when unlabeled), source line."""

    path: str
    label: int | None
    line: int | None


class Annotations(NamedTuple):
    """A dataset read from its annotation files: samples, and the class names their labels index
    (None when the labels are bare integers with no names)."""

    samples: list[Sample]
    names: list[str] | None


def split_fields(line: str) -> list[str]:
    """The fields of one list line: comma separated when it holds a comma, else whitespace."""
    if "," in line:
        return [f.strip() for f in line.split(",")]
    return line.split()


def is_video(p: Path) -> bool:
    """A visible regular file with a video suffix."""
    return p.is_file() and p.suffix.lower() in VIDEO_EXTENSIONS and not p.name.startswith(".")


def read_head(path: Path, size: int = 8192) -> str:
    """The first ``size`` characters of a text file ('' for a binary or unreadable one)."""
    try:
        with open(path, encoding="utf-8") as f:
            return f.read(size)
    except (OSError, UnicodeDecodeError):
        return ""


def safe_part(name: str, where: str) -> str:
    """``name`` as a relative path that stays inside its root (annotation files are untrusted)."""
    parts = Path(name).parts
    if not name or os.path.isabs(name) or ".." in parts:
        raise InputError(
            f"{where}: {name!r} is not a relative path inside the video root; "
            "annotation files may only name videos under --root"
        )
    return name


def locate(root: Path, name: str, folders: Sequence[str] = ("",)) -> str:
    """``root/<folder>/name`` for the first folder where that file exists, else the first one."""
    candidates = [root / folder / name for folder in folders]
    for path in candidates:
        if path.is_file():
            return str(path)
    return str(candidates[0])


def check_some_exist(samples: Sequence[Sample], source: Path, root: Path) -> None:
    """An error when none of the named videos exists: the root is almost surely wrong."""
    if samples and not any(os.path.exists(s.path) for s in samples):
        raise InputError(
            f"{source}: none of its {len(samples)} videos exists under {root} (first: "
            f"{samples[0].path}); pass the folder that holds them with --root"
        )


def subset_of(subset: str) -> str:
    if subset not in SUBSETS:
        raise InputError(f"subset must be one of {SUBSETS}, got {subset!r}")
    return subset
