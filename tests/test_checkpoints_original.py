"""Reading original `.pth` releases safely, and their state dict in our layout."""

from __future__ import annotations

import pytest
import torch
from test_checkpoints_convert import make_original

from videomae.checkpoints.original import convert_state_dict, load_original_checkpoint
from videomae.errors import CheckpointConversionError


def test_shape_mismatch_is_named():
    sd = make_original("mean", depth=2)
    sd["blocks.1.mlp.fc2.weight"] = torch.zeros(32, 48)
    with pytest.raises(CheckpointConversionError, match=r"layer\.1\.output\.dense\.weight"):
        convert_state_dict(sd)


class Payload:  # any non-tensor class in a pickle
    def __init__(self) -> None:
        self.x = 1


def test_pickled_object_is_refused(tmp_path):
    src = tmp_path / "evil.pth"
    torch.save({"model": make_original("mean", depth=1), "extra": Payload()}, src)
    with pytest.raises(CheckpointConversionError, match="refuse to unpickle") as err:
        load_original_checkpoint(src)
    assert "Payload" in str(err.value) and "torch.save" in str(err.value)


def test_container_and_prefix_handling(tmp_path):
    sd = make_original("mean", depth=1)
    src = tmp_path / "c.pth"
    torch.save({"model_state": {f"module.{k}": v for k, v in sd.items()}, "step": 1}, src)
    assert load_original_checkpoint(src).keys() == sd.keys()
    torch.save({"optimizer": {}, "epoch": 1}, src)
    with pytest.raises(CheckpointConversionError, match="no state dict found"):
        load_original_checkpoint(src)
