"""Names of checkpoint tensors in each layout we read, and the maps between them.

Each layout is written down once, as a table; every inverse is derived from its table.

- ``DISK_NAMES``: transformers' save layout. The attention biases are ``q_bias``/``v_bias`` on
  disk (4.x and hub files) and ``query.bias``/``value.bias`` in memory (and some 5.x files).
- ``ORIGINAL_NAMES``: the original MCG-NJU/VideoMAE and OpenGVLab/VideoMAEv2 releases
  (timm-style ViTs, wrapper prefixes already stripped) -> our in-memory names. ``{}`` is a layer
  index; ``[encoder.]`` an optional prefix (pre-training files keep the encoder under it); three
  targets split the tensor by rows into (query, key, value); ``None`` marks a key dropped on
  purpose (a fixed position table: verified, then dropped). A key matching no row is an error.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import TypeVar

from videomae.errors import CheckpointConversionError

__all__ = [
    "DISK_NAMES",
    "ORIGINAL_NAMES",
    "looks_original",
    "original_name",
    "original_targets",
    "to_disk_layout",
    "to_memory_layout",
    "unsupported_features",
]

V = TypeVar("V")

# ---------------------------------------------------------------- transformers' save layout
#: in-memory name suffix -> on-disk name suffix
DISK_NAMES: dict[str, str] = {
    "attention.attention.query.bias": "attention.attention.q_bias",
    "attention.attention.value.bias": "attention.attention.v_bias",
}
_MEMORY_NAMES = {disk: memory for memory, disk in DISK_NAMES.items()}


def _rename_suffix(key: str, table: Mapping[str, str]) -> str:
    for old, new in table.items():
        if key.endswith(old):
            return key[: -len(old)] + new
    return key


def to_memory_layout(state_dict: Mapping[str, V]) -> dict[str, V]:
    """Map on-disk names (q_bias/v_bias) to the in-memory names (query.bias/value.bias)."""
    return {_rename_suffix(k, _MEMORY_NAMES): v for k, v in state_dict.items()}


def to_disk_layout(state_dict: Mapping[str, V]) -> dict[str, V]:
    """Map in-memory names to transformers' on-disk names (the inverse of to_memory_layout)."""
    return {_rename_suffix(k, DISK_NAMES): v for k, v in state_dict.items()}


# ---------------------------------------------------------------- original releases
Target = str | tuple[str, ...] | None

# one transformer block, relative to its stack
_BLOCK: dict[str, Target] = {
    "attn.qkv.weight": (
        "attention.attention.query.weight",
        "attention.attention.key.weight",
        "attention.attention.value.weight",
    ),
    "attn.q_bias": "attention.attention.query.bias",
    "attn.v_bias": "attention.attention.value.bias",
    "attn.proj.weight": "attention.output.dense.weight",
    "attn.proj.bias": "attention.output.dense.bias",
    "norm1.weight": "layernorm_before.weight",
    "norm1.bias": "layernorm_before.bias",
    "norm2.weight": "layernorm_after.weight",
    "norm2.bias": "layernorm_after.bias",
    "mlp.fc1.weight": "intermediate.dense.weight",
    "mlp.fc1.bias": "intermediate.dense.bias",
    "mlp.fc2.weight": "output.dense.weight",
    "mlp.fc2.bias": "output.dense.bias",
}


def _stack(source: str, target: str) -> dict[str, Target]:
    """The block rows under a stack prefix on both sides."""

    def prefixed(t: Target) -> Target:
        if isinstance(t, tuple):
            return tuple(target + x for x in t)
        return None if t is None else target + t

    return {source + k: prefixed(t) for k, t in _BLOCK.items()}


#: original name -> our in-memory name(s); see the module docstring for the notation
ORIGINAL_NAMES: dict[str, Target] = {
    "[encoder.]patch_embed.proj.weight": "videomae.embeddings.patch_embeddings.projection.weight",
    "[encoder.]patch_embed.proj.bias": "videomae.embeddings.patch_embeddings.projection.bias",
    "[encoder.]pos_embed": None,
    **_stack("[encoder.]blocks.{}.", "videomae.encoder.layer.{}."),
    "[encoder.]norm.weight": "videomae.layernorm.weight",
    "[encoder.]norm.bias": "videomae.layernorm.bias",
    "fc_norm.weight": "fc_norm.weight",
    "fc_norm.bias": "fc_norm.bias",
    "head.weight": "classifier.weight",
    "head.bias": "classifier.bias",
    "encoder_to_decoder.weight": "encoder_to_decoder.weight",
    "mask_token": "mask_token",
    "decoder.pos_embed": None,
    **_stack("decoder.blocks.{}.", "decoder.decoder_layers.{}."),
    "decoder.norm.weight": "decoder.norm.weight",
    "decoder.norm.bias": "decoder.norm.bias",
    "decoder.head.weight": "decoder.head.weight",
    "decoder.head.bias": "decoder.head.bias",
}

# Features of the original code that transformers' VideoMAE (and so ours) does not have.
_UNSUPPORTED: tuple[tuple[re.Pattern[str], str], ...] = (
    (
        re.compile(r".*\.gamma_[12]"),
        "layer scale (init_values > 0, keys gamma_1/gamma_2) is not part of transformers' "
        "VideoMAE; the released VideoMAE/VideoMAE V2 models were trained without it",
    ),
    (
        re.compile(r".*attn\.scale"),
        "cosine attention (cos_attn=True, key attn.scale) is not part of transformers' VideoMAE",
    ),
    (
        re.compile(r".*attn\.qkv\.bias"),
        "a full qkv bias (with a key bias) is not part of transformers' VideoMAE, whose key "
        "projection has no bias",
    ),
    (
        re.compile(r"(?:encoder\.)?cls_token"),
        "a CLS token is not part of VideoMAE (it pools by mean or takes token 0)",
    ),
)


def _as_tuple(target: Target) -> tuple[str, ...]:
    if target is None:
        return ()
    return target if isinstance(target, tuple) else (target,)


def _pattern(template: str) -> re.Pattern[str]:
    """A table key as a regex: ``{}`` -> a layer index, ``[encoder.]`` -> optional prefix."""
    body = re.escape(template)
    body = body.replace(re.escape("[encoder.]"), r"(?:encoder\.)?").replace(r"\{\}", r"(\d+)")
    return re.compile(body)


def _compile(table: Mapping[str, tuple[str, ...]]) -> list[tuple[re.Pattern[str], tuple[str, ...]]]:
    return [(_pattern(source), targets) for source, targets in table.items()]


_FROM_ORIGINAL = _compile({k: _as_tuple(t) for k, t in ORIGINAL_NAMES.items()})
# derived inverse: our name -> the original name (fine-tuned spelling, without "encoder.")
_TO_ORIGINAL = _compile(
    {
        target: (source.replace("[encoder.]", ""),)
        for source, targets in ORIGINAL_NAMES.items()
        for target in _as_tuple(targets)
    }
)


def _lookup(
    rules: list[tuple[re.Pattern[str], tuple[str, ...]]], key: str
) -> tuple[str, ...] | None:
    for pattern, templates in rules:
        match = pattern.fullmatch(key)
        if match is not None:
            return tuple(t.format(*match.groups()) for t in templates)
    return None


def original_targets(key: str) -> tuple[str, ...] | None:
    """Our name(s) for an original key: three for a fused qkv, ``()`` for a key dropped on
    purpose (a position table), None when no row of ORIGINAL_NAMES matches."""
    return _lookup(_FROM_ORIGINAL, key)


def original_name(name: str) -> str:
    """The original-release name of one of our in-memory names (the inverse of the table).

    Encoder keys come back without the ``encoder.`` prefix of pre-training files; query, key
    and value weights all come back as the fused ``attn.qkv.weight`` they were split from.
    """
    found = _lookup(_TO_ORIGINAL, name)
    if found is None:
        raise CheckpointConversionError(f"{name!r} has no counterpart in the original releases.")
    return found[0]


def unsupported_features(keys: Iterable[str]) -> list[str]:
    """``"key: why"`` for every key of a feature our models do not have."""
    return [
        f"{key}: {why}" for key in keys for pattern, why in _UNSUPPORTED if pattern.fullmatch(key)
    ]


def looks_original(state_dict: Mapping[str, object]) -> bool:
    """True for MCG-NJU / VideoMAEv2 key names (timm style), False for transformers' names."""
    return any(
        "patch_embed." in k or k.startswith("blocks.") or ".blocks." in k for k in state_dict
    )
