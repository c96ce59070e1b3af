"""Class-name files in each accepted style."""

from __future__ import annotations

from pathlib import Path

import pytest

from videomae.data.labels import read_label_names
from videomae.errors import InputError


def test_read_label_names_styles(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("run\njump\n")
    (tmp_path / "b.csv").write_text("1,jump\n0,run\n")
    (tmp_path / "c.txt").write_text("jump 1\nrun 0\n")
    for name in ("a.txt", "b.csv", "c.txt"):
        assert read_label_names(tmp_path / name) == ["run", "jump"]


def test_read_label_names_refuses_gaps_and_repeats(tmp_path: Path) -> None:
    """Both would silently shift or merge classes (the original label maps are one name per
    line, so a gap moves every later index)."""
    (tmp_path / "gap.txt").write_text("run\n\njump\n")
    (tmp_path / "twice.txt").write_text("run\njump\nrun\n")
    (tmp_path / "ends.txt").write_text("\n# classes\nrun\njump\n\n\n")
    with pytest.raises(InputError, match="empty line 2"):
        read_label_names(tmp_path / "gap.txt")
    with pytest.raises(InputError, match=r"repeats class names \['run'\]"):
        read_label_names(tmp_path / "twice.txt")
    assert read_label_names(tmp_path / "ends.txt") == ["run", "jump"]
