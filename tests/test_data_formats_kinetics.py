"""Kinetics' CSV: names built from youtube_id and times, videos flat or per label folder."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("av")
from _dataset_helper import KINETICS_LABELS, write_kinetics  # noqa: E402

from videomae.data.formats.kinetics import file_name  # noqa: E402
from videomae.data.lists import load_samples  # noqa: E402
from videomae.errors import InputError  # noqa: E402


@pytest.fixture(scope="module")
def kinetics(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return write_kinetics(tmp_path_factory.mktemp("k400"))


def test_file_name() -> None:
    assert file_name("---QUuC4vJs", "84", "94") == "---QUuC4vJs_000084_000094.mp4"


def test_per_label_folders_and_sorted_names(kinetics) -> None:
    samples, names = load_samples(kinetics["train"], kinetics["train_videos"], labeled=True)
    assert names == sorted(KINETICS_LABELS)
    assert all(Path(s.path).is_file() for s in samples)
    for s in samples:  # each video sits in its label's folder (spaces as underscores)
        assert Path(s.path).parent.name == names[s.label].replace(" ", "_")


def test_flat_videos_mapped_to_the_training_names(kinetics) -> None:
    order = ["passing American football (in game)", "abseiling", "air drumming"]
    samples, names = load_samples(kinetics["val"], kinetics["val_videos"], order, labeled=True)
    assert names == order
    assert [order[s.label] for s in samples] == KINETICS_LABELS  # rows in CSV order


def test_unknown_label_and_missing_columns(kinetics, tmp_path: Path) -> None:
    with pytest.raises(InputError, match="not among the 2 labels.*: 'abseiling'"):
        load_samples(kinetics["val"], kinetics["val_videos"], ["air drumming", "x"], labeled=True)
    bad = tmp_path / "bad.csv"
    bad.write_text("label,youtube_id,time_start\nx,abc,1\n")
    with pytest.raises(InputError, match="missing columns"):
        load_samples(bad, labeled=True, fmt="kinetics")
