"""VideoEmbedder: video-level features of any VideoMAE checkpoint, one (D,) row per video.

    emb = VideoEmbedder.from_pretrained("path/to/checkpoint")
    emb(["a.mp4", "b.mp4"])           # (B, D) float32; rows of inputs that decoded
    emb.embed(["a.mp4", "b.mp4"])     # Embeddings: features, names, indices, failures

The views (clips x crops) of a video are embedded and their features averaged.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import torch

from videomae.errors import InputError
from videomae.inference.embeddings_io import check_embedding_path, save_embeddings
from videomae.inference.pipeline import VideoPipeline, load_options, model_folder, read_config
from videomae.inference.results import Embeddings
from videomae.inference.windows import WindowResult
from videomae.modeling.models import (
    VideoMAEForPreTraining,
    VideoMAEForVideoClassification,
    VideoMAEModel,
)
from videomae.processing.inputs import split_videos

__all__ = ["POOLINGS", "VideoEmbedder"]

POOLINGS = ("mean", "head")


def _load_encoder(id_or_dir: str | os.PathLike, kwargs: dict[str, Any]) -> torch.nn.Module:
    """A classifier (its head's pooling is kept), a pre-training encoder, or a bare encoder."""
    config = read_config(id_or_dir, **kwargs)
    archs = list(getattr(config, "architectures", None) or []) if config is not None else []
    if config is not None:
        kwargs = {**kwargs, "config": config}
    if "VideoMAEForVideoClassification" in archs:
        model, _ = VideoMAEForVideoClassification.from_pretrained(id_or_dir, **kwargs)
    elif "VideoMAEForPreTraining" in archs:
        full, _ = VideoMAEForPreTraining.from_pretrained(id_or_dir, **kwargs)
        model = full.videomae  # the encoder; decoder weights are not needed
    else:
        model, _ = VideoMAEModel.from_pretrained(id_or_dir, **kwargs)
    return model


class VideoEmbedder(VideoPipeline):
    """Video-level features: the encoder's tokens mean-pooled, (B, D) float32.

    ``pooling="mean"`` (default, the standard and the same for every checkpoint kind): the raw
    mean over tokens of the encoder's ``last_hidden_state``. ``pooling="head"``: for a
    classifier checkpoint, the exact feature its head sees (``fc_norm`` of the mean, or the
    first token when the checkpoint does not mean-pool); for pre-training and bare encoder
    checkpoints, which have no ``fc_norm``, it equals "mean". Views (clips x crops) are averaged.
    ``.kept`` holds the indices of the inputs of the last call that gave a row.
    """

    def __init__(self, *args: Any, pooling: str = "mean", **kwargs: Any) -> None:
        if pooling not in POOLINGS:
            raise ValueError(f"pooling must be one of {POOLINGS}, got {pooling!r}")
        super().__init__(*args, **kwargs)
        self.pooling = pooling
        self.kept: list[int] = []  # of the last call; Embeddings.indices carry them too

    @classmethod
    def from_pretrained(
        cls,
        id_or_dir: str | os.PathLike,
        *,
        device: str | torch.device | None = "cpu",
        dtype: str | torch.dtype = "fp32",
        clips: int = 1,
        crops: int = 1,
        num_frames: int | None = None,
        sampling_rate: int | None = None,
        strategy: str | None = None,
        batch_size: int | None = None,
        num_workers: int | None = None,
        progress: bool | None = None,
        pooling: str = "mean",
        **loader: Any,
    ) -> VideoEmbedder:
        """Load any VideoMAE checkpoint (pre-training, classifier or bare encoder).

        The options are those of :meth:`VideoClassifier.from_pretrained
        <videomae.inference.classifier.VideoClassifier.from_pretrained>`, plus ``pooling``
        (see the class doc). A pre-training checkpoint's decoder is loaded and dropped.
        """
        dev, dt, kwargs = load_options(device, dtype, num_frames, loader)
        return cls._assemble(
            _load_encoder(id_or_dir, kwargs),
            model_folder(id_or_dir, kwargs),
            dev,
            dt,
            clips,
            crops,
            sampling_rate,
            strategy,
            batch_size=batch_size,
            num_workers=num_workers,
            progress=progress,
            pooling=pooling,
        )

    @property
    def dim(self) -> int:
        """Feature size D (the encoder's hidden size)."""
        return int(self.model.config.hidden_size)

    def _forward(self, batch: torch.Tensor) -> torch.Tensor:
        encoder = getattr(self.model, "videomae", self.model)
        hidden = encoder(batch).last_hidden_state  # (B, N, D)
        if self.pooling == "head" and hasattr(self.model, "pool"):
            return self.model.pool(hidden)  # (B, D)
        return hidden.float().mean(dim=1)  # (B, D)

    @staticmethod
    def _merge(rows: torch.Tensor) -> torch.Tensor:
        return rows.mean(dim=0)  # (V, D) -> (D,)

    def embed_to_file(self, inputs: Any, out: str | os.PathLike) -> tuple[Embeddings, list[Path]]:
        """Embed ``inputs`` and write the features with the settings that made them (see
        :func:`~videomae.inference.embeddings_io.save_embeddings`); returns both."""
        check_embedding_path(out)
        result = self.embed(inputs)
        if len(result.features) == 0:
            reasons = "; ".join(str(f) for f in result.failures[:5])
            raise InputError(f"no video could be embedded, nothing written to {out}: {reasons}")
        meta = {
            "model": self.source,
            "pooling": self.pooling,
            "clips": self.preprocessing.clips,
            "crops": self.preprocessing.crops,
            "dim": self.dim,
        }
        return result, save_embeddings(out, result, metadata=meta)

    def embed(self, inputs: Any) -> Embeddings:
        """Features of every input that worked, with their names, indices and the failures."""
        items, _ = split_videos(inputs, paths=True, frame_lists=False, allow_empty=True)
        results = list(self._run(items, self._merge, "embed"))
        ok = [r for r in results if r.ok]
        features = torch.stack([r.value for r in ok]) if ok else torch.zeros(0, self.dim)
        indices = [r.index for r in ok]
        self.kept = indices
        failures = [r.failure for r in results if r.failure is not None]
        return Embeddings(features, [r.name for r in ok], indices, failures)

    def windows(
        self,
        path: str | os.PathLike,
        *,
        stride: float | None = None,
        window_frames: int | None = None,
    ) -> Iterator[WindowResult]:
        """Features of a long video window by window, lazily: ``WindowResult.value`` is the
        window's (D,) feature (crops averaged). The windows are those of
        :meth:`VideoClassifier.windows <videomae.inference.classifier.VideoClassifier.windows>`.
        """
        return self._windows(path, self._merge, stride, window_frames)

    def __call__(self, inputs: Any) -> torch.Tensor:
        """(B, D) float32 features: one row per input that worked (their indices: ``.kept``).

        A single input gives (1, D) and raises its error if it cannot be read; in a list a bad
        input is skipped and reported in ``.failures``.
        """
        items, single = split_videos(inputs, paths=True, frame_lists=False, allow_empty=True)
        if single:
            (result,) = list(self._run(items, self._merge, "embed"))
            if result.error is not None:
                raise result.error
            self.kept = [0]
            return result.value.unsqueeze(0)
        return self.embed(items).features
