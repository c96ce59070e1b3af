"""HMDB51's per-class split files: 1 = train, 2 = test, 0 = unused; split chosen by file."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("av")
from _dataset_helper import HMDB_CLASSES, write_hmdb51  # noqa: E402

from videomae.data.lists import load_samples  # noqa: E402
from videomae.errors import InputError  # noqa: E402


@pytest.fixture(scope="module")
def hmdb(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return write_hmdb51(tmp_path_factory.mktemp("hmdb"))


def _names(samples) -> list[str]:
    return [Path(s.path).name.split("_u_")[0] for s in samples]


def test_split_folder_train_and_test_parts(hmdb) -> None:
    train, names = load_samples(hmdb["splits"], hmdb["videos"], labeled=True, subset="train")
    assert names == HMDB_CLASSES
    assert _names(train) == ["brush_hair_clip0", "brush_hair_clip1", "cartwheel_clip0",
                             "cartwheel_clip1"]  # fmt: skip
    assert [s.label for s in train] == [0, 0, 1, 1] and all(Path(s.path).is_file() for s in train)
    test, _ = load_samples(hmdb["splits"], hmdb["videos"], labeled=True, subset="test")
    assert _names(test) == ["brush_hair_clip2", "cartwheel_clip2"]  # code 0 is left out


def test_one_file_picks_its_split_for_every_class(hmdb) -> None:
    one = hmdb["splits"] / "cartwheel_test_split2.txt"
    test, names = load_samples(one, hmdb["videos"], labeled=True, subset="test")
    assert names == HMDB_CLASSES
    assert _names(test) == ["brush_hair_clip0", "cartwheel_clip0"]


def test_bad_code_names_the_line(hmdb, tmp_path: Path) -> None:
    (tmp_path / "wave_test_split1.txt").write_text("a.avi 1\nb.avi 7\n")
    with pytest.raises(InputError, match=r"wave_test_split1.txt:2: expected 'name.avi 0\|1\|2'"):
        load_samples(tmp_path, hmdb["videos"], labeled=True)
