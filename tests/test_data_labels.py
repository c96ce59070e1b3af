"""Class-name files in each accepted style."""

from __future__ import annotations

from pathlib import Path

import pytest

from videomae.data.formats.common import Sample
from videomae.data.labels import align_labels, check_label_range, read_label_names
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


def test_one_based_and_json_styles(tmp_path: Path) -> None:
    (tmp_path / "classInd.txt").write_text("1 run\r\n2 jump\r\n")
    (tmp_path / "labels.json").write_text('{"jump": "1", "run": "0"}')
    (tmp_path / "list.json").write_text('["run", "jump"]')
    for name in ("classInd.txt", "labels.json", "list.json"):
        assert read_label_names(tmp_path / name) == ["run", "jump"]
    (tmp_path / "gap.txt").write_text("1 run\n3 jump\n")
    with pytest.raises(InputError, match="0..N-1 or 1..N without gaps"):
        read_label_names(tmp_path / "gap.txt")


def test_align_labels_by_name_and_unknown_names() -> None:
    samples = [Sample("x.mp4", 0, 1), Sample("y.mp4", 1, 2), Sample("z.mp4", None, 3)]
    got = align_labels(samples, ["run", "jump"], ["jump", "walk", "run"], "data.txt")
    assert [s.label for s in got] == [2, 0, None]
    with pytest.raises(InputError, match=r"data.txt: 1 class name\(s\).*: 'jump'; known"):
        align_labels(samples, ["run", "jump"], ["run", "walk"], "data.txt")


def test_integer_labels_outside_the_model_are_named() -> None:
    samples = [Sample("x.mp4", 0, 1), Sample("y.mp4", 3, 2), Sample("z.mp4", 5, 3)]
    check_label_range(samples[:1], 3, "d.txt")
    with pytest.raises(InputError, match=r"2 integer label\(s\) outside 0..2.*y.mp4 \(line 2\): 3"):
        check_label_range(samples, 3, "d.txt")
