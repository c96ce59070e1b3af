"""The fine-tuning training item: crop first, then RandAugment on the small clip; seeding."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from videomae.data.datasets import VideoClassificationDataset
from videomae.data.randaugment import rand_augment
from videomae.data.transforms import horizontal_flip, random_erasing, random_resized_crop
from videomae.processing.ops import normalize
from videomae.runtime import IMAGENET_DEFAULT_MEAN, IMAGENET_DEFAULT_STD
from videomae.video.decode import read_clip

pytest.importorskip("av")
from _video_helper import write_class_folders  # noqa: E402

KW = dict(num_frames=4, sampling_rate=2, input_size=16)


@pytest.fixture(scope="module")
def samples(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[str, int, int]]:
    root = write_class_folders(tmp_path_factory.mktemp("videos"))
    labelled = [(k, p) for k, d in enumerate("ab") for p in sorted((root / d).glob("*.mp4"))]
    return [(str(p), k, i) for i, (k, p) in enumerate(labelled)]


def _reference(path: str, seed: int, crop_first: bool) -> torch.Tensor:
    """The training view rebuilt from the public primitives, in either order."""
    rng = np.random.default_rng(seed)
    frames = read_clip(path, 4, strategy="dense", sampling_rate=2, train=True, rng=rng).frames
    x = frames.permute(0, 3, 1, 2)
    gen = torch.Generator().manual_seed(seed)
    if crop_first:
        x = rand_augment(random_resized_crop(x, 16, generator=gen), 4, 7.0, generator=gen)
    else:
        x = random_resized_crop(rand_augment(x, 4, 7.0, generator=gen), 16, generator=gen)
    x = horizontal_flip(x, 0.5, generator=gen)
    x = normalize(x.contiguous(), IMAGENET_DEFAULT_MEAN, IMAGENET_DEFAULT_STD)
    return random_erasing(x, 0.25, generator=gen)


def test_train_item_is_crop_then_rand_augment(samples: list) -> None:
    """Tolerance 0: the item is exactly the primitives composed in the new order; the old
    order (RandAugment on the full frames, then the crop) gives different items."""
    ds = VideoClassificationDataset(samples, train=True, **KW)
    old_order_differs = False
    for seed in range(8):
        index = seed % len(samples)
        item = ds.getitem_seeded(index, seed)
        path = samples[index][0]
        assert torch.equal(item["pixel_values"], _reference(path, seed, crop_first=True))
        old = _reference(path, seed, crop_first=False)
        old_order_differs |= not torch.equal(item["pixel_values"], old)
    assert old_order_differs


def test_train_items_depend_only_on_seed_and_index(samples: list) -> None:
    a = VideoClassificationDataset(samples, train=True, **KW)
    b = VideoClassificationDataset(samples, train=True, **KW)
    seeds = [1000 * epoch + i for epoch in range(2) for i in range(3)]
    items = [a.getitem_seeded(s % len(samples), s)["pixel_values"] for s in seeds]
    b.getitem_seeded(1, 77)  # another item first: no state carried between items
    for s, x in zip(seeds, items):
        assert torch.equal(b.getitem_seeded(s % len(samples), s)["pixel_values"], x)
    assert len({float(x.sum()) for x in items}) == len(items)
