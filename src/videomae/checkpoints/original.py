"""Original VideoMAE (MCG-NJU/VideoMAE) and VideoMAE V2 (OpenGVLab/VideoMAEv2) `.pth` files:
reading them safely, and their state dict in our layout.

The originals are timm-style ViTs: a fused ``attn.qkv.weight`` with separate ``q_bias``/``v_bias``
(the key bias is an implicit zero), ``norm1``/``norm2``, ``mlp.fc1``/``fc2``, LayerNorm eps 1e-6
everywhere and a fixed sinusoid position table that is never stored. Pre-training checkpoints put
the encoder under ``encoder.`` and add ``encoder_to_decoder``, ``mask_token`` and ``decoder.*``;
fine-tuned ones have no ``encoder.`` prefix and add ``fc_norm`` (mean pooling) or ``norm`` (token
0) and ``head``. Files are read with ``torch.load(weights_only=True)`` only. The key names are
in :mod:`videomae.checkpoints.keys`.
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from videomae.checkpoints.files import load_torch_file
from videomae.checkpoints.keys import original_targets, unsupported_features
from videomae.checkpoints.structure import check_shapes, dims
from videomae.errors import CheckpointConversionError, CheckpointError
from videomae.modeling.embeddings import sinusoid_table

__all__ = ["Converted", "convert_original", "convert_state_dict", "load_original_checkpoint"]

# Where training scripts keep the weights, in the order the original loaders try them.
_CONTAINER_KEYS = ("model", "module", "state_dict", "model_state")
# Wrappers that prefix every key: DDP/DeepSpeed, torch.compile, mmaction-style backbones.
_STRIP_PREFIXES = ("module.", "_orig_mod.", "backbone.")
# Argument namespaces saved by the original `save_model` next to the weights (plain values only).
_SAFE_GLOBALS = [argparse.Namespace]


# --------------------------------------------------------------------------------------------
# Reading
# --------------------------------------------------------------------------------------------
def load_original_checkpoint(path: str | Path) -> dict[str, Tensor]:
    """Read an original `.pth` safely and return its flat state dict, wrappers removed.

    Only ``torch.load(weights_only=True)`` is used (plus ``argparse.Namespace``, which the original
    ``save_model`` stores as ``args``); files holding other pickled objects are refused. The
    weights are taken from ``model`` / ``module`` (DeepSpeed) / ``state_dict`` / ``model_state``
    and the prefixes ``module.``, ``_orig_mod.``, ``backbone.`` are stripped. ``encoder.`` is kept:
    in pre-training files it separates the encoder from the decoder.
    """
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"original checkpoint not found: {path}; fix: check the path")
    obj = load_torch_file(path, safe_globals=_SAFE_GLOBALS, refused_error=CheckpointConversionError)
    return _strip_prefixes(_unwrap(obj, path))


def _unwrap(obj: Any, source: object) -> dict[str, Tensor]:
    """Descend into the training-script containers until a flat name -> tensor dict is found."""
    while isinstance(obj, Mapping):
        if any(isinstance(v, Tensor) for v in obj.values()):
            bad = sorted(str(k) for k, v in obj.items() if not isinstance(v, Tensor))
            if bad:
                raise CheckpointConversionError(
                    f"state dict in {source} has non-tensor entries {bad[:10]}; expected only "
                    "name -> tensor. Fix: remove them and re-save the state dict."
                )
            return {str(k): v for k, v in obj.items()}
        inner = next((obj[k] for k in _CONTAINER_KEYS if isinstance(obj.get(k), Mapping)), None)
        if inner is None:
            raise CheckpointConversionError(
                f"no state dict found in {source}: top-level keys {sorted(map(str, obj))[:20]}; "
                f"expected tensors or one of {list(_CONTAINER_KEYS)} holding them. Fix: save "
                "the model's state_dict() itself or under 'model'."
            )
        obj = inner
    raise CheckpointConversionError(
        f"{source} holds a {type(obj).__name__}, not a state dict. Fix: save model.state_dict()."
    )


def _strip_prefixes(state_dict: Mapping[str, Tensor]) -> dict[str, Tensor]:
    """Remove wrapper prefixes (any order, repeated) from every key; collisions are an error."""
    out: dict[str, Tensor] = {}
    for key, value in state_dict.items():
        new = key
        while True:
            prefix = next((p for p in _STRIP_PREFIXES if new.startswith(p)), None)
            if prefix is None:
                break
            new = new[len(prefix) :]
        if new in out:
            raise CheckpointConversionError(
                f"keys collide after removing wrapper prefixes {list(_STRIP_PREFIXES)}: {key!r} "
                f"-> {new!r} also exists. Fix: keep one copy of the weights in the file."
            )
        out[new] = value
    return out


# --------------------------------------------------------------------------------------------
# Conversion to our layout
# --------------------------------------------------------------------------------------------
@dataclass
class Converted:
    state_dict: dict[str, Tensor]
    num_positions: int | None  # N from a stored fixed table, when the file had one


def _check_fixed_table(key: str, value: Tensor) -> int:
    """Accept a stored position table only if it is the fixed sinusoid one; return its length N."""
    if value.ndim not in (2, 3) or (value.ndim == 3 and value.shape[0] != 1):
        raise CheckpointConversionError(
            f"{key!r} has shape {tuple(value.shape)}; expected a position table (1, N, dim)."
        )
    table = value.detach().to(torch.float32).reshape(-1, value.shape[-1])  # (N, dim)
    tol = 1e-5 if value.dtype == torch.float32 else 1e-2
    expected = sinusoid_table(table.shape[0], table.shape[1])
    if not torch.allclose(table, expected, atol=tol, rtol=0):
        raise CheckpointConversionError(
            f"{key!r} {tuple(value.shape)} is a learned position embedding "
            "(use_learnable_pos_emb=True), not the fixed sinusoid table. transformers' VideoMAE "
            "(and this package) only has the fixed table, so converting would change the "
            "model's outputs; this checkpoint is not supported."
        )
    return int(table.shape[0])


def _pieces(key: str, value: Tensor, targets: tuple[str, ...]) -> list[Tensor]:
    """The tensor for each target: a fused qkv split by rows, anything else as it is."""
    if len(targets) != 3:
        return [value]
    if value.ndim != 2 or value.shape[0] % 3:
        raise CheckpointConversionError(
            f"{key!r} has shape {tuple(value.shape)}; expected (3 * dim, dim) to split "
            "into query/key/value."
        )
    return [p.clone() for p in value.chunk(3, dim=0)]


def _check_supported(state: Mapping[str, Tensor]) -> None:
    unsupported = unsupported_features(state)
    if unsupported:
        raise CheckpointConversionError(
            "checkpoint uses features that cannot be converted without changing its outputs:\n  "
            + "\n  ".join(unsupported)
        )


def _rename(state: Mapping[str, Tensor]) -> tuple[dict[str, Tensor], list[str], dict[str, int]]:
    """(converted tensors, keys with no row in the table, {position-table key: N})."""
    out: dict[str, Tensor] = {}
    source_of: dict[str, str] = {}
    unmatched: list[str] = []
    positions: dict[str, int] = {}
    for key, value in state.items():
        if not isinstance(value, Tensor):
            raise CheckpointConversionError(f"{key!r} is a {type(value).__name__}, not a tensor.")
        targets = original_targets(key)
        if targets is None:
            unmatched.append(key)
            continue
        if not targets:  # dropped on purpose: a stored fixed position table
            positions[key] = _check_fixed_table(key, value)
            continue
        for target, piece in zip(targets, _pieces(key, value, targets)):
            if target in out:
                raise CheckpointConversionError(
                    f"{key!r} and {source_of[target]!r} both map to {target!r}: the file holds "
                    "the same weights twice (e.g. with and without 'encoder.'). Fix: keep one."
                )
            out[target] = piece
            source_of[target] = key
    return out, unmatched, positions


def convert_original(original: Mapping[str, Tensor]) -> Converted:
    """Our in-memory state dict for an original one, plus the length of a stored position
    table (see :func:`convert_state_dict` for the rules)."""
    state = _strip_prefixes(original)
    _check_supported(state)
    out, unmatched, positions = _rename(state)
    if unmatched:
        raise CheckpointConversionError(
            f"{len(unmatched)} key(s) of the checkpoint have no counterpart in VideoMAE: "
            f"{sorted(unmatched)}. Expected original MCG-NJU/VideoMAE or VideoMAEv2 names such "
            "as 'encoder.blocks.0.attn.qkv.weight', 'blocks.0.mlp.fc1.weight', 'fc_norm.weight', "
            "'head.weight'. Fix: remove extra entries (e.g. a distillation head) before converting."
        )
    if len(set(positions.values())) > 1:
        raise CheckpointConversionError(
            f"stored position tables disagree on the number of tokens: {positions}."
        )
    check_shapes(out, dims(out))
    return Converted(out, next(iter(positions.values()), None))


def convert_state_dict(original: Mapping[str, Tensor]) -> dict[str, Tensor]:
    """Map an original state dict to transformers' in-memory VideoMAE names.

    ``qkv.weight`` is split by rows into query/key/value; ``q_bias``/``v_bias`` become
    ``query.bias``/``value.bias`` (key has none); ``blocks`` -> ``videomae.encoder.layer``,
    ``decoder.blocks`` -> ``decoder.decoder_layers``, encoder ``norm`` -> ``videomae.layernorm``,
    ``head`` -> ``classifier``. A stored fixed position table is verified and dropped. Unknown
    keys, unsupported features and shape mismatches raise :class:`CheckpointConversionError`.
    """
    return convert_original(original).state_dict
