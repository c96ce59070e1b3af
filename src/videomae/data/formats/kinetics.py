"""Kinetics' CSV: ``label,youtube_id,time_start,time_end,split`` (the test CSV has no label).
Videos are ``<youtube_id>_<start:06d>_<end:06d>.mp4`` under the root, either flat or in one
folder per label (the label as written, or with spaces as underscores). Classes are the sorted
label names, unless a ``--label-file`` fixes their order.
"""

from __future__ import annotations

import csv
from pathlib import Path

from videomae.data.formats.common import (
    Annotations,
    Sample,
    locate,
    read_text_lines,
    safe_part,
)
from videomae.errors import InputError

REQUIRED = ("youtube_id", "time_start", "time_end")


def looks_like(path: Path, head: str) -> bool:
    """A CSV whose header names the youtube_id and time columns."""
    if path.is_dir() or not head:
        return False
    header = [c.strip() for c in head.splitlines()[0].split(",")]
    return all(c in header for c in REQUIRED)


def file_name(youtube_id: str, start: str, end: str) -> str:
    """The distributed clip name, e.g. ``---QUuC4vJs_000084_000094.mp4``."""
    return f"{youtube_id}_{int(float(start)):06d}_{int(float(end)):06d}.mp4"


def _row_sample(row: dict, root: Path, where: str) -> tuple[str, str | None]:
    try:
        name = file_name(row["youtube_id"].strip(), row["time_start"], row["time_end"])
    except (TypeError, ValueError, AttributeError):
        raise InputError(
            f"{where}: expected youtube_id and integer time_start/time_end, got {row}"
        ) from None
    label = (row.get("label") or "").strip() or None
    folders = ("",) if label is None else (label, label.replace(" ", "_"), "")
    folders = tuple(safe_part(f, where) if f else f for f in folders)
    return locate(root, safe_part(name, where), folders), label


def read(path: Path, root: Path, label_file: Path | None, subset: str) -> Annotations:
    """Every row of one Kinetics CSV (one CSV is one split)."""
    reader = csv.DictReader(read_text_lines(path, "Kinetics CSV"))
    missing = [c for c in REQUIRED if c not in (reader.fieldnames or [])]
    if missing:
        raise InputError(f"{path}: not a Kinetics CSV, missing columns {missing}")
    rows = [(i, _row_sample(row, root, f"{path}:{i}")) for i, row in enumerate(reader, 2)]
    if not rows:
        raise InputError(f"{path} holds no entries")
    labels = {label for _, (_, label) in rows if label is not None}
    names = sorted(labels) if labels else None
    index = {n: i for i, n in enumerate(names or [])}
    samples = [
        Sample(p, None if label is None else index[label], line) for line, (p, label) in rows
    ]
    return Annotations(samples, names)
