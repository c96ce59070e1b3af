"""Class names: the one parser of "which name has which label index", and the one place that
moves labels from a dataset's numbering to a model's (by name, never by position).

Accepted class-name files, one style per file: one name per line (line order = index),
``index name`` / ``index,name`` / ``name,index`` lines with indices 0..N-1 or 1..N (UCF101's
``classInd.txt``), or a JSON object name -> index (Something-Something V2's ``labels.json``) or a
JSON list of names. ``#`` comments and blank lines at the ends are skipped; a blank line between
bare names would shift every later index, so it is an error, as is a name given twice.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path

from videomae.data.formats.common import Sample, is_integer, read_text_lines, split_fields
from videomae.errors import InputError


def _ordered(path: str | os.PathLike, entries: dict[int, str]) -> list[str]:
    """Names in index order; indices must be 0..N-1 or 1..N without gaps."""
    keys = sorted(entries)
    first = keys[0] if keys else 0
    if first not in (0, 1) or keys != list(range(first, first + len(keys))):
        raise InputError(
            f"{path}: label indices must be 0..N-1 or 1..N without gaps, got "
            f"{keys[:10]}{'...' if len(keys) > 10 else ''}"
        )
    return [entries[k] for k in keys]


def _read_json(path: Path) -> list[str]:
    try:
        data = json.loads("\n".join(read_text_lines(path, "label file")))
    except json.JSONDecodeError as exc:
        raise InputError(f"{path}: not valid JSON ({exc})") from None
    if isinstance(data, list) and all(isinstance(n, str) for n in data):
        return _unique(path, list(data))
    if isinstance(data, dict) and all(is_integer(str(v)) for v in data.values()):
        return _ordered(path, {int(v): str(k) for k, v in data.items()})
    raise InputError(f"{path}: expected a JSON object name -> index or a list of names")


def read_label_names(path: str | os.PathLike) -> list[str]:
    """Class names from a file in one of the module's styles; returns names in index order."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"label file {path} does not exist")
    if path.suffix.lower() == ".json":
        return _read_json(path)
    entries: dict[int, str] = {}
    bare: list[str] = []
    blank_after: list[int] = []  # line numbers of blank lines that follow a bare name
    for number, raw in enumerate(read_text_lines(path, "label file"), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            if not line and bare:
                blank_after.append(number)
            continue
        if bare and blank_after:
            raise InputError(
                f"{path}: empty line {blank_after[0]} between class names would shift every "
                "later index; one name per line, no gaps"
            )
        fields = split_fields(line) if "," in line else line.split(maxsplit=1)
        if len(fields) == 2 and is_integer(fields[0]):
            entries[int(fields[0])] = fields[1].strip().strip('"')
        elif len(fields) == 2 and is_integer(fields[1]):
            entries[int(fields[1])] = fields[0].strip().strip('"')
        else:
            bare.append(line.strip('"'))
    if entries and bare:
        raise InputError(
            f"{path}: mixes indexed lines ('0 name') and bare names; use one style per file"
        )
    return _unique(path, bare if bare else _ordered(path, entries))


def _unique(path: Path, names: list[str]) -> list[str]:
    seen: set[str] = set()
    repeated = sorted({n for n in names if n in seen or seen.add(n)})
    if repeated:
        raise InputError(f"{path}: repeats class names {repeated[:10]}; names must be unique")
    return names


def _first(items: Sequence[str], n: int = 5) -> str:
    more = f" ... ({len(items)} in all)" if len(items) > n else ""
    return ", ".join(repr(i) for i in items[:n]) + more


def align_labels(
    samples: Sequence[Sample], names: Sequence[str], target: Sequence[str], where: str
) -> list[Sample]:
    """Samples labelled as indices into ``names``, relabelled as indices into ``target``.

    Matching is by name. A name ``target`` does not hold is an error naming the first ones.
    """
    index = {n: i for i, n in enumerate(target)}
    unknown = sorted({names[s.label] for s in samples if s.label is not None} - set(index))
    if unknown:
        raise InputError(
            f"{where}: {len(unknown)} class name(s) are not among the {len(target)} labels "
            f"of the model / label set: {_first(unknown)}; known labels: {_first(list(target))}. "
            "Fix the data's class names, or evaluate with the model trained on these classes"
        )
    return [s if s.label is None else s._replace(label=index[names[s.label]]) for s in samples]


def check_label_range(samples: Sequence[Sample], count: int, where: str) -> None:
    """Integer labels without names must index the ``count`` labels of the model / label set."""
    bad = [s for s in samples if s.label is not None and not 0 <= s.label < count]
    if bad:
        shown = [f"{s.path}{f' (line {s.line})' if s.line else ''}: {s.label}" for s in bad]
        raise InputError(
            f"{where}: {len(bad)} integer label(s) outside 0..{count - 1} (the {count} labels "
            f"of the model / label set): {_first(shown, 3)}. Integer labels must follow the "
            "model's order; give the class names with --label-file to map them by name"
        )
