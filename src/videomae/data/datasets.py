"""Video datasets for pre-training and fine-tuning, with bad-file skipping.

Samples come from :mod:`videomae.data.lists` (list files, class folders). Every random choice
of a sample (clip position, crop, flip, RandAugment, erasing, masks) is drawn from generators
seeded by ``getitem_seeded(index, seed)``; the training loop passes a seed derived from (run
seed, epoch, index), so a sample is the same whichever worker or rank builds it.

Bad files (missing, undecodable) never stop a run: the dataset moves on to the next index
(deterministically), counts the failure, and reports ``{path, line, reason}`` under the
``"_skipped"`` key of the sample it returned; the loop aggregates these into its summary.
"""

from __future__ import annotations

import os
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from torch.utils.data import Dataset

from videomae.data.formats.common import Sample
from videomae.data.randaugment import rand_augment
from videomae.data.transforms import (
    horizontal_flip,
    multi_scale_crop,
    random_erasing,
    random_resized_crop,
)
from videomae.errors import VideoDecodeError
from videomae.masking import make_mask, running_cell_mask
from videomae.processing.ops import center_crop, normalize, resize_short_side
from videomae.runtime import IMAGENET_DEFAULT_MEAN, IMAGENET_DEFAULT_STD
from videomae.video.decode import read_clip, read_small_video
from videomae.video.sampling import one_clip_indices

# ----------------------------------------------------------------------------- shared machinery


def _generators(seed: int) -> tuple[torch.Generator, np.random.Generator]:
    return torch.Generator().manual_seed(seed % (2**63)), np.random.default_rng(seed)


def _frames_tchw(frames_thwc: torch.Tensor) -> torch.Tensor:
    """(T, C, H, W) view of decoded (T, H, W, C) frames, channels-last in memory: crops and
    uint8 resizes read it in place, so the full-size frames are never copied."""
    return frames_thwc.permute(0, 3, 1, 2)


def _normalized(x: torch.Tensor, mean: tuple, std: tuple) -> torch.Tensor:
    """Float normalised (T, C, H, W) in the standard contiguous layout, from the final small
    uint8 clip (the one float conversion of a sample)."""
    return normalize(x.contiguous(), mean, std)


class _VideoDataset(Dataset):
    """Shared bad-file handling; subclasses implement ``_load(sample, tgen, ngen)``."""

    def __init__(
        self, samples: Sequence[Sample | tuple], max_skips: int = 20, cache_mb: float = 0.0
    ) -> None:
        if len(samples) == 0:
            raise ValueError("the dataset got no samples")
        if cache_mb < 0:
            raise ValueError(f"cache_mb must be >= 0 (0 = no cache), got {cache_mb}")
        self.samples = [Sample(*s) if not isinstance(s, Sample) else s for s in samples]
        self.max_skips = int(max_skips)
        self.num_bad = 0  # failures seen by this process (workers keep their own)
        self.cache_mb = float(cache_mb)
        self._cache: OrderedDict[str, torch.Tensor] = OrderedDict()  # path -> every frame
        self._cache_bytes = 0
        self._too_big: set[str] = set()

    def _read_clip(
        self, path: str, num_frames: int, *, strategy: str, sampling_rate: int, train: bool,
        rng: np.random.Generator,
    ) -> torch.Tensor:  # fmt: skip
        """(T, H, W, C) uint8 frames of one clip, as ``read_clip`` decodes them.

        With ``cache_mb > 0`` each process keeps whole decoded videos (least recently used
        first out, at most ``cache_mb`` MB) and samples clips from memory: for datasets of short,
        small clips read many times, where opening and decoding a file costs more than the
        training step (the demo). Videos above a quarter of the budget are decoded per clip.
        """
        kw = dict(strategy=strategy, sampling_rate=sampling_rate, train=train, rng=rng)
        frames = self._cached_video(path) if self.cache_mb > 0 else None
        if frames is None:
            return read_clip(path, num_frames, **kw).frames
        return frames[torch.from_numpy(one_clip_indices(len(frames), num_frames, **kw))]

    def _cached_video(self, path: str) -> torch.Tensor | None:
        """Every frame of ``path`` from the cache (decoded and added on a miss), or None when
        the video is too big to cache."""
        if path in self._too_big:
            return None
        frames = self._cache.get(path)
        if frames is not None:
            self._cache.move_to_end(path)
            return frames
        budget = int(self.cache_mb * 2**20)
        whole = read_small_video(path, budget // 4)
        if whole is None:
            self._too_big.add(path)
            return None
        frames = self._cache[path] = whole.frames
        self._cache_bytes += frames.nbytes
        while self._cache_bytes > budget:
            self._cache_bytes -= self._cache.popitem(last=False)[1].nbytes
        return frames

    def _clip_frames(self, path: str, train: bool, rng: np.random.Generator) -> torch.Tensor:
        """(T, C, H, W) uint8 clip of ``path`` with the subclass's ``num_frames``,
        ``strategy``, ``sampling_rate`` and ``short_side`` (resized when set)."""
        clip = self._read_clip(
            path,
            self.num_frames,
            strategy=self.strategy,
            sampling_rate=self.sampling_rate,
            train=train,
            rng=rng,
        )
        frames = _frames_tchw(clip)
        if self.short_side:
            frames = resize_short_side(frames, self.short_side)
        return frames

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, index: int) -> Any:
        return self.getitem_seeded(index, int(index))

    def _load(
        self, sample: Sample, index: int, tgen: torch.Generator, ngen: np.random.Generator
    ) -> Any:
        raise NotImplementedError

    def getitem_seeded(self, index: int, seed: int) -> Any:
        """The sample at ``index`` (or the next good one), all randomness drawn from ``seed``."""
        skipped: list[dict[str, Any]] = []
        n = len(self.samples)
        for k in range(min(self.max_skips + 1, n)):
            idx = (index + k) % n
            sample = self.samples[idx]
            tgen, ngen = _generators(seed)
            try:
                if not os.path.exists(sample.path):
                    raise FileNotFoundError("missing file")
                out = self._load(sample, idx, tgen, ngen)
            except (OSError, VideoDecodeError, RuntimeError, EOFError) as exc:
                self.num_bad += 1
                reason = str(exc) if str(exc) else type(exc).__name__
                skipped.append({"path": sample.path, "line": sample.line, "reason": reason})
                continue
            if skipped:
                items = out if isinstance(out, list) else [out]
                items[0]["_skipped"] = skipped
            return out
        raise RuntimeError(
            f"{len(skipped)} consecutive samples from index {index} could not be read (last: "
            f"{skipped[-1]['path']}: {skipped[-1]['reason']}); check the data list and root"
        )


# ----------------------------------------------------------------------------- pre-training


class VideoPretrainDataset(_VideoDataset):
    """Unlabeled clips with their masks, for ``VideoMAEForPreTraining``.

    Each item: ``pixel_values`` (T, C, H, W) float normalised, ``bool_masked_pos`` (N,) bool
    (True = hidden from the encoder) and, with ``decoder_mask="running_cell"``, ``decoder_mask``
    (N,) bool (True = the decoder reconstructs it, as in VideoMAE V2: a running-cell mask drawn
    independently of the encoder's, so it also selects tokens the encoder saw; the loss counts
    only the masked ones). With ``repeats > 1`` an item is a list of that many clips made
    from ONE decoded clip with independent crops/flips/masks (repeated augmentation).

    Augmentation (the original recipe): multi-scale crop with ``scales`` (one box per clip)
    resized to ``input_size``, then an optional horizontal flip (``flip=False`` for
    direction-sensitive data such as Something-Something).
    """

    def __init__(
        self,
        samples: Sequence[Sample | tuple],
        *,
        num_frames: int = 16,
        sampling_rate: int = 4,
        strategy: str = "dense",
        input_size: int = 224,
        patch_size: int = 16,
        tubelet_size: int = 2,
        mask_kind: str = "tube",
        mask_ratio: float = 0.9,
        decoder_mask: str | None = None,
        decoder_keep_ratio: float = 0.5,
        scales: Sequence[float] = (1.0, 0.875, 0.75, 0.66),
        flip: bool = True,
        short_side: int | None = None,
        repeats: int = 1,
        mean: Sequence[float] = IMAGENET_DEFAULT_MEAN,
        std: Sequence[float] = IMAGENET_DEFAULT_STD,
        max_skips: int = 20,
        cache_mb: float = 0.0,
    ) -> None:
        super().__init__(samples, max_skips, cache_mb)
        if num_frames % tubelet_size or input_size % patch_size:
            raise ValueError(
                f"num_frames ({num_frames}) must be a multiple of tubelet_size ({tubelet_size}) "
                f"and input_size ({input_size}) of patch_size ({patch_size})"
            )
        if mask_kind not in ("tube", "random"):
            raise ValueError(f"mask_kind must be 'tube' or 'random', got {mask_kind!r}")
        if decoder_mask not in (None, "none", "running_cell"):
            raise ValueError(f"decoder_mask must be None or 'running_cell', got {decoder_mask!r}")
        if repeats < 1:
            raise ValueError(f"repeats must be >= 1, got {repeats}")
        self.num_frames, self.sampling_rate, self.strategy = num_frames, sampling_rate, strategy
        self.input_size, self.scales, self.flip = input_size, tuple(scales), flip
        self.short_side, self.repeats = short_side, repeats
        self.mean, self.std = tuple(mean), tuple(std)
        self.grid = (num_frames // tubelet_size, input_size // patch_size, input_size // patch_size)
        self.mask_kind, self.mask_ratio = mask_kind, mask_ratio
        self.decoder_mask = None if decoder_mask in (None, "none") else decoder_mask
        self.decoder_keep_ratio = decoder_keep_ratio

    def masks(self, generator: torch.Generator) -> dict[str, torch.Tensor]:
        """One sample's masks: ``bool_masked_pos`` (N,) and, if enabled, ``decoder_mask`` (N,)."""
        enc = make_mask(self.mask_kind, 1, self.grid, self.mask_ratio, generator=generator)
        out = {"bool_masked_pos": enc[0]}
        if self.decoder_mask == "running_cell":
            dec = running_cell_mask(1, self.grid, self.decoder_keep_ratio, generator=generator)
            out["decoder_mask"] = dec[0]  # V2: the decoder sees these, visible ones included
        return out

    def _load(
        self, sample: Sample, index: int, tgen: torch.Generator, ngen: np.random.Generator
    ) -> Any:
        frames = self._clip_frames(sample.path, True, ngen)
        items = []
        for _ in range(self.repeats):
            x = multi_scale_crop(frames, self.input_size, self.scales, generator=tgen)
            if self.flip:
                x = horizontal_flip(x, 0.5, generator=tgen)
            item = {"pixel_values": _normalized(x, self.mean, self.std)}
            item.update(self.masks(tgen))
            items.append(item)
        return items if self.repeats > 1 else items[0]


# ----------------------------------------------------------------------------- classification


class VideoClassificationDataset(_VideoDataset):
    """Labelled clips for fine-tuning (``train=True``) or validation (``train=False``).

    Each item: ``pixel_values`` (T, C, H, W) float normalised, ``labels`` () int64 and
    ``index`` () int64 (the position in ``samples``). Training (the original recipe's steps):
    a random clip, random resized crop (``scale``, ``ratio``) to ``input_size`` on the decoded
    uint8 frames, RandAugment (``rand_augment=(num_ops, magnitude)`` or None) identical over
    frames, flip, normalisation, random erasing with probability ``erase_prob``; ``repeats``
    augmented clips per decoded clip.

    Order: the crop comes BEFORE RandAugment, as in timm's image recipes; the original release
    augments the full frames and then crops. Augmenting the small clip costs the same at any
    source resolution (the full-frame order's cost grows with the frame). The geometric ops are
    sized relative to the image they get (rotation and shear are angles, translation a fraction
    of the side), so a translation moves the view by that fraction of the crop rather than of
    the frame, and the grey fill it brings in is always inside the view.
    Validation: the centre clip, short side resized to ``short_side`` (default ``input_size``),
    centre crop.
    """

    def __init__(
        self,
        samples: Sequence[Sample | tuple],
        *,
        train: bool,
        num_frames: int = 16,
        sampling_rate: int = 4,
        strategy: str = "dense",
        input_size: int = 224,
        short_side: int | None = None,
        flip: bool = True,
        rand_augment: tuple[int, float] | None = (4, 7.0),
        scale: tuple[float, float] = (0.08, 1.0),
        ratio: tuple[float, float] = (0.75, 1.3333),
        erase_prob: float = 0.25,
        repeats: int = 1,
        mean: Sequence[float] = IMAGENET_DEFAULT_MEAN,
        std: Sequence[float] = IMAGENET_DEFAULT_STD,
        max_skips: int = 20,
        cache_mb: float = 0.0,
    ) -> None:
        super().__init__(samples, max_skips, cache_mb)
        unlabeled = [s for s in self.samples if s.label is None]
        if unlabeled:
            raise ValueError(
                f"VideoClassificationDataset needs labels; {len(unlabeled)} samples have none "
                f"(first: {unlabeled[0].path!r}, line {unlabeled[0].line})"
            )
        if repeats < 1:
            raise ValueError(f"repeats must be >= 1, got {repeats}")
        self.train = train
        self.num_frames, self.sampling_rate, self.strategy = num_frames, sampling_rate, strategy
        self.input_size = input_size
        self.short_side = short_side if short_side is not None else (None if train else input_size)
        self.flip, self.rand_augment = flip, rand_augment
        self.scale, self.ratio, self.erase_prob = tuple(scale), tuple(ratio), erase_prob
        self.repeats = repeats if train else 1
        self.mean, self.std = tuple(mean), tuple(std)

    def _load(
        self, sample: Sample, index: int, tgen: torch.Generator, ngen: np.random.Generator
    ) -> Any:
        frames = self._clip_frames(sample.path, self.train, ngen)
        label = torch.tensor(int(sample.label), dtype=torch.long)
        index_t = torch.tensor(index, dtype=torch.long)
        if not self.train:
            x = _normalized(center_crop(frames, self.input_size), self.mean, self.std)
            return {"pixel_values": x, "labels": label, "index": index_t}
        items = [
            {"pixel_values": self._train_view(frames, tgen), "labels": label, "index": index_t}
            for _ in range(self.repeats)
        ]
        return items if self.repeats > 1 else items[0]

    def _train_view(self, frames: torch.Tensor, tgen: torch.Generator) -> torch.Tensor:
        """One augmented, normalised view of a (T, C, H, W) uint8 clip (the training recipe):
        crop and resize in uint8 first, then RandAugment on the ``input_size`` clip."""
        x = random_resized_crop(frames, self.input_size, self.scale, self.ratio, generator=tgen)
        if self.rand_augment is not None:
            n_ops, mag = self.rand_augment
            x = rand_augment(x, int(n_ops), float(mag), generator=tgen)
        if self.flip:
            x = horizontal_flip(x, 0.5, generator=tgen)
        x = _normalized(x, self.mean, self.std)
        if self.erase_prob > 0:
            x = random_erasing(x, self.erase_prob, generator=tgen)
        return x
