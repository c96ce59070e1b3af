"""Data lists and class folders (tiny videos written by the tests)."""

from __future__ import annotations

from pathlib import Path

import pytest

from videomae.data.lists import (
    Sample,
    load_samples,
    read_list_file,
    scan_class_folders,
    scan_videos,
)

pytest.importorskip("av")
from _video_helper import write_class_folders  # noqa: E402


@pytest.fixture(scope="module")
def videos(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_class_folders(tmp_path_factory.mktemp("videos"))


def test_read_list_file_formats(tmp_path: Path) -> None:
    lst = tmp_path / "train.csv"
    lst.write_text("# comment\na/v0.mp4 1\n\nb/w0.mp4,0\n/abs/x.mp4 2 extra\nc/unlabeled.mp4\n")
    samples = read_list_file(lst, root="/data")
    assert samples == [
        Sample("/data/a/v0.mp4", 1, 2),
        Sample("/data/b/w0.mp4", 0, 4),
        Sample("/abs/x.mp4", 2, 5),
        Sample("/data/c/unlabeled.mp4", None, 6),
    ]
    named = tmp_path / "named.txt"
    named.write_text("v.mp4 jump\nw.mp4 run\n")
    assert [s.label for s in read_list_file(named, label_names=["run", "jump"])] == [1, 0]
    with pytest.raises(ValueError, match=r"named.txt:1: label 'jump'"):
        read_list_file(named)
    with pytest.raises(ValueError, match="outside 0..1"):
        bad = tmp_path / "bad.txt"
        bad.write_text("v.mp4 5\n")
        read_list_file(bad, label_names=["x", "y"])


def test_folders(videos: Path) -> None:
    samples, classes = scan_class_folders(videos)
    assert classes == ["a", "b"] and len(samples) == 6
    assert [s.label for s in samples] == [0, 0, 0, 1, 1, 1]
    assert len(scan_videos(videos)) == 7  # corrupt.mp4 included: found at decode time
    s2, c2 = load_samples(videos, labeled=True)
    assert c2 == classes and s2 == samples
    with pytest.raises(ValueError, match="no sub-folders"):
        scan_class_folders(videos / "a")
