"""UCF101's split files: ``classInd.txt`` (``1 ApplyEyeMakeup``: 1-based), ``trainlist0N.txt``
(``ApplyEyeMakeup/v_ApplyEyeMakeup_g08_c01.avi 1``) and ``testlist0N.txt`` (the path only; the
class is the folder). The class index is ``classInd.txt`` beside the split file or the
``--label-file``; the folder name decides the class, and a written index must agree with it.
"""

from __future__ import annotations

import re
from pathlib import Path

from videomae.data.formats.common import (
    Annotations,
    Sample,
    is_integer,
    locate,
    read_text_lines,
    safe_part,
)
from videomae.data.labels import read_label_names
from videomae.errors import InputError

CLASS_INDEX = "classInd.txt"
_NAME = re.compile(r"^(train|test)list\d+\.txt$", re.IGNORECASE)
# ``Class/v_Class_g08_c01.avi`` optionally followed by an integer: the content's signature
_LINE = re.compile(r"^(?P<cls>[^/\s]+)/(?P<file>v_(?P=cls)_\S+)(?:\s+(?P<label>-?\d+))?$")


def looks_like(path: Path, head: str) -> bool:
    """A split file by name, or lines shaped ``Class/v_Class_*.avi [index]``."""
    if path.is_dir():
        return False
    if _NAME.match(path.name):
        return True
    # the head's last line may be cut off, unless the head ends a line
    whole = head.splitlines() if head.endswith("\n") else head.splitlines()[:-1]
    lines = [ln.strip() for ln in whole if ln.strip()] or head.split()[:1]
    return bool(lines) and all(_LINE.match(ln) for ln in lines)


def _names_from_lines(rows: list[tuple[int, str, int | None]], path: Path) -> list[str]:
    """Without classInd.txt: class names from the ``Class/... index`` pairs of a trainlist."""
    pairs: dict[int, str] = {}
    for line_no, cls, label in rows:
        if label is None:
            raise InputError(
                f"{path}:{line_no}: a UCF101 test list has no class indices; put {CLASS_INDEX} "
                "beside it or pass it with --label-file"
            )
        if pairs.setdefault(label, cls) != cls:
            raise InputError(
                f"{path}:{line_no}: index {label} is both {pairs[label]!r} and {cls!r}"
            )
    keys = sorted(pairs)
    if keys != list(range(1, len(keys) + 1)):
        raise InputError(
            f"{path}: class indices are not 1..{len(keys)}; pass {CLASS_INDEX} with --label-file"
        )
    return [pairs[k] for k in keys]


def _rows(path: Path) -> list[tuple[int, str, str, int | None]]:
    rows = []
    for line_no, raw in enumerate(read_text_lines(path, "UCF101 split file"), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        fields = line.split()
        rel = safe_part(fields[0], f"{path}:{line_no}")
        if "/" not in rel or len(fields) > 2 or (len(fields) == 2 and not is_integer(fields[1])):
            raise InputError(
                f"{path}:{line_no}: expected 'Class/video.avi [index]' (UCF101 split file), "
                f"got {line!r}"
            )
        rows.append((line_no, rel.split("/")[0], rel, int(fields[1]) if len(fields) == 2 else None))
    if not rows:
        raise InputError(f"{path} holds no entries")
    return rows


def read(path: Path, root: Path, label_file: Path | None, subset: str) -> Annotations:
    """The samples of one UCF101 split file; labels index the class names (0-based)."""
    rows = _rows(path)
    beside = path.parent / CLASS_INDEX
    if label_file is not None:
        names = read_label_names(label_file)
    elif beside.is_file():
        names = read_label_names(beside)
    else:
        names = _names_from_lines([(n, c, lab) for n, c, _, lab in rows], path)
    index = {n: i for i, n in enumerate(names)}
    samples = []
    for line_no, cls, rel, label in rows:
        if cls not in index:
            raise InputError(
                f"{path}:{line_no}: class folder {cls!r} is not in the class index "
                f"({len(names)} classes); check --label-file / {CLASS_INDEX}"
            )
        if label is not None and label != index[cls] + 1:
            raise InputError(
                f"{path}:{line_no}: index {label} disagrees with the class index, where "
                f"{cls!r} is {index[cls] + 1}; the split file and {CLASS_INDEX} do not match"
            )
        samples.append(Sample(locate(root, rel), index[cls], line_no))
    return Annotations(samples, names)
