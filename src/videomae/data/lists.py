"""Data lists and video folders: the one reader of "which videos, with which labels".

A data list is the original release's format: one video per line, ``path label`` (space
separated, as the Kinetics / SSv2 / UCF101 / HMDB51 lists) or ``path,label``; a line with just
``path`` is unlabeled (pre-training). A folder is either one sub-folder of videos per class or,
unlabeled, any tree of video files. Everything here is plain Python (no torch), so reading a
list stays light.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

logger = logging.getLogger(__name__)

VIDEO_EXTENSIONS = (".mp4", ".avi", ".mkv", ".webm", ".mov", ".m4v", ".mpg", ".mpeg", ".wmv")


class Sample(NamedTuple):
    """One entry of a data list: file path, integer label (None when unlabeled), source line."""

    path: str
    label: int | None
    line: int | None


def split_fields(line: str) -> list[str]:
    """The fields of one list line: comma separated when it holds a comma, else whitespace."""
    if "," in line:
        return [f.strip() for f in line.split(",")]
    return line.split()


def _parse_label(
    token: str, names: dict[str, int], label_names: Sequence[str] | None, where: str
) -> int:
    """An integer label or a class name from ``label_names``, checked against their count."""
    if token.lstrip("-").isdigit():
        label = int(token)
    elif token in names:
        label = names[token]
    else:
        raise ValueError(
            f"{where}: label {token!r} is neither an integer nor a known class "
            "name; expected 'path label' per line (pass label_names to use names)"
        )
    if label_names is not None and not 0 <= label < len(label_names):
        raise ValueError(
            f"{where}: label {label} is outside 0..{len(label_names) - 1} "
            f"({len(label_names)} label names)"
        )
    return label


def read_list_file(
    path: str | os.PathLike,
    root: str | os.PathLike | None = None,
    label_names: Sequence[str] | None = None,
) -> list[Sample]:
    """Parse a data list in the original release's format (see the module doc).

    Extra columns are ignored. ``root`` is prefixed to relative paths. A label may also be a
    class name from ``label_names``. Blank lines and ``#`` comments are skipped. Malformed
    labels raise ``ValueError`` naming the line.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"data list {path} does not exist")
    names = {n: i for i, n in enumerate(label_names)} if label_names is not None else {}
    samples: list[Sample] = []
    for line_no, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        fields = split_fields(line)
        video = fields[0]
        if root is not None and not os.path.isabs(video):
            video = os.path.join(os.fspath(root), video)
        label: int | None = None
        if len(fields) >= 2 and fields[1] != "":
            label = _parse_label(fields[1], names, label_names, f"{path}:{line_no}")
        samples.append(Sample(video, label, line_no))
    if not samples:
        raise ValueError(f"data list {path} holds no entries")
    return samples


def _is_video(p: Path) -> bool:
    return p.is_file() and p.suffix.lower() in VIDEO_EXTENSIONS and not p.name.startswith(".")


def scan_class_folders(root: str | os.PathLike) -> tuple[list[Sample], list[str]]:
    """``root/<class>/<video>`` -> (samples, class names); classes sorted by name."""
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"class folder root {root} does not exist")
    classes = sorted(d.name for d in root.iterdir() if d.is_dir() and not d.name.startswith("."))
    if not classes:
        raise ValueError(f"{root} has no sub-folders; expected one folder of videos per class")
    samples = [
        Sample(str(p), label, None)
        for label, name in enumerate(classes)
        for p in sorted((root / name).rglob("*"))
        if _is_video(p)
    ]
    if not samples:
        raise ValueError(f"no videos ({', '.join(VIDEO_EXTENSIONS)}) under {root}/<class>/")
    return samples, classes


def scan_videos(root: str | os.PathLike) -> list[Sample]:
    """Every video file under ``root`` (recursive, sorted), unlabeled, for pre-training."""
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"video folder {root} does not exist")
    samples = [Sample(str(p), None, None) for p in sorted(root.rglob("*")) if _is_video(p)]
    if not samples:
        raise ValueError(f"no videos ({', '.join(VIDEO_EXTENSIONS)}) under {root}")
    return samples


def load_samples(
    source: str | os.PathLike,
    root: str | os.PathLike | None = None,
    label_names: Sequence[str] | None = None,
    *,
    labeled: bool,
) -> tuple[list[Sample], list[str] | None]:
    """A list file or a folder -> (samples, class names or None).

    A folder is read as class folders when ``labeled`` and as a plain video folder otherwise.
    """
    p = Path(source)
    if p.is_dir():
        if labeled:
            samples, classes = scan_class_folders(p)
            return samples, list(label_names) if label_names is not None else classes
        return scan_videos(p), None
    samples = read_list_file(p, root, label_names)
    if labeled:
        missing = [s for s in samples if s.label is None]
        if missing:
            raise ValueError(
                f"{p}:{missing[0].line}: no label for {missing[0].path!r}; fine-tuning needs "
                "'path label' on every line"
            )
    return samples, list(label_names) if label_names is not None else None


def read_samples(
    source: str | os.PathLike,
    *,
    root: str | os.PathLike | None = None,
    label_names: Sequence[str] | None = None,
) -> list[tuple[str, int]]:
    """(path, label) pairs from a list file (``path label`` lines) or a folder per class.

    List files: relative paths are joined to ``root`` (default: the list file's folder); labels
    may be integers or names from ``label_names``. Class folders: when ``label_names`` (the
    model's classes) holds every folder name, labels follow the model's order; otherwise the
    folders' sorted order, with a warning.
    """
    src = Path(source)
    if not src.exists():
        raise FileNotFoundError(f"{src} does not exist; pass a list file or a folder per class")
    if src.is_dir():
        samples, classes = load_samples(src, labeled=True)
        if label_names is not None and classes:
            index = {name: i for i, name in enumerate(label_names)}
            if all(c in index for c in classes):
                return [(s.path, index[classes[s.label]]) for s in samples]
            logger.warning(
                "class folders %s are not all among the model's labels; using sorted folder order",
                classes[:5],
            )
        return [(s.path, int(s.label)) for s in samples]
    if root is None and src.parent != Path("."):
        root = src.parent
    samples, _ = load_samples(src, root, label_names, labeled=True)
    return [(s.path, int(s.label)) for s in samples]
