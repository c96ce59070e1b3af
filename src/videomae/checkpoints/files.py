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
import pickle
import re
from pathlib import Path, PurePosixPath
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
    "load_torch_file",
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


def _shard_names(index_file: Path) -> list[str]:
    """The shard file names an index lists, refused unless each is a plain name in its folder."""
    try:
        index = json.loads(index_file.read_bytes().decode("utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise CheckpointError(
            f"{index_file} is not a readable JSON index ({err}); fix: restore it from the "
            "checkpoint's source or re-save the model with save_pretrained"
        ) from None
    weight_map = index.get("weight_map") if isinstance(index, dict) else None
    if not isinstance(weight_map, dict) or not weight_map:
        raise CheckpointError(
            f"{index_file} has no 'weight_map' (a JSON object of tensor name -> shard file); "
            "fix: restore the index from the checkpoint's source or re-save the model"
        )
    names = sorted({str(v) for v in weight_map.values()})
    for name in names:
        parts = PurePosixPath(name.replace("\\", "/")).parts
        if not parts or PurePosixPath(name).is_absolute() or ".." in parts or ":" in name:
            raise CheckpointError(
                f"{index_file} names shard {name!r}, which is outside the model folder; shards "
                "must be plain file names beside the index, and paths escaping the folder are "
                "refused; fix: use an index whose weight_map names files in its own folder"
            )
    return names


def weight_files(
    name_or_path: str | os.PathLike, variant: str | None = None, **hub: Any
) -> list[Path]:
    """The weight file(s) of a folder or hub id: the first of WEIGHT_FILES (named for
    ``variant``, if given) found, an index resolved to its shards (each confined to the folder)."""
    for filename in (with_variant(f, variant) for f in WEIGHT_FILES):
        found = resolve_file(name_or_path, filename, required=False, **hub)
        if found is None:
            continue
        if not filename.endswith(".index.json"):
            return [found]
        shards = []
        for shard in _shard_names(found):
            path = resolve_file(name_or_path, shard, required=False, **hub)
            if path is None:
                raise CheckpointError(
                    f"{found} lists shard {shard!r}, which is missing; fix: download every "
                    "shard the index names into the same folder"
                )
            shards.append(path)
        return shards
    names = ", ".join(with_variant(f, variant) for f in WEIGHT_FILES)
    where = f"{name_or_path}" + (
        f" (subfolder {hub['subfolder']!r})" if hub.get("subfolder") else ""
    )
    raise CheckpointError(
        f"no weights found in {where}: looked for {names} (for a hub "
        "id: none of them is in the local cache, or the repo has none)"
    )


def _refused(path: Path, err: BaseException) -> str | None:
    """Why torch's weights-only reader refused `path` on purpose, or None for a broken file."""
    text = str(err)
    if "legacy .tar format" in text:
        return "it is in torch's legacy .tar format, which cannot be read without unpickling"
    if isinstance(err, pickle.UnpicklingError):
        found = re.search(r"Unsupported global: GLOBAL ([\w.]+)", text)
        return "it holds pickled Python objects besides tensors" + (
            f" (it contains {found.group(1)})" if found else ""
        )
    return None


def load_torch_file(
    path: str | os.PathLike,
    *,
    safe_globals: list | tuple = (),
    refused_error: type[Exception] = CheckpointError,
) -> Any:
    """``torch.load(weights_only=True)`` whose failures are errors of ours naming the file and the
    fix: a refused pickle (objects, legacy tar) raises `refused_error`; a missing, empty,
    truncated or corrupt file raises CheckpointError. Never unpickles arbitrary objects."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"checkpoint file not found: {path}; fix: check the path")
    if path.stat().st_size == 0:
        raise CheckpointError(f"{path} is empty (0 bytes); fix: re-download or re-save it")
    try:
        with torch.serialization.safe_globals(list(safe_globals)):
            return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # torch raises many types for broken files
        why = _refused(path, err)
        if why is not None:
            raise refused_error(
                f"{path} was not loaded: {why}. We refuse to unpickle untrusted files "
                "(torch.load(weights_only=True) only). Fix: in an environment where you trust "
                "the file, re-save just the tensors, e.g. `sd = torch.load(path, "
                "weights_only=False)['model']; torch.save(sd, 'clean.pth')`, or as safetensors"
            ) from None
        first = (str(err).strip().splitlines() or [type(err).__name__])[0][:200]
        raise CheckpointError(
            f"{path} is truncated or corrupt and could not be read ({type(err).__name__}: "
            f"{first}); fix: re-download or re-save the checkpoint"
        ) from None


def _read_safetensors(path: Path) -> dict[str, torch.Tensor]:
    if path.is_file() and path.stat().st_size == 0:
        raise CheckpointError(f"{path} is empty (0 bytes); fix: re-download or re-save it")
    try:
        return load_file(str(path))
    except Exception as err:  # SafetensorError, OSError, ...
        raise CheckpointError(
            f"{path} is truncated or corrupt and could not be read as safetensors "
            f"({type(err).__name__}: {err}); fix: re-download or re-save the checkpoint"
        ) from None


def read_state_dict(path: str | os.PathLike) -> dict[str, torch.Tensor]:
    """Tensors from a .safetensors file, or a .bin/.pt/.pth file via weights_only unpickling."""
    path = Path(path)
    if path.suffix == ".safetensors":
        return _read_safetensors(path)
    state = load_torch_file(path)
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise CheckpointError(
            f"{path} does not hold a state dict of name -> tensor (got {type(state).__name__}); "
            "fix: save model.state_dict() itself"
        )
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
