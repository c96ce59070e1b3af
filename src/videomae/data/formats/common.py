"""What every annotation format shares: the sample record, video suffixes, safe path joins."""

from __future__ import annotations

import codecs
import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

from videomae.errors import InputError

VIDEO_EXTENSIONS = (".mp4", ".avi", ".mkv", ".webm", ".mov", ".m4v", ".mpg", ".mpeg", ".wmv")

_INTEGER = re.compile(r"-?[0-9]+")

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


def is_integer(token: str) -> bool:
    """Whether ``token`` is a plain ASCII integer such as ``12`` or ``-3`` (not ``²`` or ``1.5``)."""
    return _INTEGER.fullmatch(token) is not None


def read_text_lines(path: str | os.PathLike, what: str) -> list[str]:
    """The lines of a UTF-8 text file (a leading BOM and CRLF endings accepted); a binary or
    non-UTF-8 file raises :class:`InputError` naming the file, the line and the fix."""
    data = Path(path).read_bytes()
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise InputError(f"{what} {path} is UTF-16 text; save it as UTF-8 (one entry per line)")
    nul = data.find(b"\0")
    try:
        if nul >= 0:
            raise UnicodeDecodeError("utf-8", data, nul, nul + 1, "NUL byte")
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise InputError(
            f"{path}:{line}: {what} is not UTF-8 text ({exc.reason} at byte {exc.start}); "
            "is it a binary file? Pass a text file with one entry per line"
        ) from None
    return text.splitlines()


def is_video(p: Path) -> bool:
    """A visible regular file with a video suffix."""
    return p.is_file() and p.suffix.lower() in VIDEO_EXTENSIONS and not p.name.startswith(".")


def read_head(path: Path, size: int = 8192) -> str:
    """The first ``size`` characters of a text file ('' for a binary or unreadable one); a
    leading UTF-8 BOM is dropped."""
    try:
        with open(path, encoding="utf-8-sig") as f:
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
    """An error when none of the named videos exists: the root is almost surely wrong. Stops at
    the first file found, so a good list costs one ``stat``."""
    if samples and not any(os.path.exists(s.path) for s in samples):
        first = samples[0]
        where = f"{source}:{first.line}" if first.line else f"{source}"
        raise InputError(
            f"{where}: none of its {len(samples)} videos exists under {root} (first: "
            f"{first.path}); check the list's paths, or pass the folder that holds them with --root"
        )


def subset_of(subset: str) -> str:
    if subset not in SUBSETS:
        raise InputError(f"subset must be one of {SUBSETS}, got {subset!r}")
    return subset
