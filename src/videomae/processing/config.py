"""The processors' settings and their ``preprocessor_config.json`` (transformers' format).

:class:`ProcessorBase` holds the settings both processors share (resize, crop, rescale,
normalise), checks them, applies per-call overrides and reads and writes the config file.
Folders and hub ids are resolved by :func:`videomae.hub.resolve_file`.
"""

from __future__ import annotations

import json
import logging
import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from videomae.config_rules import FIELD_LIMITS
from videomae.errors import CheckpointError, InputError, InputTypeError
from videomae.hub import resolve_file
from videomae.processing.ops import PIL_BILINEAR, as_channel_tuple, check_resample
from videomae.runtime import IMAGENET_STANDARD_MEAN, IMAGENET_STANDARD_STD

logger = logging.getLogger(__name__)

__all__ = ["PROCESSOR_CONFIG_NAME", "ProcessorBase", "ProcessorConfigNotFoundError"]

PROCESSOR_CONFIG_NAME = "preprocessor_config.json"

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


def _config_path(pretrained: str | os.PathLike, **hub_kwargs: Any) -> Path:
    """The preprocessor_config.json of a json file, a folder or a hub id."""
    path = Path(pretrained)
    if path.is_file():
        return path
    text = str(pretrained)
    looks_local = os.path.isabs(text) or text.startswith(".") or text.count("/") > 1
    if looks_local and not path.is_dir():
        raise ProcessorConfigNotFoundError(
            f"{text} does not exist; pass a folder with {PROCESSOR_CONFIG_NAME}"
        )
    try:
        found = resolve_file(pretrained, PROCESSOR_CONFIG_NAME, **hub_kwargs)
    except CheckpointError as err:
        if path.is_dir():
            raise ProcessorConfigNotFoundError(
                f"{pretrained} has no {PROCESSOR_CONFIG_NAME}; save one with "
                "processor.save_pretrained(folder) or pass the folder that holds it"
            ) from None
        # network, auth, missing repo: one clear message
        raise CheckpointError(
            f"could not fetch {PROCESSOR_CONFIG_NAME} for {text} ({err}); pass a local folder "
            f"that holds {PROCESSOR_CONFIG_NAME}"
        ) from err
    return found  # type: ignore[return-value]  # required=True: never None


def read_config_file(pretrained: str | os.PathLike, **hub_kwargs: Any) -> dict[str, Any]:
    """Load preprocessor_config.json from a folder, a json file, or a hub id."""
    path = _config_path(pretrained, **hub_kwargs)
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

        Hub ids are fetched with :func:`videomae.hub.resolve_file`; without network that fails
        with one clear error telling you to pass a local folder.
        """
        hub_kwargs = {k: v for k, v in {"revision": revision, "cache_dir": cache_dir}.items() if v}
        return cls.from_dict(read_config_file(pretrained, **hub_kwargs), **overrides)

    def __repr__(self) -> str:
        return f"{type(self).__name__} {self.to_json_string()}"

    def __eq__(self, other: object) -> bool:
        return type(self) is type(other) and self.to_dict() == other.to_dict()  # type: ignore[union-attr]
