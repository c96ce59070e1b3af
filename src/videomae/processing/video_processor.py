"""``VideoMAEVideoProcessor``: the fast torch path, same settings and config file.

uint8 frames are resized with torch's antialiased bilinear kernel (the same algorithm as
PIL's), cropped, and rescaled + normalised in one multiply-add, on the input's device. On CPU
the frames are split between the calling thread and a worker pool
(:mod:`videomae.processing.parallel`), because the uint8 resize kernel runs on one core.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import numpy as np
import torch

from videomae.processing.batch import BatchFeature, pack
from videomae.processing.config import (
    PROCESSOR_CONFIG_NAME,
    VIDEO_PROCESSOR_CONFIG_NAME,
    ProcessorBase,
)
from videomae.processing.inputs import is_path, split_videos, video_to_tchw
from videomae.processing.ops import (
    center_crop_any,
    interpolate,
    resize_output,
    scale_shift,
    torch_mode,
)
from videomae.processing.parallel import map_split, num_workers
from videomae.video.decode import read_clip

__all__ = ["VideoMAEVideoProcessor"]


def _decode(
    path: str | os.PathLike, num_frames: int, clip_kwargs: Mapping[str, Any] | None
) -> torch.Tensor:
    """One clip of a video file as (T, H, W, C) uint8 frames."""
    return read_clip(path, num_frames=num_frames, **dict(clip_kwargs or {})).frames


def _fused_scale_shift(
    s: dict[str, Any], num_channels: int, device: torch.device
) -> tuple[torch.Tensor | None, torch.Tensor | None]:
    """The settings' rescale + normalise as per-channel (scale, shift) on ``device``."""
    rescale = s["rescale_factor"] if s["do_rescale"] else None
    if s["do_normalize"]:
        scale, shift = scale_shift(num_channels, s["image_mean"], s["image_std"], rescale)
    else:
        scale, shift = scale_shift(num_channels, None, None, rescale)
    scale = None if scale is None else scale.to(device)
    shift = None if shift is None else shift.to(device)
    return scale, shift


def _pre_crop(
    video: torch.Tensor, out_hw: tuple[int, int], crop: tuple[int, int]
) -> tuple[torch.Tensor, tuple[int, int]]:
    """Crop the axes the resize leaves unchanged before resizing (exact; less to resize).

    Returns the cropped (T, C, H, W) video and the resize's output (h, w) for it.
    """
    h, w = video.shape[-2:]
    if out_hw[0] == h and crop[0] <= h:
        top = (h - crop[0]) // 2
        video, out_hw = video[:, :, top : top + crop[0]], (crop[0], out_hw[1])
    if out_hw[1] == w and crop[1] <= w:
        left = (w - crop[1]) // 2
        video, out_hw = video[..., left : left + crop[1]], (out_hw[0], crop[1])
    return video, out_hw


class VideoMAEVideoProcessor(ProcessorBase):
    """Fast VideoMAE preprocessing in torch, same settings and config file as the image processor.

    Takes uint8 (or float 0..255) videos as torch tensors or numpy arrays shaped (T, H, W, C) or
    (T, C, H, W), a 5-D batch, a list of them, lists of frames, or video file paths (decoded with
    :func:`videomae.video.decode.read_clip`). The layout is found from the dim of size 1 or 3
    (channels-first wins when both ends qualify; pass ``input_data_format`` to force it).

    Work happens on the input's device (or ``device=``): antialiased resize (PIL's algorithm;
    uint8 on CPU, float32 on GPU), crop, then one fused multiply-add for rescale + normalise.
    Axes that the resize leaves unchanged are cropped before resizing (exact). Output stays
    within 2/255 of the image processor's before normalisation.

    ``from_pretrained`` reads transformers' ``video_preprocessor_config.json`` first, then
    ``preprocessor_config.json`` (transformers' ``AutoVideoProcessor`` order).
    """

    _config_names = (VIDEO_PROCESSOR_CONFIG_NAME, PROCESSOR_CONFIG_NAME)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        torch_mode(self.resample)  # fail early on filters the torch path lacks

    def __call__(self, videos: Any, **kwargs: Any) -> BatchFeature:
        return self.preprocess(videos, **kwargs)

    def preprocess(
        self,
        videos: Any,
        return_tensors: str | None = "pt",
        device: str | torch.device | None = None,
        input_data_format: str | None = None,
        num_frames: int = 16,
        clip_kwargs: Mapping[str, Any] | None = None,
        **overrides: Any,
    ) -> BatchFeature:
        """Video(s) -> ``BatchFeature(pixel_values=(B, T, C, H, W) float32)`` on the device.

        ``num_frames`` and ``clip_kwargs`` (``strategy``, ``sampling_rate``, ``clip_idx``, ...)
        apply to file paths only. ``return_tensors``: "pt" (default), "np", or None (a list of
        per-video (T, C, H, W) tensors, for videos of different lengths).
        """
        s = self._settings(overrides)
        mode = torch_mode(s["resample"])
        items, _ = split_videos(videos, paths=True)
        tchw = [
            video_to_tchw(
                _decode(v, num_frames, clip_kwargs) if is_path(v) else v, input_data_format
            )
            for v in items
        ]
        if device is not None:
            tchw = [v.to(device, non_blocking=True) for v in tchw]
        outs = [self._process_video(v, s, mode) for v in tchw]
        return pack(outs, return_tensors)

    @staticmethod
    def _process_video(video: torch.Tensor, s: dict[str, Any], mode: str) -> torch.Tensor:
        """(T, C, H, W) -> (T, C', h, w) float32 on the video's device."""
        t, c, h, w = video.shape
        out_hw = resize_output(h, w, s["size"]) if s["do_resize"] else (h, w)
        crop = (s["crop_size"]["height"], s["crop_size"]["width"]) if s["do_center_crop"] else None
        out_c = 3 if c == 1 and s["do_normalize"] and len(s["image_mean"]) == 3 else c
        scale, shift = _fused_scale_shift(s, out_c, video.device)
        if crop is not None:
            video, out_hw = _pre_crop(video, out_hw, crop)
        if video.device.type != "cpu" and video.dtype == torch.uint8:
            video = video.float()  # GPU kernels resize float; values stay on the 0..255 scale
        out = torch.empty((t, out_c, *(crop or out_hw)), dtype=torch.float32, device=video.device)

        def run(part: slice) -> None:
            x = interpolate(video[part], out_hw, mode)  # returns the frames when no resize
            if crop is not None:
                x = center_crop_any(x, *crop)
            if x.device.type == "cpu" and x.dtype == torch.uint8 and not x.is_contiguous():
                # channels-last -> planar: numpy's strided copy beats torch's for 3 uint8 channels
                x = torch.from_numpy(np.ascontiguousarray(x.numpy()))
            o = out[part]
            o.copy_(x.expand(-1, out_c, -1, -1) if x.shape[1] != out_c else x)
            if scale is not None:
                o.mul_(scale)
            if shift is not None:
                o.add_(shift)

        workers = num_workers(t, video.device) if video.dtype == torch.uint8 else 1
        map_split(run, t, workers)
        return out
