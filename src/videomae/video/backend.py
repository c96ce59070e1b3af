"""PyAV, the optional decoding backend (the ``video`` extra: ``pip install videomae[video]``).

``av`` is the PyAV module, or None when it is not installed; the package imports without it and
fails only when a video is read or written (:func:`require_av`).
"""

from __future__ import annotations

try:
    import av
except ImportError:  # pragma: no cover - exercised only without the extra
    av = None  # type: ignore[assignment]

__all__ = ["av", "ffmpeg_message", "require_av"]


def require_av() -> None:
    """Raise ImportError with the install command when PyAV is missing."""
    if av is None:
        raise ImportError(
            "video decoding needs PyAV; install it with `pip install videomae[video]` "
            "(or `pip install av`)"
        )


def ffmpeg_message(e: Exception) -> str:
    """The readable part of an FFmpeg error."""
    msg = getattr(e, "strerror", None) or str(e)
    return str(msg)
