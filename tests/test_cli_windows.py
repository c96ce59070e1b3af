"""`videomae classify --windows` / `embed --windows` / `export` end to end on tiny models."""

from __future__ import annotations

import csv
import json

import pytest
from _windows_helper import colour_classifier, colour_video
from PIL import Image

from videomae.cli.main import main
from videomae.inference.embeddings_io import load_window_embeddings

SEGMENTS = [("red", 32), ("blue", 32)]  # 16 fps: windows of 1 s, blue from 2 s


@pytest.fixture(scope="module")
def assets(tmp_path_factory) -> dict:
    root = tmp_path_factory.mktemp("cliwin")
    return {
        "root": root,
        "clf": str(colour_classifier(root)),
        "video": str(colour_video(root / "a.mp4", SEGMENTS, fps=16)),
    }


def test_classify_windows_json_csv_and_timeline(assets, capsys, tmp_path) -> None:
    table, png = tmp_path / "w.csv", tmp_path / "t.png"
    argv = ["classify", assets["video"], "--model", assets["clf"], "--windows", "--json"]
    assert main([*argv, "--top-k", "2", "--csv", str(table), "--timeline", str(png)]) == 0
    lines = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert [x["labels"][0][0] for x in lines] == ["red", "red", "blue", "blue"]
    assert [(x["start_s"], x["end_s"]) for x in lines] == [(0, 1), (1, 2), (2, 3), (3, 4)]
    assert all(set(x) == {"path", "start_s", "end_s", "labels"} for x in lines)
    rows = list(csv.DictReader(table.read_text().splitlines()))
    assert [r["label_1"] for r in rows] == ["red", "red", "blue", "blue"]
    assert Image.open(png).size[0] > 400


def test_classify_windows_stride_and_table(assets, capsys) -> None:
    argv = ["classify", assets["video"], "--model", assets["clf"], "--windows"]
    assert main([*argv, "--stride", "0.5", "--top-k", "1"]) == 0
    text = capsys.readouterr().out.splitlines()
    assert text[0] == assets["video"]
    assert len(text) == 1 + 7  # starts 0, 0.5, ..., 3.0
    assert text[1].split() == ["00:00.00-00:01.00", "red", text[1].split()[-1]]


def test_embed_windows_file(assets, tmp_path) -> None:
    out = tmp_path / "w.safetensors"
    argv = ["embed", assets["video"], assets["video"], "--model", assets["clf"], "--windows"]
    assert main([*argv, "--out", str(out), "-q"]) == 0
    back = load_window_embeddings(out)
    assert list(back) == [assets["video"]]  # the same path twice is one entry
    assert back[assets["video"]]["features"].shape == (4, 32)


def test_window_flag_errors(assets, capsys, tmp_path) -> None:
    base = ["classify", assets["video"], "--model", assets["clf"]]
    assert main([*base, "--stride", "1"]) == 2
    assert "--stride needs --windows" in capsys.readouterr().err
    assert main([*base, "--windows", "--stride", "0"]) == 2
    two = ["classify", assets["video"], assets["video"], "--model", assets["clf"], "--windows"]
    assert main([*two, "--timeline", str(tmp_path / "t.png")]) == 2
    assert "one video" in capsys.readouterr().err
    out = str(tmp_path / "w.npy")
    assert (
        main(["embed", assets["video"], "--model", assets["clf"], "--windows", "--out", out]) == 2
    )
    assert "safetensors" in capsys.readouterr().err


def test_unreadable_video_is_skipped(assets, capsys, tmp_path) -> None:
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"not a video" * 20)
    argv = ["classify", str(bad), assets["video"], "--model", assets["clf"], "--windows", "--json"]
    assert main(argv) == 1
    captured = capsys.readouterr()
    assert len(captured.out.splitlines()) == 4 and str(bad) in captured.err
