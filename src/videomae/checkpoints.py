"""Reading and writing checkpoints in the layouts that exist in the wild.

- `save_pretrained` folders of transformers 4.x/5.x and of this package: `config.json` plus
  `model.safetensors`, a sharded `model.safetensors.index.json`, or `pytorch_model.bin`.
- Both attention-bias spellings: `attention.attention.q_bias`/`v_bias` (on disk, 4.x and hub
  files) and `query.bias`/`value.bias` (in memory, and some 5.x files).
- Hub ids through huggingface_hub (cache, revision, token, HF_HUB_OFFLINE).
- Original MCG-NJU / VideoMAEv2 `.pth` files, through `videomae.convert`.
"""

from __future__ import annotations

import json
import logging
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from videomae._io import atomic_write_bytes, atomic_write_text
from videomae.config import CONFIG_NAME, VideoMAEConfig
from videomae.errors import CheckpointError
from videomae.hub import HUB_KWARGS, resolve_file
from videomae.runtime import parse_dtype

logger = logging.getLogger("videomae")

SAFE_WEIGHTS_NAME = "model.safetensors"
SAFE_WEIGHTS_INDEX_NAME = "model.safetensors.index.json"
WEIGHTS_NAME = "pytorch_model.bin"
WEIGHTS_INDEX_NAME = "pytorch_model.bin.index.json"
_WEIGHT_FILES = (SAFE_WEIGHTS_NAME, SAFE_WEIGHTS_INDEX_NAME, WEIGHTS_NAME, WEIGHTS_INDEX_NAME)

# in-memory name -> on-disk name (transformers' save layout), and the inverse for loading
_TO_DISK = [
    (re.compile(r"attention\.attention\.query\.bias$"), "attention.attention.q_bias"),
    (re.compile(r"attention\.attention\.value\.bias$"), "attention.attention.v_bias"),
]
_FROM_DISK = [
    (re.compile(r"attention\.attention\.q_bias$"), "attention.attention.query.bias"),
    (re.compile(r"attention\.attention\.v_bias$"), "attention.attention.value.bias"),
]


def _weight_files(name_or_path: str | os.PathLike, **hub: Any) -> list[Path]:
    for filename in _WEIGHT_FILES:
        found = resolve_file(name_or_path, filename, required=False, **hub)
        if found is None:
            continue
        if filename.endswith(".index.json"):
            index = json.loads(found.read_text(encoding="utf-8"))
            shards = sorted(set(index["weight_map"].values()))
            return [resolve_file(name_or_path, s, **hub) for s in shards]
        return [found]
    raise CheckpointError(
        f"no weights found in {name_or_path}: looked for {', '.join(_WEIGHT_FILES)} (for a hub "
        "id: none of them is in the local cache, or the repo has none)"
    )


# --------------------------------------------------------------------------- state dicts
def read_state_dict(path: str | os.PathLike) -> dict[str, torch.Tensor]:
    """Tensors from a .safetensors file, or a .bin/.pt/.pth file via weights_only unpickling."""
    path = Path(path)
    if path.suffix == ".safetensors":
        from safetensors.torch import load_file

        return load_file(str(path))
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:
        raise CheckpointError(
            f"{path} could not be loaded with torch.load(weights_only=True): {err}. We refuse to "
            "unpickle arbitrary objects from untrusted files; re-save the state dict as "
            "safetensors or as a plain dict of tensors"
        ) from None
    if not isinstance(state, dict):
        raise CheckpointError(f"{path} does not hold a state dict (got {type(state).__name__})")
    return state


def to_memory_layout(state_dict: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Map on-disk names (q_bias/v_bias) to the in-memory names (query.bias/value.bias)."""
    out = {}
    for key, value in state_dict.items():
        for pattern, repl in _FROM_DISK:
            key = pattern.sub(repl, key)
        out[key] = value
    return out


def to_disk_layout(state_dict: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    out = {}
    for key, value in state_dict.items():
        for pattern, repl in _TO_DISK:
            key = pattern.sub(repl, key)
        out[key] = value
    return out


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


def load_weights(
    model: torch.nn.Module,
    state_dict: dict[str, torch.Tensor],
    *,
    ignore_mismatched_sizes: bool = False,
    source: str = "the checkpoint",
) -> LoadingInfo:
    """Copy matching tensors into `model`; report missing/unexpected; shape mismatch is an error."""
    own = model.state_dict()
    state_dict = align_prefix(to_memory_layout(state_dict), set(own))
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
    if info.mismatched_keys and not ignore_mismatched_sizes:
        lines = "\n".join(
            f"  {k}: checkpoint {tuple(a)} vs model {tuple(b)}" for k, a, b in info.mismatched_keys
        )
        raise CheckpointError(
            f"shapes in {source} do not match the model:\n{lines}\nPass "
            "ignore_mismatched_sizes=True to re-initialise these tensors (e.g. a new "
            "classifier head with another num_labels)"
        )
    model.load_state_dict(usable, strict=False)
    name = type(model).__name__
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
    return info


# --------------------------------------------------------------------------- load / save


def _resolve_dtype(value: Any, config: VideoMAEConfig) -> torch.dtype | None:
    if value is None:
        return None
    if value == "auto":
        value = getattr(config, "dtype", None)
        if value is None:
            return None
    if isinstance(value, torch.dtype):
        return value
    return parse_dtype(value)


_LABEL_KEYS = ("num_labels", "id2label", "label2id")


def _looks_original(state_dict: dict[str, torch.Tensor]) -> bool:
    """True for MCG-NJU / VideoMAEv2 key names (timm style), False for transformers' names."""
    return any(
        "patch_embed." in k or k.startswith("blocks.") or ".blocks." in k for k in state_dict
    )


def _read_weight_file(
    path: Path, kwargs: dict[str, Any]
) -> tuple[VideoMAEConfig, dict[str, torch.Tensor]]:
    """A single weights file: an original-release checkpoint (converted) or transformers'
    layout (config.json must sit beside it)."""
    if path.suffix == ".safetensors":
        raw = read_state_dict(path)
    else:
        from videomae.convert import load_original_checkpoint

        raw = load_original_checkpoint(path)
    if _looks_original(raw):
        from videomae.convert import convert_state_dict, infer_config

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


def load_pretrained(cls, name_or_path: str | os.PathLike, **kwargs: Any):
    """Implementation of `from_pretrained` (see VideoMAEPreTrainedModel.from_pretrained)."""
    hub = {k: kwargs.pop(k) for k in HUB_KWARGS if k in kwargs}
    config = kwargs.pop("config", None)
    ignore_mismatched = kwargs.pop("ignore_mismatched_sizes", False)
    output_loading_info = kwargs.pop("output_loading_info", False)
    dtype_arg = kwargs.pop("torch_dtype", None) or kwargs.pop("dtype", None)
    device = kwargs.pop("device", None) or kwargs.pop("device_map", None)
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    kwargs.pop("trust_remote_code", None)
    kwargs.pop("use_safetensors", None)

    base_config = None
    state_dict = None
    source = str(name_or_path)
    path = Path(str(name_or_path))
    if path.is_file():
        base_config, state_dict = _read_weight_file(path, kwargs)

    if config is None:
        if base_config is None:
            base_config = VideoMAEConfig.from_pretrained(name_or_path, **hub)
        config = base_config
    elif not isinstance(config, VideoMAEConfig):
        config = VideoMAEConfig.from_dict(config.to_dict())

    # config overrides: any config field (num_labels, id2label, num_frames, attn_implementation...)
    overrides = {k: kwargs.pop(k) for k in list(kwargs)}
    if overrides:
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

    model = cls(config)
    if state_dict is None:
        state_dict = {}
        for f in _weight_files(name_or_path, **hub):
            state_dict.update(read_state_dict(f))
    info = load_weights(model, state_dict, ignore_mismatched_sizes=ignore_mismatched, source=source)
    dtype = _resolve_dtype(dtype_arg, config)
    if dtype is not None:
        model = model.to(dtype)
    if device is not None:
        model = model.to(device)
    model.eval()
    return (model, info.as_dict()) if output_loading_info else model


def _parse_size(size: int | str) -> int:
    if isinstance(size, int):
        return size
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([KMG]?I?B)\s*", size.upper())
    if not m:
        raise ValueError(f"cannot parse shard size {size!r}; use e.g. '2GB' or a byte count")
    units = {
        "B": 1,
        "KB": 10**3,
        "MB": 10**6,
        "GB": 10**9,
        "KIB": 2**10,
        "MIB": 2**20,
        "GIB": 2**30,
    }
    return int(float(m.group(1)) * units[m.group(2)])


def save_pretrained(
    model: torch.nn.Module,
    save_directory: str | os.PathLike,
    *,
    safe_serialization: bool = True,
    max_shard_size: int | str | None = None,
) -> Path:
    """config.json + weights in transformers' on-disk layout; every file written atomically."""
    directory = Path(save_directory)
    directory.mkdir(parents=True, exist_ok=True)
    config = model.config.copy()
    config.architectures = [type(model).__name__]
    dtype = next(model.parameters()).dtype
    config.dtype = str(dtype).replace("torch.", "")
    if "dtype" not in config._extra_keys:
        config._extra_keys.append("dtype")
    config.save_pretrained(directory)

    state = {
        k: v.detach().contiguous().cpu() for k, v in to_disk_layout(model.state_dict()).items()
    }
    for stale in _WEIGHT_FILES:
        (directory / stale).unlink(missing_ok=True)
    if not safe_serialization:
        import io

        buffer = io.BytesIO()
        torch.save(state, buffer)
        atomic_write_bytes(directory / WEIGHTS_NAME, buffer.getvalue())
        return directory

    from safetensors.torch import save as st_save

    limit = None if max_shard_size is None else _parse_size(max_shard_size)
    shards: list[dict[str, torch.Tensor]] = [{}]
    size = 0
    for key in sorted(state):
        nbytes = state[key].numel() * state[key].element_size()
        if limit is not None and shards[-1] and size + nbytes > limit:
            shards.append({})
            size = 0
        shards[-1][key] = state[key]
        size += nbytes
    if len(shards) == 1:
        atomic_write_bytes(directory / SAFE_WEIGHTS_NAME, st_save(state, metadata={"format": "pt"}))
        return directory
    weight_map = {}
    total = 0
    for i, shard in enumerate(shards, start=1):
        name = f"model-{i:05d}-of-{len(shards):05d}.safetensors"
        atomic_write_bytes(directory / name, st_save(shard, metadata={"format": "pt"}))
        for key, t in shard.items():
            weight_map[key] = name
            total += t.numel() * t.element_size()
    index = {"metadata": {"total_size": total}, "weight_map": weight_map}
    atomic_write_text(directory / SAFE_WEIGHTS_INDEX_NAME, json.dumps(index, indent=2) + "\n")
    return directory


__all__ = [
    "CONFIG_NAME",
    "CheckpointError",
    "LoadingInfo",
    "load_pretrained",
    "load_weights",
    "read_state_dict",
    "save_pretrained",
]
