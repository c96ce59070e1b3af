"""Atomic writes, checkpoint rotation, safe loading and RNG round trips."""

from __future__ import annotations

import os
import random
from pathlib import Path

import numpy as np
import pytest
import torch

from videomae._io import atomic_write_text
from videomae.errors import CheckpointError
from videomae.train.state import (
    atomic_save,
    latest_checkpoint,
    list_checkpoints,
    load_resumable,
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


def _state(step: int) -> dict:
    return {"model": {"w": torch.full((4,), float(step))}, "optimizer": {}, "rng": []}


@pytest.mark.parametrize(
    "damage",
    [
        lambda p: p.write_bytes(p.read_bytes()[: len(p.read_bytes()) // 2]),  # truncated
        lambda p: p.write_bytes(b""),  # emptied
        lambda p: p.write_bytes(os.urandom(2000)),  # garbage
        lambda p: torch.save({"weights": torch.ones(2)}, p),  # loads, but is no checkpoint
    ],
    ids=["truncated", "empty", "garbage", "not-a-checkpoint"],
)
def test_resume_falls_back_past_a_corrupt_latest_checkpoint(tmp_path: Path, caplog, damage) -> None:
    for step in (2, 4, 6):
        save_training_state(tmp_path, step, _state(step), keep_last=None)
    latest = tmp_path / "checkpoint-00000006.pt"
    damage(latest)
    with caplog.at_level("WARNING", logger="videomae"):
        path, state = load_resumable(tmp_path, resume=True, is_main=True)
    assert path.name == "checkpoint-00000004.pt" and state["step"] == 4
    assert torch.equal(state["model"]["w"], torch.full((4,), 4.0))
    assert str(latest) in caplog.text and "cannot be loaded" in caplog.text
    assert "resuming from checkpoint-00000004.pt" in caplog.text
    # the corrupt file is kept aside for inspection and no longer counts as a checkpoint
    assert (tmp_path / "checkpoint-00000006.pt.corrupt").is_file()
    assert latest_checkpoint(tmp_path).name == "checkpoint-00000004.pt"


def test_resume_with_no_intact_checkpoint_is_a_clear_error(tmp_path: Path) -> None:
    for step in (2, 4):
        save_training_state(tmp_path, step, _state(step))
    for p in list_checkpoints(tmp_path):
        p.write_bytes(b"PK\x03\x04 not really")
    with pytest.raises(CheckpointError, match="no intact checkpoint in .*checkpoint-00000004.pt"):
        load_resumable(tmp_path, resume=True, is_main=True)


def test_resume_without_checkpoints_starts_fresh(tmp_path: Path) -> None:
    assert load_resumable(tmp_path, resume=True, is_main=True) is None
    assert load_resumable(tmp_path, resume=False, is_main=True) is None
