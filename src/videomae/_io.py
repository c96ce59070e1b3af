"""Atomic file and folder writes: a reader (or a run resumed after a kill) sees the old file or
folder or the new one, never half of one, a mix, or nothing.

- :func:`atomic_write` writes a file through a temp file beside it, fsyncs and renames it in.
- :func:`atomic_folder` builds a whole folder (a model folder) in a temp sibling and swaps it in:
  the old folder is renamed aside, the new one renamed in, then the old one deleted. Files of the
  old folder that the new save does not write and does not own (a README you put there) are
  carried over into the new folder, so nothing of yours is lost.
- Leftovers of a killed save (``.NAME.new-*`` / ``.NAME.old-*`` beside the folder) are put right
  by the next save (the old folder is put back when the kill came between the two renames);
  :func:`readable_folder` lets a load read the old folder in that state without changing it.
- Written files get ``0o666 & ~umask`` and folders ``0o777 & ~umask`` like any tool's (a folder
  that replaces an existing one keeps that one's mode).
- No space left (``ENOSPC``/``EDQUOT``) becomes :class:`~videomae.errors.DiskFullError` naming
  the file or folder being saved.

One writer per file or folder at a time. The only module of ours imported is ``errors`` (a leaf).
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import secrets
import shutil
import stat
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from videomae.errors import DiskFullError

__all__ = [
    "atomic_folder",
    "atomic_write",
    "atomic_write_bytes",
    "atomic_write_text",
    "current_umask",
    "readable_folder",
    "recover_folder",
    "remove_stale_temp_files",
]

logger = logging.getLogger("videomae")

_DISK_FULL = {errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)}


# ----------------------------------------------------------------------------- modes, errors


def current_umask() -> int:
    """The process umask, read from /proc where possible (setting it is not thread-safe)."""
    with contextlib.suppress(OSError, ValueError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _is_disk_full(err: BaseException | None) -> bool:
    return isinstance(err, OSError) and err.errno in _DISK_FULL


def fsync_dir(directory: Path) -> None:
    """Flush the directory entry so a rename survives a power cut (no-op where unsupported)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


class _Sink:
    """A file that remembers the OSError its ``write`` raised: ``torch.save`` turns it into a
    RuntimeError, and the original is needed to tell a full disk apart."""

    def __init__(self, f: Any) -> None:
        self._f = f
        self.error: OSError | None = None

    def write(self, data: Any) -> int:
        try:
            return self._f.write(data)
        except OSError as err:
            self.error = err
            raise

    def __getattr__(self, name: str) -> Any:
        return getattr(self._f, name)


# ----------------------------------------------------------------------------- files


def atomic_write(path: str | os.PathLike, write: Callable[[Any], Any]) -> Path:
    """Write through ``write(file)`` into a temp file beside ``path``, fsync, then rename.

    The file gets ``0o666 & ~umask``. A full disk raises :class:`DiskFullError` naming ``path``;
    the previous ``path`` is untouched and the temp file removed.
    """
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as err:
        if _is_disk_full(err):
            raise DiskFullError(path, err) from err
        raise
    sink = None
    try:
        os.chmod(tmp, 0o666 & ~current_umask())
        with os.fdopen(fd, "wb") as f:
            sink = _Sink(f)
            write(sink)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException as err:
        Path(tmp).unlink(missing_ok=True)
        if _is_disk_full(err) or _is_disk_full(sink and sink.error):
            raise DiskFullError(path, sink.error if sink and sink.error else err) from err
        raise
    fsync_dir(path.parent)
    return path


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    return atomic_write(path, lambda f: f.write(data))


def atomic_write_text(path: str | os.PathLike, text: str) -> Path:
    return atomic_write(path, lambda f: f.write(text.encode("utf-8")))


def remove_stale_temp_files(directory: str | os.PathLike) -> list[Path]:
    """Delete temp files of interrupted atomic writes (``.NAME.XXXX.tmp``) in ``directory``.

    Only the final names are ever read, so these are garbage; removing them on resume keeps a
    run folder clean after a SIGKILL.
    """
    removed = []
    for p in Path(directory).glob(".*.tmp"):
        if p.is_file():
            p.unlink(missing_ok=True)
            removed.append(p)
    return removed


# ----------------------------------------------------------------------------- folders


def _leftovers(path: Path, kind: str) -> list[Path]:
    """``.NAME.new-*`` (kind "new": a save in progress or killed) or ``.NAME.old-*`` (kind
    "old": the previous folder, renamed aside during a swap) beside ``path``, oldest first."""
    if not path.parent.is_dir():
        return []
    prefix = f".{path.name}.{kind}-"
    found = [p for p in path.parent.iterdir() if p.name.startswith(prefix) and p.is_dir()]
    return sorted(found, key=lambda p: p.stat().st_mtime)


def readable_folder(path: str | os.PathLike) -> Path:
    """``path``, or the previous folder a killed save left renamed aside when ``path`` is gone.

    Changes nothing on disk (a save may be running); the next save puts the folder back.
    """
    path = Path(path)
    if path.exists():
        return path
    aside = _leftovers(path, "old")
    if aside:
        logger.warning("%s is missing but a save was interrupted; reading %s", path, aside[-1])
        return aside[-1]
    return path


def recover_folder(path: str | os.PathLike) -> None:
    """Put right what a killed :func:`atomic_folder` left beside ``path``.

    Killed between its two renames: the old folder is renamed back. Temp folders of unfinished
    saves, and old folders a finished swap had not yet deleted, are removed.
    """
    path = Path(path)
    aside = _leftovers(path, "old")
    if aside and not path.exists():
        logger.warning("restoring %s from %s (a save of it was interrupted)", path, aside[-1])
        os.rename(aside.pop(), path)
    for leftover in aside + _leftovers(path, "new"):
        shutil.rmtree(leftover, ignore_errors=True)


def _link_or_copy(src: str, dst: str) -> None:
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


def _carry_over(old: Path, new: Path, replaces: Callable[[str], bool]) -> None:
    """Hard-link (or copy) into ``new`` what ``old`` holds that the save neither wrote nor owns."""
    for entry in old.iterdir():
        if (new / entry.name).exists() or replaces(entry.name):
            continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.copytree(entry, new / entry.name, symlinks=True, copy_function=_link_or_copy)
        elif entry.is_symlink():
            os.symlink(os.readlink(entry), new / entry.name)
        else:
            _link_or_copy(str(entry), str(new / entry.name))


def _swap_in(tmp: Path, path: Path) -> None:
    """Rename ``path`` aside, ``tmp`` in, then delete the old one; put it back on failure."""
    if not path.exists():
        os.rename(tmp, path)
        fsync_dir(path.parent)
        return
    aside = path.parent / f".{path.name}.old-{secrets.token_hex(4)}"
    os.rename(path, aside)
    try:
        os.rename(tmp, path)
    except BaseException:
        os.rename(aside, path)
        raise
    fsync_dir(path.parent)
    shutil.rmtree(aside, ignore_errors=True)


def _target_folder(path: str | os.PathLike) -> Path:
    path = Path(os.path.abspath(path))
    if path.is_symlink():
        path = Path(os.path.realpath(path))
    if path.exists() and not path.is_dir():
        raise NotADirectoryError(f"{path} is a file; saving needs a folder path")
    return path


def _disk_full_in(err: BaseException, tmp: Path, path: Path) -> DiskFullError | None:
    """``err`` as a DiskFullError naming the final path instead of the temp folder's."""
    if isinstance(err, DiskFullError):
        inner = Path(err.path)
        named = path / inner.relative_to(tmp) if inner.is_relative_to(tmp) else inner
        return DiskFullError(named, err)
    if _is_disk_full(err):
        return DiskFullError(path, err)  # type: ignore[arg-type]
    return None


@contextlib.contextmanager
def atomic_folder(
    path: str | os.PathLike, replaces: Callable[[str], bool] = lambda name: False
) -> Iterator[Path]:
    """Build a folder in a temp sibling (yielded) and swap it in as a whole when the block ends.

    ``replaces(name)``: True for a name of the old folder that belongs to what is being saved
    (e.g. a stale weight file of another layout), which is therefore not carried over; any other
    file the block did not write is hard-linked (or copied) into the new folder. An error or a
    kill inside the block leaves the old folder as it was; a full disk raises DiskFullError.
    """
    path = _target_folder(path)
    try:
        recover_folder(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.new-", dir=path.parent))
    except OSError as err:
        if _is_disk_full(err):
            raise DiskFullError(path, err) from err
        raise
    try:
        old_mode = stat.S_IMODE(path.stat().st_mode) if path.is_dir() else None
        os.chmod(tmp, old_mode if old_mode is not None else 0o777 & ~current_umask())
        yield tmp
        if path.is_dir():
            _carry_over(path, tmp, replaces)
        fsync_dir(tmp)
        _swap_in(tmp, path)
    except BaseException as err:
        shutil.rmtree(tmp, ignore_errors=True)
        full = _disk_full_in(err, tmp, path)
        if full is not None:
            raise full from err
        raise
