"""The uint8 channels-last crop/resize of the training samples vs the float path it replaced.

Tolerance: torch's uint8 resize kernels use fixed-point weights, so a pixel may differ by 1
(of 255) from the float resize rounded; here that is checked as a max abs difference of at most
1/255 after un-normalising. Validation items (centre crop, no float resize) must not change at
all. The old path is rebuilt by forcing the float resize (``_UINT8_MODES`` emptied) and the
contiguous (T, C, H, W) copy of the decoded frames.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from videomae.data import datasets as DS
from videomae.data import transforms as TR
from videomae.data.datasets import VideoClassificationDataset, VideoPretrainDataset
from videomae.data.lists import scan_videos
from videomae.data.transforms import multi_scale_crop, random_resized_crop
from videomae.runtime import IMAGENET_DEFAULT_STD

pytest.importorskip("av")
from _video_helper import write_class_folders  # noqa: E402


@pytest.fixture(scope="module")
def videos(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_class_folders(tmp_path_factory.mktemp("videos"))


def _thwc(seed: int = 0, t: int = 4, h: int = 61, w: int = 83) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.randint(0, 256, (t, h, w, 3), dtype=torch.uint8, generator=g)


def _float_path(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(TR, "_UINT8_MODES", frozenset())
    monkeypatch.setattr(DS, "_frames_tchw", lambda f: f.permute(0, 3, 1, 2).contiguous())


@pytest.mark.parametrize("seed", range(4))
def test_crops_in_uint8_are_within_one_level_of_the_float_path(seed: int) -> None:
    thwc = _thwc(seed)
    view = thwc.permute(0, 3, 1, 2)  # channels-last (T, C, H, W), no copy
    assert view.is_contiguous(memory_format=torch.channels_last)
    for crop in (
        lambda x, g: multi_scale_crop(x, 32, generator=g),
        lambda x, g: random_resized_crop(x, 24, generator=g),
        lambda x, g: random_resized_crop(x, 24, antialias=True, generator=g),
    ):
        fast = crop(view, torch.Generator().manual_seed(seed))
        same = crop(view.contiguous(), torch.Generator().manual_seed(seed))
        ref = crop(view.float(), torch.Generator().manual_seed(seed)).round().clamp(0, 255)
        assert fast.dtype == torch.uint8 and fast.shape == ref.shape
        assert torch.equal(fast, same)  # the memory layout does not change the pixels
        assert (fast.float() - ref).abs().max() <= 1


def _max_level_diff(a: torch.Tensor, b: torch.Tensor) -> float:
    std = torch.tensor(IMAGENET_DEFAULT_STD).view(1, 3, 1, 1)
    return float(((a - b) * std).abs().max())  # in units of the 0..1 pixel range


def test_pretrain_items_match_the_float_path(videos: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    kw = dict(num_frames=4, sampling_rate=2, input_size=16, patch_size=8, tubelet_size=2)
    ds = VideoPretrainDataset(scan_videos(videos / "a"), **kw)
    new = [ds.getitem_seeded(i % 3, 100 + i) for i in range(6)]
    with monkeypatch.context() as m:
        _float_path(m)
        old = [ds.getitem_seeded(i % 3, 100 + i) for i in range(6)]
    for a, b in zip(new, old):
        assert a["pixel_values"].is_contiguous() and a["pixel_values"].dtype == torch.float32
        assert torch.equal(a["bool_masked_pos"], b["bool_masked_pos"])
        assert _max_level_diff(a["pixel_values"], b["pixel_values"]) <= 1 / 255 + 1e-6


def test_finetune_items_match_and_validation_items_are_unchanged(
    videos: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    samples = [(str(p), k, i) for i, (k, p) in enumerate(_labelled(videos))]
    base = dict(num_frames=4, sampling_rate=2, input_size=16)
    # RandAugment off: it now runs after the crop, and its threshold ops (solarize, posterize,
    # equalize) can turn the resize's one-level difference into a large one; the crop itself
    # is what this test compares (tests/test_data_datasets_finetune.py checks the whole item)
    train = VideoClassificationDataset(
        samples, train=True, erase_prob=0.0, rand_augment=None, **base
    )
    val = VideoClassificationDataset(samples, train=False, short_side=20, **base)
    new_t = [train.getitem_seeded(i, 7 + i) for i in range(4)]
    new_v = [val.getitem_seeded(i, 0) for i in range(4)]
    with monkeypatch.context() as m:
        _float_path(m)
        old_t = [train.getitem_seeded(i, 7 + i) for i in range(4)]
        old_v = [val.getitem_seeded(i, 0) for i in range(4)]
    for a, b in zip(new_t, old_t):
        assert _max_level_diff(a["pixel_values"], b["pixel_values"]) <= 1 / 255 + 1e-6
    for a, b in zip(new_v, old_v):
        assert torch.equal(a["pixel_values"], b["pixel_values"])


def _labelled(videos: Path) -> list[tuple[int, Path]]:
    return [(k, p) for k, d in enumerate("ab") for p in sorted((videos / d).glob("*.mp4"))]
