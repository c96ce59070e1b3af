"""Convert original VideoMAE (MCG-NJU/VideoMAE) and VideoMAE V2 (OpenGVLab/VideoMAEv2) `.pth`
checkpoints into transformers' VideoMAE layout and a `save_pretrained` folder.

The originals are timm-style ViTs: a fused ``attn.qkv.weight`` with separate ``q_bias``/``v_bias``
(the key bias is an implicit zero), ``norm1``/``norm2``, ``mlp.fc1``/``fc2``, LayerNorm eps 1e-6
everywhere and a fixed sinusoid position table that is never stored. Pre-training checkpoints put
the encoder under ``encoder.`` and add ``encoder_to_decoder``, ``mask_token`` and ``decoder.*``;
fine-tuned ones have no ``encoder.`` prefix and add ``fc_norm`` (mean pooling) or ``norm`` (token
0) and ``head``. Files are read with ``torch.load(weights_only=True)`` only.
"""

from __future__ import annotations

import argparse
import pickle
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from videomae.errors import CheckpointConversionError
from videomae.modeling.embeddings import sinusoid_table

__all__ = [
    "ORIGINAL_LAYER_NORM_EPS",
    "CheckpointConversionError",
    "convert_checkpoint",
    "convert_state_dict",
    "infer_config",
    "load_original_checkpoint",
    "load_original_model",
    "read_label_file",
]

ORIGINAL_LAYER_NORM_EPS = 1e-6
"""Every LayerNorm of the original releases (``partial(nn.LayerNorm, eps=1e-6)``)."""

# Where training scripts keep the weights, in the order the original loaders try them.
_CONTAINER_KEYS = ("model", "module", "state_dict", "model_state")
# Wrappers that prefix every key: DDP/DeepSpeed, torch.compile, mmaction-style backbones.
_STRIP_PREFIXES = ("module.", "_orig_mod.", "backbone.")
# num_attention_heads is not in the tensors: the released sizes (ViT-S/B/L/H, V2 ViT-g).
_ENCODER_HEADS = {384: 6, 768: 12, 1024: 16, 1280: 16, 1408: 16}
# Decoder heads by decoder width: S 192/3, B 384/6, L 512/8, H 640/8 (V1) or 512/8 (V2), g 512/8.
_DECODER_HEADS = {192: 3, 384: 6, 512: 8, 640: 8}
# Argument namespaces saved by the original `save_model` next to the weights (plain values only).
_SAFE_GLOBALS = [argparse.Namespace]


# --------------------------------------------------------------------------------------------
# Declarative key map: original (after prefix stripping) -> transformers' in-memory names.
# A rule with three targets splits the tensor by rows into (query, key, value).
# --------------------------------------------------------------------------------------------
_BLOCK_RULES: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        r"attn\.qkv\.weight",
        (
            "attention.attention.query.weight",
            "attention.attention.key.weight",
            "attention.attention.value.weight",
        ),
    ),
    (r"attn\.q_bias", ("attention.attention.query.bias",)),
    (r"attn\.v_bias", ("attention.attention.value.bias",)),
    (r"attn\.proj\.(weight|bias)", ("attention.output.dense.{1}",)),
    (r"norm1\.(weight|bias)", ("layernorm_before.{1}",)),
    (r"norm2\.(weight|bias)", ("layernorm_after.{1}",)),
    (r"mlp\.fc1\.(weight|bias)", ("intermediate.dense.{1}",)),
    (r"mlp\.fc2\.(weight|bias)", ("output.dense.{1}",)),
)
_BLOCK_STACKS: tuple[tuple[str, str], ...] = (
    (r"(?:encoder\.)?blocks\.(\d+)\.", "videomae.encoder.layer.{0}."),
    (r"decoder\.blocks\.(\d+)\.", "decoder.decoder_layers.{0}."),
)
_TOP_RULES: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        r"(?:encoder\.)?patch_embed\.proj\.(weight|bias)",
        ("videomae.embeddings.patch_embeddings.projection.{0}",),
    ),
    (r"(?:encoder\.)?norm\.(weight|bias)", ("videomae.layernorm.{0}",)),
    (r"fc_norm\.(weight|bias)", ("fc_norm.{0}",)),
    (r"head\.(weight|bias)", ("classifier.{0}",)),
    (r"encoder_to_decoder\.weight", ("encoder_to_decoder.weight",)),
    (r"mask_token", ("mask_token",)),
    (r"decoder\.norm\.(weight|bias)", ("decoder.norm.{0}",)),
    (r"decoder\.head\.(weight|bias)", ("decoder.head.{0}",)),
)


def _compile_rules() -> list[tuple[re.Pattern[str], tuple[str, ...]]]:
    rules = [(re.compile(p), t) for p, t in _TOP_RULES]
    for stack_pattern, stack_template in _BLOCK_STACKS:
        for block_pattern, targets in _BLOCK_RULES:
            rules.append(
                (
                    re.compile(stack_pattern + block_pattern),
                    tuple(stack_template + t for t in targets),
                )
            )
    return rules


_RULES = _compile_rules()
# Stored fixed position tables (encoder: `pos_embed` / `encoder.pos_embed`; the pre-training
# model's decoder table: top-level `pos_embed` or `decoder.pos_embed`): checked, then dropped.
_POS_TABLE = re.compile(r"(?:encoder\.|decoder\.)?pos_embed")
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


# --------------------------------------------------------------------------------------------
# Loading
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
        raise FileNotFoundError(f"original checkpoint not found: {path}")
    try:
        with torch.serialization.safe_globals(_SAFE_GLOBALS):
            obj = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as err:
        found = re.search(r"Unsupported global: GLOBAL ([\w.]+)", str(err))
        what = f" (it contains {found.group(1)})" if found else ""
        raise CheckpointConversionError(
            f"{path} holds pickled Python objects besides tensors{what}; we refuse to unpickle "
            "untrusted files (torch.load(weights_only=True) only). Fix: in an environment where "
            "you trust the file, re-save just the weights, e.g. "
            "`sd = torch.load(path, weights_only=False)['model']; torch.save(sd, 'clean.pth')`, "
            "and convert clean.pth."
        ) from err
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
# Key conversion
# --------------------------------------------------------------------------------------------
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


def _targets(key: str) -> list[str] | None:
    """The transformers name(s) for an original key, or None when no rule matches."""
    for pattern, templates in _RULES:
        match = pattern.fullmatch(key)
        if match is not None:
            return [t.format(*match.groups()) for t in templates]
    return None


@dataclass
class _Converted:
    state_dict: dict[str, Tensor]
    num_positions: int | None  # N from a stored fixed table, when the file had one


def _convert(original: Mapping[str, Tensor]) -> _Converted:
    state = _strip_prefixes(original)
    unsupported = [
        f"{key}: {why}" for key in state for pattern, why in _UNSUPPORTED if pattern.fullmatch(key)
    ]
    if unsupported:
        raise CheckpointConversionError(
            "checkpoint uses features that cannot be converted without changing its outputs:\n  "
            + "\n  ".join(unsupported)
        )
    out: dict[str, Tensor] = {}
    source_of: dict[str, str] = {}
    unmatched: list[str] = []
    positions: dict[str, int] = {}
    for key, value in state.items():
        if not isinstance(value, Tensor):
            raise CheckpointConversionError(f"{key!r} is a {type(value).__name__}, not a tensor.")
        if _POS_TABLE.fullmatch(key):
            positions[key] = _check_fixed_table(key, value)
            continue
        targets = _targets(key)
        if targets is None:
            unmatched.append(key)
            continue
        if len(targets) == 3:
            if value.ndim != 2 or value.shape[0] % 3:
                raise CheckpointConversionError(
                    f"{key!r} has shape {tuple(value.shape)}; expected (3 * dim, dim) to split "
                    "into query/key/value."
                )
            pieces = [p.clone() for p in value.chunk(3, dim=0)]
        else:
            pieces = [value]
        for target, piece in zip(targets, pieces):
            if target in out:
                raise CheckpointConversionError(
                    f"{key!r} and {source_of[target]!r} both map to {target!r}: the file holds "
                    "the same weights twice (e.g. with and without 'encoder.'). Fix: keep one."
                )
            out[target] = piece
            source_of[target] = key
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
    num_positions = next(iter(positions.values()), None)
    converted = _Converted(out, num_positions)
    _check_shapes(out, _dims(out))
    return converted


def convert_state_dict(original: Mapping[str, Tensor]) -> dict[str, Tensor]:
    """Map an original state dict to transformers' in-memory VideoMAE names.

    ``qkv.weight`` is split by rows into query/key/value; ``q_bias``/``v_bias`` become
    ``query.bias``/``value.bias`` (key has none); ``blocks`` -> ``videomae.encoder.layer``,
    ``decoder.blocks`` -> ``decoder.decoder_layers``, encoder ``norm`` -> ``videomae.layernorm``,
    ``head`` -> ``classifier``. A stored fixed position table is verified and dropped. Unknown
    keys, unsupported features and shape mismatches raise :class:`CheckpointConversionError`.
    """
    return _convert(original).state_dict


# --------------------------------------------------------------------------------------------
# Structure read off the converted tensors
# --------------------------------------------------------------------------------------------
@dataclass
class _Dims:
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


def _dims(state: Mapping[str, Tensor]) -> _Dims:
    pe_key = "videomae.embeddings.patch_embeddings.projection.weight"
    pe = state.get(pe_key)
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
    layers = _layer_indices(state, "videomae.encoder.layer.")
    if layers == 0:
        raise CheckpointConversionError("the checkpoint has no encoder blocks ('blocks.N.*').")
    fc1 = state.get("videomae.encoder.layer.0.intermediate.dense.weight")
    intermediate = int(fc1.shape[0]) if fc1 is not None else 4 * hidden
    head = state.get("classifier.weight")

    decoder_keys = [k for k in state if k.startswith(("decoder.", "encoder_to_decoder", "mask_"))]
    decoder_hidden = decoder_intermediate = None
    decoder_layers = 0
    if decoder_keys:
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
        if head is not None:
            raise CheckpointConversionError(
                "the checkpoint has both a pre-training decoder and a classification head; "
                "VideoMAE models have one or the other. Fix: drop 'head.*' or 'decoder.*'."
            )
    has_fc_norm = "fc_norm.weight" in state
    has_layernorm = "videomae.layernorm.weight" in state
    if head is not None and has_fc_norm == has_layernorm:
        raise CheckpointConversionError(
            "a classification head needs exactly one of 'fc_norm' (mean pooling) and the "
            f"encoder 'norm' (token 0); found fc_norm={has_fc_norm}, norm={has_layernorm}."
        )
    if head is None and has_fc_norm:
        raise CheckpointConversionError(
            "the checkpoint has 'fc_norm' but no 'head': a pooled backbone without a classifier "
            "has no VideoMAE counterpart. Fix: convert a checkpoint with its head, or drop "
            "'fc_norm.*' to get the bare encoder (VideoMAEModel)."
        )
    return _Dims(
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


def _expected_shapes(d: _Dims) -> dict[str, tuple[int, ...]]:
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
        Dd = d.decoder_hidden
        assert d.decoder_intermediate is not None
        out = d.channels * d.tubelet * d.patch * d.patch
        shapes["encoder_to_decoder.weight"] = (Dd, D)
        shapes["mask_token"] = (1, 1, Dd)
        for i in range(d.decoder_layers):
            shapes.update(
                _layer_shapes(f"decoder.decoder_layers.{i}.", Dd, d.decoder_intermediate, d.qv_bias)
            )
        shapes["decoder.norm.weight"] = shapes["decoder.norm.bias"] = (Dd,)
        shapes["decoder.head.weight"] = (out, Dd)
        shapes["decoder.head.bias"] = (out,)
    return shapes


def _check_shapes(state: Mapping[str, Tensor], d: _Dims) -> None:
    expected = _expected_shapes(d)
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


# --------------------------------------------------------------------------------------------
# Config
# --------------------------------------------------------------------------------------------
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


def _pair(value: int | tuple[int, int] | list[int], name: str) -> tuple[int, int]:
    if isinstance(value, int):
        return value, value
    if isinstance(value, (tuple, list)) and len(value) == 2:
        return int(value[0]), int(value[1])
    raise CheckpointConversionError(f"{name} must be an int or (height, width); got {value!r}.")


def _heads(width: int, table: dict[int, int], field: str, given: Any) -> int:
    heads = given if given is not None else table.get(width)
    if heads is None:
        raise CheckpointConversionError(
            f"cannot infer {field} for width {width} (the tensors do not store it; known widths "
            f"{table}). Fix: pass {field}=... (CLI: --{field.replace('_', '-')})."
        )
    if int(heads) <= 0 or width % int(heads):
        raise CheckpointConversionError(f"{field}={heads} does not divide the width {width}.")
    return int(heads)


def _config_from(converted: _Converted, overrides: Mapping[str, Any]) -> dict[str, Any]:
    d = _dims(converted.state_dict)
    overrides = {k: v for k, v in overrides.items() if v is not None}  # CLI flags left unset
    config: dict[str, Any] = {
        "model_type": "videomae",
        "architectures": [d.architecture],
        "image_size": 224,
        "patch_size": d.patch,
        "num_channels": d.channels,
        "num_frames": 16,
        "tubelet_size": d.tubelet,
        "hidden_size": d.hidden,
        "num_hidden_layers": d.layers,
        "num_attention_heads": _heads(
            d.hidden,
            _ENCODER_HEADS,
            "num_attention_heads",
            overrides.pop("num_attention_heads", None),
        ),
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
    if d.decoder_hidden is not None:
        config.update(
            decoder_hidden_size=d.decoder_hidden,
            decoder_num_hidden_layers=d.decoder_layers,
            decoder_intermediate_size=d.decoder_intermediate,
            decoder_num_attention_heads=_heads(
                d.decoder_hidden,
                _DECODER_HEADS,
                "decoder_num_attention_heads",
                overrides.pop("decoder_num_attention_heads", None),
            ),
        )
    else:
        overrides.pop("decoder_num_attention_heads", None)
    if d.num_labels is not None:
        config["num_labels"] = d.num_labels
        config["id2label"] = {i: f"LABEL_{i}" for i in range(d.num_labels)}
    if "qkv_bias" in overrides:  # the transformers 4.x name
        overrides.setdefault("qv_bias", overrides.pop("qkv_bias"))
    for key in _STRUCTURAL:
        if key in overrides and key in config and overrides[key] != config[key]:
            raise CheckpointConversionError(
                f"{key}={overrides[key]!r} contradicts the checkpoint's tensors, which give "
                f"{key}={config[key]!r}. Fix: drop that override."
            )
    frames_given = "num_frames" in overrides
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

    height, width = _pair(config["image_size"], "image_size")
    p, ts = config["patch_size"], config["tubelet_size"]
    if height % p or width % p:
        raise CheckpointConversionError(
            f"image_size {config['image_size']} is not a multiple of the patch size {p}."
        )
    per_step = (height // p) * (width // p)
    n = converted.num_positions
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
    return config


def infer_config(state_dict: Mapping[str, Tensor], **overrides: Any) -> dict[str, Any]:
    """A transformers-compatible VideoMAE config dict read off an original state dict.

    Sizes, layer counts, patch/tubelet/channels, qv_bias, pooling, labels and the decoder come from
    the tensor shapes; head counts from the released sizes' table; LayerNorm eps is the original
    1e-6 (``layer_norm_eps``, ``fc_norm_eps``, ``decoder_norm_eps``). image_size / num_frames are
    not stored (224 / 16 unless overridden, or read off a stored position table). Overrides
    replace any field but may not contradict the tensors; ``None`` values are ignored.
    """
    return _config_from(_convert(state_dict), overrides)


# --------------------------------------------------------------------------------------------
# Labels and models
# --------------------------------------------------------------------------------------------
def read_label_file(path: str | Path) -> list[str]:
    """Class names, one per line (blank trailing lines ignored), as in the original label maps."""
    lines = Path(path).read_text(encoding="utf-8").splitlines()
    while lines and not lines[-1].strip():
        lines.pop()
    names = [line.strip() for line in lines]
    blank = [i + 1 for i, name in enumerate(names) if not name]
    if blank:
        raise ValueError(f"label file {path} has empty lines {blank[:10]}: one name per line.")
    seen: set[str] = set()
    dupes = sorted({n for n in names if n in seen or seen.add(n)})
    if dupes:
        raise ValueError(f"label file {path} repeats names {dupes[:10]}: names must be unique.")
    return names


def _checkpoint_dtype(state: Mapping[str, Tensor]) -> torch.dtype:
    dtypes = {t.dtype for t in state.values() if t.is_floating_point()}
    return dtypes.pop() if len(dtypes) == 1 else torch.float32


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
    converted = _convert(load_original_checkpoint(src_path))
    if label_file is not None:
        names = read_label_file(label_file)
        num = _dims(converted.state_dict).num_labels
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
        config_overrides["id2label"] = dict(enumerate(names))
    config_dict = _config_from(converted, config_overrides)
    arch = config_dict["architectures"][0]
    from videomae.config import VideoMAEConfig
    from videomae.modeling import models

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
    """Convert an original `.pth` into a `save_pretrained` folder (config.json + model.safetensors).

    ``label_file``: class names, one per line, written to ``id2label`` (default ``LABEL_i``).
    ``config_overrides``: e.g. ``num_frames=8``, ``image_size=320``, ``num_attention_heads=...``.
    Returns ``out_dir``.
    """
    model = load_original_model(src_path, label_file=label_file, dtype=dtype, **config_overrides)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out)
    return out
