"""``save_pretrained`` of a model: ``config.json`` + weights in transformers' on-disk layout,
swapped in as a whole folder (see :func:`videomae._io.atomic_folder`), optionally pushed."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import torch

from videomae._io import atomic_folder
from videomae.checkpoints.files import is_weight_file, write_weights
from videomae.checkpoints.keys import to_disk_layout
from videomae.config import CONFIG_NAME
from videomae.errors import ConfigError
from videomae.push import push_folder

__all__ = ["is_model_file", "save_pretrained", "write_config", "write_model_files"]

# --------------------------------------------------------------------------- save_pretrained
_PUSH_KWARGS = ("private", "token", "commit_message", "commit_description", "revision", "create_pr")


def write_config(model: torch.nn.Module, directory: str | os.PathLike) -> Path:
    """The model's ``config.json`` (its class in ``architectures``, its weights' dtype)."""
    config = model.config.copy()
    config.architectures = [type(model).__name__]
    config.dtype = next(model.parameters()).dtype
    return config.save_pretrained(directory)


def save_pretrained(
    model: torch.nn.Module,
    save_directory: str | os.PathLike,
    *,
    safe_serialization: bool = True,
    max_shard_size: int | str | None = None,
    state_dict: dict[str, torch.Tensor] | None = None,
    push_to_hub: bool = False,
    **kwargs: Any,
) -> Path:
    """config.json + weights in transformers' on-disk layout, swapped in as a whole folder.

    Saving over an existing folder replaces its config and weight files (any layout) at once;
    other files there (a processor config, a README) are kept. A failure or a kill leaves the
    old folder as it was; a full disk raises DiskFullError naming the file. ``state_dict``
    replaces the model's own tensors (as in transformers, e.g. the Trainer's);
    ``push_to_hub=True`` then uploads the folder to ``repo_id`` (default: the folder's name)
    with the keywords of :func:`videomae.push.push_folder`.
    """
    unknown = sorted(set(kwargs) - set(_PUSH_KWARGS) - {"repo_id", "is_main_process"})
    if unknown:
        raise ConfigError(f"save_pretrained got unknown keyword(s) {unknown}")
    directory = Path(save_directory)
    if not kwargs.get("is_main_process", True):
        return directory
    with atomic_folder(directory, replaces=is_model_file) as tmp:
        write_model_files(
            model,
            tmp,
            state_dict=state_dict,
            safe_serialization=safe_serialization,
            max_shard_size=max_shard_size,
        )
    if push_to_hub:
        push = {k: kwargs[k] for k in _PUSH_KWARGS if k in kwargs}
        push_folder(directory, kwargs.get("repo_id") or directory.resolve().name, **push)
    return directory


def write_model_files(
    model: torch.nn.Module,
    directory: Path,
    *,
    state_dict: dict[str, torch.Tensor] | None = None,
    safe_serialization: bool = True,
    max_shard_size: int | str | None = None,
) -> None:
    """``config.json`` and the weights into ``directory`` (a folder being built, not yet live)."""
    source = model.state_dict() if state_dict is None else state_dict
    state = {k: v.detach().contiguous().cpu() for k, v in to_disk_layout(source).items()}
    write_config(model, directory)
    write_weights(
        directory, state, safe_serialization=safe_serialization, max_shard_size=max_shard_size
    )


def is_model_file(name: str) -> bool:
    """A file a model save owns: ``config.json`` and weight files of any layout."""
    return name == CONFIG_NAME or is_weight_file(name)
