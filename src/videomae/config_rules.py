"""What each field of a model config may hold: types and documented upper bounds, checked before
any memory is allocated (a 10^9-wide layer is refused, not attempted).

The limits are far above every released VideoMAE / VideoMAE V2 size (giant: hidden 1408, 40
layers, ~1.0e9 parameters) and below what would try to allocate more memory than a large
accelerator node holds. They are listed in docs/reliability.md.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from videomae.errors import ConfigError

__all__ = [
    "FIELD_LIMITS",
    "MAX_NUM_LABELS",
    "MAX_PARAMETERS",
    "MAX_TOKENS",
    "check_fields",
    "check_num_labels",
    "estimate_parameters",
]

# integer field -> (smallest, largest) accepted value
FIELD_LIMITS: dict[str, tuple[int, int]] = {
    "image_size": (1, 8192),
    "patch_size": (1, 1024),
    "num_channels": (1, 64),
    "num_frames": (1, 4096),
    "tubelet_size": (1, 64),
    "hidden_size": (1, 16384),
    "num_hidden_layers": (1, 256),
    "num_attention_heads": (1, 256),
    "intermediate_size": (1, 65536),
    "decoder_hidden_size": (1, 16384),
    "decoder_num_hidden_layers": (0, 256),
    "decoder_num_attention_heads": (1, 256),
    "decoder_intermediate_size": (1, 65536),
}
#: tokens of one clip at the configured size (attention is quadratic in it); base: 1568
MAX_TOKENS = 65536
#: parameters of the whole pre-training model (encoder + decoder); giant: ~1.0e9
MAX_PARAMETERS = 20 * 10**9
#: classes of a classification head (Kinetics-710: 710; ImageNet-21k: 21841)
MAX_NUM_LABELS = 1_000_000

_PROBABILITIES = ("hidden_dropout_prob", "attention_probs_dropout_prob", "drop_path_rate")
_POSITIVE_FLOATS = ("layer_norm_eps",)
_OPTIONAL_POSITIVE_FLOATS = ("fc_norm_eps", "decoder_norm_eps")
_BOOLEANS = ("qv_bias", "use_mean_pooling", "norm_pix_loss")


def _fail(name: str, value: Any, expected: str, fix: str = "") -> ConfigError:
    fix = fix or f"set {name} to {expected} in config.json or the keyword arguments"
    return ConfigError(f"config field {name}={value!r} is invalid: expected {expected}; fix: {fix}")


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _check_int(name: str, value: Any) -> None:
    low, high = FIELD_LIMITS[name]
    expected = f"an integer in [{low}, {high}]"
    if not _is_int(value) or not low <= value <= high:
        raise _fail(name, value, expected)


def _check_size(name: str, value: Any) -> None:
    """image_size / patch_size: an int or a (height, width) pair of ints, within the limits."""
    low, high = FIELD_LIMITS[name]
    expected = f"an integer in [{low}, {high}] or a [height, width] pair of them"
    values = value if isinstance(value, (list, tuple)) else [value]
    if isinstance(value, (list, tuple)) and len(value) != 2:
        raise _fail(name, value, expected)
    if not all(_is_int(v) and low <= v <= high for v in values):
        raise _fail(name, value, expected)


def _check_floats(fields: Mapping[str, Any]) -> None:
    for name in _PROBABILITIES:
        value = fields[name]
        if not _is_number(value) or not 0.0 <= value < 1.0:
            raise _fail(name, value, "a probability in [0, 1)")
    for name in _POSITIVE_FLOATS:
        value = fields[name]
        if not _is_number(value) or not 0.0 < value < 1.0:
            raise _fail(name, value, "a small positive number, e.g. 1e-12 or 1e-6")
    for name in _OPTIONAL_POSITIVE_FLOATS:
        value = fields[name]
        if value is not None and (not _is_number(value) or not 0.0 < value < 1.0):
            raise _fail(name, value, "null or a small positive number, e.g. 1e-6")
    value = fields["initializer_range"]
    if not _is_number(value) or not math.isfinite(value) or not 0.0 <= value <= 10.0:
        raise _fail("initializer_range", value, "a number in [0, 10], e.g. 0.02")


def _check_other(fields: Mapping[str, Any]) -> None:
    for name in _BOOLEANS:
        if not isinstance(fields[name], bool):
            raise _fail(name, fields[name], "true or false")
    act = fields["hidden_act"]
    if not isinstance(act, str) or not act:
        raise _fail("hidden_act", act, "the name of an activation such as 'gelu'")
    grid = fields["position_embedding_grid"]
    if grid is not None:
        ok = isinstance(grid, (list, tuple)) and len(grid) == 3
        if not ok or not all(_is_int(g) and 1 <= g <= MAX_TOKENS for g in grid):
            raise _fail(
                "position_embedding_grid", grid, "null or [t, h, w], three positive token counts"
            )


def _check_divisible(fields: Mapping[str, Any]) -> None:
    pairs = [
        ("num_frames", "tubelet_size", "sample a multiple of tubelet_size frames"),
        ("hidden_size", "num_attention_heads", "pick a head count that divides hidden_size"),
        (
            "decoder_hidden_size",
            "decoder_num_attention_heads",
            "pick a head count that divides decoder_hidden_size",
        ),
    ]
    for big, small, fix in pairs:
        if fields[big] % fields[small]:
            raise ConfigError(
                f"config field {big}={fields[big]} is not divisible by "
                f"{small}={fields[small]}; fix: {fix}"
            )
    image, patch = (_pair(fields[k]) for k in ("image_size", "patch_size"))
    if image[0] % patch[0] or image[1] % patch[1]:
        raise ConfigError(
            f"config field image_size={fields['image_size']} is not divisible by "
            f"patch_size={fields['patch_size']}; fix: use an image_size that is a multiple of "
            "patch_size"
        )


def _pair(value: Any) -> tuple[int, int]:
    return (value[0], value[1]) if isinstance(value, (list, tuple)) else (value, value)


def estimate_parameters(fields: Mapping[str, Any]) -> int:
    """Parameters of the pre-training model these (already type-checked) fields describe."""
    d, i, layers = fields["hidden_size"], fields["intermediate_size"], fields["num_hidden_layers"]
    dd, di = fields["decoder_hidden_size"], fields["decoder_intermediate_size"]
    ph, pw = _pair(fields["patch_size"])
    patch = fields["num_channels"] * fields["tubelet_size"] * ph * pw
    encoder = layers * (4 * d * d + 2 * d * i) + patch * d
    decoder = fields["decoder_num_hidden_layers"] * (4 * dd * dd + 2 * dd * di) + dd * (d + patch)
    return encoder + decoder


def _check_totals(fields: Mapping[str, Any]) -> None:
    (h, w), (ph, pw) = _pair(fields["image_size"]), _pair(fields["patch_size"])
    tokens = (fields["num_frames"] // fields["tubelet_size"]) * (h // ph) * (w // pw)
    if tokens > MAX_TOKENS:
        raise ConfigError(
            f"config describes {tokens} tokens per clip (num_frames={fields['num_frames']}, "
            f"image_size={fields['image_size']}, patch_size={fields['patch_size']}, "
            f"tubelet_size={fields['tubelet_size']}), above the limit of {MAX_TOKENS}; fix: "
            "use fewer frames or a smaller image_size"
        )
    params = estimate_parameters(fields)
    if params > MAX_PARAMETERS:
        raise ConfigError(
            f"config describes a model of about {params:.3g} parameters, above the limit of "
            f"{MAX_PARAMETERS:.3g}; fix: check hidden_size, intermediate_size and the layer "
            "counts (a typo such as an extra zero?)"
        )


def check_fields(fields: Mapping[str, Any]) -> None:
    """Raise ConfigError naming the first field whose type, range or divisibility cannot work."""
    for name in FIELD_LIMITS:
        if name in ("image_size", "patch_size"):
            _check_size(name, fields[name])
        else:
            _check_int(name, fields[name])
    _check_floats(fields)
    _check_other(fields)
    _check_divisible(fields)
    _check_totals(fields)


def check_num_labels(value: Any) -> int:
    """num_labels as given by a caller or a file, checked before a label table is built."""
    if not _is_int(value) or not 1 <= value <= MAX_NUM_LABELS:
        raise _fail("num_labels", value, f"an integer in [1, {MAX_NUM_LABELS}]")
    return value
