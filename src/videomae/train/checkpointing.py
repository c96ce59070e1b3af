"""Atomic, resumable training checkpoints that load with ``torch.load(weights_only=True)``.

A checkpoint holds only tensors, dicts, lists, tuples, ints, floats, bools, strings and None, so
the safe loader accepts it. RNG states are converted to that vocabulary by :func:`rng_state` and
restored by :func:`set_rng_state`.
"""

from __future__ import annotations

import os
import random
import re
from pathlib import Path
from typing import Any

import numpy as np
import torch

from videomae._io import atomic_write

__all__ = ["atomic_save"]

CHECKPOINT_PATTERN = re.compile(r"^checkpoint-(\d{8})\.pt$")


def atomic_save(obj: Any, path: str | os.PathLike) -> Path:
    """``torch.save`` that never leaves a half-written file at ``path`` (temp file + rename)."""
    return atomic_write(path, lambda f: torch.save(obj, f))


# ----------------------------------------------------------------------------- RNG states


def rng_state() -> dict[str, Any]:
    """The global RNG states (torch CPU, CUDA if any, numpy, python) as safe-loadable values."""
    np_state = np.random.get_state()
    py_state = random.getstate()
    state: dict[str, Any] = {
        "torch": torch.get_rng_state(),
        "numpy": {
            "name": str(np_state[0]),
            "keys": torch.from_numpy(np.asarray(np_state[1], dtype=np.int64)),
            "pos": int(np_state[2]),
            "has_gauss": int(np_state[3]),
            "cached_gaussian": float(np_state[4]),
        },
        "python": {
            "version": int(py_state[0]),
            "internal": list(py_state[1]),
            "gauss_next": py_state[2],
        },
    }
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict[str, Any]) -> None:
    """Restore what :func:`rng_state` captured."""
    torch.set_rng_state(state["torch"])
    n = state["numpy"]
    np.random.set_state(
        (
            n["name"],
            n["keys"].numpy().astype(np.uint32),
            n["pos"],
            n["has_gauss"],
            n["cached_gaussian"],
        )
    )
    p = state["python"]
    random.setstate((p["version"], tuple(p["internal"]), p["gauss_next"]))
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(list(state["cuda"]))


# ----------------------------------------------------------------------------- checkpoint files


def checkpoint_path(directory: str | os.PathLike, step: int) -> Path:
    """``directory/checkpoint-{step:08d}.pt``."""
    return Path(directory) / f"checkpoint-{step:08d}.pt"


def list_checkpoints(directory: str | os.PathLike) -> list[Path]:
    """Checkpoint files in ``directory``, oldest step first (temp files are ignored)."""
    directory = Path(directory)
    if not directory.is_dir():
        return []
    found = []
    for p in directory.iterdir():
        m = CHECKPOINT_PATTERN.match(p.name)
        if m:
            found.append((int(m.group(1)), p))
    return [p for _, p in sorted(found)]


def latest_checkpoint(directory: str | os.PathLike) -> Path | None:
    """The checkpoint with the highest step in ``directory``, or None."""
    found = list_checkpoints(directory)
    return found[-1] if found else None


def save_training_state(
    directory: str | os.PathLike, step: int, state: dict[str, Any], keep_last: int | None = 3
) -> Path:
    """Write ``state`` atomically as ``checkpoint-{step:08d}.pt`` and keep the newest ``keep_last``.

    ``keep_last=None`` (or <= 0) keeps everything.
    """
    path = atomic_save({"step": int(step), **state}, checkpoint_path(directory, step))
    if keep_last is not None and keep_last > 0:
        for old in list_checkpoints(directory)[:-keep_last]:
            old.unlink(missing_ok=True)
    return path


def load_training_state(
    path: str | os.PathLike, map_location: str | torch.device = "cpu"
) -> dict[str, Any]:
    """Load a checkpoint written by :func:`save_training_state` with the safe loader."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(
            f"no checkpoint at {path}; expected a file written by save_training_state "
            "(checkpoint-XXXXXXXX.pt). Use latest_checkpoint(out_dir) to find one."
        )
    return torch.load(path, map_location=map_location, weights_only=True)
