"""Export to ONNX and torch.export: parity with the eager model within 1e-4 (fp32), run by
onnxruntime and torch.export.load directly; dynamic batch, static clip shape."""

from __future__ import annotations

import onnxruntime as ort
import pytest
import torch
from _inference_helper import make_assets

from videomae.errors import CheckpointError
from videomae.export import check_export, export_model, input_shape, load_for_export

TOL = 1e-4  # fp32


@pytest.fixture(scope="module")
def assets(tmp_path_factory) -> dict:
    a = make_assets(tmp_path_factory)
    out = a["root"] / "exports"
    a["onnx"] = export_model(a["clf"], out / "clf.onnx")
    a["onnx_embed"] = export_model(a["pre"], out / "pre.onnx", embed=True)
    a["pt2"] = export_model(a["clf"], out / "clf.pt2")
    a["pt2_embed"] = export_model(a["clf"], out / "clf_embed.pt2", embed=True, pooling="head")
    return a


def _inputs(pipeline, batch: int) -> torch.Tensor:
    return torch.randn(input_shape(pipeline, batch), generator=torch.Generator().manual_seed(batch))


@pytest.mark.parametrize("kind", ["onnx", "onnx_embed"])
def test_onnxruntime_matches_eager(assets, kind) -> None:
    embed = kind.endswith("embed")
    eager = load_for_export(assets["pre" if embed else "clf"], embed=embed, pooling="mean")
    session = ort.InferenceSession(str(assets[kind]), providers=["CPUExecutionProvider"])
    assert [o.name for o in session.get_outputs()] == ["features" if embed else "logits"]
    for batch in (1, 4):  # the batch axis is dynamic
        x = _inputs(eager, batch)
        (got,) = session.run(None, {"pixel_values": x.numpy()})
        with torch.no_grad():
            want = eager._forward(x)
        assert got.shape == tuple(want.shape)
        assert torch.allclose(torch.from_numpy(got), want, atol=TOL, rtol=0)


@pytest.mark.parametrize("kind", ["pt2", "pt2_embed"])
def test_torch_export_load_matches_eager(assets, kind) -> None:
    embed = kind.endswith("embed")
    eager = load_for_export(assets["clf"], embed=embed, pooling="head")
    program = torch.export.load(str(assets[kind])).module()
    for batch in (1, 4):
        x = _inputs(eager, batch)
        with torch.no_grad():
            got, want = program(x), eager._forward(x)
        assert torch.allclose(got, want, atol=TOL, rtol=0)
    assert check_export(assets[kind], eager) < TOL


def test_clip_shape_is_static(assets) -> None:
    session = ort.InferenceSession(str(assets["onnx"]), providers=["CPUExecutionProvider"])
    shape = session.get_inputs()[0].shape
    assert shape[0] == "batch" and shape[1:] == [4, 3, 32, 32]  # tiny config: T=4, S=32
    with pytest.raises(Exception, match="(?i)dimension|shape"):
        session.run(None, {"pixel_values": torch.randn(1, 8, 3, 32, 32).numpy()})


def test_export_errors(assets, tmp_path) -> None:
    with pytest.raises(CheckpointError, match="classification head"):
        export_model(assets["pre"], tmp_path / "x.onnx")  # no head: use --embed
    with pytest.raises(ValueError, match=r"\.onnx or \.pt2"):
        export_model(assets["clf"], tmp_path / "x.bin")
