"""Weight files of a `save_pretrained` folder: their names, finding them (a sharded index
included), reading them, and writing a state dict as one file or as shards.

Layouts: ``model.safetensors``, a sharded ``model.safetensors.index.json``, or
``pytorch_model.bin`` (transformers 4.x/5.x and this package). Every file is written atomically;
whole folders are swapped in by :func:`videomae._io.atomic_folder` (see modeling/pretrained.py).
"""

from __future__ import annotations

import io
import json
import os
import re
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file
from safetensors.torch import save as safetensors_bytes

from videomae._io import atomic_write_bytes, atomic_write_text
from videomae.errors import CheckpointError
from videomae.hub import resolve_file

__all__ = [
    "SAFE_WEIGHTS_INDEX_NAME",
    "SAFE_WEIGHTS_NAME",
    "WEIGHTS_INDEX_NAME",
    "WEIGHTS_NAME",
    "WEIGHT_FILES",
    "is_weight_file",
    "read_state_dict",
    "weight_files",
    "with_variant",
    "write_weights",
]

SAFE_WEIGHTS_NAME = "model.safetensors"
SAFE_WEIGHTS_INDEX_NAME = "model.safetensors.index.json"
WEIGHTS_NAME = "pytorch_model.bin"
WEIGHTS_INDEX_NAME = "pytorch_model.bin.index.json"
#: the weight files of a folder, in the order they are looked for
WEIGHT_FILES = (SAFE_WEIGHTS_NAME, SAFE_WEIGHTS_INDEX_NAME, WEIGHTS_NAME, WEIGHTS_INDEX_NAME)

_SIZE_UNITS = {
    "B": 1,
    "KB": 10**3,
    "MB": 10**6,
    "GB": 10**9,
    "KIB": 2**10,
    "MIB": 2**20,
    "GIB": 2**30,
}


_SHARD = re.compile(r"(model|pytorch_model)-\d{5}-of-\d{5}\.(safetensors|bin)")


def is_weight_file(name: str) -> bool:
    """Whether a file name is one of a model folder's weight files (index and shards included):
    a save replaces all of them, so a stale one of another layout is never carried over."""
    return name in WEIGHT_FILES or bool(_SHARD.fullmatch(name))


def with_variant(filename: str, variant: str | None) -> str:
    """transformers' variant naming: ``model.safetensors`` + "fp16" -> ``model.fp16.safetensors``."""
    if not variant:
        return filename
    stem, _, suffix = filename.rpartition(".")
    return f"{stem}.{variant}.{suffix}"


def weight_files(
    name_or_path: str | os.PathLike, variant: str | None = None, **hub: Any
) -> list[Path]:
    """The weight file(s) of a folder or hub id: the first of WEIGHT_FILES (named for
    ``variant``, if given) found, an index resolved to its shards."""
    for filename in (with_variant(f, variant) for f in WEIGHT_FILES):
        found = resolve_file(name_or_path, filename, required=False, **hub)
        if found is None:
            continue
        if filename.endswith(".index.json"):
            index = json.loads(found.read_text(encoding="utf-8"))
            shards = sorted(set(index["weight_map"].values()))
            return [resolve_file(name_or_path, s, **hub) for s in shards]
        return [found]
    names = ", ".join(with_variant(f, variant) for f in WEIGHT_FILES)
    where = f"{name_or_path}" + (
        f" (subfolder {hub['subfolder']!r})" if hub.get("subfolder") else ""
    )
    raise CheckpointError(
        f"no weights found in {where}: looked for {names} (for a hub "
        "id: none of them is in the local cache, or the repo has none)"
    )


def read_state_dict(path: str | os.PathLike) -> dict[str, torch.Tensor]:
    """Tensors from a .safetensors file, or a .bin/.pt/.pth file via weights_only unpickling."""
    path = Path(path)
    if path.suffix == ".safetensors":
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


def parse_size(size: int | str) -> int:
    """Bytes in a shard size: an int, or e.g. '2GB', '500MB', '1GiB'."""
    if isinstance(size, int):
        return size
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([KMG]?I?B)\s*", size.upper())
    if not m:
        raise ValueError(f"cannot parse shard size {size!r}; use e.g. '2GB' or a byte count")
    return int(float(m.group(1)) * _SIZE_UNITS[m.group(2)])


def _nbytes(t: torch.Tensor) -> int:
    return t.numel() * t.element_size()


def _shards(state: dict[str, torch.Tensor], limit: int | None) -> list[dict[str, torch.Tensor]]:
    """Keys in sorted order, cut into shards of at most `limit` bytes (one shard if None)."""
    shards: list[dict[str, torch.Tensor]] = [{}]
    size = 0
    for key in sorted(state):
        nbytes = _nbytes(state[key])
        if limit is not None and shards[-1] and size + nbytes > limit:
            shards.append({})
            size = 0
        shards[-1][key] = state[key]
        size += nbytes
    return shards


def _write_sharded(directory: Path, shards: list[dict[str, torch.Tensor]]) -> None:
    weight_map = {}
    total = 0
    for i, shard in enumerate(shards, start=1):
        name = f"model-{i:05d}-of-{len(shards):05d}.safetensors"
        atomic_write_bytes(directory / name, safetensors_bytes(shard, metadata={"format": "pt"}))
        for key, t in shard.items():
            weight_map[key] = name
            total += _nbytes(t)
    index = {"metadata": {"total_size": total}, "weight_map": weight_map}
    atomic_write_text(directory / SAFE_WEIGHTS_INDEX_NAME, json.dumps(index, indent=2) + "\n")


def write_weights(
    directory: Path,
    state: dict[str, torch.Tensor],
    *,
    safe_serialization: bool = True,
    max_shard_size: int | str | None = None,
) -> None:
    """Write `state` into `directory` (a fresh folder of :func:`videomae._io.atomic_folder`)."""
    if not safe_serialization:
        buffer = io.BytesIO()
        torch.save(state, buffer)
        atomic_write_bytes(directory / WEIGHTS_NAME, buffer.getvalue())
        return
    limit = None if max_shard_size is None else parse_size(max_shard_size)
    shards = _shards(state, limit)
    if len(shards) == 1:
        metadata = {"format": "pt"}
        atomic_write_bytes(
            directory / SAFE_WEIGHTS_NAME, safetensors_bytes(state, metadata=metadata)
        )
        return
    _write_sharded(directory, shards)
