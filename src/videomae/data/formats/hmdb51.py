"""HMDB51's split files: one ``<class>_test_split<N>.txt`` per class and split, lines
``name.avi 0|1|2`` (1 = train, 2 = test, 0 = unused). The source is the folder of split files
(split 1) or any one of them (its split N, every class beside it). Videos are
``root/<class>/<name>`` (or ``root/<name>``).
"""

from __future__ import annotations

import re
from pathlib import Path

from videomae.data.formats.common import (
    Annotations,
    Sample,
    locate,
    read_text_lines,
    safe_part,
    subset_of,
)
from videomae.errors import InputError

_NAME = re.compile(r"^(?P<cls>.+)_test_split(?P<split>\d+)\.txt$")
_CODE = {"train": "1", "test": "2"}


def looks_like(path: Path, head: str) -> bool:
    """A folder holding ``*_test_splitN.txt`` files, or one such file."""
    if path.is_dir():
        return any(_NAME.match(p.name) for p in path.glob("*_test_split*.txt"))
    return bool(_NAME.match(path.name))


def _split_files(path: Path) -> tuple[list[tuple[str, Path]], str]:
    """((class, file) pairs sorted by class, split number) of the source."""
    folder, split = (path, None) if path.is_dir() else (path.parent, None)
    if not path.is_dir():
        split = _NAME.match(path.name)["split"]  # type: ignore[index]
    found = [(m, p) for p in folder.glob("*_test_split*.txt") if (m := _NAME.match(p.name))]
    if split is None:
        split = min((m["split"] for m, _ in found), key=int)
    files = sorted((m["cls"], p) for m, p in found if m["split"] == split)
    return files, split


def read(path: Path, root: Path, label_file: Path | None, subset: str) -> Annotations:
    """The ``subset`` (train: 1, test: 2) of one HMDB51 split; classes sorted by name."""
    code = _CODE[subset_of(subset)]
    files, split = _split_files(path)
    names = [cls for cls, _ in files]
    samples = []
    for label, (cls, file) in enumerate(files):
        for line_no, raw in enumerate(read_text_lines(file, "HMDB51 split file"), 1):
            fields = raw.split()
            if not fields:
                continue
            if len(fields) != 2 or fields[1] not in ("0", "1", "2"):
                raise InputError(
                    f"{file}:{line_no}: expected 'name.avi 0|1|2' (HMDB51 split file), got "
                    f"{raw.strip()!r}"
                )
            if fields[1] == code:
                name = safe_part(fields[0], f"{file}:{line_no}")
                samples.append(Sample(locate(root, name, (cls, "")), label, line_no))
    if not samples:
        raise InputError(f"{path}: split {split} has no {subset} videos (code {code})")
    return Annotations(samples, names)
