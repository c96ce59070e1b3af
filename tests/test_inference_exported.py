"""Running exported files through VideoClassifier: the same answers as the torch path."""

from __future__ import annotations

import pytest
import torch
from _inference_helper import make_assets

from videomae.errors import CheckpointError
from videomae.export import export_model
from videomae.inference.classifier import VideoClassifier
from videomae.inference.exported import ExportedModel, backend_of, read_export_metadata


@pytest.fixture(scope="module")
def assets(tmp_path_factory) -> dict:
    a = make_assets(tmp_path_factory)
    a["onnx"] = export_model(a["clf"], a["root"] / "clf.onnx")
    a["pt2"] = export_model(a["clf"], a["root"] / "clf.pt2")
    a["embed"] = export_model(a["clf"], a["root"] / "emb.onnx", embed=True)
    return a


@pytest.mark.parametrize("kind", ["onnx", "pt2"])
def test_exported_classifier_matches_torch(assets, kind) -> None:
    eager = VideoClassifier.from_pretrained(assets["clf"], crops=3, batch_size=2, progress=False)
    exported = VideoClassifier.from_exported(assets[kind], crops=3, batch_size=2, progress=False)
    assert exported.labels == eager.labels
    assert exported.preprocessing == eager.preprocessing.__class__(
        **{**eager.preprocessing.__dict__, "source": "exported file"}
    )
    videos = assets["videos"][:2]
    for a, b in zip(eager.probabilities(videos), exported.probabilities(videos)):
        assert torch.allclose(a, b, atol=1e-4)
    (win,) = list(exported.windows(videos[0]))  # 12 frames: one window
    want = eager(videos[0])
    assert [n for n, _ in win.labels] == [n for n, _ in want]
    assert [s for _, s in win.labels] == pytest.approx([s for _, s in want], abs=1e-4)


def test_metadata_and_errors(assets, tmp_path) -> None:
    meta = read_export_metadata(assets["onnx"])
    assert meta["output"] == "logits" and meta["preprocessing"]["num_frames"] == 4
    assert read_export_metadata(assets["embed"])["output"] == "features"
    with pytest.raises(CheckpointError, match="--embed"):
        VideoClassifier.from_exported(assets["embed"])
    with pytest.raises(CheckpointError, match="does not exist"):
        ExportedModel(tmp_path / "missing.onnx")
    with pytest.raises(CheckpointError, match=r"\.onnx or \.pt2"):
        backend_of(tmp_path / "model.bin")
