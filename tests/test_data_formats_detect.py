"""--format auto: each distributed layout is told apart from its content; --format forces one."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("av")
from _dataset_helper import write_hmdb51, write_kinetics, write_ssv2, write_ucf101  # noqa: E402

from videomae.data.formats.detect import FORMATS, check_format, detect_format  # noqa: E402
from videomae.data.lists import load_samples  # noqa: E402
from videomae.errors import InputError  # noqa: E402


@pytest.fixture(scope="module")
def layouts(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Path]]:
    root = tmp_path_factory.mktemp("layouts")
    return {
        "ucf101": write_ucf101(root / "ucf", groups=2),
        "hmdb51": write_hmdb51(root / "hmdb"),
        "kinetics": write_kinetics(root / "k"),
        "ssv2": write_ssv2(root / "ssv2"),
    }


def test_each_layout_is_detected(layouts, tmp_path: Path) -> None:
    assert detect_format(layouts["ucf101"]["train"]) == "ucf101"
    assert detect_format(layouts["ucf101"]["test"]) == "ucf101"
    assert detect_format(layouts["ucf101"]["videos"]) == "folders"
    assert detect_format(layouts["hmdb51"]["splits"]) == "hmdb51"
    assert detect_format(layouts["hmdb51"]["splits"] / "brush_hair_test_split1.txt") == "hmdb51"
    assert detect_format(layouts["kinetics"]["train"]) == "kinetics"
    assert detect_format(layouts["ssv2"]["validation"]) == "ssv2"
    plain = tmp_path / "train.txt"
    plain.write_text("a/x.mp4 1\n")
    assert detect_format(plain) == "list"


def test_forced_format_and_unknown_format(layouts) -> None:
    ucf = layouts["ucf101"]
    with pytest.raises(InputError, match="unknown data format 'csv'"):
        load_samples(ucf["train"], ucf["videos"], labeled=True, fmt="csv")
    with pytest.raises(InputError, match="--format folders expects a folder"):
        load_samples(ucf["train"], ucf["videos"], labeled=True, fmt="folders")
    # forced as a plain list, the 1-based indices are read as they are (no class index)
    samples, names = load_samples(ucf["train"], ucf["videos"], labeled=True, fmt="list")
    assert names is None and [s.label for s in samples] == [1, 2, 3]
    assert check_format("ssv2") == "ssv2" and "auto" in FORMATS


def test_a_one_line_list_with_named_labels_is_a_list(tmp_path: Path) -> None:
    """A whole line is read as a line: `Class/v_Class_x.mp4 Class` is not UCF101's shape."""
    one = tmp_path / "one.txt"
    one.write_text("Archery/v_Archery_g01_c01.mp4 Archery\n")
    assert detect_format(one) == "list"
    one.write_text("Archery/v_Archery_g01_c01.avi 1\n")
    assert detect_format(one) == "ucf101"
