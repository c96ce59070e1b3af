"""The record of finished outputs that makes ``videomae prepare`` resumable.

``DST/prepare_manifest.jsonl`` is a journal: its first line holds the encoding settings, then
one JSON line per finished output (its path under DST, the source's size and mtime, the
output's size and frame count), appended and flushed as each file completes. An output counts
as finished when its line is there, the output still has the recorded size and the source still
has the recorded size and mtime; anything else is encoded again. A torn last line (a kill while
appending) is ignored. Settings that differ from the journal's are refused unless ``force``,
which starts a new journal (every output is then encoded again).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from videomae._io import atomic_write_text
from videomae.errors import InputError

__all__ = ["Manifest", "source_stamp"]

_VERSION = 1


def source_stamp(path: str) -> list[int] | None:
    """[size, mtime in ns] of a file, or None when it cannot be read."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return [st.st_size, st.st_mtime_ns]


def _read_lines(path: Path) -> list[dict[str, Any]]:
    rows = []
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            row = json.loads(line)
        except json.JSONDecodeError:
            continue  # a line torn by a kill while it was appended
        if isinstance(row, dict):
            rows.append(row)
    return rows


class Manifest:
    """The journal of one output folder (see the module doc)."""

    def __init__(self, dst: Path, name: str, settings: dict[str, Any], force: bool) -> None:
        self.path = dst / name
        self.settings = settings
        self.entries: dict[str, dict[str, Any]] = {}
        rows = _read_lines(self.path) if self.path.is_file() else []
        header = rows[0] if rows and "settings" in rows[0] else None
        self.current = header is not None and header["settings"] == settings
        if self.current:
            self.entries = {r["output"]: r for r in rows[1:] if "output" in r}
        elif header is not None and not force:
            raise InputError(
                f"{dst} was prepared with other settings ({_describe(header['settings'])}); now "
                f"{_describe(settings)}. Pass --force (force=True) to re-encode every video with "
                "the new settings, or choose another output folder"
            )

    def start(self) -> None:
        """Begin a new journal unless the existing one holds these settings."""
        if not self.current:
            header = {"version": _VERSION, "settings": self.settings}
            atomic_write_text(self.path, json.dumps(header) + "\n")
            self.current = True

    def finished(self, rel: str, source: str, dst: Path) -> bool:
        """Whether ``rel`` was completed from this very source and is still intact."""
        entry = self.entries.get(rel)
        if entry is None or entry.get("source_stamp") != source_stamp(source):
            return False
        try:
            return (dst / rel).stat().st_size == entry.get("bytes")
        except OSError:
            return False

    def record(
        self, rel: str, source: str, stamp: list[int] | None, nbytes: int, frames: int
    ) -> None:
        """Append one finished output, with the source's stamp taken before it was read
        (flushed and fsynced: a kill after this keeps it)."""
        row = {
            "output": rel,
            "source": source,
            "source_stamp": stamp,
            "bytes": nbytes,
            "frames": frames,
        }
        self.entries[rel] = row
        with open(self.path, "a", encoding="utf-8") as f:
            f.write(json.dumps(row) + "\n")
            f.flush()
            os.fsync(f.fileno())


def _describe(settings: dict[str, Any]) -> str:
    keys = ("short_side", "gop", "crf", "preset")
    return ", ".join(f"{k} {settings.get(k)}" for k in keys)
