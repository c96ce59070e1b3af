"""Something-Something V2: labels.json + train/validation JSON, label = template sans brackets."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("av")
from _dataset_helper import SSV2_LABELS, write_ssv2  # noqa: E402

from videomae.data.formats.ssv2 import label_of  # noqa: E402
from videomae.data.labels import read_label_names  # noqa: E402
from videomae.data.lists import load_samples  # noqa: E402
from videomae.errors import InputError  # noqa: E402


@pytest.fixture(scope="module")
def ssv2(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return write_ssv2(tmp_path_factory.mktemp("ssv2"))


def test_label_of_template() -> None:
    assert label_of("Putting [something] on [something]") == "Putting something on something"


def test_labels_json_order(ssv2) -> None:
    assert read_label_names(ssv2["labels"]) == list(SSV2_LABELS)


def test_train_and_validation(ssv2) -> None:
    train, names = load_samples(ssv2["train"], ssv2["videos"], labeled=True)
    assert names == list(SSV2_LABELS)
    assert [Path(s.path).name for s in train] == ["1001.webm", "1002.webm", "1003.webm",
                                                  "1004.webm"]  # fmt: skip
    assert [s.label for s in train] == [1, 0, 1, 0]
    val, _ = load_samples(ssv2["validation"], ssv2["videos"], names, labeled=True)
    assert [s.label for s in val] == [1, 0] and all(Path(s.path).is_file() for s in val)


def test_template_not_in_labels_json(ssv2, tmp_path: Path) -> None:
    (tmp_path / "labels.json").write_text('{"Only this": "0"}')
    (tmp_path / "validation.json").write_text(ssv2["validation"].read_text())
    with pytest.raises(InputError, match="not in labels.json"):
        load_samples(tmp_path / "validation.json", ssv2["videos"], labeled=True)


def test_paths_from_the_file_stay_under_the_root(ssv2, tmp_path: Path) -> None:
    (tmp_path / "train.json").write_text('[{"id": "../../etc/passwd", "template": "x"}]')
    with pytest.raises(InputError, match="inside the video root"):
        load_samples(tmp_path / "train.json", ssv2["videos"], labeled=True)
