"""``from_pretrained`` / ``save_pretrained`` of a model folder, in the layouts found in the wild.

- ``save_pretrained`` folders of transformers 4.x/5.x and of this package: ``config.json`` plus
  the weight files of :mod:`videomae.checkpoints.files`, on disk in transformers' key layout.
- Hub ids through huggingface_hub (cache, revision, token, HF_HUB_OFFLINE).
- A single weights file: an original MCG-NJU / VideoMAEv2 ``.pth`` (converted on the fly), or
  transformers' layout with ``config.json`` beside it.

The model classes call :func:`load_pretrained` / :func:`save_pretrained` with themselves; this
module does not import them.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from videomae.checkpoints.files import read_state_dict, weight_files
from videomae.checkpoints.infer import infer_config
from videomae.checkpoints.keys import looks_original, to_memory_layout
from videomae.checkpoints.original import convert_state_dict, load_original_checkpoint
from videomae.config import CONFIG_NAME, VideoMAEConfig
from videomae.errors import CheckpointError, ConfigError
from videomae.hub import HUB_KWARGS
from videomae.runtime import parse_dtype, resolve_device

__all__ = [
    "LoadingInfo",
    "align_prefix",
    "load_pretrained",
    "load_weights",
    "summarize_keys",
]

logger = logging.getLogger("videomae")

_LABEL_KEYS = ("num_labels", "id2label", "label2id")


# --------------------------------------------------------------------------- weights into a model
def align_prefix(
    state_dict: dict[str, torch.Tensor], model_keys: set[str], prefix: str = "videomae."
) -> dict[str, torch.Tensor]:
    """Add or strip the base-model prefix so a bare encoder and a head model load each other."""
    model_prefixed = any(k.startswith(prefix) for k in model_keys)
    ckpt_prefixed = any(k.startswith(prefix) for k in state_dict)
    if model_prefixed and not ckpt_prefixed:
        return {
            (prefix + k if k.startswith(("embeddings.", "encoder.", "layernorm.")) else k): v
            for k, v in state_dict.items()
        }
    if ckpt_prefixed and not model_prefixed:
        return {(k[len(prefix) :] if k.startswith(prefix) else k): v for k, v in state_dict.items()}
    return state_dict


@dataclass
class LoadingInfo:
    missing_keys: list[str] = field(default_factory=list)
    unexpected_keys: list[str] = field(default_factory=list)
    mismatched_keys: list[tuple[str, tuple, tuple]] = field(default_factory=list)

    def as_dict(self) -> dict[str, list]:
        return {
            "missing_keys": self.missing_keys,
            "unexpected_keys": self.unexpected_keys,
            "mismatched_keys": self.mismatched_keys,
            "error_msgs": [],
        }


def summarize_keys(keys: list[str], limit: int = 8) -> str:
    """Short, readable key list: whole sub-modules collapse to `prefix.* (N tensors)`."""
    if len(keys) <= limit:
        return ", ".join(keys)
    groups: dict[str, int] = {}
    for key in keys:
        parts = key.split(".")
        head = ".".join(parts[:2]) if parts[0] == "videomae" and len(parts) > 2 else parts[0]
        groups[head] = groups.get(head, 0) + 1
    return ", ".join(f"{g}.* ({n} tensors)" if n > 1 else g for g, n in groups.items())


def _sort_keys(
    own: dict[str, torch.Tensor], state_dict: dict[str, torch.Tensor]
) -> tuple[dict[str, torch.Tensor], LoadingInfo]:
    """The tensors that fit the model, and what is missing, unexpected or of another shape."""
    info = LoadingInfo()
    usable = {}
    for key, value in state_dict.items():
        if key not in own:
            info.unexpected_keys.append(key)
        elif tuple(own[key].shape) != tuple(value.shape):
            info.mismatched_keys.append((key, tuple(value.shape), tuple(own[key].shape)))
        else:
            usable[key] = value
    info.missing_keys = sorted(set(own) - set(usable) - {k for k, _, _ in info.mismatched_keys})
    return usable, info


def _log_loading(info: LoadingInfo, name: str, source: str) -> None:
    if info.missing_keys:
        logger.warning(
            "Some weights of %s were not in %s and are newly initialised: %s",
            name,
            source,
            summarize_keys(info.missing_keys),
        )
    if info.unexpected_keys:
        logger.warning(
            "Some weights of %s were not used by %s: %s",
            source,
            name,
            summarize_keys(info.unexpected_keys),
        )
    if info.mismatched_keys:
        logger.warning(
            "Some weights of %s had other shapes in %s and are newly initialised: %s",
            name,
            source,
            [k for k, _, _ in info.mismatched_keys],
        )


_ENCODER_PREFIXES = ("embeddings.", "encoder.", "videomae.embeddings.", "videomae.encoder.")


def _check_encoder_loaded(info: LoadingInfo, source: str) -> None:
    """A checkpoint must supply the whole encoder: a random encoder behind a trained head (or
    decoder) gives confident, meaningless outputs. A new head or decoder is fine (warned)."""
    fresh = info.missing_keys + [k for k, _, _ in info.mismatched_keys]
    missing = sorted(k for k in fresh if k.startswith(_ENCODER_PREFIXES))
    extra = sorted(k for k in info.unexpected_keys if k.startswith(_ENCODER_PREFIXES))
    if missing or extra:
        found = f"missing or of another shape: {summarize_keys(missing)}" if missing else ""
        if extra:
            found += ("; " if found else "") + f"not in the model: {summarize_keys(extra)}"
        raise CheckpointError(
            f"{source} does not match the encoder this model's config describes: {found}. "
            "Loading would run a partly random or truncated encoder; fix: point at a complete "
            "checkpoint whose config.json matches its weights (a "
            "pre-training or fine-tuned model folder whose config.json matches its weights); "
            "for random weights on purpose build the model from its config, e.g. "
            "VideoMAEForVideoClassification(config)"
        )


def load_weights(
    model: torch.nn.Module,
    state_dict: dict[str, torch.Tensor],
    *,
    ignore_mismatched_sizes: bool = False,
    source: str = "the checkpoint",
) -> LoadingInfo:
    """Copy matching tensors into `model`; report missing/unexpected; shape mismatch is an error."""
    own = model.state_dict()
    usable, info = _sort_keys(own, align_prefix(to_memory_layout(state_dict), set(own)))
    if info.mismatched_keys and not ignore_mismatched_sizes:
        lines = "\n".join(
            f"  {k}: checkpoint {tuple(a)} vs model {tuple(b)}" for k, a, b in info.mismatched_keys
        )
        raise CheckpointError(
            f"shapes in {source} do not match the model:\n{lines}\nPass "
            "ignore_mismatched_sizes=True to re-initialise these tensors (e.g. a new "
            "classifier head with another num_labels)"
        )
    _check_encoder_loaded(info, source)
    model.load_state_dict(usable, strict=False)
    _log_loading(info, type(model).__name__, source)
    return info


# --------------------------------------------------------------------------- from_pretrained
#: transformers' loader keywords that have no meaning here; accepted and ignored, as transformers
#: 5 itself ignores ``low_cpu_mem_usage``
_IGNORED = (
    "low_cpu_mem_usage",
    "trust_remote_code",
    "use_safetensors",
    "force_download",
    "proxies",
)
#: loader keywords of transformers this loader does not implement: refused clearly
_REFUSED = ("quantization_config", "gguf_file", "tp_plan", "max_memory", "offload_folder")


@dataclass
class _LoaderArgs:
    """The loader's own keywords of from_pretrained; what is left must be config fields."""

    hub: dict[str, Any]
    config: Any
    ignore_mismatched_sizes: bool
    output_loading_info: bool
    dtype: Any
    device: Any
    variant: str | None

    @classmethod
    def pop(cls, kwargs: dict[str, Any]) -> _LoaderArgs:
        refused = [k for k in _REFUSED if kwargs.get(k) is not None]
        if refused:
            raise ConfigError(
                f"from_pretrained does not support {', '.join(refused)} (a transformers loader "
                "option for quantised, GGUF or sharded loading); load the model without it"
            )
        hub = {k: kwargs.pop(k) for k in HUB_KWARGS if k in kwargs}
        config = kwargs.pop("config", None)
        ignore_mismatched = kwargs.pop("ignore_mismatched_sizes", False)
        output_loading_info = kwargs.pop("output_loading_info", False)
        torch_dtype = kwargs.pop("torch_dtype", None)
        dtype = kwargs.pop("dtype", None) or torch_dtype or "auto"
        device = kwargs.pop("device", None) or kwargs.pop("device_map", None)
        if device == "auto":
            device = resolve_device(device)
        for name in _IGNORED:
            kwargs.pop(name, None)
        variant = kwargs.pop("variant", None)
        return cls(hub, config, ignore_mismatched, output_loading_info, dtype, device, variant)


def _resolve_dtype(
    value: Any, config: VideoMAEConfig, state_dict: dict[str, torch.Tensor]
) -> torch.dtype | None:
    """transformers 5's rule: "auto" (the default) is the config's dtype, else the dtype of the
    checkpoint's first floating tensor; an explicit dtype wins."""
    if value is None:
        return None
    if value == "auto":
        value = config.dtype
        if value is None:
            value = next((t.dtype for t in state_dict.values() if t.is_floating_point()), None)
        if value is None:
            return None
    return parse_dtype(value)


def _check_overrides(config: VideoMAEConfig, overrides: dict[str, Any], source: str) -> None:
    """Keywords left after the loader's own must be config fields; anything else is a typo."""
    unknown = sorted(k for k in overrides if not hasattr(config, k) or callable(getattr(config, k)))
    if unknown:
        raise ConfigError(
            f"from_pretrained({source!r}) got unknown keyword(s) {unknown}: they are neither "
            "loader options (config, dtype, device_map, subfolder, revision, variant, ...) nor "
            "VideoMAEConfig fields; check the spelling"
        )


def _read_weight_file(
    path: Path, kwargs: dict[str, Any]
) -> tuple[VideoMAEConfig, dict[str, torch.Tensor]]:
    """A single weights file: an original-release checkpoint (converted) or transformers'
    layout (config.json must sit beside it)."""
    if path.suffix == ".safetensors":
        raw = read_state_dict(path)
    else:
        raw = load_original_checkpoint(path)
    if looks_original(raw):
        # architecture fields go to the inference (e.g. num_frames, num_attention_heads);
        # label overrides are applied afterwards like for any checkpoint
        arch = {k: kwargs.pop(k) for k in list(kwargs) if k not in _LABEL_KEYS}
        config = VideoMAEConfig.from_dict(infer_config(raw, **arch))
        return config, convert_state_dict(raw)
    config_file = path.parent / CONFIG_NAME
    if not config_file.is_file():
        raise CheckpointError(
            f"{path} holds transformers-layout weights but there is no config.json beside it; "
            "pass the folder that contains both"
        )
    return VideoMAEConfig.from_json_file(config_file), raw


def _override_config(config: VideoMAEConfig, overrides: dict[str, Any]) -> VideoMAEConfig:
    """Any config field (num_labels, id2label, num_frames, attn_implementation...) replaced."""
    before_grid = config.token_grid
    d = config.to_dict()
    d["attn_implementation"] = config.attn_implementation
    if "id2label" in overrides and "num_labels" not in overrides:
        d.pop("num_labels", None)
    if "num_labels" in overrides and "id2label" not in overrides:
        d.pop("id2label", None)
        d.pop("label2id", None)
    d.update(overrides)
    config = VideoMAEConfig.from_dict(d)
    if config.token_grid != before_grid and config.position_embedding_grid is None:
        # The table the checkpoint was trained with is resized to the new clip shape.
        config.position_embedding_grid = list(before_grid)
    return config


def load_pretrained(cls: type, name_or_path: str | os.PathLike, **kwargs: Any) -> Any:
    """Implementation of `from_pretrained` (see VideoMAEPreTrainedModel.from_pretrained):
    `cls` is the model class to build."""
    args = _LoaderArgs.pop(kwargs)
    base_config = None
    state_dict = None
    path = Path(str(name_or_path))
    if path.is_file():
        base_config, state_dict = _read_weight_file(path, kwargs)

    config = args.config
    if config is None:
        if base_config is None:
            base_config = VideoMAEConfig.from_pretrained(name_or_path, **args.hub)
        config = base_config
    elif isinstance(config, VideoMAEConfig):
        config = config.copy()  # the caller's object is not changed
    else:
        config = VideoMAEConfig.from_dict(config.to_dict())
    overrides = {k: kwargs.pop(k) for k in list(kwargs)}
    if overrides:
        _check_overrides(config, overrides, str(name_or_path))
        config = _override_config(config, overrides)
    if state_dict is None:
        state_dict = {}
        for f in weight_files(name_or_path, args.variant, **args.hub):
            state_dict.update(read_state_dict(f))
    dtype = _resolve_dtype(args.dtype, config, state_dict)
    config.name_or_path = str(name_or_path)

    model = cls(config)
    info = load_weights(
        model,
        state_dict,
        ignore_mismatched_sizes=args.ignore_mismatched_sizes,
        source=str(name_or_path),
    )
    if dtype is not None:
        model = model.to(dtype)
    if args.device is not None:
        model = model.to(args.device)
    model.eval()
    return (model, info.as_dict()) if args.output_loading_info else model
