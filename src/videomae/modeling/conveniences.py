"""What users reach for on a transformers model, with transformers' meaning.

:class:`ModelConveniences` is mixed into every model class: parameter counts (the Trainer calls
``num_parameters(exclude_embeddings=True)`` for its FLOP count), memory footprint, the base model,
the name it was loaded from, the input embeddings, device/dtype and gradient checkpointing.
"""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["ModelConveniences"]


class ModelConveniences:
    """Mixin for an ``nn.Module`` with ``config`` and ``base_model_prefix`` attributes."""

    base_model_prefix = "videomae"

    @property
    def device(self) -> torch.device:
        return next(self.parameters()).device

    @property
    def dtype(self) -> torch.dtype:
        return next(self.parameters()).dtype

    @property
    def base_model(self) -> nn.Module:
        """The encoder (``self.videomae``) of a head model; the model itself for the encoder."""
        return getattr(self, self.base_model_prefix, self)

    @property
    def name_or_path(self) -> str:
        """What ``from_pretrained`` was given ("" for a model built from a config)."""
        return self.config.name_or_path

    def get_input_embeddings(self) -> nn.Module:
        """The tubelet embedding module (its ``projection`` is a Conv3d), as in transformers."""
        return self.base_model.embeddings.patch_embeddings

    def num_parameters(self, only_trainable: bool = False, exclude_embeddings: bool = False) -> int:
        """Parameter count; ``exclude_embeddings`` leaves out ``nn.Embedding`` weights, as
        transformers does (VideoMAE has none: its tubelet embedding is a convolution)."""
        skip = set()
        if exclude_embeddings:
            skip = {f"{n}.weight" for n, m in self.named_modules() if isinstance(m, nn.Embedding)}
        return sum(
            p.numel()
            for name, p in self.named_parameters()
            if name not in skip and (p.requires_grad or not only_trainable)
        )

    def get_memory_footprint(self, return_buffers: bool = True) -> int:
        """Bytes held by the parameters (and buffers, by default)."""
        tensors = list(self.parameters()) + (list(self.buffers()) if return_buffers else [])
        return sum(t.nelement() * t.element_size() for t in tensors)

    # --- gradient checkpointing ---------------------------------------------------------
    def gradient_checkpointing_enable(
        self, gradient_checkpointing_kwargs: dict | None = None
    ) -> None:
        self._set_checkpointing(True)

    def gradient_checkpointing_disable(self) -> None:
        self._set_checkpointing(False)

    def _set_checkpointing(self, value: bool) -> None:
        for module in self.modules():
            if hasattr(module, "gradient_checkpointing"):
                module.gradient_checkpointing = value

    @property
    def is_gradient_checkpointing(self) -> bool:
        return any(getattr(m, "gradient_checkpointing", False) for m in self.modules())
