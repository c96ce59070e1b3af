"""Key layouts: transformers' on-disk/in-memory names and the original-release key table."""

from __future__ import annotations

import pytest
import torch
from test_checkpoints_convert import make_original

from videomae.checkpoints.keys import (
    ORIGINAL_NAMES,
    original_name,
    to_disk_layout,
    to_memory_layout,
)
from videomae.checkpoints.original import convert_state_dict
from videomae.errors import CheckpointConversionError


def test_to_memory_layout():
    sd = {
        "videomae.encoder.layer.3.attention.attention.q_bias": 1,
        "x.attention.attention.v_bias": 2,
        "other": 3,
    }
    assert to_memory_layout(sd) == {
        "videomae.encoder.layer.3.attention.attention.query.bias": 1,
        "x.attention.attention.value.bias": 2,
        "other": 3,
    }


# ------------------------------------------------------------------------------------------
# Original-release key map
# ------------------------------------------------------------------------------------------
def test_key_map_splits_qkv_and_renames():
    sd = make_original("pretrain", depth=1, seed=11)
    new = convert_state_dict(sd)
    qkv = sd["encoder.blocks.0.attn.qkv.weight"]
    att = "videomae.encoder.layer.0.attention.attention."
    assert torch.equal(new[att + "query.weight"], qkv[:32])
    assert torch.equal(new[att + "key.weight"], qkv[32:64])
    assert torch.equal(new[att + "value.weight"], qkv[64:])
    assert torch.equal(new[att + "query.bias"], sd["encoder.blocks.0.attn.q_bias"])
    assert att + "key.bias" not in new
    assert torch.equal(new["videomae.layernorm.weight"], sd["encoder.norm.weight"])
    assert torch.equal(
        new["decoder.decoder_layers.0.output.dense.weight"], sd["decoder.blocks.0.mlp.fc2.weight"]
    )
    assert torch.equal(
        new["videomae.encoder.layer.0.layernorm_after.bias"], sd["encoder.blocks.0.norm2.bias"]
    )
    assert new["decoder.head.weight"].shape == (384, 16)
    assert len(new) == len(sd) + 4  # qkv -> three tensors, in 1 encoder + 1 decoder block


def test_unknown_key_is_named():
    sd = make_original("mean", depth=1)
    sd["dist_head.weight"] = torch.zeros(5, 32)
    with pytest.raises(CheckpointConversionError, match=r"dist_head\.weight"):
        convert_state_dict(sd)


def test_layer_scale_and_cos_attn_are_refused():
    sd = make_original("mean", depth=1)
    sd["blocks.0.gamma_1"] = torch.ones(32)
    with pytest.raises(CheckpointConversionError, match=r"blocks\.0\.gamma_1.*layer scale"):
        convert_state_dict(sd)
    sd = make_original("mean", depth=1)
    sd["blocks.0.attn.scale"] = torch.ones(4, 1, 1)
    with pytest.raises(CheckpointConversionError, match="cosine attention"):
        convert_state_dict(sd)


def test_derived_inverses_round_trip():
    sd = make_original("pretrain", depth=2, seed=3)
    names = {original_name(n) for n in convert_state_dict(sd)}
    assert names == {k.removeprefix("encoder.") for k in sd}
    assert original_name("videomae.encoder.layer.7.attention.attention.key.weight") == (
        "blocks.7.attn.qkv.weight"
    )
    with pytest.raises(CheckpointConversionError, match="no counterpart"):
        original_name("videomae.pooler.weight")
    memory = {"a.attention.attention.query.bias": 1, "b.attention.attention.value.bias": 2}
    assert to_memory_layout(to_disk_layout(memory)) == memory
    assert None in ORIGINAL_NAMES.values()  # position tables: dropped on purpose
