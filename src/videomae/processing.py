"""Video preprocessing: transformers-compatible image processors and a fast torch video processor.

Three layers:

* Pure tensor helpers (``resize_short_side``, ``center_crop``, ``spatial_crops``, ``normalize``)
  that the training and evaluation code use directly on ``(T, C, H, W)`` frames.
* ``VideoMAEImageProcessor`` / ``VideoMAEImageProcessorPil``: numpy + PIL, the same parameters,
  defaults, ``preprocessor_config.json`` and outputs as transformers' (max abs diff <= 1e-4).
* ``VideoMAEVideoProcessor``: the fast path. uint8 frames are resized with torch's antialiased
  bilinear kernel (the same algorithm as PIL's), cropped, and rescaled + normalised in one
  multiply-add, on the input's device. On CPU the frames are split between the calling thread
  and a worker pool, because the uint8 resize kernel runs on one core.

Pixel values come out as ``(B, T, C, H, W)`` float32.
"""

from __future__ import annotations

import functools
import json
import logging
import math
import os
import threading
import warnings
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from videomae.runtime import (
    IMAGENET_STANDARD_MEAN,
    IMAGENET_STANDARD_STD,
)

logger = logging.getLogger(__name__)

__all__ = [
    "PROCESSOR_CONFIG_NAME",
    "BatchFeature",
    "VideoMAEImageProcessor",
    "VideoMAEImageProcessorPil",
    "VideoMAEVideoProcessor",
    "center_crop",
    "normalize",
    "resize_short_side",
    "spatial_crops",
]

PROCESSOR_CONFIG_NAME = "preprocessor_config.json"

# PIL resampling filter ids (PIL.Image.Resampling values)
PIL_NEAREST, PIL_LANCZOS, PIL_BILINEAR, PIL_BICUBIC, PIL_BOX, PIL_HAMMING = 0, 1, 2, 3, 4, 5
_TORCH_MODES = {PIL_BILINEAR: "bilinear", PIL_BICUBIC: "bicubic"}

# keys of preprocessor_config.json that carry settings
_CONFIG_KEYS = (
    "do_resize",
    "size",
    "resample",
    "do_center_crop",
    "crop_size",
    "do_rescale",
    "rescale_factor",
    "do_normalize",
    "image_mean",
    "image_std",
)
# keys transformers writes or accepts that carry no setting we need (read and dropped)
_METADATA_KEYS = frozenset(
    {
        "image_processor_type",
        "feature_extractor_type",
        "video_processor_type",
        "processor_class",
        "_processor_class",
        "do_convert_rgb",
        "do_sample_frames",
        "default_to_square",
        "model_input_names",
        "data_format",
        "input_data_format",
        "return_tensors",
        "device",
        "_valid_kwargs",
        "_valid_processor_keys",
    }
)


# --------------------------------------------------------------------------------------------
# Output container
# --------------------------------------------------------------------------------------------


class BatchFeature(dict):
    """A dict of model inputs with attribute access (``out.pixel_values``) and ``.to(device)``."""

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(f"BatchFeature has no key {name!r}; keys: {list(self)}") from None

    def to(self, *args: Any, **kwargs: Any) -> BatchFeature:
        """Move (and optionally cast) every tensor value, like ``Tensor.to``."""
        return BatchFeature(
            {
                k: v.to(*args, **kwargs) if isinstance(v, torch.Tensor) else v
                for k, v in self.items()
            }
        )


# --------------------------------------------------------------------------------------------
# Size rules shared by both processors (transformers' conventions)
# --------------------------------------------------------------------------------------------


def _size_dict(size: Any, *, default_to_square: bool, name: str) -> dict[str, int]:
    """Turn ``size`` (int, (h, w) or dict) into transformers' size dict, checking its keys."""
    if isinstance(size, bool):
        raise TypeError(f"{name} must be an int, (height, width) or a dict, got {size!r}")
    if isinstance(size, int):
        return {"height": size, "width": size} if default_to_square else {"shortest_edge": size}
    if isinstance(size, (tuple, list)) and len(size) == 2:
        return {"height": int(size[0]), "width": int(size[1])}
    if isinstance(size, Mapping):
        d = {k: int(v) for k, v in size.items() if v is not None}
        if set(d) == {"shortest_edge"} or set(d) == {"height", "width"}:
            return d
        raise ValueError(
            f"{name} must have the keys {{'shortest_edge'}} or {{'height', 'width'}}, got "
            f"{sorted(d)}; e.g. {name}={{'shortest_edge': 224}}"
        )
    raise TypeError(f"{name} must be an int, (height, width) or a dict, got {size!r}")


def _short_side_output(height: int, width: int, size: int) -> tuple[int, int]:
    """(h, w) after resizing the short side to ``size``; long side int(size * long / short)."""
    if width <= height:
        return int(size * height / width), size
    return size, int(size * width / height)


def _resize_output(height: int, width: int, size: dict[str, int]) -> tuple[int, int]:
    """Output (h, w) of the resize step for a size dict."""
    if "shortest_edge" in size:
        return _short_side_output(height, width, size["shortest_edge"])
    return size["height"], size["width"]


def _as_channel_tuple(values: Any, name: str) -> tuple[float, ...]:
    if isinstance(values, (int, float)):
        return (float(values),)
    if isinstance(values, torch.Tensor):
        values = values.tolist()
    out = tuple(float(v) for v in values)
    if not out:
        raise ValueError(f"{name} must not be empty")
    return out


def _check_resample(resample: Any) -> int:
    try:
        return int(resample)
    except (TypeError, ValueError):
        raise TypeError(
            f"resample must be a PIL filter id such as 2 (BILINEAR) or 3 (BICUBIC), got {resample!r}"
        ) from None


# --------------------------------------------------------------------------------------------
# Pure helpers on (..., C, H, W) tensors and arrays
# --------------------------------------------------------------------------------------------


def _center_crop_any(x: Any, crop_h: int, crop_w: int) -> Any:
    """Center crop of the last two dims (numpy or torch); zero pads when the crop is larger.

    Offsets are ``(H - h) // 2`` and ``(W - w) // 2``; padding puts ``ceil`` of the missing
    pixels before the image, as transformers does.
    """
    h, w = x.shape[-2], x.shape[-1]
    top, left = (h - crop_h) // 2, (w - crop_w) // 2
    if top >= 0 and left >= 0:
        return x[..., top : top + crop_h, left : left + crop_w]
    new_h, new_w = max(crop_h, h), max(crop_w, w)
    pad_top, pad_left = math.ceil((new_h - h) / 2), math.ceil((new_w - w) / 2)
    shape = tuple(x.shape[:-2]) + (new_h, new_w)
    if isinstance(x, torch.Tensor):
        canvas = torch.zeros(shape, dtype=x.dtype, device=x.device)
    else:
        canvas = np.zeros(shape, dtype=x.dtype)
    canvas[..., pad_top : pad_top + h, pad_left : pad_left + w] = x
    top, left = top + pad_top, left + pad_left
    return canvas[..., max(0, top) : top + crop_h, max(0, left) : left + crop_w]


def _check_frames(frames: torch.Tensor, name: str = "frames") -> None:
    if not isinstance(frames, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor (T, C, H, W), got {type(frames).__name__}")
    if frames.ndim < 3:
        raise ValueError(
            f"{name} must be (..., C, H, W) with channels first, got shape {tuple(frames.shape)}; "
            "for (T, H, W, C) frames use frames.permute(0, 3, 1, 2)"
        )


_POOL: ThreadPoolExecutor | None = None
_POOL_LOCK = threading.Lock()


def _pool(workers: int) -> ThreadPoolExecutor:
    """A shared thread pool (created once) for splitting CPU uint8 resizes across cores."""
    global _POOL
    with _POOL_LOCK:
        if _POOL is None or _POOL._max_workers < workers:
            _POOL = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="videomae-resize")
        return _POOL


def _forget_pool_after_fork() -> None:
    # a forked child inherits the pool object but not its threads: start a fresh one there
    global _POOL, _POOL_LOCK
    _POOL, _POOL_LOCK = None, threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_pool_after_fork)


def _num_workers(num_frames: int, device: torch.device) -> int:
    if device.type != "cpu" or num_frames < 2:
        return 1
    return max(1, min(torch.get_num_threads(), num_frames))


def _chunks(n: int, parts: int) -> list[slice]:
    bounds = [round(i * n / parts) for i in range(parts + 1)]
    return [slice(a, b) for a, b in zip(bounds[:-1], bounds[1:]) if b > a]


def _map_split(fn: Callable[[slice], Any], n: int, workers: int) -> list[Any]:
    """``fn`` over ``workers`` slices of ``range(n)``: the first on the calling thread, the
    others on the shared pool (none with one worker).

    The calling thread is already awake; waking a pool thread is what costs, most of all after
    the cores were idle (16 frames of 480x640 right after another library's call: 7.0-7.3 ms
    this way, 10.0-10.8 ms with every part on the pool; docs/performance.md).
    """
    first, *rest = _chunks(n, workers) or [slice(0, n)]  # n == 0: one empty part
    futures = [_pool(workers).submit(fn, part) for part in rest]
    try:
        head = fn(first)
    except BaseException:
        for future in futures:
            future.exception()  # wait for the others, but raise the first error
        raise
    return [head, *(future.result() for future in futures)]


def _interpolate(x: torch.Tensor, out_hw: tuple[int, int], mode: str) -> torch.Tensor:
    """Antialiased resize of (N, C, H, W); uint8 on CPU stays uint8 (PIL's algorithm, AVX2).

    Elsewhere (CUDA, float input) it works in float32; a uint8 input comes back as uint8.
    """
    if tuple(x.shape[-2:]) == tuple(out_hw):
        return x
    if x.dtype == torch.uint8 and x.device.type == "cpu":
        return F.interpolate(x, size=out_hw, mode=mode, antialias=True, align_corners=False)
    y = F.interpolate(x.float(), size=out_hw, mode=mode, antialias=True, align_corners=False)
    if x.dtype == torch.uint8:
        return y.round_().clamp_(0, 255).to(torch.uint8)
    if x.is_floating_point():
        return y.to(x.dtype)
    return y


def _resize_frames(frames: torch.Tensor, out_hw: tuple[int, int], mode: str) -> torch.Tensor:
    """Resize (T, C, H, W) frames, splitting the frames across threads for CPU uint8."""
    if tuple(frames.shape[-2:]) == tuple(out_hw):
        return frames  # nothing to do: no thread hand-off (it costs more than a small clip)
    t = frames.shape[0]
    workers = _num_workers(t, frames.device) if frames.dtype == torch.uint8 else 1
    if workers == 1:
        return _interpolate(frames, out_hw, mode)  # no torch.cat copy of a single part
    return torch.cat(_map_split(lambda s: _interpolate(frames[s], out_hw, mode), t, workers))


def resize_short_side(
    frames: torch.Tensor, size: int, *, resample: int = PIL_BILINEAR
) -> torch.Tensor:
    """Resize ``(T, C, H, W)`` frames so the short side is ``size`` (long side int(size*L/S)).

    Antialiased bilinear (or bicubic with ``resample=3``) like PIL; keeps the dtype (uint8 in,
    uint8 out) and the device. Channels-last memory (a permuted (T, H, W, C) array) is fastest.
    """
    _check_frames(frames)
    mode = _torch_mode(resample)
    h, w = frames.shape[-2:]
    out_hw = _short_side_output(h, w, int(size))
    lead = frames.shape[:-3]
    flat = frames.reshape(-1, *frames.shape[-3:])
    return _resize_frames(flat, out_hw, mode).reshape(*lead, *flat.shape[1:2], *out_hw)


def center_crop(frames: Any, size: int | tuple[int, int]) -> Any:
    """Center crop the last two dims of ``(..., H, W)`` frames (torch or numpy) to ``size``.

    ``size`` is an int (square) or (height, width). Offsets ``(H - h) // 2, (W - w) // 2``
    (transformers' rule); frames smaller than the crop are zero padded around the image.
    """
    crop_h, crop_w = (size, size) if isinstance(size, int) else (int(size[0]), int(size[1]))
    if frames.ndim < 2:
        raise ValueError(f"frames must be (..., H, W), got shape {tuple(frames.shape)}")
    return _center_crop_any(frames, crop_h, crop_w)


def spatial_crops(
    frames: torch.Tensor, size: int, num_crops: int = 3, *, resample: int = PIL_BILINEAR
) -> list[torch.Tensor]:
    """Multi-crop testing views: ``num_crops`` crops of ``size x size`` from ``(T, C, H, W)``.

    The short side is first resized to ``size`` (skipped when it already is). The crops then
    span the longer side evenly: with ``num_crops=3`` they sit at its start, middle
    (``(L - size) // 2``, the center crop) and end; ``num_crops=1`` is the center crop.
    """
    _check_frames(frames)
    if num_crops < 1:
        raise ValueError(f"num_crops must be >= 1, got {num_crops}")
    if min(frames.shape[-2:]) != size:
        frames = resize_short_side(frames, size, resample=resample)
    h, w = frames.shape[-2:]
    if num_crops == 1:
        return [center_crop(frames, size)]
    long_is_h = h > w
    span = (h if long_is_h else w) - size
    crops = []
    for i in range(num_crops):
        start = i * span // (num_crops - 1)
        if long_is_h:
            view = frames[..., start : start + size, :]
            view = _center_crop_any(view, size, size)
        else:
            view = frames[..., :, start : start + size]
            view = _center_crop_any(view, size, size)
        crops.append(view)
    return crops


def _scale_shift(
    num_channels: int,
    mean: Sequence[float] | None,
    std: Sequence[float] | None,
    rescale_factor: float | None,
) -> tuple[torch.Tensor | None, torch.Tensor | None]:
    """Fused per-channel scale and shift: x * scale + shift == (x * rescale - mean) / std."""
    key = (
        num_channels,
        None if mean is None else tuple(mean),
        None if std is None else tuple(std),
        rescale_factor,
    )
    return _scale_shift_cached(*key)


@functools.lru_cache(maxsize=64)
def _scale_shift_cached(
    num_channels: int,
    mean: tuple[float, ...] | None,
    std: tuple[float, ...] | None,
    rescale_factor: float | None,
) -> tuple[torch.Tensor | None, torch.Tensor | None]:
    # cached per setting: building the small tensors cost more than normalising a 32x32 clip
    r = 1.0 if rescale_factor is None else float(rescale_factor)
    if mean is None or std is None:
        return (None if r == 1.0 else torch.full((num_channels, 1, 1), r)), None
    mean_t = torch.tensor(
        _broadcast_channels(mean, num_channels, "image_mean"), dtype=torch.float64
    )
    std_t = torch.tensor(_broadcast_channels(std, num_channels, "image_std"), dtype=torch.float64)
    if (std_t == 0).any():
        raise ValueError(f"image_std must be non-zero, got {std_t.tolist()}")
    scale = (r / std_t).float().view(-1, 1, 1)
    shift = (-mean_t / std_t).float().view(-1, 1, 1)
    return scale, shift


def _broadcast_channels(values: Sequence[float], num_channels: int, name: str) -> list[float]:
    values = list(_as_channel_tuple(values, name))
    if len(values) == 1:
        return values * num_channels
    if len(values) != num_channels:
        raise ValueError(
            f"{name} has {len(values)} values but the frames have {num_channels} channels; "
            f"pass one value per channel"
        )
    return values


def normalize(
    frames: torch.Tensor,
    mean: Sequence[float] = IMAGENET_STANDARD_MEAN,
    std: Sequence[float] = IMAGENET_STANDARD_STD,
    *,
    rescale_factor: float = 1 / 255,
) -> torch.Tensor:
    """uint8 (or float 0..255) frames ``(..., C, H, W)`` -> float32 ``(x * rescale - mean) / std``.

    One fused multiply-add per element. Pass ``rescale_factor=1.0`` for frames already in [0, 1].
    """
    _check_frames(frames)
    scale, shift = _scale_shift(frames.shape[-3], mean, std, rescale_factor)
    out = frames.to(torch.float32)
    if out.data_ptr() == frames.data_ptr():
        out = out.clone()
    return out.mul_(scale.to(out.device)).add_(shift.to(out.device))


def _torch_mode(resample: Any) -> str:
    resample = _check_resample(resample)
    mode = _TORCH_MODES.get(resample)
    if mode is None:
        raise ValueError(
            f"the torch path supports resample=2 (BILINEAR) or 3 (BICUBIC), got {resample}; "
            "use VideoMAEImageProcessor (PIL) for other filters"
        )
    return mode


# --------------------------------------------------------------------------------------------
# Config handling shared by the processors
# --------------------------------------------------------------------------------------------


def _read_config_file(pretrained: str | os.PathLike, **hub_kwargs: Any) -> dict[str, Any]:
    """Load preprocessor_config.json from a folder, a json file, or a hub id (hf_hub_download)."""
    path = Path(pretrained)
    if path.is_dir():
        path = path / PROCESSOR_CONFIG_NAME
        if not path.is_file():
            raise FileNotFoundError(
                f"{pretrained} has no {PROCESSOR_CONFIG_NAME}; save one with "
                "processor.save_pretrained(folder) or pass the folder that holds it"
            )
    elif not path.is_file():
        text = str(pretrained)
        looks_local = os.path.isabs(text) or text.startswith(".") or text.count("/") > 1
        if looks_local:
            raise FileNotFoundError(
                f"{text} does not exist; pass a folder with {PROCESSOR_CONFIG_NAME}"
            )
        try:
            import huggingface_hub

            path = Path(huggingface_hub.hf_hub_download(text, PROCESSOR_CONFIG_NAME, **hub_kwargs))
        except Exception as err:  # network, auth, missing repo: one clear message
            raise OSError(
                f"could not fetch {PROCESSOR_CONFIG_NAME} for {text} ({type(err).__name__}: "
                f"{str(err).splitlines()[0] if str(err) else ''}); pass a local folder that holds "
                f"{PROCESSOR_CONFIG_NAME}"
            ) from err
    try:
        with open(path, encoding="utf-8") as f:
            config = json.load(f)
    except json.JSONDecodeError as err:
        raise ValueError(f"{path} is not valid JSON ({err})") from err
    if not isinstance(config, dict):
        raise ValueError(f"{path} must hold a JSON object, got {type(config).__name__}")
    return config


class _ProcessorBase:
    """Parameters, validation and (de)serialisation shared by all processors."""

    #: value written as ``image_processor_type`` so transformers' loaders pick the right class
    _config_type_name = "VideoMAEImageProcessor"

    def __init__(
        self,
        do_resize: bool = True,
        size: int | dict[str, int] | None = None,
        resample: int = PIL_BILINEAR,
        do_center_crop: bool = True,
        crop_size: int | dict[str, int] | None = None,
        do_rescale: bool = True,
        rescale_factor: float = 1 / 255,
        do_normalize: bool = True,
        image_mean: float | Sequence[float] | None = None,
        image_std: float | Sequence[float] | None = None,
        **kwargs: Any,
    ) -> None:
        unknown = set(kwargs) - _METADATA_KEYS
        if unknown:
            logger.warning("%s ignores unknown settings %s", type(self).__name__, sorted(unknown))
        self.do_resize = bool(do_resize)
        self.size = _size_dict(
            {"shortest_edge": 224} if size is None else size, default_to_square=False, name="size"
        )
        self.resample = _check_resample(resample)
        self.do_center_crop = bool(do_center_crop)
        self.crop_size = _size_dict(
            {"height": 224, "width": 224} if crop_size is None else crop_size,
            default_to_square=True,
            name="crop_size",
        )
        if "shortest_edge" in self.crop_size:
            raise ValueError("crop_size needs 'height' and 'width', got 'shortest_edge'")
        self.do_rescale = bool(do_rescale)
        self.rescale_factor = float(rescale_factor)
        self.do_normalize = bool(do_normalize)
        self.image_mean = list(
            _as_channel_tuple(
                IMAGENET_STANDARD_MEAN if image_mean is None else image_mean, "image_mean"
            )
        )
        self.image_std = list(
            _as_channel_tuple(
                IMAGENET_STANDARD_STD if image_std is None else image_std, "image_std"
            )
        )

    # ---- settings for one call ------------------------------------------------------------

    def _settings(self, overrides: dict[str, Any]) -> dict[str, Any]:
        """This processor's settings with per-call overrides applied and checked."""
        unknown = set(overrides) - set(_CONFIG_KEYS)
        if unknown:
            raise TypeError(
                f"unexpected arguments {sorted(unknown)}; per-call overrides are {list(_CONFIG_KEYS)}"
            )
        s = {k: getattr(self, k) for k in _CONFIG_KEYS}
        s.update({k: v for k, v in overrides.items() if v is not None})
        s["size"] = _size_dict(s["size"], default_to_square=False, name="size")
        s["crop_size"] = _size_dict(s["crop_size"], default_to_square=True, name="crop_size")
        s["resample"] = _check_resample(s["resample"])
        s["image_mean"] = _as_channel_tuple(s["image_mean"], "image_mean")
        s["image_std"] = _as_channel_tuple(s["image_std"], "image_std")
        return s

    # ---- serialisation ---------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """The ``preprocessor_config.json`` content (same keys as transformers writes)."""
        d = {k: getattr(self, k) for k in _CONFIG_KEYS}
        d["size"] = dict(self.size)
        d["crop_size"] = dict(self.crop_size)
        d["image_mean"] = list(self.image_mean)
        d["image_std"] = list(self.image_std)
        d["image_processor_type"] = self._config_type_name
        return d

    def to_json_string(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=True) + "\n"

    def to_json_file(self, path: str | os.PathLike) -> None:
        Path(path).write_text(self.to_json_string(), encoding="utf-8")

    def save_pretrained(self, save_directory: str | os.PathLike) -> str:
        """Write ``preprocessor_config.json`` into ``save_directory`` (created); returns its path."""
        folder = Path(save_directory)
        if folder.is_file():
            raise NotADirectoryError(f"{folder} is a file; save_pretrained needs a folder")
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / PROCESSOR_CONFIG_NAME
        self.to_json_file(path)
        return str(path)

    @classmethod
    def from_dict(cls, config: Mapping[str, Any], **overrides: Any) -> Any:
        """Build from a ``preprocessor_config.json`` dict (transformers' or ours)."""
        merged = dict(config)
        merged.update(overrides)
        return cls(**merged)

    @classmethod
    def from_pretrained(
        cls,
        pretrained: str | os.PathLike,
        *,
        revision: str | None = None,
        cache_dir: str | os.PathLike | None = None,
        **overrides: Any,
    ) -> Any:
        """Load from a folder (or json file) holding ``preprocessor_config.json`` or a hub id.

        Hub ids go through ``huggingface_hub.hf_hub_download``; without network that fails with
        one clear error telling you to pass a local folder.
        """
        hub_kwargs = {k: v for k, v in {"revision": revision, "cache_dir": cache_dir}.items() if v}
        return cls.from_dict(_read_config_file(pretrained, **hub_kwargs), **overrides)

    def __repr__(self) -> str:
        return f"{type(self).__name__} {self.to_json_string()}"

    def __eq__(self, other: object) -> bool:
        return type(self) is type(other) and self.to_dict() == other.to_dict()  # type: ignore[union-attr]


# --------------------------------------------------------------------------------------------
# Input structure (shared): one video or a batch
# --------------------------------------------------------------------------------------------


def _is_pil(x: Any) -> bool:
    try:
        from PIL import Image
    except ImportError:  # pragma: no cover - pillow is a dependency
        return False
    return isinstance(x, Image.Image)


def _is_array(x: Any) -> bool:
    return isinstance(x, (np.ndarray, torch.Tensor))


def _infer_channels_first(shape: Sequence[int], fmt: str | None, what: str) -> bool:
    """True if a (..., a, b, c) frame shape is channels-first.

    Rule (as transformers): the channel dim has size 1 or 3. When both the first and the last
    of the three trailing dims qualify (e.g. (3, H, 3)) channels-first is assumed; pass
    ``input_data_format="channels_last"`` to say otherwise.
    """
    if fmt is not None:
        if fmt not in ("channels_first", "channels_last"):
            raise ValueError(
                f"input_data_format must be 'channels_first' or 'channels_last', got {fmt!r}"
            )
        return fmt == "channels_first"
    first, last = shape[-3], shape[-1]
    if first in (1, 3):
        return True
    if last in (1, 3):
        return False
    raise ValueError(
        f"cannot find the channel dim of {what} with shape {tuple(shape)}: expected "
        "(H, W, C) or (C, H, W) frames with C = 1 or 3 (RGB); convert RGBA/other layouts to RGB "
        "or pass input_data_format"
    )


def _nest_videos(videos: Any) -> list[list[Any]]:
    """One video or a batch -> list of videos, each a list of frames (PIL, 2-D or 3-D arrays)."""

    def frames_of(video: Any) -> list[Any]:
        if _is_pil(video):
            return [video]
        if _is_array(video):
            if video.ndim in (2, 3):
                return [video]
            if video.ndim == 4:
                return list(video)
            raise ValueError(
                f"a video must be a (T, H, W, C) or (T, C, H, W) array, got shape {tuple(video.shape)}"
            )
        if isinstance(video, (list, tuple)) and video:
            for frame in video:
                if not (_is_pil(frame) or (_is_array(frame) and frame.ndim in (2, 3))):
                    raise TypeError(
                        "each frame must be a PIL image or an (H, W, C) / (C, H, W) array or "
                        f"tensor, got {_describe(frame)}"
                    )
            return list(video)
        raise TypeError(f"expected a video (list of frames or 4-D array), got {_describe(video)}")

    if _is_array(videos) and videos.ndim == 5:
        return [list(v) for v in videos]
    if isinstance(videos, (list, tuple)):
        if not videos:
            raise ValueError("got an empty list of videos; pass at least one video")
        if all(_is_pil(v) or (_is_array(v) and v.ndim in (2, 3)) for v in videos):
            return [list(videos)]  # one video as a list of frames
        return [frames_of(v) for v in videos]
    return [frames_of(videos)]


def _describe(x: Any) -> str:
    if _is_array(x):
        return f"{type(x).__name__} of shape {tuple(x.shape)}"
    return type(x).__name__


# --------------------------------------------------------------------------------------------
# The numpy + PIL image processor (transformers parity)
# --------------------------------------------------------------------------------------------


def _frame_to_hwc(frame: Any, input_data_format: str | None) -> np.ndarray:
    """A PIL image / array / tensor frame -> numpy (H, W, C)."""
    if _is_pil(frame):
        if frame.mode not in ("RGB", "L"):
            frame = frame.convert("RGB")
        arr = np.asarray(frame)
        return arr[..., None] if arr.ndim == 2 else arr
    arr = frame.detach().cpu().numpy() if isinstance(frame, torch.Tensor) else np.asarray(frame)
    if arr.ndim == 2:
        return arr[..., None]
    if _infer_channels_first(arr.shape, input_data_format, "a frame"):
        return arr.transpose(1, 2, 0)
    return arr


def _pil_resize(frame: np.ndarray, out_hw: tuple[int, int], resample: int) -> np.ndarray:
    """Resize one (H, W, C) frame with PIL as transformers does (uint8 round trip)."""
    from PIL import Image

    rescale_back = False
    if frame.dtype != np.uint8:
        if np.allclose(frame, frame.astype(np.int64)):
            if frame.min() < 0 or frame.max() > 255:
                raise ValueError(
                    f"frame values must lie in [0, 255] to be resized, got [{frame.min()}, "
                    f"{frame.max()}]; clip or rescale them first"
                )
        elif frame.min() >= 0 and frame.max() <= 1:
            frame = (frame.astype(np.float64) * 255).astype(np.float32)
            rescale_back = True  # [0, 1] floats are resized on the 0..255 scale, then mapped back
        else:
            raise ValueError(
                f"float frame values must lie in [0, 1] or be whole numbers in [0, 255], got "
                f"[{frame.min()}, {frame.max()}]"
            )
        frame = frame.astype(np.uint8)
    image = Image.fromarray(frame[..., 0] if frame.shape[-1] == 1 else frame)
    out = np.asarray(image.resize((out_hw[1], out_hw[0]), resample=resample))
    out = out[..., None] if out.ndim == 2 else out
    if rescale_back:
        out = (out.astype(np.float64) * (1 / 255)).astype(np.float32)
    return out


class VideoMAEImageProcessor(_ProcessorBase):
    """transformers-compatible VideoMAE image processor (numpy + PIL).

    Per frame: PIL resize (short side to ``size["shortest_edge"]``, long side
    ``int(size * long / short)``; or exactly ``(height, width)``), center crop to ``crop_size``,
    rescale by ``rescale_factor`` and normalise with ``image_mean`` / ``image_std``. Matches
    transformers' ``VideoMAEImageProcessor`` within 1e-4. Grayscale frames are repeated to three
    channels when the mean has three values; RGBA PIL images are converted to RGB.
    """

    def __call__(self, videos: Any, **kwargs: Any) -> BatchFeature:
        return self.preprocess(videos, **kwargs)

    def preprocess(
        self,
        videos: Any,
        return_tensors: str | None = None,
        input_data_format: str | None = None,
        **overrides: Any,
    ) -> BatchFeature:
        """Video(s) -> ``BatchFeature(pixel_values=(B, T, C, H, W) float32)``.

        ``videos``: a list of frames (PIL images, (H, W, C) or (C, H, W) arrays/tensors), a
        (T, H, W, C) / (T, C, H, W) array, or a list of such videos. ``return_tensors``: "pt",
        "np", or None (nested lists of (C, H, W) arrays, as transformers returns).
        Any constructor setting can be overridden for this call.
        """
        s = self._settings(overrides)
        out_videos = []
        for video in _nest_videos(videos):
            frames = [self._process_frame(f, s, input_data_format) for f in video]
            shapes = {f.shape for f in frames}
            if len(shapes) > 1:
                raise ValueError(
                    f"frames of one video end up with different shapes {sorted(shapes)}; use "
                    "do_center_crop=True or size={'height': h, 'width': w}"
                )
            out_videos.append(self._rescale_normalize(np.stack(frames), s))  # (T, C, H, W)
        return _pack(out_videos, return_tensors)

    def _process_frame(
        self, frame: Any, s: dict[str, Any], input_data_format: str | None
    ) -> np.ndarray:
        hwc = _frame_to_hwc(frame, input_data_format)
        if s["do_resize"]:
            out_hw = _resize_output(hwc.shape[0], hwc.shape[1], s["size"])
            hwc = _pil_resize(hwc, out_hw, s["resample"])
        chw = hwc.transpose(2, 0, 1)
        if s["do_center_crop"]:
            chw = _center_crop_any(chw, s["crop_size"]["height"], s["crop_size"]["width"])
        return chw

    @staticmethod
    def _rescale_normalize(video: np.ndarray, s: dict[str, Any]) -> np.ndarray:
        """(T, C, H, W) -> float32 rescaled and normalised, in transformers' order of ops."""
        num_channels = video.shape[1]
        if num_channels == 1 and s["do_normalize"] and len(s["image_mean"]) == 3:
            video = np.repeat(video, 3, axis=1)
            num_channels = 3
        if s["do_rescale"]:
            x = (video.astype(np.float64) * s["rescale_factor"]).astype(np.float32)
        else:
            x = video.astype(np.float32)
        if s["do_normalize"]:
            mean = np.asarray(_broadcast_channels(s["image_mean"], num_channels, "image_mean"))
            std = np.asarray(_broadcast_channels(s["image_std"], num_channels, "image_std"))
            mean = mean.astype(np.float32)[:, None, None]
            std = std.astype(np.float32)[:, None, None]
            x = (x - mean) / std
        return np.ascontiguousarray(x, dtype=np.float32)


class VideoMAEImageProcessorPil(VideoMAEImageProcessor):
    """Same as :class:`VideoMAEImageProcessor` (transformers' PIL backend name).

    ``to_dict`` writes ``image_processor_type: "VideoMAEImageProcessor"`` like transformers.
    """


def _pack(videos: list[Any], return_tensors: str | None) -> BatchFeature:
    """Per-video (T, C, H, W) outputs -> BatchFeature in the requested tensor type."""
    if return_tensors is None:
        if isinstance(videos[0], torch.Tensor):
            return BatchFeature(pixel_values=videos)
        return BatchFeature(pixel_values=[list(v) for v in videos])
    if return_tensors not in ("pt", "np"):
        raise ValueError(f"return_tensors must be 'pt', 'np' or None, got {return_tensors!r}")
    shapes = {tuple(v.shape) for v in videos}
    if len(shapes) > 1:
        raise ValueError(
            f"cannot stack videos of shapes {sorted(shapes)} into one batch; give every video the "
            "same number of frames, or pass return_tensors=None to get a list"
        )
    if isinstance(videos[0], torch.Tensor):
        batch = torch.stack(videos) if len(videos) > 1 else videos[0].unsqueeze(0)
        return BatchFeature(pixel_values=batch.cpu().numpy() if return_tensors == "np" else batch)
    batch = np.stack(videos)
    return BatchFeature(pixel_values=torch.from_numpy(batch) if return_tensors == "pt" else batch)


# --------------------------------------------------------------------------------------------
# The fast torch video processor
# --------------------------------------------------------------------------------------------


def _to_tensor(x: Any) -> torch.Tensor:
    if isinstance(x, torch.Tensor):
        return x
    if _is_pil(x):
        x = np.asarray(x.convert("RGB") if x.mode not in ("RGB", "L") else x)
    arr = np.asarray(x)
    if arr.dtype == np.uint16 or arr.dtype.kind not in "uif":
        raise TypeError(f"frames must be uint8 (or float) arrays, got dtype {arr.dtype}")
    with warnings.catch_warnings():  # read-only arrays (e.g. from decoders) are never written
        warnings.simplefilter("ignore", UserWarning)
        return torch.from_numpy(arr)


def _video_to_tchw(video: Any, fmt: str | None) -> torch.Tensor:
    """One video (4-D array/tensor or list of frames) -> (T, C, H, W) view, no copy if possible."""
    if isinstance(video, (list, tuple)):
        frames = [_to_tensor(f) for f in video]
        if any(f.ndim not in (2, 3) for f in frames):
            raise ValueError(
                "a video given as a list must hold (H, W, C) or (C, H, W) frames, got shapes "
                f"{[tuple(f.shape) for f in frames[:3]]}"
            )
        frames = [f.unsqueeze(-1) if f.ndim == 2 else f for f in frames]
        video = torch.stack(frames)
    else:
        video = _to_tensor(video)
    if video.ndim == 3:  # a single frame
        video = video.unsqueeze(0)
    if video.ndim != 4:
        raise ValueError(
            f"a video must be (T, H, W, C) or (T, C, H, W), got shape {tuple(video.shape)}"
        )
    if _infer_channels_first(video.shape, fmt, "the video"):
        return video
    return video.permute(0, 3, 1, 2)  # channels-last memory: the fast layout for the uint8 kernel


class VideoMAEVideoProcessor(_ProcessorBase):
    """Fast VideoMAE preprocessing in torch, same settings and config file as the image processor.

    Takes uint8 (or float 0..255) videos as torch tensors or numpy arrays shaped (T, H, W, C) or
    (T, C, H, W), a 5-D batch, a list of them, lists of frames, or video file paths (decoded with
    :func:`videomae.video.read_clip`). The layout is found from the dim of size 1 or 3
    (channels-first wins when both ends qualify; pass ``input_data_format`` to force it).

    Work happens on the input's device (or ``device=``): antialiased resize (PIL's algorithm;
    uint8 on CPU, float32 on GPU), crop, then one fused multiply-add for rescale + normalise.
    Axes that the resize leaves unchanged are cropped before resizing (exact). Output stays
    within 2/255 of the image processor's before normalisation.
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        _torch_mode(self.resample)  # fail early on filters the torch path lacks

    def __call__(self, videos: Any, **kwargs: Any) -> BatchFeature:
        return self.preprocess(videos, **kwargs)

    def preprocess(
        self,
        videos: Any,
        return_tensors: str | None = "pt",
        device: str | torch.device | None = None,
        input_data_format: str | None = None,
        num_frames: int = 16,
        clip_kwargs: Mapping[str, Any] | None = None,
        **overrides: Any,
    ) -> BatchFeature:
        """Video(s) -> ``BatchFeature(pixel_values=(B, T, C, H, W) float32)`` on the device.

        ``num_frames`` and ``clip_kwargs`` (``strategy``, ``sampling_rate``, ``clip_idx``, ...)
        apply to file paths only. ``return_tensors``: "pt" (default), "np", or None (a list of
        per-video (T, C, H, W) tensors, for videos of different lengths).
        """
        s = self._settings(overrides)
        mode = _torch_mode(s["resample"])
        tchw = [
            _video_to_tchw(v, input_data_format)
            for v in self._split_videos(videos, num_frames, clip_kwargs)
        ]
        if device is not None:
            tchw = [v.to(device, non_blocking=True) for v in tchw]
        outs = [self._process_video(v, s, mode) for v in tchw]
        return _pack(outs, return_tensors)

    @staticmethod
    def _split_videos(
        videos: Any, num_frames: int, clip_kwargs: Mapping[str, Any] | None
    ) -> list[Any]:
        """Input -> list of single videos (4-D arrays/tensors or lists of frames)."""

        def decode(path: str | os.PathLike) -> torch.Tensor:
            from videomae.video.decode import read_clip  # lazy: PyAV is an optional extra

            return read_clip(path, num_frames=num_frames, **dict(clip_kwargs or {})).frames

        if isinstance(videos, (str, os.PathLike)):
            return [decode(videos)]
        if _is_array(videos):
            if videos.ndim == 5:
                return list(videos)
            return [videos]
        if isinstance(videos, (list, tuple)):
            if not videos:
                raise ValueError("got an empty list of videos; pass at least one video")
            if all(_is_pil(v) or (_is_array(v) and v.ndim in (2, 3)) for v in videos):
                return [list(videos)]  # one video as a list of frames
            out = []
            for v in videos:
                if isinstance(v, (str, os.PathLike)):
                    out.append(decode(v))
                elif _is_array(v) and v.ndim == 4 or isinstance(v, (list, tuple)):
                    out.append(v)
                else:
                    raise TypeError(
                        "each video must be a path, a 4-D array/tensor or a list of frames, got "
                        f"{_describe(v)}"
                    )
            return out
        raise TypeError(
            "videos must be a path, a (T, H, W, C) / (T, C, H, W) array or tensor, a 5-D batch, "
            f"or a list of these, got {_describe(videos)}"
        )

    @staticmethod
    def _process_video(video: torch.Tensor, s: dict[str, Any], mode: str) -> torch.Tensor:
        """(T, C, H, W) -> (T, C', h, w) float32 on the video's device."""
        t, c, h, w = video.shape
        out_hw = _resize_output(h, w, s["size"]) if s["do_resize"] else (h, w)
        crop = (s["crop_size"]["height"], s["crop_size"]["width"]) if s["do_center_crop"] else None
        final_hw = crop or out_hw
        out_c = 3 if c == 1 and s["do_normalize"] and len(s["image_mean"]) == 3 else c
        rescale = s["rescale_factor"] if s["do_rescale"] else None
        if s["do_normalize"]:
            scale, shift = _scale_shift(out_c, s["image_mean"], s["image_std"], rescale)
        else:
            scale, shift = _scale_shift(out_c, None, None, rescale)
        scale = None if scale is None else scale.to(video.device)
        shift = None if shift is None else shift.to(video.device)

        # exact pre-crop: an axis the resize keeps unchanged can be cropped first
        if crop is not None:
            if out_hw[0] == h and crop[0] <= h:
                top = (h - crop[0]) // 2
                video, h, out_hw = video[:, :, top : top + crop[0]], crop[0], (crop[0], out_hw[1])
            if out_hw[1] == w and crop[1] <= w:
                left = (w - crop[1]) // 2
                video, w, out_hw = video[..., left : left + crop[1]], crop[1], (out_hw[0], crop[1])

        if video.device.type != "cpu" and video.dtype == torch.uint8:
            video = video.float()  # GPU kernels resize float; values stay on the 0..255 scale
        out = torch.empty((t, out_c, *final_hw), dtype=torch.float32, device=video.device)

        def run(part: slice) -> None:
            x = _interpolate(video[part], out_hw, mode)  # returns the frames when no resize
            if crop is not None:
                x = _center_crop_any(x, *crop)
            if x.device.type == "cpu" and x.dtype == torch.uint8 and not x.is_contiguous():
                # channels-last -> planar: numpy's strided copy beats torch's for 3 uint8 channels
                x = torch.from_numpy(np.ascontiguousarray(x.numpy()))
            o = out[part]
            o.copy_(x.expand(-1, out_c, -1, -1) if x.shape[1] != out_c else x)
            if scale is not None:
                o.mul_(scale)
            if shift is not None:
                o.add_(shift)

        workers = _num_workers(t, video.device) if video.dtype == torch.uint8 else 1
        _map_split(run, t, workers)
        return out
