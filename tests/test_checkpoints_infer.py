"""Config inference from an original state dict: shapes, released sizes, overrides."""

from __future__ import annotations

import pytest
import torch
from test_checkpoints_convert import make_original, ref_sinusoid

from videomae.checkpoints.infer import infer_config
from videomae.checkpoints.original import convert_state_dict
from videomae.errors import CheckpointConversionError


def test_stored_position_tables():
    sd = make_original("mean", depth=1)
    n = 8 * 16  # 16 frames / tubelet 2, (32 / 8) ** 2
    sd["pos_embed"] = ref_sinusoid(n, 32)[None]
    cfg = infer_config(sd, image_size=32, num_attention_heads=4)
    assert cfg["num_frames"] == 16  # read off the fixed table, which is then dropped
    assert "pos_embed" not in str(sorted(convert_state_dict(sd)))
    with pytest.raises(CheckpointConversionError, match="128 tokens"):
        infer_config(sd, image_size=32, num_frames=4, num_attention_heads=4)
    sd["pos_embed"] = torch.randn(1, n, 32) * 0.02
    with pytest.raises(CheckpointConversionError, match="learned position embedding"):
        convert_state_dict(sd)


def test_overrides_cannot_contradict_tensors_and_heads_need_known_width():
    sd = make_original("mean", depth=1)
    with pytest.raises(CheckpointConversionError, match="num_attention_heads=..."):
        infer_config(sd)  # width 32 is not a released size
    with pytest.raises(CheckpointConversionError, match="hidden_size=64 contradicts"):
        infer_config(sd, num_attention_heads=4, hidden_size=64)
    cfg = infer_config(sd, num_attention_heads=4, num_frames=8, image_size=320)
    assert (cfg["num_frames"], cfg["image_size"]) == (8, 320)


# ------------------------------------------------------------------------------------------
# Shape inference for every released size (one layer each, uninitialised tensors)
# ------------------------------------------------------------------------------------------
def _fake(kind, dim, inner, patch, dec_dim=None, dec_inner=None):
    pre = "encoder." if kind == "pretrain" else ""
    sd = {
        pre + "patch_embed.proj.weight": torch.empty(dim, 3, 2, patch, patch),
        pre + "patch_embed.proj.bias": torch.empty(dim),
    }

    def block(b, d, i):
        sd.update(
            {
                b + "norm1.weight": torch.empty(d),
                b + "norm1.bias": torch.empty(d),
                b + "attn.qkv.weight": torch.empty(3 * d, d),
                b + "attn.q_bias": torch.empty(d),
                b + "attn.v_bias": torch.empty(d),
                b + "attn.proj.weight": torch.empty(d, d),
                b + "attn.proj.bias": torch.empty(d),
                b + "norm2.weight": torch.empty(d),
                b + "norm2.bias": torch.empty(d),
                b + "mlp.fc1.weight": torch.empty(i, d),
                b + "mlp.fc1.bias": torch.empty(i),
                b + "mlp.fc2.weight": torch.empty(d, i),
                b + "mlp.fc2.bias": torch.empty(d),
            }
        )

    block(pre + "blocks.0.", dim, inner)
    if kind == "pretrain":
        sd["encoder.norm.weight"] = sd["encoder.norm.bias"] = torch.empty(dim)
        sd["encoder_to_decoder.weight"] = torch.empty(dec_dim, dim)
        sd["mask_token"] = torch.empty(1, 1, dec_dim)
        block("decoder.blocks.0.", dec_dim, dec_inner)
        sd["decoder.norm.weight"] = sd["decoder.norm.bias"] = torch.empty(dec_dim)
        sd["decoder.head.weight"] = torch.empty(3 * 2 * patch * patch, dec_dim)
        sd["decoder.head.bias"] = torch.empty(3 * 2 * patch * patch)
    else:
        sd["fc_norm.weight"] = sd["fc_norm.bias"] = torch.empty(dim)
        sd["head.weight"], sd["head.bias"] = torch.empty(400, dim), torch.empty(400)
    return sd


# (name, dim, mlp, patch, heads, decoder dim, decoder mlp, decoder heads) of the releases
SIZES = [
    ("small", 384, 1536, 16, 6, 192, 768, 3),
    ("base", 768, 3072, 16, 12, 384, 1536, 6),
    ("large", 1024, 4096, 16, 16, 512, 2048, 8),
    ("huge-v1", 1280, 5120, 16, 16, 640, 2560, 8),
    ("huge-v2", 1280, 5120, 16, 16, 512, 2048, 8),
    ("giant-v2", 1408, 6144, 14, 16, 512, 2234, 8),  # mlp_ratio 48/11, patch 14
]


@pytest.mark.parametrize("size", SIZES, ids=[s[0] for s in SIZES])
def test_infer_config_for_released_sizes(size):
    _, dim, inner, patch, heads, dec_dim, dec_inner, dec_heads = size
    cfg = infer_config(_fake("pretrain", dim, inner, patch, dec_dim, dec_inner))
    assert (cfg["hidden_size"], cfg["intermediate_size"], cfg["patch_size"]) == (dim, inner, patch)
    assert (cfg["num_attention_heads"], cfg["num_hidden_layers"]) == (heads, 1)
    assert (cfg["decoder_hidden_size"], cfg["decoder_intermediate_size"]) == (dec_dim, dec_inner)
    assert cfg["decoder_num_attention_heads"] == dec_heads
    assert (cfg["image_size"], cfg["num_frames"], cfg["tubelet_size"]) == (224, 16, 2)
    assert cfg["use_mean_pooling"] is False and cfg["layer_norm_eps"] == 1e-6
    ft = infer_config(_fake("finetune", dim, inner, patch))
    assert ft["architectures"] == ["VideoMAEForVideoClassification"]
    assert (ft["num_labels"], ft["use_mean_pooling"], ft["num_attention_heads"]) == (
        400,
        True,
        heads,
    )


def _convert_flags() -> set[str]:
    import argparse

    from videomae.cli.parser import build_parser

    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    return set(sub.choices["convert"]._option_string_actions)


def test_converter_messages_name_real_cli_flags():
    import re
    from pathlib import Path

    import videomae.checkpoints as package
    from videomae.checkpoints.infer import CLI_FLAGS

    flags = _convert_flags()
    # every flag a message can name: the table, and any literal flag in the package's source
    named = set(CLI_FLAGS.values())
    for source in Path(package.__file__).parent.glob("*.py"):
        named |= set(re.findall(r"(?<![\w-])--[a-z][a-z-]+", source.read_text()))
    assert named and named <= flags, named - flags
    # and the messages actually raised: the encoder's and the decoder's heads of unknown widths
    for kind, given in (("mean", {}), ("pretrain", {"num_attention_heads": 4})):
        with pytest.raises(CheckpointConversionError) as info:
            infer_config(make_original(kind, depth=1), **given)
        said = set(re.findall(r"--[a-z][a-z-]+", str(info.value)))
        assert said and said <= flags, str(info.value)


@pytest.mark.parametrize("kind", ["classifier", "pretraining"])
def test_transformers_reads_converted_norm_eps_as_1e5(kind, tmp_path):
    """Converted checkpoints keep the original eps 1e-6 in fc_norm / decoder.norm; transformers
    builds those two norms with 1e-5 whatever config.json says: a small, documented difference
    (docs/compatibility.md), none when the eps is 1e-5."""
    import transformers
    from conftest import random_mask, tiny_kwargs

    import videomae
    from videomae.checkpoints.infer import ORIGINAL_LAYER_NORM_EPS

    name = "VideoMAEForVideoClassification" if kind == "classifier" else "VideoMAEForPreTraining"
    x = torch.randn(1, 4, 3, 32, 32)
    kwargs = {} if kind == "classifier" else {"bool_masked_pos": random_mask(1, 32, 24)}
    diffs = []
    for eps in (ORIGINAL_LAYER_NORM_EPS, 1e-5):
        config = videomae.VideoMAEConfig(
            **tiny_kwargs(layer_norm_eps=1e-6, fc_norm_eps=eps, decoder_norm_eps=eps)
        )
        torch.manual_seed(0)
        getattr(videomae, name)(config).save_pretrained(tmp_path / str(eps))
        ours = getattr(videomae, name).from_pretrained(tmp_path / str(eps))
        theirs = getattr(transformers, name).from_pretrained(tmp_path / str(eps)).eval()
        with torch.no_grad():
            diffs.append(float((ours(x, **kwargs).logits - theirs(x, **kwargs).logits).abs().max()))
    assert 1e-7 < diffs[0] < 1e-3, diffs  # the eps difference shows, and it is small
    assert diffs[1] < 1e-6, diffs  # same eps: same numbers
