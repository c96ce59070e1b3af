"""A complete model folder, written by one function and read back by the commands.

Every folder a command or a recipe writes (``pretrain``/``finetune`` ``final/`` and ``best/``,
``convert``, ``demo``) holds:

- ``config.json`` + weights (``model.save_pretrained``);
- ``preprocessor_config.json``: resize, crop and the normalisation the model was trained with,
  plus ``num_frames``, ``frame_sampling_rate`` and ``frame_sampling_strategy`` (extra keys
  transformers' processors keep as attributes);
- ``README.md``: the model card (:mod:`videomae.modeling.model_card`);
- ``training_args.json``: the run's effective settings, when a recipe wrote the folder.

:func:`read_processor` reads the processor file back (``preprocessor_config.json``, else
transformers' ``video_preprocessor_config.json``); :func:`trained_geometry` the shape facts a
run started from ``--init`` inherits.
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch

from videomae._io import atomic_folder, atomic_write_text
from videomae.config import VideoMAEConfig
from videomae.errors import CheckpointError
from videomae.hub import resolve_file
from videomae.modeling.model_card import README_NAME, CardFacts, model_card
from videomae.modeling.saving import is_model_file, write_config, write_model_files
from videomae.processing.config import PROCESSOR_CONFIG_NAME, VIDEO_PROCESSOR_CONFIG_NAME
from videomae.processing.image_processor import VideoMAEImageProcessor
from videomae.runtime import IMAGENET_DEFAULT_MEAN, IMAGENET_DEFAULT_STD

__all__ = [
    "GEOMETRY_FIELDS",
    "complete_folder",
    "TRAINING_ARGS_NAME",
    "read_processor",
    "trained_geometry",
    "trained_processor",
    "write_model_folder",
]

TRAINING_ARGS_NAME = "training_args.json"
#: config fields that fix a model's input and token grid (a run from ``--init`` inherits them)
GEOMETRY_FIELDS = ("num_frames", "image_size", "patch_size", "tubelet_size")
# folders a run writes under its out_dir: the card names the model after the run
_RUN_FOLDERS = ("final", "final-ema", "best")


def trained_processor(
    config: VideoMAEConfig,
    *,
    sampling_rate: int | None = None,
    strategy: str | None = None,
    short_side: int | None = None,
    mean: tuple[float, ...] = IMAGENET_DEFAULT_MEAN,
    std: tuple[float, ...] = IMAGENET_DEFAULT_STD,
) -> VideoMAEImageProcessor:
    """The processor that reproduces how a model with ``config`` saw its evaluation clips.

    Resize the short side to ``short_side`` (default ``config.image_size``), centre-crop
    ``image_size``, normalise with ``mean``/``std`` (the recipes' ImageNet statistics); the
    clip's frame count, sampling rate and strategy travel as extra keys.
    """
    size = int(
        config.image_size if not isinstance(config.image_size, list) else config.image_size[0]
    )
    return VideoMAEImageProcessor(
        size={"shortest_edge": int(short_side or size)},
        crop_size={"height": size, "width": size},
        image_mean=list(mean),
        image_std=list(std),
        num_frames=int(config.num_frames),
        frame_sampling_rate=sampling_rate,
        frame_sampling_strategy=strategy,
    )


def write_model_folder(
    model: torch.nn.Module,
    directory: str | os.PathLike,
    *,
    processor: VideoMAEImageProcessor | None = None,
    facts: CardFacts | None = None,
    settings: Mapping[str, Any] | None = None,
) -> Path:
    """Write ``model`` as a complete folder: weights + config, processor, card, settings.

    ``processor`` defaults to :func:`trained_processor` of the model's config (RGB models; for
    other channel counts no processor file is written unless one is given); ``facts`` fill
    the card; ``settings`` (the run's effective config) become ``training_args.json``.
    """
    with atomic_folder(directory, replaces=_is_folder_file) as tmp:
        write_model_files(model, tmp)
        _write_extras(model, tmp, Path(directory), processor, facts, settings)
    return Path(directory)


def complete_folder(model: torch.nn.Module, directory: str | os.PathLike) -> Path:
    """Add to a folder that holds the weights (a ``transformers.Trainer`` save) what a model
    folder carries: ``config.json``, the processor config and the model card (each file written
    atomically; the weights are left as they are)."""
    out = Path(directory)
    write_config(model, out)
    _write_extras(model, out, out, None, None, None)
    return out


def _is_folder_file(name: str) -> bool:
    """What :func:`write_model_folder` owns (a user's other files in the folder are kept)."""
    return is_model_file(name) or name in (PROCESSOR_CONFIG_NAME, README_NAME, TRAINING_ARGS_NAME)


def _write_extras(
    model: torch.nn.Module,
    out: Path,
    final: Path,
    processor: VideoMAEImageProcessor | None,
    facts: CardFacts | None,
    settings: Mapping[str, Any] | None,
) -> None:
    """Processor config, model card and settings into ``out`` (named after ``final``)."""
    proc = processor
    if proc is None and int(getattr(model.config, "num_channels", 3)) == 3:
        proc = trained_processor(model.config)  # RGB: the recipes' ImageNet statistics
    facts = facts or CardFacts()
    if proc is not None:  # other channel counts: the statistics are not known, none is written
        atomic_write_text(out / PROCESSOR_CONFIG_NAME, proc.to_json_string())
        if not facts.preprocessing:
            facts = dataclasses.replace(facts, preprocessing=proc.to_dict())
    where = final.resolve()
    name = f"{where.parent.name}-{where.name}" if where.name in _RUN_FOLDERS else where.name
    card = model_card(model.config, type(model).__name__, facts, name=name)
    atomic_write_text(out / README_NAME, card)
    if settings is not None:
        text = json.dumps(dict(settings), indent=2, sort_keys=True, default=str) + "\n"
        atomic_write_text(out / TRAINING_ARGS_NAME, text)


def _processor_file(id_or_dir: str | os.PathLike) -> Path | None:
    path = Path(id_or_dir)
    if path.is_file():
        return None  # an original .pth file carries no preprocessing settings
    for name in (PROCESSOR_CONFIG_NAME, VIDEO_PROCESSOR_CONFIG_NAME):
        if path.is_dir():
            if (path / name).is_file():
                return path / name
            continue
        try:
            found = resolve_file(id_or_dir, name, required=False)
        except CheckpointError:
            return None  # the model came from the cache; its processor file did not
        if found is not None:
            return found
    return None


def read_processor(id_or_dir: str | os.PathLike) -> VideoMAEImageProcessor | None:
    """The folder's processor (``preprocessor_config.json``, else transformers'
    ``video_preprocessor_config.json``), or None when it has neither."""
    found = _processor_file(id_or_dir)
    return None if found is None else VideoMAEImageProcessor.from_pretrained(found)


def trained_geometry(id_or_dir: str | os.PathLike) -> dict[str, Any]:
    """What a run from ``--init id_or_dir`` inherits: the config's :data:`GEOMETRY_FIELDS`
    (``image_size`` as an int when square) and the processor's ``sampling_rate`` /
    ``strategy`` when the folder records them."""
    config = VideoMAEConfig.from_pretrained(id_or_dir)
    out: dict[str, Any] = {k: getattr(config, k) for k in GEOMETRY_FIELDS}
    if isinstance(out["image_size"], (list, tuple)) and len(set(out["image_size"])) == 1:
        out["image_size"] = int(out["image_size"][0])
    proc = read_processor(id_or_dir)
    if proc is not None and proc.frame_sampling_rate is not None:
        out["sampling_rate"] = proc.frame_sampling_rate
    if proc is not None and proc.frame_sampling_strategy is not None:
        out["strategy"] = proc.frame_sampling_strategy
    return out
