import json

import pytest
import transformers

from videomae import PRESETS, VideoMAEConfig
from videomae.config import _DEFAULTS


def test_defaults_match_transformers():
    ours, theirs = VideoMAEConfig(), transformers.VideoMAEConfig()
    for name in _DEFAULTS:
        if hasattr(theirs, name):
            assert getattr(ours, name) == getattr(theirs, name), name
    assert ours.num_labels == theirs.num_labels == 2
    assert ours.model_type == "videomae"


def test_transformers_reads_our_config(tmp_path):
    ours = VideoMAEConfig(
        hidden_size=48,
        num_attention_heads=4,
        qv_bias=False,
        id2label={0: "a", 1: "b", 2: "c"},
        drop_path_rate=0.1,
    )
    ours.save_pretrained(tmp_path)
    theirs = transformers.VideoMAEConfig.from_pretrained(tmp_path)
    assert theirs.hidden_size == 48 and theirs.qv_bias is False
    assert theirs.id2label == {0: "a", 1: "b", 2: "c"} and theirs.num_labels == 3


def test_we_read_transformers_config(tmp_path):
    theirs = transformers.VideoMAEConfig(
        num_frames=8,
        tubelet_size=1,
        use_mean_pooling=False,
        num_labels=7,
        problem_type="multi_label_classification",
    )
    theirs.save_pretrained(tmp_path)
    ours = VideoMAEConfig.from_pretrained(tmp_path)
    assert (ours.num_frames, ours.tubelet_size, ours.use_mean_pooling) == (8, 1, False)
    assert ours.num_labels == 7 and ours.problem_type == "multi_label_classification"
    # and back again: the dict survives a round trip unchanged
    again = VideoMAEConfig.from_dict(ours.to_dict())
    assert again == ours


def test_old_qkv_bias_name(tmp_path):
    (tmp_path / "config.json").write_text(
        json.dumps({"model_type": "videomae", "qkv_bias": False, "torch_dtype": "float16"})
    )
    cfg = VideoMAEConfig.from_pretrained(tmp_path)
    assert cfg.qv_bias is False and cfg.qkv_bias is False
    assert cfg.to_dict()["qkv_bias"] is False and cfg.to_dict()["qv_bias"] is False
    assert VideoMAEConfig(qkv_bias=False, qv_bias=True).qv_bias is True  # new name wins


def test_unknown_keys_survive_round_trip():
    cfg = VideoMAEConfig(my_custom_field=[1, 2])
    assert VideoMAEConfig.from_dict(cfg.to_dict()).my_custom_field == [1, 2]


@pytest.mark.parametrize(
    "name,hidden,layers,heads,mlp,dec_hidden,dec_heads",
    [
        ("small", 384, 12, 6, 1536, 192, 3),
        ("base", 768, 12, 12, 3072, 384, 6),
        ("large", 1024, 24, 16, 4096, 512, 8),
        ("huge", 1280, 32, 16, 5120, 640, 8),
        ("giant", 1408, 40, 16, 6144, 512, 8),
    ],
)
def test_presets_match_original_releases(name, hidden, layers, heads, mlp, dec_hidden, dec_heads):
    cfg = VideoMAEConfig.from_preset(name, num_labels=10)
    assert (cfg.hidden_size, cfg.num_hidden_layers, cfg.num_attention_heads) == (
        hidden,
        layers,
        heads,
    )
    assert cfg.intermediate_size == mlp
    assert (cfg.decoder_hidden_size, cfg.decoder_num_attention_heads) == (dec_hidden, dec_heads)
    assert cfg.num_labels == 10
    assert cfg.patch_size == (14 if name == "giant" else 16)
    assert set(PRESETS) == {"tiny", "small", "base", "large", "huge", "giant"}


def test_unknown_preset_and_bad_sizes():
    with pytest.raises(ValueError, match="unknown preset 'mini'"):
        VideoMAEConfig.from_preset("mini")
    with pytest.raises(ValueError, match="not divisible by tubelet_size"):
        VideoMAEConfig(num_frames=15)
    with pytest.raises(ValueError, match="not divisible by patch_size"):
        VideoMAEConfig(image_size=100)
    with pytest.raises(ValueError, match="attn_implementation"):
        VideoMAEConfig(attn_implementation="magic")
    with pytest.raises(ValueError, match="disagrees with id2label"):
        VideoMAEConfig(num_labels=3, id2label={0: "a"})


def test_wrong_model_type(tmp_path):
    (tmp_path / "config.json").write_text(json.dumps({"model_type": "vit"}))
    with pytest.raises(ValueError, match="model_type 'vit'"):
        VideoMAEConfig.from_pretrained(tmp_path)
