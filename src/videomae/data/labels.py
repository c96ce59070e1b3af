"""Class-name files: the one parser of "which name has which label index".

Accepted styles, one per file: one name per line (line order = index), or ``index name`` /
``index,name`` / ``name,index`` lines. Blank lines and ``#`` comments are skipped.
"""

from __future__ import annotations

import os
from pathlib import Path

from videomae.data.lists import split_fields


def _check_indices(path: str | os.PathLike, entries: dict[int, str], bare: list[str]) -> None:
    if entries and bare:
        raise ValueError(
            f"{path}: mixes indexed lines ('0 name') and bare names; use one style per file"
        )
    if not bare and sorted(entries) != list(range(len(entries))):
        raise ValueError(
            f"{path}: label indices must be 0..{len(entries) - 1} without gaps, got "
            f"{sorted(entries)[:10]}..."
        )


def read_label_names(path: str | os.PathLike) -> list[str]:
    """Class names from a file in one of the module's styles; returns names in index order."""
    entries: dict[int, str] = {}
    bare: list[str] = []
    for raw in Path(path).read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        fields = split_fields(line) if "," in line else line.split(maxsplit=1)
        if len(fields) == 2 and fields[0].lstrip("-").isdigit():
            entries[int(fields[0])] = fields[1].strip().strip('"')
        elif len(fields) == 2 and fields[1].lstrip("-").isdigit():
            entries[int(fields[1])] = fields[0].strip().strip('"')
        else:
            bare.append(line.strip('"'))
    _check_indices(path, entries, bare)
    if bare:
        return bare
    return [entries[i] for i in range(len(entries))]
