"""Class-name files: the one parser of "which name has which label index".

Accepted styles, one per file: one name per line (line order = index, as in the original
releases' label maps), or ``index name`` / ``index,name`` / ``name,index`` lines. ``#`` comments
and blank lines at the ends are skipped; a blank line between bare names would shift every later
index, so it is an error, as is a name given twice.
"""

from __future__ import annotations

import os
from pathlib import Path

from videomae.data.lists import split_fields
from videomae.errors import InputError


def _check_indices(path: str | os.PathLike, entries: dict[int, str], bare: list[str]) -> None:
    if entries and bare:
        raise InputError(
            f"{path}: mixes indexed lines ('0 name') and bare names; use one style per file"
        )
    if not bare and sorted(entries) != list(range(len(entries))):
        raise InputError(
            f"{path}: label indices must be 0..{len(entries) - 1} without gaps, got "
            f"{sorted(entries)[:10]}..."
        )


def read_label_names(path: str | os.PathLike) -> list[str]:
    """Class names from a file in one of the module's styles; returns names in index order."""
    entries: dict[int, str] = {}
    bare: list[str] = []
    blank_after: list[int] = []  # line numbers of blank lines that follow a bare name
    lines = Path(path).read_text(encoding="utf-8").splitlines()
    for number, raw in enumerate(lines, start=1):
        line = raw.strip()
        if not line:
            if bare:
                blank_after.append(number)
            continue
        if line.startswith("#"):
            continue
        if bare and blank_after:
            raise InputError(
                f"{path}: empty line {blank_after[0]} between class names would shift every "
                "later index; one name per line, no gaps"
            )
        fields = split_fields(line) if "," in line else line.split(maxsplit=1)
        if len(fields) == 2 and fields[0].lstrip("-").isdigit():
            entries[int(fields[0])] = fields[1].strip().strip('"')
        elif len(fields) == 2 and fields[1].lstrip("-").isdigit():
            entries[int(fields[1])] = fields[0].strip().strip('"')
        else:
            bare.append(line.strip('"'))
    _check_indices(path, entries, bare)
    names = bare or [entries[i] for i in range(len(entries))]
    seen: set[str] = set()
    repeated = sorted({n for n in names if n in seen or seen.add(n)})
    if repeated:
        raise InputError(f"{path}: repeats class names {repeated[:10]}; names must be unique")
    return names
