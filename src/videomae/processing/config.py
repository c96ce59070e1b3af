"""The processors' settings and their ``preprocessor_config.json`` (transformers' format).

:class:`ProcessorBase` holds the settings both processors share (resize, crop, rescale,
normalise), checks them, applies per-call overrides and reads and writes the config file.
Folders and hub ids are resolved by :func:`videomae.hub.resolve_file`.
"""

from __future__ import annotations

import inspect
import json
import logging
import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from videomae._io import atomic_write_text
from videomae.config_rules import FIELD_LIMITS
from videomae.errors import CheckpointError, ConfigError, InputError, InputTypeError
from videomae.hub import HUB_KWARGS, resolve_file
from videomae.processing.ops import PIL_BILINEAR, as_channel_tuple, check_resample
from videomae.push import push_to_hub
from videomae.runtime import IMAGENET_STANDARD_MEAN, IMAGENET_STANDARD_STD

logger = logging.getLogger(__name__)

__all__ = [
    "CLIP_KEYS",
    "PROCESSOR_CONFIG_NAME",
    "VIDEO_PROCESSOR_CONFIG_NAME",
    "ProcessorBase",
    "ProcessorConfigNotFoundError",
]

PROCESSOR_CONFIG_NAME = "preprocessor_config.json"
#: the file transformers' video processors (``AutoVideoProcessor``) write and read first
VIDEO_PROCESSOR_CONFIG_NAME = "video_preprocessor_config.json"

# keys that say which frames the model was trained on (extra keys transformers' image processors
# keep as attributes; ``num_frames`` is also a field of its video processors). None = not known.
CLIP_KEYS = ("num_frames", "frame_sampling_rate", "frame_sampling_strategy")

# keys of preprocessor_config.json that carry settings
CONFIG_KEYS = (
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
METADATA_KEYS = frozenset(
    {
        "image_processor_type",
        "feature_extractor_type",
        "video_processor_type",
        "processor_class",
        "_processor_class",
        "do_convert_rgb",
        "do_sample_frames",
        "fps",
        "do_pad",
        "video_metadata",
        "return_metadata",
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


#: largest resize / crop side a processor (or its preprocessor_config.json) may ask for
MAX_SIDE = FIELD_LIMITS["image_size"][1]


class ProcessorConfigNotFoundError(CheckpointError, FileNotFoundError):
    """A local path holds no ``preprocessor_config.json`` (or does not exist)."""


def _side(value: Any, name: str) -> int:
    """One output side: an integer in [1, MAX_SIDE]."""
    number = isinstance(value, (int, float)) and not isinstance(value, bool)
    ok = number and math.isfinite(value) and value == int(value)
    if not ok or not 1 <= value <= MAX_SIDE:
        raise InputError(f"{name} sizes must be integers in [1, {MAX_SIDE}], got {value!r}")
    return int(value)


def size_dict(size: Any, *, default_to_square: bool, name: str) -> dict[str, int]:
    """Turn ``size`` (int, (h, w) or dict) into transformers' size dict, checking its keys and
    that every side is an integer in [1, MAX_SIDE]."""
    if isinstance(size, bool):
        raise InputTypeError(f"{name} must be an int, (height, width) or a dict, got {size!r}")
    if isinstance(size, int):
        side = _side(size, name)
        return {"height": side, "width": side} if default_to_square else {"shortest_edge": side}
    if isinstance(size, (tuple, list)) and len(size) == 2:
        return {"height": _side(size[0], name), "width": _side(size[1], name)}
    if isinstance(size, Mapping):
        d = {k: _side(v, name) for k, v in size.items() if v is not None}
        if set(d) == {"shortest_edge"} or set(d) == {"height", "width"}:
            return d
        raise InputError(
            f"{name} must have the keys {{'shortest_edge'}} or {{'height', 'width'}}, got "
            f"{sorted(d)}; e.g. {name}={{'shortest_edge': 224}}"
        )
    raise InputTypeError(f"{name} must be an int, (height, width) or a dict, got {size!r}")


def check_factor(value: Any) -> float:
    """rescale_factor: a finite number."""
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    if not ok:
        raise InputError(f"rescale_factor must be a finite number such as 1/255, got {value!r}")
    return float(value)


# --------------------------------------------------------------------------------------------
# Reading the config file
# --------------------------------------------------------------------------------------------


def _config_path(pretrained: str | os.PathLike, names: Sequence[str], **hub_kwargs: Any) -> Path:
    """The first of ``names`` (e.g. preprocessor_config.json) in a folder or hub id, or a json file."""
    path = Path(pretrained)
    if path.is_file():
        return path
    if path.is_dir() and hub_kwargs.get("subfolder"):
        path = path / hub_kwargs["subfolder"]
    text = str(path) if path.is_dir() else str(pretrained)
    looks_local = os.path.isabs(text) or text.startswith(".") or text.count("/") > 1
    if looks_local and not path.is_dir():
        raise ProcessorConfigNotFoundError(f"{text} does not exist; pass a folder with {names[0]}")
    if path.is_dir():
        for name in names:
            if (path / name).is_file():
                return path / name
        raise ProcessorConfigNotFoundError(
            f"{pretrained} has no {' or '.join(names)}; save one with "
            "processor.save_pretrained(folder) or pass the folder that holds it"
        )
    try:
        for name in names[:-1]:
            found = resolve_file(pretrained, name, required=False, **hub_kwargs)
            if found is not None:
                return found
        return resolve_file(pretrained, names[-1], **hub_kwargs)  # type: ignore[return-value]
    except CheckpointError as err:  # network, auth, missing repo: one clear message
        raise CheckpointError(
            f"could not fetch {names[-1]} for {text} ({err}); pass a local folder "
            f"that holds {names[0]}"
        ) from err


def read_config_file(
    pretrained: str | os.PathLike,
    names: Sequence[str] = (PROCESSOR_CONFIG_NAME, VIDEO_PROCESSOR_CONFIG_NAME),
    **hub_kwargs: Any,
) -> dict[str, Any]:
    """Load the first of ``names`` from a folder or a hub id, or a json file."""
    path = _config_path(pretrained, names, **hub_kwargs)
    try:
        with open(path, encoding="utf-8") as f:
            config = json.load(f)
    except json.JSONDecodeError as err:
        raise InputError(f"{path} is not valid JSON ({err})") from err
    if not isinstance(config, dict):
        raise InputError(f"{path} must hold a JSON object, got {type(config).__name__}")
    return config


# --------------------------------------------------------------------------------------------
# The shared processor base
# --------------------------------------------------------------------------------------------


class ProcessorBase:
    """Parameters, validation and (de)serialisation shared by all processors."""

    #: value written as ``image_processor_type`` so transformers' loaders pick the right class
    _config_type_name = "VideoMAEImageProcessor"
    #: the config files this class reads, in order of preference (transformers' order)
    _config_names: tuple[str, ...] = (PROCESSOR_CONFIG_NAME, VIDEO_PROCESSOR_CONFIG_NAME)

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
        num_frames: int | None = None,
        frame_sampling_rate: int | None = None,
        frame_sampling_strategy: str | None = None,
        **kwargs: Any,
    ) -> None:
        unknown = set(kwargs) - METADATA_KEYS
        if unknown:
            logger.warning("%s ignores unknown settings %s", type(self).__name__, sorted(unknown))
        self.do_resize = bool(do_resize)
        self.size = size_dict(
            {"shortest_edge": 224} if size is None else size, default_to_square=False, name="size"
        )
        self.resample = check_resample(resample)
        self.do_center_crop = bool(do_center_crop)
        self.crop_size = size_dict(
            {"height": 224, "width": 224} if crop_size is None else crop_size,
            default_to_square=True,
            name="crop_size",
        )
        if "shortest_edge" in self.crop_size:
            raise InputError("crop_size needs 'height' and 'width', got 'shortest_edge'")
        self.do_rescale = bool(do_rescale)
        self.rescale_factor = check_factor(rescale_factor)
        self.do_normalize = bool(do_normalize)
        self.image_mean = list(
            as_channel_tuple(
                IMAGENET_STANDARD_MEAN if image_mean is None else image_mean, "image_mean"
            )
        )
        self.image_std = list(
            as_channel_tuple(IMAGENET_STANDARD_STD if image_std is None else image_std, "image_std")
        )
        self.num_frames = None if num_frames is None else int(num_frames)
        self.frame_sampling_rate = None if frame_sampling_rate is None else int(frame_sampling_rate)
        self.frame_sampling_strategy = frame_sampling_strategy

    # ---- settings for one call ------------------------------------------------------------

    def _settings(self, overrides: dict[str, Any]) -> dict[str, Any]:
        """This processor's settings with per-call overrides applied and checked."""
        unknown = set(overrides) - set(CONFIG_KEYS)
        if unknown:
            raise InputTypeError(
                f"unexpected arguments {sorted(unknown)}; per-call overrides are {list(CONFIG_KEYS)}"
            )
        s = {k: getattr(self, k) for k in CONFIG_KEYS}
        s.update({k: v for k, v in overrides.items() if v is not None})
        s["size"] = size_dict(s["size"], default_to_square=False, name="size")
        s["crop_size"] = size_dict(s["crop_size"], default_to_square=True, name="crop_size")
        s["resample"] = check_resample(s["resample"])
        s["rescale_factor"] = check_factor(s["rescale_factor"])
        s["image_mean"] = as_channel_tuple(s["image_mean"], "image_mean")
        s["image_std"] = as_channel_tuple(s["image_std"], "image_std")
        if 0.0 in s["image_std"]:
            raise InputError(f"image_std must not contain 0 (it divides), got {s['image_std']}")
        return s

    # ---- serialisation ---------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """The ``preprocessor_config.json`` content (same keys as transformers writes)."""
        d = {k: getattr(self, k) for k in CONFIG_KEYS}
        d["size"] = dict(self.size)
        d["crop_size"] = dict(self.crop_size)
        d["image_mean"] = list(self.image_mean)
        d["image_std"] = list(self.image_std)
        d.update({k: getattr(self, k) for k in CLIP_KEYS if getattr(self, k) is not None})
        d["image_processor_type"] = self._config_type_name
        return d

    def to_json_string(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=True) + "\n"

    def to_json_file(self, path: str | os.PathLike) -> None:
        atomic_write_text(path, self.to_json_string())

    def save_pretrained(self, save_directory: str | os.PathLike) -> str:
        """Write ``preprocessor_config.json`` into ``save_directory`` (created); returns its path.

        One file changes, atomically (old or new, never half); the folder's other files stay."""
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
    def from_pretrained(cls, pretrained: str | os.PathLike, **kwargs: Any) -> Any:
        """Load from a folder (or json file) holding ``preprocessor_config.json`` (or
        transformers' ``video_preprocessor_config.json``, see ``_config_names``) or a hub id.

        Loader options as in transformers: ``revision``, ``token``, ``cache_dir``,
        ``local_files_only``, ``subfolder``; every other keyword must be a setting of the
        processor (it overrides the file's), else it raises ConfigError. Hub ids are fetched
        with :func:`videomae.hub.resolve_file`; without network that fails with one clear error
        telling you to pass a local folder.
        """
        hub_kwargs = {k: kwargs.pop(k) for k in HUB_KWARGS if kwargs.get(k) is not None}
        for name in ("force_download", "proxies", "trust_remote_code", "use_fast"):
            kwargs.pop(name, None)  # transformers' options that mean nothing here
        settings = {
            name
            for klass in cls.__mro__
            if "__init__" in vars(klass)
            for name in inspect.signature(klass.__init__).parameters
        } - {"self", "args", "kwargs"}
        unknown = sorted(set(kwargs) - settings)
        if unknown:
            raise ConfigError(
                f"{cls.__name__}.from_pretrained got unknown keyword(s) {unknown}; the settings "
                f"are {sorted(settings)} and the loader options {list(HUB_KWARGS)}"
            )
        return cls.from_dict(
            read_config_file(pretrained, cls._config_names, **hub_kwargs), **kwargs
        )

    def push_to_hub(self, repo_id: str, **kwargs: Any) -> str:
        """Save into a temporary folder and upload it (see :func:`videomae.push.push_folder`)."""
        return push_to_hub(self, repo_id, **kwargs)

    def __repr__(self) -> str:
        return f"{type(self).__name__} {self.to_json_string()}"

    def __eq__(self, other: object) -> bool:
        return type(self) is type(other) and self.to_dict() == other.to_dict()  # type: ignore[union-attr]
