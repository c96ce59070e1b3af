"""An original VideoMAE / VideoMAE V2 `.pth` as one of our models, or as a `save_pretrained`
folder (config.json + model.safetensors) that transformers reads.

The file is read by :mod:`videomae.checkpoints.original`, its config inferred by
:mod:`videomae.checkpoints.infer`; the architecture follows the file (decoder ->
VideoMAEForPreTraining, head -> VideoMAEForVideoClassification, neither -> VideoMAEModel).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from videomae.checkpoints.infer import config_from
from videomae.checkpoints.original import Converted, convert_original, load_original_checkpoint
from videomae.checkpoints.structure import dims
from videomae.config import VideoMAEConfig
from videomae.data.labels import read_label_names
from videomae.errors import CheckpointConversionError
from videomae.folder import write_model_folder
from videomae.modeling import models
from videomae.modeling.model_card import CardFacts

__all__ = ["convert_checkpoint", "load_original_model"]


def _checkpoint_dtype(state: Mapping[str, Tensor]) -> torch.dtype:
    dtypes = {t.dtype for t in state.values() if t.is_floating_point()}
    return dtypes.pop() if len(dtypes) == 1 else torch.float32


def _id2label(converted: Converted, label_file: str | Path, src_path: str | Path) -> dict[int, str]:
    """The label file's names, which must match the checkpoint's classification head."""
    names = read_label_names(label_file)
    num = dims(converted.state_dict).num_labels
    if num is None:
        raise CheckpointConversionError(
            f"a label file was given but {src_path} has no classification head."
        )
    if len(names) != num:
        raise CheckpointConversionError(
            f"label file {label_file} has {len(names)} names but the checkpoint's head has "
            f"{num} outputs (head.weight rows). Fix: use the label map of the dataset it "
            "was fine-tuned on."
        )
    return dict(enumerate(names))


def load_original_model(
    src_path: str | Path,
    *,
    label_file: str | Path | None = None,
    dtype: torch.dtype | None = None,
    **config_overrides: Any,
) -> torch.nn.Module:
    """Build the converted model (eval mode) from an original `.pth`, without writing anything.

    The architecture follows the file: decoder -> VideoMAEForPreTraining, head ->
    VideoMAEForVideoClassification, neither -> VideoMAEModel. ``dtype`` defaults to the file's.
    """
    converted = convert_original(load_original_checkpoint(src_path))
    if label_file is not None:
        config_overrides["id2label"] = _id2label(converted, label_file, src_path)
    config_dict = config_from(converted, config_overrides)
    arch = config_dict["architectures"][0]
    model = getattr(models, arch)(VideoMAEConfig(**config_dict))
    state = converted.state_dict
    if arch == "VideoMAEModel":  # the bare model has no `videomae.` prefix
        state = {k.removeprefix("videomae."): v for k, v in state.items()}
    model.load_state_dict(state, strict=True)
    target = dtype if dtype is not None else _checkpoint_dtype(state)
    if target != torch.float32:
        model = model.to(target)
    return model.eval()


def convert_checkpoint(
    src_path: str | Path,
    out_dir: str | Path,
    *,
    label_file: str | Path | None = None,
    dtype: torch.dtype | None = None,
    **config_overrides: Any,
) -> Path:
    """Convert an original `.pth` into a complete model folder (:mod:`videomae.folder`):
    config.json + model.safetensors, preprocessor_config.json (the original recipe's resize to
    ``image_size``, centre crop, ImageNet mean/std, ``num_frames``; the sampling rate is not in
    the file and is left out), README.md.

    ``label_file``: class names, one per line, written to ``id2label`` (default ``LABEL_i``).
    ``config_overrides``: e.g. ``num_frames=8``, ``image_size=320``, ``num_attention_heads=...``.
    Returns ``out_dir``.
    """
    model = load_original_model(src_path, label_file=label_file, dtype=dtype, **config_overrides)
    out = Path(out_dir)
    facts = CardFacts(training={"converted from": Path(src_path).name})
    write_model_folder(model, out, facts=facts)  # an existing folder is replaced as a whole
    return out
