"""The two video datasets (tiny videos written by the tests)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from videomae.data.datasets import VideoClassificationDataset, VideoPretrainDataset
from videomae.data.formats.common import Sample
from videomae.data.lists import read_list_file, scan_class_folders, scan_videos
from videomae.train.data import collate_samples

pytest.importorskip("av")
from _video_helper import write_class_folders  # noqa: E402


@pytest.fixture(scope="module")
def videos(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_class_folders(tmp_path_factory.mktemp("videos"))


def _pre(samples, **kw) -> VideoPretrainDataset:
    base = dict(
        num_frames=4, sampling_rate=2, input_size=16, patch_size=8, tubelet_size=2, mask_ratio=0.75
    )
    return VideoPretrainDataset(samples, **{**base, **kw})


def test_pretrain_items_shapes_masks_and_determinism(videos: Path) -> None:
    ds = _pre(scan_videos(videos / "a"), decoder_mask="running_cell")
    item = ds.getitem_seeded(0, 123)
    assert (
        item["pixel_values"].shape == (4, 3, 16, 16) and item["pixel_values"].dtype == torch.float32
    )
    enc, dec = item["bool_masked_pos"], item["decoder_mask"]
    assert enc.shape == (8,) and int(enc.sum()) == 6  # 2 time slices x 3 of 4 spatial
    assert torch.equal(enc[:4], enc[4:])  # tube: same spatial mask at every t
    assert int(dec.sum()) == 4  # a 50% running cell, independent of the encoder mask
    again = ds.getitem_seeded(0, 123)
    assert all(torch.equal(item[k], again[k]) for k in item)
    other = [ds.getitem_seeded(0, s) for s in range(6)]
    assert any(not torch.equal(o["pixel_values"], item["pixel_values"]) for o in other)
    assert any(not torch.equal(o["bool_masked_pos"], enc) for o in other)


def test_pretrain_repeats_are_distinct_views_of_one_clip(videos: Path) -> None:
    ds = _pre(scan_videos(videos / "a"), repeats=3, mask_kind="random")
    views = ds.getitem_seeded(1, 5)
    assert isinstance(views, list) and len(views) == 3
    masks = torch.stack([v["bool_masked_pos"] for v in views])
    assert (masks.sum(1) == 6).all() and len({tuple(m.tolist()) for m in masks}) > 1
    batch, skipped = collate_samples([views, ds.getitem_seeded(0, 5)])
    assert batch["pixel_values"].shape == (6, 4, 3, 16, 16) and skipped == []


def test_bad_files_are_skipped_counted_and_reported(videos: Path, tmp_path: Path) -> None:
    lst = tmp_path / "list.txt"
    lst.write_text(f"{videos}/a/v0.mp4\nmissing.mp4\ncorrupt.mp4\na/v1.mp4\n")
    samples = read_list_file(lst, root=videos, allow_outside_root=True)
    ds = _pre(samples)
    good = ds.getitem_seeded(0, 9)
    assert "_skipped" not in good
    item = ds.getitem_seeded(1, 9)  # missing -> corrupt -> v1
    reasons = item["_skipped"]
    assert [(r["path"].split("/")[-1], r["line"]) for r in reasons] == [
        ("missing.mp4", 2),
        ("corrupt.mp4", 3),
    ]
    assert "missing" in reasons[0]["reason"] and reasons[1]["reason"]
    assert ds.num_bad == 2
    direct = ds.getitem_seeded(3, 9)  # v1 reached directly with the same seed: same sample
    assert torch.equal(direct["pixel_values"], item["pixel_values"])
    all_bad = _pre([Sample(str(tmp_path / "nope.mp4"), None, 1)])
    with pytest.raises(RuntimeError, match="could not be read"):
        all_bad.getitem_seeded(0, 0)


def test_classification_train_and_val(videos: Path) -> None:
    samples, _ = scan_class_folders(videos)
    kw = dict(num_frames=4, sampling_rate=2, input_size=16)
    train = VideoClassificationDataset(samples, train=True, repeats=2, **kw)
    views = train.getitem_seeded(4, 3)
    assert len(views) == 2 and views[0]["pixel_values"].shape == (4, 3, 16, 16)
    assert int(views[0]["labels"]) == 1 and int(views[0]["index"]) == 4
    assert not torch.equal(views[0]["pixel_values"], views[1]["pixel_values"])
    val = VideoClassificationDataset(samples, train=False, **kw)
    a, b = val.getitem_seeded(2, 0), val.getitem_seeded(2, 99)
    assert torch.equal(a["pixel_values"], b["pixel_values"])  # validation is not random
    assert int(a["labels"]) == 0
    with pytest.raises(ValueError, match="needs labels"):
        VideoClassificationDataset([Sample("x.mp4", None, 1)], train=True)


def test_decoded_video_cache_gives_the_same_items(videos: Path, monkeypatch) -> None:
    import videomae.video.decode as V

    samples = [Sample(str(p), i % 2, i + 1) for i, p in enumerate(sorted(videos.glob("*/*.mp4")))]
    kw = dict(num_frames=4, sampling_rate=2, input_size=32, patch_size=8, short_side=32)
    plain = VideoPretrainDataset(samples, **kw)
    cached = VideoPretrainDataset(samples, cache_mb=1.0, **kw)  # 12x36x44x3 = 57 kB per video
    opened = []
    real = V._open_video
    monkeypatch.setattr(V, "_open_video", lambda p: opened.append(p) or real(p))
    for epoch in range(3):  # random clip starts, crops and masks differ per index seed
        for i in range(len(samples)):
            a, b = (
                plain.getitem_seeded(i, 100 * epoch + i),
                cached.getitem_seeded(i, 100 * epoch + i),
            )
            assert torch.equal(a["pixel_values"], b["pixel_values"])
            assert torch.equal(a["bool_masked_pos"], b["bool_masked_pos"])
    # plain opens every file every time; the cache opened each file once
    assert len(opened) == 3 * len(samples) + len(samples)
    assert len(cached._cache) == len(samples)

    clf_plain = VideoClassificationDataset(samples, train=False, input_size=32, num_frames=4)
    clf_cached = VideoClassificationDataset(
        samples, train=False, input_size=32, num_frames=4, cache_mb=1.0
    )
    for i in range(len(samples)):
        assert torch.equal(clf_plain[i]["pixel_values"], clf_cached[i]["pixel_values"])


def test_decoded_video_cache_respects_its_budget(videos: Path) -> None:
    samples = [Sample(str(p), None, 0) for p in sorted(videos.glob("*/*.mp4"))]
    kw = dict(num_frames=4, sampling_rate=2, input_size=32, patch_size=8, short_side=32)
    small = VideoPretrainDataset(samples, cache_mb=0.25, **kw)  # room for 4 of 6 videos
    for i in range(len(samples)):
        small[i]
    assert len(small._cache) == 4 and small._cache_bytes <= 0.25 * 2**20
    assert list(small._cache) == [s.path for s in samples[2:]]  # least recently used left
    tiny = VideoPretrainDataset(samples, cache_mb=0.2, **kw)  # a video > a quarter: not cached
    assert tiny[0]["pixel_values"].shape == (4, 3, 32, 32)
    assert not tiny._cache and tiny._too_big == {samples[0].path}
    with pytest.raises(ValueError, match="cache_mb must be >= 0"):
        VideoPretrainDataset(samples, cache_mb=-1, **kw)
