"""The package's exception types: one small hierarchy, so callers can catch ours apart.

Each also derives from the built-in type that code written against earlier versions caught
(``ValueError``, ``OSError``, ``RuntimeError``), so ``except ValueError`` keeps working. Messages
name what was expected, what was got, the file when there is one, and the fix.
"""

from __future__ import annotations

import errno
import os

__all__ = [
    "CheckpointConversionError",
    "CheckpointError",
    "ConfigError",
    "DiskFullError",
    "InputError",
    "InputTypeError",
    "VideoDecodeError",
    "VideoMAEError",
]


class VideoMAEError(Exception):
    """Base class of every error this package raises on purpose."""


class InputError(VideoMAEError, ValueError):
    """An argument, flag, list file or tensor the caller passed is not usable."""


class InputTypeError(InputError, TypeError):
    """An argument of the wrong kind (e.g. None where a video is expected); also a TypeError."""


class ConfigError(VideoMAEError, ValueError):
    """A model or run configuration holds a value that cannot work."""


class CheckpointError(VideoMAEError, OSError):
    """A checkpoint could not be found, downloaded, read or matched to the model."""


class CheckpointConversionError(VideoMAEError, ValueError):
    """An original-release checkpoint does not match any layout the converter knows."""


class VideoDecodeError(VideoMAEError, RuntimeError):
    """A video file could not be read. ``path`` and ``cause`` are kept as attributes."""

    def __init__(self, path: str | os.PathLike, cause: str) -> None:
        self.path = os.fspath(path)
        self.cause = cause
        super().__init__(f"cannot read video {self.path!r}: {cause}")


class DiskFullError(VideoMAEError, OSError):
    """No space (or quota) left while saving ``path``; what was there before is unchanged.

    ``errno`` is ``ENOSPC`` (or ``EDQUOT``) like the error it replaces, ``path`` the file or
    folder being saved.
    """

    def __init__(self, path: str | os.PathLike, cause: OSError | None = None) -> None:
        self.path = os.fspath(path)
        code = getattr(cause, "errno", None) or errno.ENOSPC
        why = "quota exceeded" if code == getattr(errno, "EDQUOT", -1) else "no space left"
        super().__init__(
            code,
            f"disk full ({why}) while writing {self.path}; the previous version of it (if any) "
            "is unchanged. Free some space on that file system (or choose another folder) and "
            "save again",
        )
        self.filename = self.path

    def __str__(self) -> str:
        return str(self.strerror)
