"""`VideoMAEConfig`: transformers-compatible configuration, plus named model sizes.

The fields, defaults and `config.json` layout match transformers' `VideoMAEConfig`, so a folder
written by either library is read by the other. Extras that the original releases need
(stochastic depth, LayerNorm eps of the pooling/decoder norms, a position-table grid for
resized inputs) default to values that keep parity with transformers.
"""

from __future__ import annotations

import copy
import json
import os
from pathlib import Path
from typing import Any

from videomae._io import atomic_write_text
from videomae.config_rules import MAX_NUM_LABELS, check_fields, check_num_labels
from videomae.errors import ConfigError
from videomae.hub import HUB_KWARGS, resolve_file
from videomae.presets import PRESETS

CONFIG_NAME = "config.json"

# Field -> default, in transformers' order. These are the model's architecture.
_DEFAULTS: dict[str, Any] = {
    "image_size": 224,
    "patch_size": 16,
    "num_channels": 3,
    "num_frames": 16,
    "tubelet_size": 2,
    "hidden_size": 768,
    "num_hidden_layers": 12,
    "num_attention_heads": 12,
    "intermediate_size": 3072,
    "hidden_act": "gelu",
    "hidden_dropout_prob": 0.0,
    "attention_probs_dropout_prob": 0.0,
    "initializer_range": 0.02,
    "layer_norm_eps": 1e-12,
    "qv_bias": True,
    "use_mean_pooling": True,
    "decoder_num_attention_heads": 6,
    "decoder_hidden_size": 384,
    "decoder_num_hidden_layers": 4,
    "decoder_intermediate_size": 1536,
    "norm_pix_loss": True,
    # --- ours (defaults keep parity with transformers) ---
    "drop_path_rate": 0.0,
    "fc_norm_eps": None,  # None -> 1e-5, torch's default, as transformers' fc_norm
    "decoder_norm_eps": None,  # None -> 1e-5, as transformers' decoder.norm
    "position_embedding_grid": None,  # (t, h, w) the sinusoid table was trained on; None -> input grid
}

_EXTRA_FIELDS = ("drop_path_rate", "fc_norm_eps", "decoder_norm_eps", "position_embedding_grid")

# Keys that transformers' PreTrainedConfig carries for every model; kept so files round-trip.
_COMMON_DEFAULTS: dict[str, Any] = {
    "problem_type": None,
    "architectures": None,
}

ATTN_IMPLEMENTATIONS = ("sdpa", "eager", "flash_attention_2")


def size_pair(value: int | list[int] | tuple[int, int]) -> tuple[int, int]:
    """(height, width) of an image or patch size given as an int or a pair."""
    if isinstance(value, (list, tuple)):
        if len(value) != 2:
            raise ValueError(f"expected an int or (height, width), got {value!r}")
        return int(value[0]), int(value[1])
    return int(value), int(value)


def _rename_old_keys(kwargs: dict[str, Any]) -> None:
    """transformers 4.x names -> 5.x names, in place; the new name wins when both are given."""
    old_qkv = kwargs.pop("qkv_bias", None)
    if old_qkv is not None and "qv_bias" not in kwargs:
        kwargs["qv_bias"] = old_qkv
    old_dtype = kwargs.pop("torch_dtype", None)  # 5.x writes "dtype", 4.x "torch_dtype"
    if old_dtype is not None and "dtype" not in kwargs:
        kwargs["dtype"] = old_dtype


def _attn_implementation(kwargs: dict[str, Any]) -> str:
    """The attention kernel named in `kwargs` (either spelling, popped), 'sdpa' by default."""
    attn = kwargs.pop("attn_implementation", None) or kwargs.pop("_attn_implementation", None)
    name = attn or "sdpa"
    if name not in ATTN_IMPLEMENTATIONS:
        raise ConfigError(
            f"attn_implementation must be one of {ATTN_IMPLEMENTATIONS}, got {name!r}; fix: "
            "pass one of them (sdpa is the default)"
        )
    return name


def _read_json(path: Path) -> Any:
    """The parsed content of a JSON file; unreadable or invalid JSON is a ConfigError."""
    try:
        return json.loads(path.read_bytes().decode("utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ConfigError(
            f"{path} is not a readable JSON config ({err}); fix: restore config.json from the "
            "checkpoint's source, or re-save it with save_pretrained"
        ) from None


def _label_table(table: Any, name: str, key_type: type, value_type: type) -> dict:
    """id2label / label2id from a file: a bounded mapping whose keys and values convert."""
    if not isinstance(table, dict) or not 0 < len(table) <= MAX_NUM_LABELS:
        raise ConfigError(
            f"config field {name} must be a non-empty mapping of at most {MAX_NUM_LABELS} "
            f'entries, got {type(table).__name__}; fix: write it as {{"0": "class name"}}'
        )
    try:
        return {key_type(k): value_type(v) for k, v in table.items()}
    except (TypeError, ValueError, OverflowError):
        raise ConfigError(
            f"config field {name} has an entry that is not {key_type.__name__} -> "
            f"{value_type.__name__}: {next(iter(table.items()))!r}...; fix: class indices are "
            "integers, names are strings"
        ) from None


class VideoMAEConfig:
    """Configuration of a VideoMAE model (same arguments and defaults as transformers').

    Unknown keyword arguments are kept as attributes and written back to `config.json`, as
    transformers does, so nothing in a file is lost on a round trip.
    """

    model_type = "videomae"

    def __init__(self, **kwargs: Any) -> None:
        _rename_old_keys(kwargs)
        for name, default in _DEFAULTS.items():
            setattr(self, name, copy.deepcopy(kwargs.pop(name, default)))
        for name, default in _COMMON_DEFAULTS.items():
            setattr(self, name, kwargs.pop(name, default))
        self._attn_implementation = _attn_implementation(kwargs)
        self._set_labels(
            kwargs.pop("id2label", None),
            kwargs.pop("label2id", None),
            kwargs.pop("num_labels", None),
        )
        self.return_dict = kwargs.pop("return_dict", True)
        self.output_hidden_states = kwargs.pop("output_hidden_states", False)
        self.output_attentions = kwargs.pop("output_attentions", False)
        kwargs.pop("model_type", None)
        kwargs.pop("transformers_version", None)
        self.dtype = kwargs.pop("dtype", None)
        self.name_or_path = kwargs.pop("name_or_path", kwargs.pop("_name_or_path", ""))
        # everything else (dtype, custom keys) is kept verbatim, unless it would shadow a method
        shadowing = sorted(k for k in kwargs if hasattr(type(self), k))
        if shadowing:
            raise ConfigError(
                f"config keys {shadowing} are names of VideoMAEConfig's own methods and "
                "properties, not fields; fix: remove them from config.json"
            )
        for key, value in kwargs.items():
            setattr(self, key, value)
        self._extra_keys = sorted(kwargs)
        self.validate()

    def _set_labels(
        self, id2label: dict | None, label2id: dict | None, num_labels: int | None
    ) -> None:
        """id2label/label2id from whichever of the three was given (LABEL_i names by default)."""
        if id2label is not None:
            self.id2label = _label_table(id2label, "id2label", int, str)
            if num_labels is not None and num_labels != len(self.id2label):
                raise ConfigError(
                    f"num_labels={num_labels} disagrees with id2label, which has "
                    f"{len(self.id2label)} entries; fix: pass one of them, or both consistent"
                )
        else:
            n = 2 if num_labels is None else check_num_labels(num_labels)
            self.id2label = {i: f"LABEL_{i}" for i in range(n)}
        if label2id is not None and id2label is not None:
            self.label2id = _label_table(label2id, "label2id", str, int)
        else:
            self.label2id = {v: k for k, v in self.id2label.items()}

    # ------------------------------------------------------------------ basics
    @property
    def num_labels(self) -> int:
        return len(self.id2label)

    @num_labels.setter
    def num_labels(self, value: int) -> None:
        if value != len(self.id2label):
            self.id2label = {i: f"LABEL_{i}" for i in range(check_num_labels(value))}
            self.label2id = {v: k for k, v in self.id2label.items()}

    @property
    def dtype(self) -> Any:
        """The weights' dtype as a ``torch.dtype`` (None when unknown), as in transformers 5;
        written to ``config.json`` as its name ("bfloat16")."""
        if self._dtype is None:
            return None
        import torch  # the config module stays light until a dtype is asked for

        return getattr(torch, self._dtype)

    @dtype.setter
    def dtype(self, value: Any) -> None:
        self._dtype = None if value is None else str(value).replace("torch.", "")

    @property
    def name_or_path(self) -> str:
        """What ``from_pretrained`` was given; not written to ``config.json``."""
        return self._name_or_path

    @name_or_path.setter
    def name_or_path(self, value: Any) -> None:
        self._name_or_path = str(value)

    @property
    def qkv_bias(self) -> bool:
        """The transformers 4.x name of `qv_bias`."""
        return self.qv_bias

    @property
    def attn_implementation(self) -> str:
        return self._attn_implementation

    @property
    def image_hw(self) -> tuple[int, int]:
        return size_pair(self.image_size)

    @property
    def patch_hw(self) -> tuple[int, int]:
        return size_pair(self.patch_size)

    @property
    def token_grid(self) -> tuple[int, int, int]:
        """(t, h, w): tokens along time, height and width for the configured input."""
        (h, w), (ph, pw) = self.image_hw, self.patch_hw
        return self.num_frames // self.tubelet_size, h // ph, w // pw

    @property
    def num_tokens(self) -> int:
        t, h, w = self.token_grid
        return t * h * w

    def validate(self) -> None:
        """Raise ConfigError (a ValueError) naming the first field that cannot build a model:
        wrong type, out of the documented limits (config_rules), or sizes that do not divide."""
        check_fields({name: getattr(self, name) for name in _DEFAULTS})

    # ---------------------------------------------------------------- presets
    @classmethod
    def from_preset(cls, name: str, **overrides: Any) -> VideoMAEConfig:
        """A config for a named model size (tiny/small/base/large/huge/giant), with overrides."""
        if name not in PRESETS:
            raise ConfigError(f"unknown preset {name!r}; choose one of {sorted(PRESETS)}")
        return cls(**{**PRESETS[name], **overrides})

    # ------------------------------------------------------------ (de)serialise
    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.architectures is not None:
            out["architectures"] = list(self.architectures)
        for name in _DEFAULTS:
            value = getattr(self, name)
            if name in _EXTRA_FIELDS and value == _DEFAULTS[name]:
                continue  # keep files minimal and identical to transformers' where we add nothing
            out[name] = list(value) if isinstance(value, tuple) else value
        out["qkv_bias"] = self.qv_bias  # read by transformers 4.x
        if self.problem_type is not None:
            out["problem_type"] = self.problem_type
        default_labels = {0: "LABEL_0", 1: "LABEL_1"}
        if self.id2label != default_labels:
            out["id2label"] = {str(k): v for k, v in self.id2label.items()}
            out["label2id"] = dict(self.label2id)
        for key in self._extra_keys:
            out[key] = getattr(self, key)
        if self._dtype is not None:
            out["dtype"] = self._dtype
        out["model_type"] = self.model_type
        return dict(sorted(out.items()))

    def to_json_string(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=True) + "\n"

    @classmethod
    def from_dict(cls, config_dict: dict[str, Any], **kwargs: Any) -> VideoMAEConfig:
        if not isinstance(config_dict, dict):
            raise ConfigError(
                f"a config must be a JSON object (a dict of fields), got "
                f"{type(config_dict).__name__}; fix: point at a VideoMAE config.json"
            )
        model_type = config_dict.get("model_type")
        if model_type not in (None, cls.model_type):
            raise ConfigError(
                f"this config.json is for model_type {model_type!r}, not 'videomae'; "
                "fix: point at a VideoMAE checkpoint"
            )
        return cls(**{**config_dict, **kwargs})

    @classmethod
    def from_json_file(cls, path: str | os.PathLike, **kwargs: Any) -> VideoMAEConfig:
        """The config in a JSON file; any problem is a ConfigError naming the file."""
        try:
            data = _read_json(Path(path))
            if (
                isinstance(data, dict)
                and "model_type" not in data
                and not set(data) & set(_DEFAULTS)
            ):
                raise ConfigError(
                    f"holds no model_type and none of VideoMAE's fields (keys: {sorted(data)[:8]}); "
                    "fix: this is not a model config.json (a swapped file?); restore the model's own"
                )
            return cls.from_dict(data, **kwargs)
        except ConfigError as err:
            if str(path) in str(err):
                raise
            raise ConfigError(f"{path}: {err}") from None

    def save_pretrained(self, save_directory: str | os.PathLike) -> Path:
        directory = Path(save_directory)
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / CONFIG_NAME
        atomic_write_text(path, self.to_json_string())
        return path

    @classmethod
    def from_pretrained(
        cls, pretrained_model_name_or_path: str | os.PathLike, **kwargs: Any
    ) -> VideoMAEConfig:
        """Read `config.json` from a folder, a file path, or a hub id (through huggingface_hub)."""
        hub_kwargs = {k: kwargs.pop(k) for k in HUB_KWARGS if k in kwargs}
        path = Path(str(pretrained_model_name_or_path))
        if path.is_file():
            return cls.from_json_file(path, **kwargs)
        config_file = resolve_file(pretrained_model_name_or_path, CONFIG_NAME, **hub_kwargs)
        return cls.from_json_file(config_file, **kwargs)

    def copy(self, **overrides: Any) -> VideoMAEConfig:
        d = self.to_dict()
        d["attn_implementation"] = self._attn_implementation
        d["name_or_path"] = self._name_or_path
        d.update(overrides)
        return type(self).from_dict(d)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, VideoMAEConfig) and self.to_dict() == other.to_dict()

    def __repr__(self) -> str:
        return f"{type(self).__name__} {self.to_json_string()}"
