"""Reconstruct a masked clip with a pre-training checkpoint and save the picture (PNG or GIF)."""

from __future__ import annotations

import os
from pathlib import Path

import torch

from videomae.errors import CheckpointError
from videomae.inference.views import square_size
from videomae.masking import make_mask
from videomae.modeling.models import VideoMAEForPreTraining
from videomae.processing.ops import center_crop, normalize, resize_short_side
from videomae.runtime import IMAGENET_DEFAULT_MEAN, IMAGENET_DEFAULT_STD, resolve_device
from videomae.video.decode import read_clip, read_frames
from videomae.viz.picture import save_reconstruction_gif, save_reconstruction_png
from videomae.viz.reconstruction import reconstruct

__all__ = ["RECONSTRUCTION_SUFFIXES", "reconstruct_video"]

RECONSTRUCTION_SUFFIXES = (".png", ".gif")


def _check_options(
    out: Path, mask_kind: str, mask_ratio: float, sampling_rate: int, start_frame: int | None
) -> None:
    if out.suffix.lower() not in RECONSTRUCTION_SUFFIXES:
        raise ValueError(f"--out must end in .png or .gif, got {out.name!r}")
    if mask_kind not in ("tube", "random"):
        raise ValueError(f"mask_kind must be 'tube' or 'random', got {mask_kind!r}")
    if not 0.0 < mask_ratio < 1.0:
        raise ValueError(f"mask_ratio must be in (0, 1), got {mask_ratio}")
    if sampling_rate < 1:
        raise ValueError(f"sampling_rate must be >= 1, got {sampling_rate}")
    if start_frame is not None and start_frame < 0:
        raise ValueError(f"start_frame must be >= 0, got {start_frame}")


def _load_with_decoder(id_or_dir: str | os.PathLike) -> VideoMAEForPreTraining:
    model, info = VideoMAEForPreTraining.from_pretrained(id_or_dir, output_loading_info=True)
    if any(k.startswith(("decoder.", "encoder_to_decoder")) for k in info["missing_keys"]):
        raise CheckpointError(
            f"{id_or_dir} has no decoder: reconstructions need a pre-training checkpoint "
            "(VideoMAEForPreTraining), not a fine-tuned classifier or bare encoder"
        )
    return model


def _clip_pixels(
    video: str | os.PathLike, num_frames: int, size: int, sampling_rate: int, start: int | None
) -> torch.Tensor:
    """The clip as (1, T, C, S, S) pixel values: short side resized, centre crop, ImageNet stats."""
    if start is None:
        clip = read_clip(video, num_frames, strategy="dense", sampling_rate=sampling_rate)
    else:
        clip = read_frames(video, [start + i * sampling_rate for i in range(num_frames)])
    frames = clip.frames.permute(0, 3, 1, 2)  # (T, C, H, W) uint8
    frames = center_crop(resize_short_side(frames, size), size)  # (T, C, S, S)
    return normalize(frames, IMAGENET_DEFAULT_MEAN, IMAGENET_DEFAULT_STD).unsqueeze(0)


def reconstruct_video(
    id_or_dir: str | os.PathLike,
    video: str | os.PathLike,
    out: str | os.PathLike,
    *,
    mask_ratio: float = 0.9,
    mask_kind: str = "tube",
    seed: int = 0,
    start_frame: int | None = None,
    sampling_rate: int = 4,
    fps: float = 4.0,
    device: str | torch.device | None = "cpu",
    scale: int | None = None,
) -> Path:
    """Reconstruct a masked clip of ``video`` with a pre-training checkpoint; save a picture.

    The clip has ``config.num_frames`` frames ``sampling_rate`` apart, starting at
    ``start_frame`` (default: the centred clip); the short side is resized to
    ``config.image_size``, then centre-cropped and normalised with the ImageNet mean/std (what
    the pre-training target assumes). ``mask_ratio`` of the tokens are hidden, drawn with
    ``seed``: whole tubes (``mask_kind="tube"``) or single tubelets (``"random"``); use the
    masking the model was pre-trained with. ``out`` ending in ``.png`` is a grid (see
    :func:`videomae.viz.picture.grid_size`); ``.gif`` an animation at ``fps``. ``scale``
    enlarges the frames (None: small clips to about 128 px). The picture states the hidden
    patches' error against a constant guess.
    """
    if scale is not None and scale < 1:
        raise ValueError(f"scale must be >= 1, got {scale}")
    out_path = Path(out)
    _check_options(out_path, mask_kind, mask_ratio, sampling_rate, start_frame)
    dev = resolve_device(device)
    model = _load_with_decoder(id_or_dir).to(dev).eval()
    cfg = model.config
    size = square_size(cfg.image_size, "config.image_size", "inference uses square crops")
    pixel_values = _clip_pixels(video, int(cfg.num_frames), size, sampling_rate, start_frame)
    generator = torch.Generator().manual_seed(int(seed))
    mask = make_mask(mask_kind, 1, cfg.token_grid, mask_ratio, generator=generator).to(dev)
    rows = reconstruct(
        model, pixel_values.to(dev), mask, mean=IMAGENET_DEFAULT_MEAN, std=IMAGENET_DEFAULT_STD
    )
    if out_path.suffix.lower() == ".gif":
        return save_reconstruction_gif(rows, out_path, fps=fps, scale=scale)
    return save_reconstruction_png(rows, out_path, scale=scale)
