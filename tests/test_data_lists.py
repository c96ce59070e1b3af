"""Data lists and class folders (tiny videos written by the tests)."""

from __future__ import annotations

from pathlib import Path

import pytest

from videomae.data.formats.common import Sample
from videomae.data.lists import (
    expand_videos,
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
    samples = read_list_file(lst, root="/data", allow_outside_root=True)
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


def test_list_paths_resolve_against_the_list_folder(videos: Path, tmp_path, monkeypatch) -> None:
    lst = videos / "pretrain.txt"
    lst.write_text("a/v0.mp4\nb/w1.mp4\n")
    monkeypatch.chdir(tmp_path)  # a working directory where a/v0.mp4 does not exist
    samples, _ = load_samples(lst, labeled=False)
    assert [Path(s.path) for s in samples] == [videos / "a/v0.mp4", videos / "b/w1.mp4"]


def test_word_labels_become_sorted_names_and_map_by_name(videos: Path) -> None:
    lst = videos / "named.txt"
    lst.write_text("a/v0.mp4 walk\nb/w0.mp4 run\n")
    samples, names = load_samples(lst, labeled=True)
    assert names == ["run", "walk"] and [s.label for s in samples] == [1, 0]
    samples, names = load_samples(lst, None, ["walk", "jump", "run"], labeled=True)
    assert [s.label for s in samples] == [0, 2]


def test_folders_follow_the_given_label_order(videos: Path) -> None:
    samples, names = load_samples(videos, None, ["b", "a"], labeled=True)
    assert names == ["b", "a"] and [s.label for s in samples] == [1, 1, 1, 0, 0, 0]
    with pytest.raises(ValueError, match=r"not among the 2 labels.*: 'b'"):
        load_samples(videos, None, ["a", "c"], labeled=True)


def test_expand_videos(videos: Path) -> None:
    got = expand_videos([videos / "a", str(videos / "b" / "w0.mp4")])
    assert [Path(p).name for p in got] == ["v0.mp4", "v1.mp4", "v2.mp4", "w0.mp4"]
    assert len(expand_videos([videos])) == 7  # recursive; corrupt.mp4 is found at decode time
    assert [Path(p).name for p in expand_videos([videos], "w*")] == ["w0.mp4", "w1.mp4", "w2.mp4"]
    (videos / "notes").mkdir(exist_ok=True)
    (videos / "notes" / "readme.txt").write_text("x")
    with pytest.raises(ValueError, match="no videos .* matching '\\*' under .*notes"):
        expand_videos([videos / "notes"])
