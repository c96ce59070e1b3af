"""Video datasets for pre-training and fine-tuning: list files, class folders, bad-file skipping.

Every random choice of a sample (clip position, crop, flip, RandAugment, erasing, masks) is
drawn from generators seeded by ``getitem_seeded(index, seed)``; the training loop passes a seed
derived from (run seed, epoch, index), so a sample is the same whichever worker or rank builds it.

Bad files (missing, undecodable) never stop a run: the dataset moves on to the next index
(deterministically), counts the failure, and reports ``{path, line, reason}`` under the
``"_skipped"`` key of the sample it returned; the loop aggregates these into its summary.
"""

from __future__ import annotations

import os
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import torch
from torch.utils.data import Dataset

from videomae.runtime import IMAGENET_DEFAULT_MEAN, IMAGENET_DEFAULT_STD

VIDEO_EXTENSIONS = (".mp4", ".avi", ".mkv", ".webm", ".mov", ".m4v", ".mpg", ".mpeg", ".wmv")


class Sample(NamedTuple):
    """One entry of a data list: file path, integer label (None when unlabeled), source line."""

    path: str
    label: int | None
    line: int | None


# ----------------------------------------------------------------------------- lists and folders


def _split_fields(line: str) -> list[str]:
    if "," in line:
        return [f.strip() for f in line.split(",")]
    return line.split()


def read_label_names(path: str | os.PathLike) -> list[str]:
    """Class names from a file: one name per line (index = order), or ``index name`` /
    ``index,name`` / ``name,index`` lines. Returns names in index order."""
    entries: dict[int, str] = {}
    order: list[str] = []
    for raw in Path(path).read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        fields = _split_fields(line) if "," in line else line.split(maxsplit=1)
        if len(fields) == 2 and fields[0].lstrip("-").isdigit():
            entries[int(fields[0])] = fields[1].strip().strip('"')
        elif len(fields) == 2 and fields[1].lstrip("-").isdigit():
            entries[int(fields[1])] = fields[0].strip().strip('"')
        else:
            order.append(line.strip('"'))
    if entries and order:
        raise ValueError(
            f"{path}: mixes indexed lines ('0 name') and bare names; use one style per file"
        )
    if order:
        return order
    if sorted(entries) != list(range(len(entries))):
        raise ValueError(
            f"{path}: label indices must be 0..{len(entries) - 1} without gaps, got "
            f"{sorted(entries)[:10]}..."
        )
    return [entries[i] for i in range(len(entries))]


def read_list_file(
    path: str | os.PathLike,
    root: str | os.PathLike | None = None,
    label_names: Sequence[str] | None = None,
) -> list[Sample]:
    """Parse a data list in the original release's format.

    One video per line: ``path label`` (space separated, as the Kinetics / SSv2 / UCF101 / HMDB51
    lists) or ``path,label``; a line with just ``path`` is unlabeled (pre-training). Extra
    columns are ignored. ``root`` is prefixed to relative paths. A label may also be a class
    name from ``label_names``. Blank lines and ``#`` comments are skipped. Malformed labels raise
    ``ValueError`` naming the line.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"data list {path} does not exist")
    names = {n: i for i, n in enumerate(label_names)} if label_names is not None else {}
    samples: list[Sample] = []
    for line_no, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        fields = _split_fields(line)
        video = fields[0]
        if root is not None and not os.path.isabs(video):
            video = os.path.join(os.fspath(root), video)
        label: int | None = None
        if len(fields) >= 2 and fields[1] != "":
            token = fields[1]
            if token.lstrip("-").isdigit():
                label = int(token)
            elif token in names:
                label = names[token]
            else:
                raise ValueError(
                    f"{path}:{line_no}: label {token!r} is neither an integer nor a known class "
                    "name; expected 'path label' per line (pass label_names to use names)"
                )
            if label_names is not None and not 0 <= label < len(label_names):
                raise ValueError(
                    f"{path}:{line_no}: label {label} is outside 0..{len(label_names) - 1} "
                    f"({len(label_names)} label names)"
                )
        samples.append(Sample(video, label, line_no))
    if not samples:
        raise ValueError(f"data list {path} holds no entries")
    return samples


def _is_video(p: Path) -> bool:
    return p.is_file() and p.suffix.lower() in VIDEO_EXTENSIONS and not p.name.startswith(".")


def scan_class_folders(root: str | os.PathLike) -> tuple[list[Sample], list[str]]:
    """``root/<class>/<video>`` -> (samples, class names); classes sorted by name."""
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"class folder root {root} does not exist")
    classes = sorted(d.name for d in root.iterdir() if d.is_dir() and not d.name.startswith("."))
    if not classes:
        raise ValueError(f"{root} has no sub-folders; expected one folder of videos per class")
    samples = [
        Sample(str(p), label, None)
        for label, name in enumerate(classes)
        for p in sorted((root / name).rglob("*"))
        if _is_video(p)
    ]
    if not samples:
        raise ValueError(f"no videos ({', '.join(VIDEO_EXTENSIONS)}) under {root}/<class>/")
    return samples, classes


def scan_videos(root: str | os.PathLike) -> list[Sample]:
    """Every video file under ``root`` (recursive, sorted), unlabeled, for pre-training."""
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"video folder {root} does not exist")
    samples = [Sample(str(p), None, None) for p in sorted(root.rglob("*")) if _is_video(p)]
    if not samples:
        raise ValueError(f"no videos ({', '.join(VIDEO_EXTENSIONS)}) under {root}")
    return samples


def load_samples(
    source: str | os.PathLike,
    root: str | os.PathLike | None = None,
    label_names: Sequence[str] | None = None,
    *,
    labeled: bool,
) -> tuple[list[Sample], list[str] | None]:
    """A list file or a folder -> (samples, class names or None).

    A folder is read as class folders when ``labeled`` and as a plain video folder otherwise.
    """
    p = Path(source)
    if p.is_dir():
        if labeled:
            samples, classes = scan_class_folders(p)
            return samples, list(label_names) if label_names is not None else classes
        return scan_videos(p), None
    samples = read_list_file(p, root, label_names)
    if labeled:
        missing = [s for s in samples if s.label is None]
        if missing:
            raise ValueError(
                f"{p}:{missing[0].line}: no label for {missing[0].path!r}; fine-tuning needs "
                "'path label' on every line"
            )
    return samples, list(label_names) if label_names is not None else None


# ----------------------------------------------------------------------------- shared machinery


def _generators(seed: int) -> tuple[torch.Generator, np.random.Generator]:
    return torch.Generator().manual_seed(seed % (2**63)), np.random.default_rng(seed)


def _frames_tchw(frames_thwc: torch.Tensor) -> torch.Tensor:
    return frames_thwc.permute(0, 3, 1, 2).contiguous()  # (T, C, H, W)


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
        from videomae.video.decode import read_clip, read_small_video
        from videomae.video.sampling import one_clip_indices

        kw = dict(strategy=strategy, sampling_rate=sampling_rate, train=train, rng=rng)
        if self.cache_mb <= 0 or path in self._too_big:
            return read_clip(path, num_frames, **kw).frames
        frames = self._cache.get(path)
        if frames is None:
            budget = int(self.cache_mb * 2**20)
            whole = read_small_video(path, budget // 4)
            if whole is None:
                self._too_big.add(path)
                return read_clip(path, num_frames, **kw).frames
            frames = self._cache[path] = whole.frames
            self._cache_bytes += frames.nbytes
            while self._cache_bytes > budget:
                self._cache_bytes -= self._cache.popitem(last=False)[1].nbytes
        else:
            self._cache.move_to_end(path)
        return frames[torch.from_numpy(one_clip_indices(len(frames), num_frames, **kw))]

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
        from videomae.errors import VideoDecodeError

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
    (N,) bool (True = the decoder reconstructs it; always a subset of the encoder mask, with the
    same count in every sample). With ``repeats > 1`` an item is a list of that many clips made
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
        from videomae.masking import decoder_targets, make_mask, running_cell_mask

        enc = make_mask(self.mask_kind, 1, self.grid, self.mask_ratio, generator=generator)
        out = {"bool_masked_pos": enc[0]}
        if self.decoder_mask == "running_cell":
            dec = running_cell_mask(1, self.grid, self.decoder_keep_ratio, generator=generator)
            out["decoder_mask"] = decoder_targets(enc, dec)[0]
        return out

    def _load(
        self, sample: Sample, index: int, tgen: torch.Generator, ngen: np.random.Generator
    ) -> Any:
        from videomae.data.transforms import horizontal_flip, multi_scale_crop
        from videomae.processing.ops import normalize, resize_short_side

        clip = self._read_clip(
            sample.path,
            self.num_frames,
            strategy=self.strategy,
            sampling_rate=self.sampling_rate,
            train=True,
            rng=ngen,
        )
        frames = _frames_tchw(clip)  # (T, C, H, W) uint8
        if self.short_side:
            frames = resize_short_side(frames, self.short_side)
        items = []
        for _ in range(self.repeats):
            x = multi_scale_crop(frames, self.input_size, self.scales, generator=tgen)
            if self.flip:
                x = horizontal_flip(x, 0.5, generator=tgen)
            item = {"pixel_values": normalize(x, self.mean, self.std)}
            item.update(self.masks(tgen))
            items.append(item)
        return items if self.repeats > 1 else items[0]


# ----------------------------------------------------------------------------- classification


class VideoClassificationDataset(_VideoDataset):
    """Labelled clips for fine-tuning (``train=True``) or validation (``train=False``).

    Each item: ``pixel_values`` (T, C, H, W) float normalised, ``labels`` () int64 and
    ``index`` () int64 (the position in ``samples``). Training (the original recipe):
    a random clip, RandAugment (``rand_augment=(num_ops, magnitude)`` or None) identical over
    frames, random resized crop (``scale``, ``ratio``) to ``input_size``, flip, normalisation,
    random erasing with probability ``erase_prob``; ``repeats`` augmented clips per decoded clip.
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
        from videomae.processing.ops import center_crop, normalize, resize_short_side

        clip = self._read_clip(
            sample.path,
            self.num_frames,
            strategy=self.strategy,
            sampling_rate=self.sampling_rate,
            train=self.train,
            rng=ngen,
        )
        frames = _frames_tchw(clip)  # (T, C, H, W) uint8
        if self.short_side:
            frames = resize_short_side(frames, self.short_side)
        label = torch.tensor(int(sample.label), dtype=torch.long)
        index_t = torch.tensor(index, dtype=torch.long)
        if not self.train:
            x = normalize(center_crop(frames, self.input_size), self.mean, self.std)
            return {"pixel_values": x, "labels": label, "index": index_t}

        from videomae.data.transforms import (
            horizontal_flip,
            rand_augment,
            random_erasing,
            random_resized_crop,
        )

        items = []
        for _ in range(self.repeats):
            x = frames
            if self.rand_augment is not None:
                n_ops, mag = self.rand_augment
                x = rand_augment(x, int(n_ops), float(mag), generator=tgen)
            x = random_resized_crop(x, self.input_size, self.scale, self.ratio, generator=tgen)
            if self.flip:
                x = horizontal_flip(x, 0.5, generator=tgen)
            x = normalize(x, self.mean, self.std)
            if self.erase_prob > 0:
                x = random_erasing(x, self.erase_prob, generator=tgen)
            items.append({"pixel_values": x, "labels": label, "index": index_t})
        return items if self.repeats > 1 else items[0]
