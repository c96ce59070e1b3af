"""SIGKILL at every file-system step of a save, for tests/test_io.py.

Usage: python tests/_save_helper.py DIR model|checkpoint

Saves an "old" model folder (or training checkpoint) in DIR, then for k = 1, 2, ... forks a child
that saves a "new" one and SIGKILLs itself at its k-th step (a write, fsync, rename, replace,
link, mkdtemp or delete), until a child finishes unkilled. After each child the parent loads what
is on disk, tells whether it is exactly the old or the new (else "broken: ..."), saves again
normally and lists the leftovers beside the target. One JSON line per k on stdout.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import sys
import tempfile
from pathlib import Path

import torch

torch.set_num_threads(1)
sys.path.insert(0, str(Path(__file__).parent))

from conftest import tiny_kwargs  # noqa: E402

from videomae import VideoMAEConfig, VideoMAEForVideoClassification, _io  # noqa: E402
from videomae.train.state import load_resumable, save_training_state  # noqa: E402


def model(seed: int) -> VideoMAEForVideoClassification:
    torch.manual_seed(seed)
    return VideoMAEForVideoClassification(VideoMAEConfig(**tiny_kwargs(num_labels=3)))


def die_at(k: int) -> None:
    """Patch the file-system calls of this (child) process so the k-th one SIGKILLs it."""
    count = [0]

    def wrap(owner, name):
        real = getattr(owner, name)

        def step(*args, **kwargs):
            count[0] += 1
            if count[0] == k:
                os.kill(os.getpid(), signal.SIGKILL)
            return real(*args, **kwargs)

        setattr(owner, name, step)

    for name in ("fsync", "rename", "replace", "link"):
        wrap(os, name)
    wrap(shutil, "rmtree")
    wrap(tempfile, "mkdtemp")
    wrap(_io._Sink, "write")


def check_model(target: Path, old, new) -> str:
    try:
        loaded = VideoMAEForVideoClassification.from_pretrained(target).state_dict()
    except Exception as err:  # reported, and the test fails on it
        return f"broken: {err}"
    for name, ref in (("old", old), ("new", new)):
        if all(torch.equal(v, loaded[k]) for k, v in ref.state_dict().items()):
            return name
    return "broken: neither old nor new"


def check_checkpoint(target: Path, old, new) -> str:
    try:
        path, state = load_resumable(target, resume=True, is_main=True)
    except Exception as err:
        return f"broken: {err}"
    name = {2: "old", 4: "new"}.get(int(state["step"]))
    ref = {"old": old, "new": new}.get(name)
    if ref is None or not torch.equal(_flat(ref), state["model"]["flat"]):
        return f"broken: {path.name} holds other weights"
    return name


def _flat(m) -> torch.Tensor:
    """The weights as one tensor: a checkpoint of few records keeps the kill points few."""
    return torch.cat([v.flatten() for v in m.state_dict().values()])


def save(what: str, target: Path, m, step: int) -> None:
    if what == "model":
        m.save_pretrained(target)
    else:
        state = {"model": {"flat": _flat(m)}, "optimizer": {}, "rng": []}
        save_training_state(target, step, state, keep_last=1)


def main() -> None:
    base, what = Path(sys.argv[1]), sys.argv[2]
    target = base / what
    old, new = model(0), model(1)
    check = check_model if what == "model" else check_checkpoint
    save(what, target, old, 2)
    for k in range(1, 200):
        pid = os.fork()
        if pid == 0:
            die_at(k)
            save(what, target, new, 4)
            os._exit(0)
        _, status = os.waitpid(pid, 0)
        killed = os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL
        loaded = check(target, old, new)
        if what == "checkpoint":  # back to the old one: drop the new, resume cleans temp files
            (target / "checkpoint-00000004.pt").unlink(missing_ok=True)
            save(what, target, old, 2)
            load_resumable(target, resume=True, is_main=True)
            leftovers = sorted(p.name for p in target.iterdir() if p.name.endswith(".tmp"))
        else:
            save(what, target, old, 2)
            leftovers = sorted(p.name for p in base.iterdir() if p.name.startswith(".model."))
        row = {"k": k, "killed": killed, "loaded": loaded, "leftovers_after_next_save": leftovers}
        print(json.dumps(row), flush=True)
        if not killed:
            break


if __name__ == "__main__":
    main()
