"""The processors' output: ``BatchFeature`` and packing per-video results into one batch."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from videomae.errors import InputError

__all__ = ["BatchFeature", "pack"]


class BatchFeature(dict):
    """A dict of model inputs with attribute access (``out.pixel_values``) and ``.to(device)``."""

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(f"BatchFeature has no key {name!r}; keys: {list(self)}") from None

    def to(self, *args: Any, **kwargs: Any) -> BatchFeature:
        """Move (and optionally cast) every tensor value, like ``Tensor.to``."""
        return BatchFeature(
            {
                k: v.to(*args, **kwargs) if isinstance(v, torch.Tensor) else v
                for k, v in self.items()
            }
        )


def pack(videos: list[Any], return_tensors: str | None) -> BatchFeature:
    """Per-video (T, C, H, W) outputs -> BatchFeature in the requested tensor type.

    ``return_tensors``: "pt" or "np" stack the videos into (B, T, C, H, W); None keeps a list
    (of tensors, or of per-frame numpy arrays as transformers returns).
    """
    if return_tensors is None:
        if isinstance(videos[0], torch.Tensor):
            return BatchFeature(pixel_values=videos)
        return BatchFeature(pixel_values=[list(v) for v in videos])
    if return_tensors not in ("pt", "np"):
        raise InputError(f"return_tensors must be 'pt', 'np' or None, got {return_tensors!r}")
    shapes = {tuple(v.shape) for v in videos}
    if len(shapes) > 1:
        raise InputError(
            f"cannot stack videos of shapes {sorted(shapes)} into one batch; give every video the "
            "same number of frames, or pass return_tensors=None to get a list"
        )
    if isinstance(videos[0], torch.Tensor):
        batch = torch.stack(videos) if len(videos) > 1 else videos[0].unsqueeze(0)
        return BatchFeature(pixel_values=batch.cpu().numpy() if return_tensors == "np" else batch)
    batch = np.stack(videos)
    return BatchFeature(pixel_values=torch.from_numpy(batch) if return_tensors == "pt" else batch)
