"""Classifying and embedding long videos window by window (a colour-reading classifier)."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator

import numpy as np
import pytest
import torch
from _windows_helper import COLOURS, colour_classifier, colour_video

from videomae.inference.classifier import VideoClassifier
from videomae.inference.embedder import VideoEmbedder
from videomae.inference.embeddings_io import load_window_embeddings, save_window_embeddings
from videomae.inference.windows import save_windows_csv, window_record
from videomae.video.windows import read_windows

# 16 fps, 4 frames every 4 -> one window per second; colour changes at 3 s and 5 s
SEGMENTS = [("red", 48), ("green", 32), ("blue", 48)]


@pytest.fixture(scope="module")
def assets(tmp_path_factory) -> dict:
    root = tmp_path_factory.mktemp("windows")
    return {
        "clf": colour_classifier(root),
        "video": colour_video(root / "story.mp4", SEGMENTS, fps=16),
        "root": root,
    }


def test_window_argmax_follows_the_colour(assets) -> None:
    clf = VideoClassifier.from_pretrained(assets["clf"], batch_size=3)
    results = clf.windows(assets["video"], top_k=2)
    assert isinstance(results, Iterator)  # lazy
    wins = list(results)
    assert [w.labels[0][0] for w in wins] == ["red"] * 3 + ["green"] * 2 + ["blue"] * 3
    assert [w.start_s for w in wins] == pytest.approx(list(range(8)))
    assert [w.end_s for w in wins] == pytest.approx(list(range(1, 9)))
    assert all(w.value.shape == (3,) and abs(float(w.value.sum()) - 1) < 1e-5 for w in wins)


def test_overlapping_windows_and_crops(assets) -> None:
    clf = VideoClassifier.from_pretrained(assets["clf"], crops=3)
    wins = list(clf.windows(assets["video"], stride=0.5, top_k=1))
    assert len(wins) == 15  # starts 0, 0.5, ..., 7.0
    for w in wins:  # a window wholly inside one colour names it
        inside = [n for (n, _), a, b in _spans() if a <= w.start_s and w.end_s <= b]
        if inside:
            assert w.labels[0][0] == inside[0]


def _spans():
    t = 0.0
    for name, n in SEGMENTS:
        yield (name, n), t, t + n / 16
        t += n / 16


def test_embedder_windows_equal_embedding_each_window(assets) -> None:
    emb = VideoEmbedder.from_pretrained(assets["clf"], pooling="head")
    wins = list(emb.windows(assets["video"], stride=2.0))
    assert [w.start_s for w in wins] == pytest.approx([0, 2, 4, 6])
    frames = [w.frames.numpy() for w in read_windows(assets["video"], 4, stride_s=2.0)]
    want = torch.cat([emb(f) for f in frames])  # (W, D): the same clips, embedded one by one
    got = torch.stack([w.value for w in wins])
    assert torch.allclose(got, want, atol=1e-5)


def test_window_embedding_files_single_and_prefixed(assets, tmp_path) -> None:
    emb = VideoEmbedder.from_pretrained(assets["clf"])
    wins = list(emb.windows(assets["video"]))
    one = save_window_embeddings(tmp_path / "one.safetensors", {"a.mp4": wins}, dim=emb.dim)
    back = load_window_embeddings(one)
    assert list(back) == ["a.mp4"]
    assert back["a.mp4"]["features"].shape == (8, emb.dim)
    assert back["a.mp4"]["start_s"].tolist() == pytest.approx(list(range(8)))
    two = save_window_embeddings(
        tmp_path / "two.safetensors", {"x/a.mp4": wins, "b.mp4": wins[:2]}, dim=emb.dim
    )
    back = load_window_embeddings(two)
    assert list(back) == ["x/a.mp4", "b.mp4"]
    assert back["b.mp4"]["end_s"].tolist() == pytest.approx([1, 2])
    with pytest.raises(ValueError, match="safetensors"):
        save_window_embeddings(tmp_path / "w.npy", {"a": wins}, dim=emb.dim)


def test_records_and_csv(assets, tmp_path) -> None:
    clf = VideoClassifier.from_pretrained(assets["clf"])
    wins = list(clf.windows(assets["video"], top_k=2))
    rec = window_record(wins[4])
    assert set(rec) == {"path", "start_s", "end_s", "labels"}
    assert rec["labels"][0][0] == "green" and json.loads(json.dumps(rec)) == rec
    save_windows_csv(tmp_path / "w.csv", wins)
    rows = list(csv.DictReader((tmp_path / "w.csv").read_text().splitlines()))
    assert len(rows) == 8 and rows[7]["label_1"] == "blue"
    assert float(rows[7]["start_s"]) == 7.0 and float(rows[7]["end_s"]) == 8.0
    assert set(COLOURS) >= {r["label_2"] for r in rows}
    assert np.isclose(float(rows[0]["score_1"]), wins[0].labels[0][1], atol=1e-6)
