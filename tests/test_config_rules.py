"""Config validation (issue #14): bad fields fail with ConfigError naming the field, the value, the
file and the fix, before any memory is allocated; every released size still validates."""

import json
import math
import tracemalloc

import pytest
import transformers
from hypothesis import given, settings
from hypothesis import strategies as st

from videomae import (
    PRESETS,
    VideoMAEConfig,
    VideoMAEForPreTraining,
    VideoMAEForVideoClassification,
)
from videomae.config_rules import FIELD_LIMITS, MAX_PARAMETERS, MAX_TOKENS, estimate_parameters
from videomae.errors import ConfigError, VideoMAEError

BAD_FIELDS = [
    ("num_hidden_layers", -1),
    ("num_hidden_layers", 0),
    ("num_hidden_layers", None),
    ("num_hidden_layers", "12"),
    ("num_hidden_layers", 12.0),
    ("num_hidden_layers", True),
    ("hidden_size", 0),
    ("hidden_size", -768),
    ("hidden_size", 10**9),
    ("intermediate_size", 10**6),
    ("num_attention_heads", 0),
    ("num_frames", 0),
    ("num_frames", 10**6),
    ("tubelet_size", -2),
    ("image_size", 0),
    ("image_size", [224]),
    ("image_size", [224, "224"]),
    ("image_size", 10**5),
    ("patch_size", None),
    ("num_channels", 0),
    ("decoder_hidden_size", 0),
    ("decoder_num_hidden_layers", -1),
    ("hidden_dropout_prob", 1.5),
    ("attention_probs_dropout_prob", float("nan")),
    ("drop_path_rate", -0.1),
    ("layer_norm_eps", 0),
    ("layer_norm_eps", float("inf")),
    ("fc_norm_eps", "1e-6"),
    ("initializer_range", float("nan")),
    ("qv_bias", "yes"),
    ("use_mean_pooling", 1),
    ("hidden_act", None),
    ("position_embedding_grid", [8, 14]),
    ("position_embedding_grid", [8, 14, -14]),
]


@pytest.mark.parametrize("field, value", BAD_FIELDS)
def test_bad_field_is_a_config_error_naming_field_and_value(field, value):
    with pytest.raises(ConfigError) as info:
        VideoMAEConfig(**{field: value})
    message = str(info.value)
    assert f"config field {field}=" in message and "fix:" in message
    if not (isinstance(value, float) and math.isnan(value)):
        assert repr(value) in message


@pytest.mark.parametrize(
    "fields, expected",
    [
        ({"hidden_size": 100, "num_attention_heads": 12}, "hidden_size=100 is not divisible"),
        ({"decoder_hidden_size": 100}, "decoder_hidden_size=100 is not divisible"),
        ({"image_size": 200}, "image_size=200 is not divisible by patch_size=16"),
        ({"num_frames": 15}, "num_frames=15 is not divisible by tubelet_size=2"),
        ({"num_labels": 0}, "num_labels=0"),
        ({"num_labels": -3}, "num_labels=-3"),
        ({"num_labels": 10**9}, "num_labels=1000000000"),
        ({"id2label": ["a", "b"]}, "id2label must be a non-empty mapping"),
        ({"id2label": {"zero": "a"}}, "id2label has an entry"),
        ({"attn_implementation": "magic"}, "attn_implementation must be one of"),
        ({"validate": 1}, "names of VideoMAEConfig's own methods"),
        ({"num_frames": 4096, "image_size": 448}, f"above the limit of {MAX_TOKENS}"),
        ({"hidden_size": 16384, "intermediate_size": 65536, "num_attention_heads": 16}, "para"),
    ],
)
def test_inconsistent_or_oversized_configs(fields, expected):
    with pytest.raises(ConfigError, match="fix:") as info:
        VideoMAEConfig(**fields)
    assert expected in str(info.value)


def test_absurd_width_fails_before_allocating_memory():
    tracemalloc.start()
    with pytest.raises(ConfigError, match="hidden_size=1000000000"):
        VideoMAEForVideoClassification(VideoMAEConfig(hidden_size=10**9))
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < 50 * 2**20  # far below one row of a 10^9-wide layer (4 GB)


def test_config_file_errors_name_the_file(tmp_path):
    cases = {
        "list.json": "[1, 2, 3]",
        "bad.json": '{"hidden_size": 768,',
        "binary.json": b"\x00\xff\xfe garbage",
        "negative.json": json.dumps({"num_hidden_layers": -1}),
        "null.json": json.dumps({"hidden_size": None}),
    }
    for name, content in cases.items():
        path = tmp_path / name
        path.write_bytes(content if isinstance(content, bytes) else content.encode())
        with pytest.raises(ConfigError, match="fix:") as info:
            VideoMAEConfig.from_json_file(path)
        assert str(path) in str(info.value), name
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps({"image_size": 225}))
    with pytest.raises(ConfigError, match=r"config\.json.*image_size=225"):
        VideoMAEConfig.from_pretrained(folder)


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_every_released_size_validates_from_transformers(name, tmp_path):
    theirs = transformers.VideoMAEConfig(**PRESETS[name], num_labels=400)
    theirs.save_pretrained(tmp_path)
    ours = VideoMAEConfig.from_pretrained(tmp_path)
    assert ours.hidden_size == PRESETS[name]["hidden_size"]
    assert estimate_parameters(vars(ours)) < MAX_PARAMETERS / 10


def test_parameter_estimate_matches_a_built_model(tiny_config):
    model = VideoMAEForPreTraining(tiny_config)
    built = sum(p.numel() for p in model.parameters())
    estimate = estimate_parameters(vars(tiny_config))
    assert 0.8 * built <= estimate <= 1.2 * built  # biases and norms are left out


_VALUES = st.one_of(
    st.integers(min_value=-(2**40), max_value=2**40),
    st.integers(min_value=0, max_value=64),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.none(),
    st.text(max_size=4),
    st.lists(st.integers(min_value=-4, max_value=64), max_size=4),
)
_FIELDS = [*FIELD_LIMITS, "hidden_dropout_prob", "layer_norm_eps", "qv_bias", "hidden_act"]
_FIELDS += ["position_embedding_grid", "num_labels", "id2label", "fc_norm_eps"]


@settings(max_examples=60, deadline=None)
@given(st.dictionaries(st.sampled_from(_FIELDS), _VALUES, max_size=4))
def test_any_config_either_validates_or_raises_config_error(fields):
    try:
        config = VideoMAEConfig(**fields)
    except VideoMAEError as err:
        assert isinstance(err, ConfigError), repr(err)
        return
    assert config.num_tokens <= MAX_TOKENS
    assert estimate_parameters(vars(config)) <= MAX_PARAMETERS


def test_unknown_activation_fails_before_layers_are_built():
    config = VideoMAEConfig(hidden_act="nope", hidden_size=9600, intermediate_size=38400)
    tracemalloc.start()
    with pytest.raises(ConfigError, match="hidden_act='nope' is not supported; fix:"):
        VideoMAEForPreTraining(config)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < 50 * 2**20  # one 9600 x 38400 layer alone would be 1.5 GB


def test_a_swapped_file_is_not_read_as_a_default_config(tmp_path):
    path = tmp_path / "config.json"
    path.write_text(json.dumps({"do_resize": True, "crop_size": {"height": 224, "width": 224}}))
    with pytest.raises(ConfigError, match="not a model config.json") as info:
        VideoMAEConfig.from_json_file(path)
    assert str(path) in str(info.value)
