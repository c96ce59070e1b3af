"""Data lists, video folders and the benchmarks' annotation files: the one reader of "which
videos, with which labels".

A data list is the original release's format: one video per line, ``path label`` (space
separated, as the Kinetics / SSv2 / UCF101 / HMDB51 lists) or ``path,label``; a line with just
``path`` is unlabeled (pre-training). Labels are integers or class names. A folder is either one
sub-folder of videos per class or, unlabeled, any tree of video files. The official annotation
files (UCF101, HMDB51, Kinetics, Something-Something V2) are read by :mod:`videomae.data.formats`.
Relative paths resolve against ``root``, by default the list file's folder. Everything here is
plain Python (no torch), so reading a list stays light.
"""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Sequence
from pathlib import Path

from videomae.data.formats.common import (
    VIDEO_EXTENSIONS,
    Annotations,
    Sample,
    check_some_exist,
    is_integer,
    is_video,
    read_text_lines,
    split_fields,
    subset_of,
)
from videomae.data.formats.detect import READERS, check_format, detect_format
from videomae.data.labels import align_labels, check_label_range, read_label_names
from videomae.errors import InputError

__all__ = [
    "VIDEO_EXTENSIONS",
    "Sample",
    "expand_videos",
    "load_samples",
    "read_list_file",
    "read_samples",
    "scan_class_folders",
    "scan_videos",
    "split_fields",
]


def _parse_label(
    token: str, names: dict[str, int], label_names: Sequence[str] | None, where: str
) -> int:
    """An integer label or a class name from ``label_names``, checked against their count."""
    if is_integer(token):
        label = int(token)
    elif token in names:
        label = names[token]
    else:
        raise InputError(
            f"{where}: label {token!r} is neither an integer nor a known class "
            "name; expected 'path label' per line (pass label_names to use names)"
        )
    if label < 0:
        raise InputError(f"{where}: label {label} is negative; labels are class indices 0..K-1")
    if label_names is not None and not 0 <= label < len(label_names):
        raise InputError(
            f"{where}: label {label} is outside 0..{len(label_names) - 1} "
            f"({len(label_names)} label names)"
        )
    return label


def confined(video: str, where: str, allow_outside_root: bool) -> str:
    """``video`` unless it is absolute or climbs out with ``..``: then InputError, unless allowed."""
    if allow_outside_root:
        return video
    norm = os.path.normpath(video)
    if os.path.isabs(video) or norm == ".." or norm.startswith(".." + os.sep):
        raise InputError(
            f"{where}: path {video!r} points outside the dataset root (absolute or '..'); "
            "use paths relative to the root, or pass allow_outside_root=True "
            "(--allow-outside-root) if the list really names files elsewhere"
        )
    return video


def read_list_file(
    path: str | os.PathLike,
    root: str | os.PathLike | None = None,
    label_names: Sequence[str] | None = None,
    *,
    allow_outside_root: bool = False,
) -> list[Sample]:
    """Parse a data list in the original release's format (see the module doc).

    Extra columns are ignored. ``root`` is prefixed to relative paths. A label may also be a
    class name from ``label_names``. Blank lines and ``#`` comments are skipped; a UTF-8 BOM and
    CRLF line ends are accepted; fields are separated by spaces or tabs (or commas). Paths must
    stay under the root (relative, no ``..`` above it) unless ``allow_outside_root``. Malformed
    lines and binary files raise :class:`InputError` naming the line.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"data list {path} does not exist")
    names = {n: i for i, n in enumerate(label_names)} if label_names is not None else {}
    samples: list[Sample] = []
    for line_no, raw in enumerate(read_text_lines(path, "data list"), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        fields = split_fields(line)
        where = f"{path}:{line_no}"
        video = confined(fields[0], where, allow_outside_root)
        if not video:
            raise InputError(f"{where}: the line has no path; expected 'path label'")
        if root is not None and not os.path.isabs(video):
            video = os.path.join(os.fspath(root), video)
        label: int | None = None
        if len(fields) >= 2 and fields[1] != "":
            label = _parse_label(fields[1], names, label_names, where)
        samples.append(Sample(video, label, line_no))
    if not samples:
        raise InputError(f"data list {path} holds no entries")
    return samples


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
        if is_video(p)
    ]
    if not samples:
        raise ValueError(f"no videos ({', '.join(VIDEO_EXTENSIONS)}) under {root}/<class>/")
    return samples, classes


def scan_videos(root: str | os.PathLike) -> list[Sample]:
    """Every video file under ``root`` (recursive, sorted), unlabeled, for pre-training."""
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"video folder {root} does not exist")
    samples = [Sample(str(p), None, None) for p in sorted(root.rglob("*")) if is_video(p)]
    if not samples:
        raise ValueError(f"no videos ({', '.join(VIDEO_EXTENSIONS)}) under {root}")
    return samples


def _word_labels(path: Path) -> list[str] | None:
    """The sorted class names of a list whose labels are words (None when they are integers)."""
    words = set()
    for raw in read_text_lines(path, "data list"):
        fields = split_fields(raw.strip()) if raw.strip() and not raw.startswith("#") else []
        if len(fields) >= 2 and fields[1] and not is_integer(fields[1]):
            words.add(fields[1])
    return sorted(words) or None


def _read(
    p: Path, kind: str, root: Path, label_file: str | None, subset: str, allow_outside_root: bool
) -> Annotations:
    """One source in one format -> its samples and the class names their labels index."""
    if kind in READERS:
        return READERS[kind](p, root, Path(label_file) if label_file else None, subset)
    if kind == "folders":
        return Annotations(*scan_class_folders(p))
    names = read_label_names(label_file) if label_file else _word_labels(p)
    samples = read_list_file(p, root, names, allow_outside_root=allow_outside_root)
    return Annotations(samples, names)


def _check_kind(p: Path, kind: str) -> None:
    wants_dir = kind == "folders"
    if kind != "hmdb51" and p.is_dir() != wants_dir:
        what = "a folder" if wants_dir else "a file"
        raise InputError(f"--format {kind} expects {what}, but {p} is not; check --format")


def load_samples(
    source: str | os.PathLike,
    root: str | os.PathLike | None = None,
    label_names: Sequence[str] | None = None,
    *,
    labeled: bool,
    fmt: str = "auto",
    label_file: str | os.PathLike | None = None,
    subset: str = "train",
    allow_outside_root: bool = False,
) -> tuple[list[Sample], list[str] | None]:
    """A list file, a folder or an annotation file -> (samples, class names or None).

    ``fmt`` is one of :data:`~videomae.data.formats.detect.FORMATS` (``auto``: from the
    content). ``root`` (default: the annotation file's folder) holds the videos. ``label_file``
    names the classes (a list's or UCF101's indices, SSv2's labels.json, or the order of
    folders / Kinetics / HMDB51 classes). The labels are returned as indices into
    ``label_names`` when given (matched by name; unknown names are an error), else into the
    returned names. ``subset`` picks HMDB51's train (1) or test (2) part. A folder without
    ``labeled`` is read as a plain video folder.
    ``allow_outside_root``: see :func:`read_list_file` (annotation files are always confined).
    A source none of whose files exists raises :class:`InputError` (a wrong ``root``).
    """
    p = Path(source)
    if not p.exists():
        raise FileNotFoundError(
            f"{p} does not exist; pass a list file, a folder of videos or an annotation file"
        )
    kind = detect_format(p) if check_format(fmt) == "auto" else fmt
    _check_kind(p, kind)
    if kind == "folders" and not labeled:
        return scan_videos(p), None
    base = Path(root) if root is not None else (p if p.is_dir() else p.parent)
    label_path = os.fspath(label_file) if label_file else None
    samples, names = _read(p, kind, base, label_path, subset_of(subset), allow_outside_root)
    check_some_exist(samples, p, base)
    target = (
        label_names
        if label_names is not None
        else (read_label_names(label_file) if label_file else None)
    )
    if target is not None:
        if names is not None:
            samples = align_labels(samples, names, target, str(p))
        else:
            check_label_range(samples, len(target), str(p))
        names = list(target)
    if labeled:
        missing = [s for s in samples if s.label is None]
        if missing:
            raise InputError(
                f"{p}:{missing[0].line}: no label for {missing[0].path!r}; training and "
                "evaluation need a label on every line (or a class index: --label-file)"
            )
    return samples, names


def read_samples(
    source: str | os.PathLike,
    *,
    root: str | os.PathLike | None = None,
    label_names: Sequence[str] | None = None,
    fmt: str = "auto",
    label_file: str | os.PathLike | None = None,
    allow_outside_root: bool = False,
) -> list[tuple[str, int]]:
    """(path, label) pairs of an evaluation set (see :func:`load_samples`, subset ``test``).

    With ``label_names`` (a model's classes), labels are indices into them: names are matched
    by name; bare integers must lie inside the model's label range. ``allow_outside_root``: see
    :func:`read_list_file`.
    """
    samples, _ = load_samples(
        source,
        root,
        label_names,
        labeled=True,
        fmt=fmt,
        label_file=label_file,
        subset="test",
        allow_outside_root=allow_outside_root,
    )
    return [(s.path, int(s.label)) for s in samples]


def expand_videos(paths: Sequence[str | os.PathLike], pattern: str = "*") -> list[str]:
    """Files as given; folders as the video files under them (recursive, sorted) whose name
    matches the glob ``pattern``. A folder with no such video is an error naming it."""
    found: list[str] = []
    for item in paths:
        p = Path(item)
        if not p.is_dir():
            found.append(os.fspath(item))
            continue
        videos = [
            str(v) for v in sorted(p.rglob("*")) if is_video(v) and fnmatch.fnmatch(v.name, pattern)
        ]
        if not videos:
            raise InputError(
                f"no videos ({', '.join(VIDEO_EXTENSIONS)}) matching {pattern!r} under {p}"
            )
        found.extend(videos)
    return found
