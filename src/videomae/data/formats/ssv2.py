"""Something-Something V2: ``labels.json`` (name -> index) and ``train.json`` /
``validation.json`` (a list of objects with ``id`` and ``template``; the label is the template
with its brackets removed, ``"Putting [something] on [something]"`` -> ``Putting something on
something``; ``test.json`` has ids only). Videos are ``<id>.webm`` under the root.
"""

from __future__ import annotations

import json
from pathlib import Path

from videomae.data.formats.common import (
    Annotations,
    Sample,
    read_text_lines,
    safe_part,
)
from videomae.data.labels import read_label_names
from videomae.errors import InputError

LABELS = "labels.json"


def looks_like(path: Path, head: str) -> bool:
    """A JSON list whose first object has an ``id`` (and usually a ``template``)."""
    text = head.lstrip()
    return not path.is_dir() and text.startswith("[") and '"id"' in text[:2000]


def label_of(template: str) -> str:
    """``"Putting [something] on [something]"`` -> ``"Putting something on something"``."""
    return template.replace("[", "").replace("]", "").strip()


def _entries(path: Path) -> list[dict]:
    try:
        data = json.loads("\n".join(read_text_lines(path, "annotation file")))
    except json.JSONDecodeError as exc:
        raise InputError(f"{path}: not valid JSON ({exc})") from None
    if not isinstance(data, list) or not data:
        raise InputError(f"{path}: expected a non-empty JSON list of {{'id', 'template'}} objects")
    for i, entry in enumerate(data):
        if not isinstance(entry, dict) or "id" not in entry:
            raise InputError(f"{path}: entry {i} has no 'id': {str(entry)[:80]}")
    return data


def read(path: Path, root: Path, label_file: Path | None, subset: str) -> Annotations:
    """The entries of one SSv2 JSON file; classes from labels.json (beside it or --label-file)."""
    data = _entries(path)
    labels = [label_of(e["template"]) if e.get("template") else None for e in data]
    beside = path.parent / LABELS
    if label_file is not None:
        names = read_label_names(label_file)
    elif beside.is_file():
        names = read_label_names(beside)
    else:
        names = sorted({lab for lab in labels if lab is not None}) or None
    index = {n: i for i, n in enumerate(names or [])}
    unknown = sorted({lab for lab in labels if lab is not None} - set(index))
    if unknown:
        raise InputError(
            f"{path}: {len(unknown)} template(s) are not in {LABELS}, e.g. {unknown[:3]}"
        )
    samples = []
    for i, (entry, label) in enumerate(zip(data, labels, strict=True)):
        vid = safe_part(str(entry["id"]).strip(), f"{path}: entry {i}")
        webm, mp4 = root / f"{vid}.webm", root / f"{vid}.mp4"  # some copies are re-encoded
        video = mp4 if mp4.is_file() and not webm.is_file() else webm
        samples.append(Sample(str(video), None if label is None else index[label], i + 1))
    return Annotations(samples, names)
