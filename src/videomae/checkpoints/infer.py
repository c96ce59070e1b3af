"""A transformers-compatible config read off an original-release state dict.

Sizes, depths, patch/tubelet/channels, qv_bias, pooling, labels and the decoder come from the
tensor shapes (:mod:`videomae.checkpoints.structure`); head counts, which the tensors do not
store, from the released model sizes (:data:`videomae.config.PRESETS`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from torch import Tensor

from videomae.checkpoints.original import Converted, convert_original
from videomae.checkpoints.structure import Dims, dims
from videomae.config import size_pair
from videomae.errors import CheckpointConversionError
from videomae.presets import PRESETS

__all__ = ["CLI_FLAGS", "ORIGINAL_LAYER_NORM_EPS", "config_from", "infer_config"]

ORIGINAL_LAYER_NORM_EPS = 1e-6
"""Every LayerNorm of the original releases (``partial(nn.LayerNorm, eps=1e-6)``)."""

# num_attention_heads is not in the tensors: the released sizes (ViT-S/B/L/H, V2 ViT-g).
_ENCODER_HEADS = {p["hidden_size"]: p["num_attention_heads"] for p in PRESETS.values()}
_DECODER_HEADS = {
    p["decoder_hidden_size"]: p["decoder_num_attention_heads"] for p in PRESETS.values()
}

# Fields fixed by the tensors: an override may restate them but not contradict them.
_STRUCTURAL = (
    "architectures",
    "hidden_size",
    "num_hidden_layers",
    "intermediate_size",
    "patch_size",
    "tubelet_size",
    "num_channels",
    "qv_bias",
    "use_mean_pooling",
    "num_labels",
    "decoder_hidden_size",
    "decoder_num_hidden_layers",
    "decoder_intermediate_size",
)


#: the ``videomae convert`` flag that sets each config field a message may ask for
CLI_FLAGS = {
    "num_attention_heads": "--num-heads",
    "decoder_num_attention_heads": "--decoder-num-heads",
    "num_frames": "--num-frames",
    "image_size": "--image-size",
}


def _pair(value: Any, name: str) -> tuple[int, int]:
    if isinstance(value, (int, tuple, list)):
        try:
            return size_pair(value)
        except ValueError:
            pass
    raise CheckpointConversionError(f"{name} must be an int or (height, width); got {value!r}.")


def _heads(width: int, table: dict[int, int], field: str, given: Any) -> int:
    heads = given if given is not None else table.get(width)
    if heads is None:
        raise CheckpointConversionError(
            f"cannot infer {field} for width {width} (the tensors do not store it; known widths "
            f"{table}). Fix: pass {field}=... (CLI: videomae convert {CLI_FLAGS[field]})."
        )
    if int(heads) <= 0 or width % int(heads):
        raise CheckpointConversionError(f"{field}={heads} does not divide the width {width}.")
    return int(heads)


def _encoder_fields(d: Dims, overrides: dict[str, Any]) -> dict[str, Any]:
    """The fields the tensors (and the released sizes) give, before any override."""
    heads = _heads(
        d.hidden, _ENCODER_HEADS, "num_attention_heads", overrides.pop("num_attention_heads", None)
    )
    return {
        "model_type": "videomae",
        "architectures": [d.architecture],
        "image_size": 224,
        "patch_size": d.patch,
        "num_channels": d.channels,
        "num_frames": 16,
        "tubelet_size": d.tubelet,
        "hidden_size": d.hidden,
        "num_hidden_layers": d.layers,
        "num_attention_heads": heads,
        "intermediate_size": d.intermediate,
        "hidden_act": "gelu",
        "hidden_dropout_prob": 0.0,
        "attention_probs_dropout_prob": 0.0,
        "initializer_range": 0.02,
        "layer_norm_eps": ORIGINAL_LAYER_NORM_EPS,
        "fc_norm_eps": ORIGINAL_LAYER_NORM_EPS,
        "decoder_norm_eps": ORIGINAL_LAYER_NORM_EPS,
        "qv_bias": d.qv_bias,
        "use_mean_pooling": not d.has_layernorm,
        "norm_pix_loss": True,
    }


def _head_fields(d: Dims, overrides: dict[str, Any]) -> dict[str, Any]:
    """Decoder sizes of a pre-training checkpoint, or the labels of a classifier."""
    given_heads = overrides.pop("decoder_num_attention_heads", None)
    fields: dict[str, Any] = {}
    if d.decoder_hidden is not None:
        fields.update(
            decoder_hidden_size=d.decoder_hidden,
            decoder_num_hidden_layers=d.decoder_layers,
            decoder_intermediate_size=d.decoder_intermediate,
            decoder_num_attention_heads=_heads(
                d.decoder_hidden, _DECODER_HEADS, "decoder_num_attention_heads", given_heads
            ),
        )
    if d.num_labels is not None:
        fields["num_labels"] = d.num_labels
        fields["id2label"] = {i: f"LABEL_{i}" for i in range(d.num_labels)}
    return fields


def _apply_overrides(config: dict[str, Any], overrides: dict[str, Any]) -> None:
    """Update `config` with overrides that do not contradict the tensors; keep labels whole."""
    if "qkv_bias" in overrides:  # the transformers 4.x name
        overrides.setdefault("qv_bias", overrides.pop("qkv_bias"))
    for key in _STRUCTURAL:
        if key in overrides and key in config and overrides[key] != config[key]:
            raise CheckpointConversionError(
                f"{key}={overrides[key]!r} contradicts the checkpoint's tensors, which give "
                f"{key}={config[key]!r}. Fix: drop that override."
            )
    config.update(overrides)
    config["qkv_bias"] = config["qv_bias"]  # both names, so 4.x and 5.x readers agree
    if "id2label" in overrides:
        config["id2label"] = {int(k): str(v) for k, v in config["id2label"].items()}
    if "id2label" in config:
        if len(config["id2label"]) != config.get("num_labels", len(config["id2label"])):
            raise CheckpointConversionError(
                f"id2label has {len(config['id2label'])} names but the head has "
                f"{config['num_labels']} outputs."
            )
        config["label2id"] = {v: k for k, v in config["id2label"].items()}


def _set_frames(config: dict[str, Any], num_positions: int | None, frames_given: bool) -> None:
    """num_frames from a stored position table (unless given), checked against the clip shape."""
    height, width = _pair(config["image_size"], "image_size")
    p, ts = config["patch_size"], config["tubelet_size"]
    if height % p or width % p:
        raise CheckpointConversionError(
            f"image_size {config['image_size']} is not a multiple of the patch size {p}."
        )
    per_step = (height // p) * (width // p)
    n = num_positions
    if n is not None and not frames_given and n % per_step == 0:
        config["num_frames"] = n // per_step * ts  # read off the stored table
    if config["num_frames"] % ts:
        raise CheckpointConversionError(
            f"num_frames {config['num_frames']} is not a multiple of tubelet_size {ts}."
        )
    if n is not None and per_step * config["num_frames"] // ts != n:
        raise CheckpointConversionError(
            f"the stored position table has {n} tokens but image_size={config['image_size']}, "
            f"num_frames={config['num_frames']}, patch {p}, tubelet {ts} give "
            f"{per_step * config['num_frames'] // ts}. Fix: pass the image_size/num_frames the "
            "checkpoint was trained with."
        )


def config_from(converted: Converted, overrides: Mapping[str, Any]) -> dict[str, Any]:
    """The config dict of a converted checkpoint with `overrides` applied (None = not given)."""
    d = dims(converted.state_dict)
    overrides = {k: v for k, v in overrides.items() if v is not None}  # CLI flags left unset
    config = _encoder_fields(d, overrides)
    config.update(_head_fields(d, overrides))
    frames_given = "num_frames" in overrides
    _apply_overrides(config, overrides)
    _set_frames(config, converted.num_positions, frames_given)
    return config


def infer_config(state_dict: Mapping[str, Tensor], **overrides: Any) -> dict[str, Any]:
    """A transformers-compatible VideoMAE config dict read off an original state dict.

    Sizes, layer counts, patch/tubelet/channels, qv_bias, pooling, labels and the decoder come from
    the tensor shapes; head counts from the released sizes' table; LayerNorm eps is the original
    1e-6 (``layer_norm_eps``, ``fc_norm_eps``, ``decoder_norm_eps``). image_size / num_frames are
    not stored (224 / 16 unless overridden, or read off a stored position table). Overrides
    replace any field but may not contradict the tensors; ``None`` values are ignored.
    """
    return config_from(convert_original(state_dict), overrides)
