"""A run's state on disk: atomic, resumable checkpoints and the resume logic.

A checkpoint (``out_dir/checkpoint-{step:08d}.pt``) is a plain dict that loads with
``torch.load(weights_only=True)``: model, optimizer, gradient scaler and EMA states, every rank's
RNG states, the step and its position in the data order, the metrics so far (:class:`RunState`),
the resolved run settings (``"loop"``) and the run config (``"config"``). It holds only tensors,
dicts, lists, tuples, ints, floats, bools, strings and None; RNG states are converted to that
vocabulary by :func:`rng_state` and restored by :func:`set_rng_state`.
"""

from __future__ import annotations

import logging
import os
import random
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from videomae._io import atomic_write, remove_stale_temp_files
from videomae.errors import CheckpointError
from videomae.train import distributed as D
from videomae.train.precision import ModelEMA
from videomae.train.sharding import full_states, load_full_states

CHECKPOINT_PATTERN = re.compile(r"^checkpoint-(\d{8})\.pt$")
_REQUIRED_KEYS = {"step", "model", "optimizer", "rng"}

logger = logging.getLogger("videomae")


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


# ----------------------------------------------------------------------------- run state


@dataclass
class RunState:
    """What a run has done so far; saved in every checkpoint and restored on resume."""

    step: int = 0
    history: list[dict[str, Any]] = field(default_factory=list)
    eval_history: list[dict[str, Any]] = field(default_factory=list)
    bad_samples: dict[str, dict[str, Any]] = field(default_factory=dict)
    best: dict[str, Any] | None = None
    resumed_from: Path | None = None

    def count_skipped(self, skipped: list[dict[str, Any]]) -> None:
        """Record bad files a batch passed over (keyed by path, with a hit count)."""
        for s in skipped:
            entry = self.bad_samples.setdefault(str(s.get("path")), {**s, "hits": 0})
            entry["hits"] += 1


@dataclass
class Trainables:
    """The objects whose state a checkpoint carries besides :class:`RunState`."""

    model: torch.nn.Module
    optimizer: torch.optim.Optimizer
    scaler: torch.amp.GradScaler
    ema: ModelEMA | None


def checkpoint_to_resume(out_dir: Path, resume: bool, is_main: bool) -> Path | None:
    """The newest checkpoint of ``out_dir`` when resuming (None if there is none yet).

    Without ``resume`` an ``out_dir`` that already holds checkpoints is an error, so a run is
    never overwritten by accident. Resuming first removes temp files a killed write left.
    """
    found = latest_checkpoint(out_dir)
    if not resume:
        if found is not None:
            raise FileExistsError(
                f"{out_dir} already holds checkpoints ({found.name}); pass resume=True "
                "(--resume) to continue that run, or choose a new out_dir"
            )
        return None
    if is_main:
        remove_stale_temp_files(out_dir)  # left by a write that a kill interrupted
    return latest_checkpoint(out_dir)


def _check_state(state: Any, path: Path) -> dict[str, Any]:
    if not isinstance(state, dict) or not set(state) >= _REQUIRED_KEYS:
        got = sorted(state)[:8] if isinstance(state, dict) else type(state).__name__
        raise CheckpointError(
            f"{path} is not a training checkpoint: expected the keys {sorted(_REQUIRED_KEYS)}, "
            f"got {got}"
        )
    return state


def load_resumable(
    out_dir: Path, resume: bool, is_main: bool
) -> tuple[Path, dict[str, Any]] | None:
    """The newest intact checkpoint of ``out_dir`` and its state, when resuming (else None).

    A checkpoint that does not load (truncated, garbage, not a checkpoint) is skipped with a
    warning naming it and renamed ``*.pt.corrupt`` (on the main rank) so that later saves and
    resumes pass it by; the next older one is tried. None intact: :class:`CheckpointError`.
    """
    newest = checkpoint_to_resume(out_dir, resume, is_main)
    if newest is None:
        return None
    bad: list[Path] = []
    for path in reversed(list_checkpoints(out_dir)):
        try:
            state = _check_state(load_training_state(path), path)
        except Exception as err:  # torch raises RuntimeError, EOFError, UnpicklingError...
            why = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
            logger.warning("checkpoint %s cannot be loaded (%s); trying an older one", path, why)
            bad.append(path)
            continue
        if bad:
            logger.warning("resuming from %s, the newest intact checkpoint", path.name)
        if is_main:
            for b in bad:
                b.replace(b.with_name(b.name + ".corrupt"))
        return path, state
    raise CheckpointError(
        f"no intact checkpoint in {out_dir}: {', '.join(p.name for p in bad)} cannot be loaded "
        "(see the warnings above). Restore one from a backup, or start over in a new out_dir "
        "without --resume"
    )


def restore(
    state: dict[str, Any],
    parts: Trainables,
    info: D.DistInfo,
    device: torch.device,
    total_steps: int,
) -> RunState:
    """Load a checkpoint's ``state`` into ``parts`` (EMA onto ``device``) and this rank's RNGs;
    return the progress it records. Warns when the process count or the run length changed."""
    load_full_states(parts.model, parts.optimizer, state["model"], state["optimizer"])
    parts.scaler.load_state_dict(state["scaler"])
    if parts.ema is not None and state.get("ema") is not None:
        parts.ema.state = {k: v.to(device) for k, v in state["ema"].items()}
    rngs = state["rng"]
    if len(rngs) != info.world_size:
        warnings.warn(
            f"checkpoint was written by {len(rngs)} processes, now {info.world_size}; "
            "the data order is preserved but dropout RNG streams restart",
            stacklevel=3,
        )
    set_rng_state(rngs[info.rank % len(rngs)])
    old_total = state.get("loop", {}).get("total_steps")
    if old_total is not None and old_total != total_steps:
        warnings.warn(
            f"resuming a run planned for {old_total} steps with {total_steps}; "
            "the learning-rate schedule changes",
            stacklevel=3,
        )
    return RunState(
        step=int(state["step"]),
        history=list(state.get("history", [])),
        eval_history=list(state.get("eval_history", [])),
        bad_samples=dict(state.get("bad_samples", {})),
        best=state.get("best"),
    )


def save_checkpoint(
    out_dir: Path,
    parts: Trainables,
    run: RunState,
    position: tuple[int, int],
    extra: dict[str, Any],
    keep_last: int,
) -> Path | None:
    """Gather every rank's RNG states and write the checkpoint of ``run.step`` on rank 0.

    ``position`` is (epoch, index in epoch) of the next step; ``extra`` adds the ``"loop"`` and
    ``"config"`` entries. A sharded model is gathered whole first (every rank takes part), so
    the file is the same as without FSDP. Returns the written path on rank 0, None elsewhere.
    """
    info = D.get_info()
    rngs = [rng_state()]
    if info.distributed:
        gathered: list[Any] = [None] * info.world_size
        torch.distributed.all_gather_object(gathered, rngs[0])
        rngs = gathered
    whole = full_states(parts.model, parts.optimizer, info.is_main)
    if whole is None:
        return None
    ema = parts.ema
    state = {
        "model": whole[0],
        "optimizer": whole[1],
        "scaler": parts.scaler.state_dict(),
        "ema": {k: v.cpu() for k, v in ema.state.items()} if ema else None,
        "rng": rngs,
        "epoch": position[0],
        "index_in_epoch": position[1],
        "history": run.history,
        "eval_history": run.eval_history,
        "bad_samples": run.bad_samples,
        "best": run.best,
        **extra,
    }
    return save_training_state(out_dir, run.step, state, keep_last=keep_last)
