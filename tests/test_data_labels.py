"""Class-name files in each accepted style."""

from __future__ import annotations

from pathlib import Path

from videomae.data.labels import read_label_names


def test_read_label_names_styles(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("run\njump\n")
    (tmp_path / "b.csv").write_text("1,jump\n0,run\n")
    (tmp_path / "c.txt").write_text("jump 1\nrun 0\n")
    for name in ("a.txt", "b.csv", "c.txt"):
        assert read_label_names(tmp_path / name) == ["run", "jump"]
