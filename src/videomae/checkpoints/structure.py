"""The architecture a converted state dict describes, read off its tensor shapes.

``dims`` reads sizes, depths and heads from the tensors (in our in-memory names); ``check_shapes``
verifies that every tensor the described model has is present with the right shape, and no other.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from torch import Tensor

from videomae.errors import CheckpointConversionError

__all__ = ["Dims", "check_shapes", "dims", "expected_shapes"]

_PATCH_EMBED = "videomae.embeddings.patch_embeddings.projection.weight"


@dataclass
class Dims:
    hidden: int
    channels: int
    tubelet: int
    patch: int
    layers: int
    intermediate: int
    qv_bias: bool
    has_layernorm: bool
    has_fc_norm: bool
    num_labels: int | None
    decoder_hidden: int | None
    decoder_layers: int
    decoder_intermediate: int | None

    @property
    def architecture(self) -> str:
        if self.decoder_hidden is not None:
            return "VideoMAEForPreTraining"
        if self.num_labels is not None:
            return "VideoMAEForVideoClassification"
        return "VideoMAEModel"


def _layer_indices(state: Mapping[str, Tensor], prefix: str) -> int:
    """Number of stacked layers under `prefix` (indices must be 0..L-1)."""
    pattern = re.compile(re.escape(prefix) + r"(\d+)\.")
    found = {int(m.group(1)) for k in state if (m := pattern.match(k))}
    if found and found != set(range(max(found) + 1)):
        missing = sorted(set(range(max(found) + 1)) - found)
        raise CheckpointConversionError(
            f"layers {missing} are missing under {prefix!r} (found {sorted(found)}): the "
            "checkpoint is incomplete."
        )
    return len(found)


def _patch_embedding(state: Mapping[str, Tensor]) -> tuple[int, int, int, int]:
    """(hidden, channels, tubelet, patch) from the Conv3d kernel of the patch embedding."""
    pe = state.get(_PATCH_EMBED)
    if pe is None:
        raise CheckpointConversionError(
            "no patch embedding ('patch_embed.proj.weight' / 'encoder.patch_embed.proj.weight') "
            "in the checkpoint: is this a VideoMAE checkpoint? Keys seen: "
            f"{sorted(state)[:10]}"
        )
    if pe.ndim != 5 or pe.shape[3] != pe.shape[4]:
        raise CheckpointConversionError(
            f"patch_embed.proj.weight has shape {tuple(pe.shape)}; expected a Conv3d kernel "
            "(hidden, channels, tubelet, patch, patch) with a square patch."
        )
    hidden, channels, tubelet, patch = (int(pe.shape[i]) for i in range(4))
    return hidden, channels, tubelet, patch


def _decoder(state: Mapping[str, Tensor], has_head: bool) -> tuple[int | None, int, int | None]:
    """(decoder hidden, decoder layers, decoder intermediate); (None, 0, None) without one."""
    decoder_keys = [k for k in state if k.startswith(("decoder.", "encoder_to_decoder", "mask_"))]
    if not decoder_keys:
        return None, 0, None
    for key, axis in (
        ("encoder_to_decoder.weight", 0),
        ("mask_token", -1),
        ("decoder.norm.weight", 0),
    ):
        if key in state:
            decoder_hidden = int(state[key].shape[axis])
            break
    else:
        raise CheckpointConversionError(
            "the checkpoint has decoder weights but none of encoder_to_decoder.weight, "
            "mask_token, decoder.norm.weight: it is incomplete."
        )
    decoder_layers = _layer_indices(state, "decoder.decoder_layers.")
    dfc1 = state.get("decoder.decoder_layers.0.intermediate.dense.weight")
    decoder_intermediate = int(dfc1.shape[0]) if dfc1 is not None else 4 * decoder_hidden
    if has_head:
        raise CheckpointConversionError(
            "the checkpoint has both a pre-training decoder and a classification head; "
            "VideoMAE models have one or the other. Fix: drop 'head.*' or 'decoder.*'."
        )
    return decoder_hidden, decoder_layers, decoder_intermediate


def _pooling(state: Mapping[str, Tensor], has_head: bool) -> tuple[bool, bool]:
    """(has_layernorm, has_fc_norm): token-0 norm or mean-pooling norm, consistent with a head."""
    has_fc_norm = "fc_norm.weight" in state
    has_layernorm = "videomae.layernorm.weight" in state
    if has_head and has_fc_norm == has_layernorm:
        raise CheckpointConversionError(
            "a classification head needs exactly one of 'fc_norm' (mean pooling) and the "
            f"encoder 'norm' (token 0); found fc_norm={has_fc_norm}, norm={has_layernorm}."
        )
    if not has_head and has_fc_norm:
        raise CheckpointConversionError(
            "the checkpoint has 'fc_norm' but no 'head': a pooled backbone without a classifier "
            "has no VideoMAE counterpart. Fix: convert a checkpoint with its head, or drop "
            "'fc_norm.*' to get the bare encoder (VideoMAEModel)."
        )
    return has_layernorm, has_fc_norm


def dims(state: Mapping[str, Tensor]) -> Dims:
    """The architecture of a state dict in our in-memory names (see :class:`Dims`)."""
    hidden, channels, tubelet, patch = _patch_embedding(state)
    layers = _layer_indices(state, "videomae.encoder.layer.")
    if layers == 0:
        raise CheckpointConversionError("the checkpoint has no encoder blocks ('blocks.N.*').")
    fc1 = state.get("videomae.encoder.layer.0.intermediate.dense.weight")
    intermediate = int(fc1.shape[0]) if fc1 is not None else 4 * hidden
    head = state.get("classifier.weight")
    decoder_hidden, decoder_layers, decoder_intermediate = _decoder(state, head is not None)
    has_layernorm, has_fc_norm = _pooling(state, head is not None)
    return Dims(
        hidden=hidden,
        channels=channels,
        tubelet=tubelet,
        patch=patch,
        layers=layers,
        intermediate=intermediate,
        qv_bias="videomae.encoder.layer.0.attention.attention.query.bias" in state,
        has_layernorm=has_layernorm,
        has_fc_norm=has_fc_norm,
        num_labels=int(head.shape[0]) if head is not None else None,
        decoder_hidden=decoder_hidden,
        decoder_layers=decoder_layers,
        decoder_intermediate=decoder_intermediate,
    )


def _layer_shapes(prefix: str, dim: int, inner: int, qv_bias: bool) -> dict[str, tuple[int, ...]]:
    shapes: dict[str, tuple[int, ...]] = {
        "attention.attention.query.weight": (dim, dim),
        "attention.attention.key.weight": (dim, dim),
        "attention.attention.value.weight": (dim, dim),
        "attention.output.dense.weight": (dim, dim),
        "attention.output.dense.bias": (dim,),
        "layernorm_before.weight": (dim,),
        "layernorm_before.bias": (dim,),
        "layernorm_after.weight": (dim,),
        "layernorm_after.bias": (dim,),
        "intermediate.dense.weight": (inner, dim),
        "intermediate.dense.bias": (inner,),
        "output.dense.weight": (dim, inner),
        "output.dense.bias": (dim,),
    }
    if qv_bias:
        shapes["attention.attention.query.bias"] = (dim,)
        shapes["attention.attention.value.bias"] = (dim,)
    return {prefix + k: v for k, v in shapes.items()}


def _decoder_shapes(d: Dims) -> dict[str, tuple[int, ...]]:
    Dd = d.decoder_hidden
    assert Dd is not None and d.decoder_intermediate is not None
    out = d.channels * d.tubelet * d.patch * d.patch
    shapes: dict[str, tuple[int, ...]] = {
        "encoder_to_decoder.weight": (Dd, d.hidden),
        "mask_token": (1, 1, Dd),
    }
    for i in range(d.decoder_layers):
        shapes.update(
            _layer_shapes(f"decoder.decoder_layers.{i}.", Dd, d.decoder_intermediate, d.qv_bias)
        )
    shapes["decoder.norm.weight"] = shapes["decoder.norm.bias"] = (Dd,)
    shapes["decoder.head.weight"] = (out, Dd)
    shapes["decoder.head.bias"] = (out,)
    return shapes


def expected_shapes(d: Dims) -> dict[str, tuple[int, ...]]:
    """Every tensor (name -> shape) the model described by `d` has, in the videomae.* layout."""
    D = d.hidden
    pe = "videomae.embeddings.patch_embeddings.projection."
    shapes: dict[str, tuple[int, ...]] = {
        pe + "weight": (D, d.channels, d.tubelet, d.patch, d.patch),
        pe + "bias": (D,),
    }
    for i in range(d.layers):
        shapes.update(_layer_shapes(f"videomae.encoder.layer.{i}.", D, d.intermediate, d.qv_bias))
    if d.has_layernorm:
        shapes["videomae.layernorm.weight"] = shapes["videomae.layernorm.bias"] = (D,)
    if d.num_labels is not None:
        if d.has_fc_norm:
            shapes["fc_norm.weight"] = shapes["fc_norm.bias"] = (D,)
        shapes["classifier.weight"] = (d.num_labels, D)
        shapes["classifier.bias"] = (d.num_labels,)
    if d.decoder_hidden is not None:
        shapes.update(_decoder_shapes(d))
    return shapes


def check_shapes(state: Mapping[str, Tensor], d: Dims) -> None:
    """Raise CheckpointConversionError listing missing, unexpected and misshapen tensors."""
    expected = expected_shapes(d)
    problems = [f"missing {k} {shape}" for k, shape in expected.items() if k not in state]
    problems += [f"unexpected {k}" for k in state if k not in expected]
    problems += [
        f"{k}: got {tuple(v.shape)}, expected {expected[k]}"
        for k, v in state.items()
        if k in expected and tuple(v.shape) != expected[k]
    ]
    if problems:
        raise CheckpointConversionError(
            f"the checkpoint is not a consistent VideoMAE {d.architecture} (hidden {d.hidden}, "
            f"{d.layers} layers, qv_bias={d.qv_bias}):\n  " + "\n  ".join(problems[:30])
        )
