"""What callers pass as videos: one splitter into single videos, and the frame layouts.

:func:`split_videos` is the one place that decides whether an input is one video or a batch and
what a single video may be (a file path, a 4-D array or tensor, or a list of frames). The
processors and the inference API call it with the flags that say which of these they take.
:func:`frame_to_hwc` (numpy, per frame) and :func:`video_to_tchw` (torch, per video) then bring
a single video's frames into one layout, finding the channel dim with
:func:`infer_channels_first`.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from videomae.errors import InputError, InputTypeError

__all__ = ["frame_to_hwc", "frames_of", "infer_channels_first", "split_videos", "video_to_tchw"]


def is_pil(x: Any) -> bool:
    try:
        from PIL import Image
    except ImportError:  # pragma: no cover - pillow is a dependency
        return False
    return isinstance(x, Image.Image)


def is_array(x: Any) -> bool:
    return isinstance(x, (np.ndarray, torch.Tensor))


def is_path(x: Any) -> bool:
    return isinstance(x, (str, os.PathLike))


def is_frame(x: Any) -> bool:
    """A single frame: a PIL image or a 2-D / 3-D array or tensor."""
    return is_pil(x) or (is_array(x) and x.ndim in (2, 3))


def describe(x: Any) -> str:
    if is_array(x):
        return f"{type(x).__name__} of shape {tuple(x.shape)}"
    return type(x).__name__


# --------------------------------------------------------------------------------------------
# One video or a batch
# --------------------------------------------------------------------------------------------


def split_videos(
    videos: Any,
    *,
    paths: bool = False,
    frame_lists: bool = True,
    allow_empty: bool = False,
) -> tuple[list[Any], bool]:
    """Split ``videos`` into single videos -> ``(videos, single)``.

    A single video is a 4-D ``(T, H, W, C)`` / ``(T, C, H, W)`` array or tensor; with
    ``paths=True`` also a file path (``str`` or ``PathLike``, returned as given: the caller
    decodes it); with ``frame_lists=True`` also a non-empty list or tuple of frames (PIL images,
    2-D or 3-D arrays/tensors) or one such frame (a one-frame video). A batch is a 5-D array or
    tensor (split along its first dim) or a list/tuple of single videos. ``single`` is True when
    ``videos`` was one video. A list that holds only frames is one video when ``frame_lists``.
    An empty list is an error unless ``allow_empty`` (then ``([], False)``). Items are returned
    as given (arrays are not copied); a batch array gives its ``list(...)`` views.
    """
    if paths and is_path(videos):
        return [videos], True
    if is_array(videos):
        if videos.ndim == 5 and (videos.shape[0] or not allow_empty):
            _check_not_empty(videos)
            return list(videos), False
        if videos.ndim == 5:
            return [], False
        _check_not_empty(videos)
        if videos.ndim == 4 or (frame_lists and videos.ndim in (2, 3)):
            return [videos], True
        raise InputError(
            "a video must be a (T, H, W, C) or (T, C, H, W) array, or a batch of them "
            f"(B, T, ...), got shape {tuple(videos.shape)}"
        )
    if frame_lists and is_pil(videos):
        return [videos], True
    if isinstance(videos, (list, tuple)):
        if not videos:
            if allow_empty:
                return [], False
            raise InputError("got an empty list of videos; pass at least one video")
        if frame_lists and all(is_frame(v) for v in videos):
            for frame in videos:
                _check_not_empty(frame)
            return [list(videos)], True  # one video as a list of frames
        for video in videos:
            _check_video(video, paths=paths, frame_lists=frame_lists)
        return list(videos), False
    raise InputTypeError(
        f"videos must be {_kinds(paths, frame_lists)}, a 5-D batch, or a list of these, got "
        f"{describe(videos)}"
    )


def _check_not_empty(x: Any) -> None:
    """Arrays with a zero-sized dimension hold no pixels: an error, not a division by zero."""
    if is_array(x) and 0 in tuple(x.shape):
        raise InputError(
            f"got an array of shape {tuple(x.shape)} with an empty dimension; every frame "
            "count, height, width and channel count must be positive"
        )


def _kinds(paths: bool, frame_lists: bool) -> str:
    """The kinds of single video accepted, for error messages."""
    kinds = ["a path"] if paths else []
    kinds.append("a (T, H, W, C) / (T, C, H, W) array or tensor")
    if frame_lists:
        kinds.append("a list of frames")
    return ", ".join(kinds)


def _check_video(video: Any, *, paths: bool, frame_lists: bool) -> None:
    """Raise unless ``video`` (an item of a list) is one video of an accepted kind."""
    _check_not_empty(video)
    if (paths and is_path(video)) or (is_array(video) and video.ndim == 4):
        return
    if frame_lists and is_frame(video):
        return  # a one-frame video
    if is_array(video):
        raise InputError(
            f"a video must be a (T, H, W, C) or (T, C, H, W) array, got shape {tuple(video.shape)}"
        )
    if frame_lists and isinstance(video, (list, tuple)):
        if not video:
            raise InputTypeError("a video given as a list of frames must hold at least one frame")
        for frame in video:
            _check_not_empty(frame)
            if not is_frame(frame):
                raise InputTypeError(
                    "each frame must be a PIL image or an (H, W, C) / (C, H, W) array or "
                    f"tensor, got {describe(frame)}"
                )
        return
    raise InputTypeError(f"each video must be {_kinds(paths, frame_lists)}, got {describe(video)}")


def frames_of(video: Any) -> list[Any]:
    """A single video from :func:`split_videos` (no path) -> its list of frames."""
    if is_array(video) and video.ndim == 4:
        return list(video)
    if isinstance(video, (list, tuple)):
        return list(video)
    return [video]  # one frame


# --------------------------------------------------------------------------------------------
# Frame layouts
# --------------------------------------------------------------------------------------------


def infer_channels_first(shape: Sequence[int], fmt: str | None, what: str) -> bool:
    """True if a (..., a, b, c) frame shape is channels-first.

    Rule (as transformers): the channel dim has size 1 or 3. When both the first and the last
    of the three trailing dims qualify (e.g. (3, H, 3)) channels-first is assumed; pass
    ``input_data_format="channels_last"`` to say otherwise.
    """
    if fmt is not None:
        if fmt not in ("channels_first", "channels_last"):
            raise InputError(
                f"input_data_format must be 'channels_first' or 'channels_last', got {fmt!r}"
            )
        return fmt == "channels_first"
    first, last = shape[-3], shape[-1]
    if first in (1, 3):
        return True
    if last in (1, 3):
        return False
    raise InputError(
        f"cannot find the channel dim of {what} with shape {tuple(shape)}: expected "
        "(H, W, C) or (C, H, W) frames with C = 1 or 3 (RGB); convert RGBA/other layouts to RGB "
        "or pass input_data_format"
    )


def frame_to_hwc(frame: Any, input_data_format: str | None) -> np.ndarray:
    """A PIL image / array / tensor frame -> numpy (H, W, C)."""
    if is_pil(frame):
        if frame.mode not in ("RGB", "L"):
            frame = frame.convert("RGB")
        arr = np.asarray(frame)
        return arr[..., None] if arr.ndim == 2 else arr
    arr = frame.detach().cpu().numpy() if isinstance(frame, torch.Tensor) else np.asarray(frame)
    if arr.ndim == 2:
        return arr[..., None]
    if infer_channels_first(arr.shape, input_data_format, "a frame"):
        return arr.transpose(1, 2, 0)
    return arr


def _to_tensor(x: Any) -> torch.Tensor:
    if isinstance(x, torch.Tensor):
        return x
    if is_pil(x):
        x = np.asarray(x.convert("RGB") if x.mode not in ("RGB", "L") else x)
    arr = np.asarray(x)
    if arr.dtype == np.uint16 or arr.dtype.kind not in "uif":
        raise InputTypeError(f"frames must be uint8 (or float) arrays, got dtype {arr.dtype}")
    with warnings.catch_warnings():  # read-only arrays (e.g. from decoders) are never written
        warnings.simplefilter("ignore", UserWarning)
        return torch.from_numpy(arr)


def video_to_tchw(video: Any, fmt: str | None) -> torch.Tensor:
    """One video (4-D array/tensor, a frame, or list of frames) -> (T, C, H, W), no copy if possible."""
    if isinstance(video, (list, tuple)):
        frames = [_to_tensor(f) for f in video]
        frames = [f.unsqueeze(-1) if f.ndim == 2 else f for f in frames]
        shapes = sorted({tuple(f.shape) for f in frames})
        if len(shapes) > 1:
            raise InputError(
                f"the frames of one video must all have one shape, got {shapes[:4]}; fix: "
                "resize them to one size first (or pass them as separate videos)"
            )
        video = torch.stack(frames)
    else:
        video = _to_tensor(video)
    if video.ndim == 3:  # a single frame
        video = video.unsqueeze(0)
    if video.ndim != 4:
        raise InputError(
            f"a video must be (T, H, W, C) or (T, C, H, W), got shape {tuple(video.shape)}"
        )
    if infer_channels_first(video.shape, fmt, "the video"):
        return video
    return video.permute(0, 3, 1, 2)  # channels-last memory: the fast layout for the uint8 kernel
