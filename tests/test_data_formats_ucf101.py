"""UCF101's classInd / trainlist / testlist, read as distributed (CRLF, 1-based indices)."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("av")
from _dataset_helper import UCF_CLASSES, write_ucf101  # noqa: E402

from videomae.data.formats import ucf101  # noqa: E402
from videomae.data.labels import read_label_names  # noqa: E402
from videomae.data.lists import load_samples  # noqa: E402
from videomae.errors import InputError  # noqa: E402


@pytest.fixture(scope="module")
def ucf(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return write_ucf101(tmp_path_factory.mktemp("ucf"))


def test_class_ind_is_one_based(ucf) -> None:
    assert read_label_names(ucf["classInd"]) == UCF_CLASSES


def test_trainlist_labels_are_zero_based_class_indices(ucf) -> None:
    samples, names = load_samples(ucf["train"], ucf["videos"], labeled=True)
    assert names == UCF_CLASSES
    assert [s.label for s in samples] == [0, 0, 1, 1, 2, 2]  # 1-based in the file
    assert all(Path(s.path).is_file() for s in samples)
    assert Path(samples[2].path).parent.name == UCF_CLASSES[1]


def test_testlist_takes_the_class_from_the_folder(ucf) -> None:
    samples, names = load_samples(ucf["test"], ucf["videos"], labeled=True, subset="test")
    assert names == UCF_CLASSES and [s.label for s in samples] == [0, 1, 2]
    assert [Path(s.path).parent.name for s in samples] == UCF_CLASSES


def test_testlist_without_class_index_needs_one(ucf, tmp_path: Path) -> None:
    lone = tmp_path / "testlist01.txt"
    lone.write_text(ucf["test"].read_text())
    with pytest.raises(InputError, match="classInd.txt"):
        load_samples(lone, ucf["videos"], labeled=True)
    samples, names = load_samples(lone, ucf["videos"], labeled=True, label_file=ucf["classInd"])
    assert names == UCF_CLASSES and [s.label for s in samples] == [0, 1, 2]


def test_an_index_that_disagrees_with_class_ind_names_the_line(ucf, tmp_path: Path) -> None:
    bad = tmp_path / "trainlist02.txt"
    bad.write_text("Archery/v_Archery_g01_c01.avi 1\n")
    with pytest.raises(InputError, match=r"trainlist02.txt:1: index 1 .* 'Archery' is 3"):
        load_samples(bad, ucf["videos"], labeled=True, label_file=ucf["classInd"])


def test_wrong_root_is_one_clear_error(ucf) -> None:
    with pytest.raises(InputError, match="none of its 6 videos exists.*--root"):
        load_samples(ucf["train"], labeled=True)  # videos are in UCF-101/, not beside the list


def test_detected_from_content_without_the_usual_name(ucf, tmp_path: Path) -> None:
    renamed = tmp_path / "my_split.txt"
    renamed.write_text(ucf["train"].read_text())
    assert ucf101.looks_like(renamed, renamed.read_text())
    plain = tmp_path / "plain.txt"
    plain.write_text("a/x.mp4 1\nb/y.mp4 0\n")
    assert not ucf101.looks_like(plain, plain.read_text())
