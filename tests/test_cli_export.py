"""`videomae export` and `videomae classify --backend onnxruntime|pt2` end to end."""

from __future__ import annotations

import json

import pytest
from _cli_helper import make_assets

from videomae.cli.main import main


@pytest.fixture(scope="module")
def assets(tmp_path_factory) -> dict:
    return make_assets(tmp_path_factory.mktemp("cliexport"))


def _top(capsys) -> list[list]:
    return [json.loads(x)["top_k"] for x in capsys.readouterr().out.splitlines()]


def test_export_then_classify_with_onnxruntime(assets, capsys, tmp_path) -> None:
    out = tmp_path / "m.onnx"
    assert main(["export", assets["clf"], str(out)]) == 0
    text = capsys.readouterr().out
    assert f"wrote {out}" in text
    diff = float(text.split("max |exported - eager| = ")[1].split()[0])
    assert diff < 1e-4
    videos = assets["videos"]
    assert main(["classify", *videos, "--model", assets["clf"], "--json", "-q"]) == 0
    want = _top(capsys)
    argv = ["classify", *videos, "--model", str(out), "--backend", "onnxruntime", "--json", "-q"]
    assert main(argv) == 0
    got = _top(capsys)
    assert [[x["label"] for x in row] for row in got] == [[x["label"] for x in r] for r in want]
    for row, ref in zip(got, want):
        assert [x["score"] for x in row] == pytest.approx([x["score"] for x in ref], abs=1e-4)


def test_export_pt2_embed_and_errors(assets, capsys, tmp_path) -> None:
    out = tmp_path / "e.pt2"
    assert main(["export", assets["pre"], str(out), "--embed"]) == 0
    assert "max |exported - eager|" in capsys.readouterr().out
    argv = ["classify", assets["videos"][0], "--model", str(out), "--backend", "pt2"]
    assert main(argv) == 2
    assert "--embed" in capsys.readouterr().err
    assert main([*argv, "--num-frames", "8"]) == 2
    assert "--num-frames" in capsys.readouterr().err
    assert main(["export", assets["pre"], str(tmp_path / "x.onnx")]) == 2  # no head
    assert "classification head" in capsys.readouterr().err
    assert main(["export", assets["clf"], str(tmp_path / "x.bin")]) == 2
    assert ".onnx or .pt2" in capsys.readouterr().err
