"""Atomic writes, checkpoint rotation, safe loading and RNG round trips."""

from __future__ import annotations

import os
import random
from pathlib import Path

import numpy as np
import pytest
import torch

from videomae._io import atomic_write_text
from videomae.train.state import (
    atomic_save,
    latest_checkpoint,
    list_checkpoints,
    load_training_state,
    rng_state,
    save_training_state,
    set_rng_state,
)


def test_atomic_save_replaces_whole_file_and_cleans_up_on_failure(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "x.pt"
    atomic_save({"a": torch.arange(3)}, path)
    assert torch.equal(torch.load(path, weights_only=True)["a"], torch.arange(3))
    atomic_write_text(tmp_path / "t.txt", "hello\n")
    assert (tmp_path / "t.txt").read_text() == "hello\n"

    class Boom:
        def __reduce__(self):
            raise RuntimeError("cannot pickle")

    with pytest.raises(RuntimeError, match="cannot pickle"):
        atomic_save({"bad": Boom()}, path)
    assert torch.equal(torch.load(path, weights_only=True)["a"], torch.arange(3))  # old file kept
    assert sorted(os.listdir(path.parent)) == ["x.pt"]  # no temp file left behind


def test_rotation_latest_and_temp_files_ignored(tmp_path: Path) -> None:
    for step in (5, 10, 15, 20):
        save_training_state(tmp_path, step, {"w": torch.ones(1) * step}, keep_last=2)
    (tmp_path / ".checkpoint-00000025.pt.abc.tmp").write_bytes(b"partial")
    assert [p.name for p in list_checkpoints(tmp_path)] == [
        "checkpoint-00000015.pt",
        "checkpoint-00000020.pt",
    ]
    state = load_training_state(latest_checkpoint(tmp_path))
    assert state["step"] == 20 and float(state["w"]) == 20.0
    assert latest_checkpoint(tmp_path / "nothing") is None
    with pytest.raises(FileNotFoundError, match="latest_checkpoint"):
        load_training_state(tmp_path / "checkpoint-00000099.pt")


def test_rng_state_round_trips_through_the_safe_loader(tmp_path: Path) -> None:
    torch.manual_seed(1)
    np.random.seed(2)
    random.seed(3)
    np.random.randn()  # leaves a cached gaussian in numpy's state
    save_training_state(tmp_path, 1, {"rng": rng_state()})
    expected = (torch.rand(3), np.random.randn(3), [random.random() for _ in range(3)])
    torch.manual_seed(99)
    np.random.seed(99)
    random.seed(99)
    set_rng_state(load_training_state(latest_checkpoint(tmp_path))["rng"])
    got = (torch.rand(3), np.random.randn(3), [random.random() for _ in range(3)])
    assert torch.equal(expected[0], got[0])
    assert np.array_equal(expected[1], got[1]) and expected[2] == got[2]


def test_unsafe_objects_are_refused_by_the_loader(tmp_path: Path) -> None:
    path = tmp_path / "checkpoint-00000001.pt"
    torch.save({"step": 1, "obj": Path("x")}, path)
    with pytest.raises(Exception, match="[Ww]eights only"):
        load_training_state(path)
