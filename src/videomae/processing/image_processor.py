"""``VideoMAEImageProcessor``: transformers' VideoMAE image processor in numpy + PIL.

The same parameters, defaults, ``preprocessor_config.json`` and outputs as transformers'
(max abs diff <= 1e-4): each frame is resized with PIL, center cropped, then rescaled and
normalised in transformers' order of operations.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from videomae.errors import InputError
from videomae.processing.batch import BatchFeature, pack
from videomae.processing.config import ProcessorBase
from videomae.processing.inputs import frame_to_hwc, frames_of, split_videos
from videomae.processing.ops import broadcast_channels, center_crop_any, resize_output

__all__ = ["VideoMAEImageProcessor", "VideoMAEImageProcessorPil"]


def _check_resizable(frame: np.ndarray) -> bool:
    """Raise unless a non-uint8 frame can go through PIL; True when it is on the [0, 1] scale."""
    if np.allclose(frame, frame.astype(np.int64)):
        if frame.min() < 0 or frame.max() > 255:
            raise InputError(
                f"frame values must lie in [0, 255] to be resized, got [{frame.min()}, "
                f"{frame.max()}]; clip or rescale them first"
            )
        return False
    if frame.min() >= 0 and frame.max() <= 1:
        return True
    raise InputError(
        f"float frame values must lie in [0, 1] or be whole numbers in [0, 255], got "
        f"[{frame.min()}, {frame.max()}]"
    )


def _pil_resize(frame: np.ndarray, out_hw: tuple[int, int], resample: int) -> np.ndarray:
    """Resize one (H, W, C) frame with PIL as transformers does (uint8 round trip).

    [0, 1] floats are resized on the 0..255 scale, then mapped back.
    """
    from PIL import Image

    rescale_back = False
    if frame.dtype != np.uint8:
        rescale_back = _check_resizable(frame)
        if rescale_back:
            frame = (frame.astype(np.float64) * 255).astype(np.float32)
        frame = frame.astype(np.uint8)
    image = Image.fromarray(frame[..., 0] if frame.shape[-1] == 1 else frame)
    out = np.asarray(image.resize((out_hw[1], out_hw[0]), resample=resample))
    out = out[..., None] if out.ndim == 2 else out
    if rescale_back:
        out = (out.astype(np.float64) * (1 / 255)).astype(np.float32)
    return out


class VideoMAEImageProcessor(ProcessorBase):
    """transformers-compatible VideoMAE image processor (numpy + PIL).

    Per frame: PIL resize (short side to ``size["shortest_edge"]``, long side
    ``int(size * long / short)``; or exactly ``(height, width)``), center crop to ``crop_size``,
    rescale by ``rescale_factor`` and normalise with ``image_mean`` / ``image_std``. Matches
    transformers' ``VideoMAEImageProcessor`` within 1e-4. Grayscale frames are repeated to three
    channels when the mean has three values; RGBA PIL images are converted to RGB.
    """

    def __call__(self, videos: Any, **kwargs: Any) -> BatchFeature:
        return self.preprocess(videos, **kwargs)

    def preprocess(
        self,
        videos: Any,
        return_tensors: str | None = None,
        input_data_format: str | None = None,
        **overrides: Any,
    ) -> BatchFeature:
        """Video(s) -> ``BatchFeature(pixel_values=(B, T, C, H, W) float32)``.

        ``videos``: a list of frames (PIL images, (H, W, C) or (C, H, W) arrays/tensors), a
        (T, H, W, C) / (T, C, H, W) array, or a list of such videos. ``return_tensors``: "pt",
        "np", or None (nested lists of (C, H, W) arrays, as transformers returns).
        Any constructor setting can be overridden for this call.
        """
        s = self._settings(overrides)
        out_videos = []
        for video in split_videos(videos)[0]:
            frames = [self._process_frame(f, s, input_data_format) for f in frames_of(video)]
            shapes = {f.shape for f in frames}
            if len(shapes) > 1:
                raise InputError(
                    f"frames of one video end up with different shapes {sorted(shapes)}; use "
                    "do_center_crop=True or size={'height': h, 'width': w}"
                )
            out_videos.append(self._rescale_normalize(np.stack(frames), s))  # (T, C, H, W)
        return pack(out_videos, return_tensors)

    def _process_frame(
        self, frame: Any, s: dict[str, Any], input_data_format: str | None
    ) -> np.ndarray:
        hwc = frame_to_hwc(frame, input_data_format)
        if s["do_resize"]:
            out_hw = resize_output(hwc.shape[0], hwc.shape[1], s["size"])
            hwc = _pil_resize(hwc, out_hw, s["resample"])
        chw = hwc.transpose(2, 0, 1)
        if s["do_center_crop"]:
            chw = center_crop_any(chw, s["crop_size"]["height"], s["crop_size"]["width"])
        return chw

    @staticmethod
    def _rescale_normalize(video: np.ndarray, s: dict[str, Any]) -> np.ndarray:
        """(T, C, H, W) -> float32 rescaled and normalised, in transformers' order of ops."""
        num_channels = video.shape[1]
        if num_channels == 1 and s["do_normalize"] and len(s["image_mean"]) == 3:
            video = np.repeat(video, 3, axis=1)
            num_channels = 3
        if s["do_rescale"]:
            x = (video.astype(np.float64) * s["rescale_factor"]).astype(np.float32)
        else:
            x = video.astype(np.float32)
        if s["do_normalize"]:
            mean = np.asarray(broadcast_channels(s["image_mean"], num_channels, "image_mean"))
            std = np.asarray(broadcast_channels(s["image_std"], num_channels, "image_std"))
            mean = mean.astype(np.float32)[:, None, None]
            std = std.astype(np.float32)[:, None, None]
            x = (x - mean) / std
        return np.ascontiguousarray(x, dtype=np.float32)


class VideoMAEImageProcessorPil(VideoMAEImageProcessor):
    """Same as :class:`VideoMAEImageProcessor` (transformers' PIL backend name).

    ``to_dict`` writes ``image_processor_type: "VideoMAEImageProcessor"`` like transformers.
    """
