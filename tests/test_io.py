"""Atomic files and folders (videomae._io): whole-folder swaps, the umask, a full disk, kills."""

from __future__ import annotations

import errno
import json
import os
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
import torch
from conftest import tiny_kwargs

from videomae import VideoMAEConfig, VideoMAEForVideoClassification, VideoMAEImageProcessor, _io
from videomae.errors import DiskFullError
from videomae.train.state import load_resumable, save_training_state

HELPER = Path(__file__).with_name("_save_helper.py")


def _model(seed: int, **kw) -> VideoMAEForVideoClassification:
    torch.manual_seed(seed)
    return VideoMAEForVideoClassification(VideoMAEConfig(**tiny_kwargs(num_labels=3, **kw)))


def _same(a: torch.nn.Module, b: torch.nn.Module) -> bool:
    sb = b.state_dict()
    return all(torch.equal(v, sb[k]) for k, v in a.state_dict().items())


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.parent.iterdir() if p.name.startswith(f".{folder.name}."))


def _mode(p: Path) -> int:
    return stat.S_IMODE(p.stat().st_mode)


# ----------------------------------------------------------------------------- whole folders


def test_save_over_a_folder_replaces_model_files_and_keeps_the_users(tmp_path: Path) -> None:
    folder = tmp_path / "m"
    _model(0).save_pretrained(folder, max_shard_size=40_000)  # sharded: index + shards
    assert (folder / "model.safetensors.index.json").is_file()
    (folder / "README.md").write_text("my notes\n")
    (folder / "extra").mkdir()
    (folder / "extra" / "labels.txt").write_text("a\nb\n")
    VideoMAEImageProcessor(size={"shortest_edge": 40}).save_pretrained(folder)

    new = _model(1)
    new.save_pretrained(folder)  # one file now: every stale shard and the index must go
    names = sorted(p.name for p in folder.iterdir())
    assert names == [
        "README.md",
        "config.json",
        "extra",
        "model.safetensors",
        "preprocessor_config.json",
    ]
    assert (folder / "README.md").read_text() == "my notes\n"
    assert (folder / "extra" / "labels.txt").read_text() == "a\nb\n"
    assert VideoMAEImageProcessor.from_pretrained(folder).size == {"shortest_edge": 40}
    assert _same(new, VideoMAEForVideoClassification.from_pretrained(folder))
    assert _leftovers(folder) == []


def test_an_error_inside_the_block_leaves_the_old_folder_as_it_was(tmp_path: Path) -> None:
    folder = tmp_path / "m"
    old = _model(0)
    old.save_pretrained(folder)
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    with pytest.raises(RuntimeError, match="boom"), _io.atomic_folder(folder) as tmp:
        (tmp / "config.json").write_text("{}")
        raise RuntimeError("boom")
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before
    assert _leftovers(folder) == []


def test_a_kill_between_the_renames_is_read_and_then_put_right(tmp_path: Path, caplog) -> None:
    """The state a SIGKILL between "old aside" and "new in" leaves: no folder, an aside copy and
    an unfinished temp folder. Loading reads the aside copy; the next save restores and cleans."""
    folder = tmp_path / "m"
    old = _model(0)
    old.save_pretrained(folder)
    os.rename(folder, tmp_path / ".m.old-dead")
    (tmp_path / ".m.new-dead").mkdir()
    (tmp_path / ".m.new-dead" / "config.json").write_text("{half")
    with caplog.at_level("WARNING", logger="videomae"):
        loaded = VideoMAEForVideoClassification.from_pretrained(folder)
    assert _same(old, loaded)
    assert "interrupted" in caplog.text and ".m.old-dead" in caplog.text
    assert not folder.exists()  # a load changes nothing on disk

    new = _model(1)
    new.save_pretrained(folder)
    assert _same(new, VideoMAEForVideoClassification.from_pretrained(folder))
    assert _leftovers(folder) == []


def test_a_file_where_the_folder_should_be_is_refused(tmp_path: Path) -> None:
    (tmp_path / "m").write_text("not a folder")
    with pytest.raises(NotADirectoryError, match="is a file"):
        _model(0).save_pretrained(tmp_path / "m")
    assert (tmp_path / "m").read_text() == "not a folder"


# ----------------------------------------------------------------------------- the umask


@pytest.mark.parametrize("umask", [0o022, 0o077], ids=["022", "077"])
def test_written_files_and_folders_follow_the_umask(tmp_path: Path, umask: int) -> None:
    old = os.umask(umask)
    try:
        model_dir = tmp_path / "model"
        _model(0).save_pretrained(model_dir)
        VideoMAEImageProcessor().save_pretrained(tmp_path / "proc")
        ckpt = save_training_state(tmp_path / "run", 1, {"model": {}})
        plain = _io.atomic_write_text(tmp_path / "plain.txt", "x")
    finally:
        os.umask(old)
    files = [*model_dir.iterdir(), tmp_path / "proc" / "preprocessor_config.json", ckpt, plain]
    assert {f.name: _mode(f) for f in files} == {f.name: 0o666 & ~umask for f in files}
    assert _mode(model_dir) == 0o777 & ~umask
    assert _io.current_umask() == old


def test_a_replaced_folder_keeps_its_own_mode(tmp_path: Path) -> None:
    folder = tmp_path / "m"
    _model(0).save_pretrained(folder)
    folder.chmod(0o750)
    _model(1).save_pretrained(folder)
    assert _mode(folder) == 0o750


# ----------------------------------------------------------------------------- a full disk


def _fail_nth_write(monkeypatch, n: int) -> dict:
    """Make the n-th write of an atomic file raise ENOSPC (like a full disk)."""
    calls = {"n": 0}
    real = _io._Sink.write

    def write(self, data):
        calls["n"] += 1
        if calls["n"] == n:
            self.error = OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
            raise self.error
        return real(self, data)

    monkeypatch.setattr(_io._Sink, "write", write)
    return calls


@pytest.mark.parametrize("n", [1, 2, 3, 4])
def test_disk_full_during_a_model_save_names_the_file_and_keeps_the_old(
    tmp_path: Path, monkeypatch, n: int
) -> None:
    """Sharded save: config.json, two shards and the index are writes 1..4."""
    folder = tmp_path / "m"
    old = _model(0)
    old.save_pretrained(folder)
    _fail_nth_write(monkeypatch, n)
    with pytest.raises(DiskFullError, match="disk full") as info:
        _model(1).save_pretrained(folder, max_shard_size=40_000)
    assert info.value.errno == errno.ENOSPC
    written = Path(info.value.path)
    assert written.parent == folder and written.name.endswith((".json", ".safetensors"))
    assert str(written) in str(info.value)
    monkeypatch.undo()
    assert _same(old, VideoMAEForVideoClassification.from_pretrained(folder))
    assert sorted(p.name for p in folder.iterdir()) == ["config.json", "model.safetensors"]
    assert _leftovers(folder) == []


@pytest.mark.parametrize("where", ["mkdtemp", "rename", "link"])
def test_disk_full_in_the_folder_swap_itself(tmp_path: Path, monkeypatch, where: str) -> None:
    folder = tmp_path / "m"
    old = _model(0)
    old.save_pretrained(folder)
    (folder / "README.md").write_text("mine\n")  # carried over with os.link
    full = OSError(errno.ENOSPC, "No space left on device")

    def fail(*args, **kwargs):
        raise full

    if where == "mkdtemp":
        monkeypatch.setattr(tempfile, "mkdtemp", fail)
    elif where == "link":
        monkeypatch.setattr(_io, "_link_or_copy", fail)
    else:
        real = os.rename
        monkeypatch.setattr(os, "rename", lambda a, b: fail() if ".new-" in str(a) else real(a, b))
    with pytest.raises(DiskFullError, match=f"disk full .* {folder}"):
        _model(1).save_pretrained(folder)
    monkeypatch.undo()
    assert _same(old, VideoMAEForVideoClassification.from_pretrained(folder))
    assert (folder / "README.md").read_text() == "mine\n"
    assert _leftovers(folder) == []


def test_disk_full_during_a_checkpoint_save(tmp_path: Path, monkeypatch) -> None:
    run = tmp_path / "run"
    save_training_state(run, 2, {"model": {"w": torch.ones(3)}, "optimizer": {}, "rng": []})
    _fail_nth_write(monkeypatch, 1)  # torch.save's first write
    with pytest.raises(DiskFullError, match="disk full .*checkpoint-00000004.pt"):
        save_training_state(run, 4, {"model": {"w": torch.zeros(1000)}, "optimizer": {}})
    monkeypatch.undo()
    assert sorted(p.name for p in run.iterdir()) == ["checkpoint-00000002.pt"]
    path, state = load_resumable(run, resume=True, is_main=True)
    assert path.name == "checkpoint-00000002.pt" and torch.equal(state["model"]["w"], torch.ones(3))


@pytest.fixture
def tiny_tmpfs(tmp_path: Path):
    """A 192 KiB tmpfs (needs root and mount rights; unmounted afterwards)."""
    mnt = tmp_path / "tmpfs"
    mnt.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=192k", "tmpfs", str(mnt)], capture_output=True
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({done.stderr.decode().strip()}); "
                    "the fault-injection tests above cover the same paths")  # fmt: skip
    try:
        yield mnt
    finally:
        subprocess.run(["umount", str(mnt)], check=True)


def test_a_real_full_disk_keeps_the_old_model(tiny_tmpfs: Path) -> None:
    """~120 KB model: the first save fits, a second one (old and new side by side) cannot."""
    folder = tiny_tmpfs / "m"
    old = _model(0)
    old.save_pretrained(folder)
    with pytest.raises(DiskFullError, match="disk full") as info:
        _model(1).save_pretrained(folder)
    assert Path(info.value.path).parent == folder
    assert _same(old, VideoMAEForVideoClassification.from_pretrained(folder))
    assert _leftovers(folder) == []


# ----------------------------------------------------------------------------- SIGKILL


@pytest.mark.parametrize("what", ["model", "checkpoint"])
def test_sigkill_at_every_step_of_a_save_leaves_the_old_or_the_new(
    tmp_path: Path, what: str
) -> None:
    """The helper forks a child per kill point k that SIGKILLs itself at the k-th file-system
    step of the save (each write, fsync, rename, link, delete), then loads what is on disk."""
    proc = subprocess.run(
        [sys.executable, str(HELPER), str(tmp_path), what],
        capture_output=True,
        text=True,
        timeout=240,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    rows = [json.loads(line) for line in proc.stdout.splitlines()]
    killed = [r for r in rows if r["killed"]]
    assert len(killed) >= 8, rows  # every step of the save was a kill point
    assert not rows[-1]["killed"] and rows[-1]["loaded"] == "new", rows[-1]
    assert all(r["loaded"] in ("old", "new") for r in rows), rows
    assert {r["loaded"] for r in killed} == {"old", "new"}, rows  # both sides of the swap hit
    assert all(r["leftovers_after_next_save"] == [] for r in rows), rows
