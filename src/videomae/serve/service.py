"""The model side of the server: one loaded classifier, and views of it with other
clips x crops that share its weights (no reload per request)."""

from __future__ import annotations

import dataclasses
import os
import threading

from videomae.errors import InputError, VideoMAEError
from videomae.inference.classifier import VideoClassifier
from videomae.inference.embedder import VideoEmbedder
from videomae.inference.results import describe_error
from videomae.inference.windows import window_record
from videomae.serve.limits import ServeSettings

__all__ = ["ClassifierService"]


class ClassifierService:
    """Answers classify/embed requests for one loaded :class:`VideoClassifier`."""

    def __init__(self, classifier: VideoClassifier, settings: ServeSettings) -> None:
        self.classifier = classifier
        self.settings = settings
        self._variants: dict[tuple[str, int, int], VideoClassifier | VideoEmbedder] = {}
        self._lock = threading.Lock()

    @property
    def name(self) -> str:
        return self.classifier.source or type(self.classifier.model).__name__

    @property
    def labels(self) -> list[str]:
        return self.classifier.labels

    def check(self, top_k: int, clips: int, crops: int) -> None:
        """Request options within the server's limits, else InputError (-> 422)."""
        if not 1 <= top_k <= self.settings.max_top_k:
            raise InputError(f"top_k must be in 1..{self.settings.max_top_k}, got {top_k}")
        if clips < 1 or crops not in (1, 3):
            raise InputError(f"clips must be >= 1 and crops 1 or 3, got {clips} and {crops}")
        if clips * crops > self.settings.max_views:
            raise InputError(
                f"clips x crops = {clips * crops} views is over this server's limit of "
                f"{self.settings.max_views} (videomae serve --max-views)"
            )

    def _variant(self, kind: str, clips: int, crops: int) -> VideoClassifier | VideoEmbedder:
        base = self.classifier
        with self._lock:
            key = (kind, clips, crops)
            if key not in self._variants:
                pre = dataclasses.replace(base.preprocessing, clips=clips, crops=crops)
                cls = VideoClassifier if kind == "classify" else VideoEmbedder
                self._variants[key] = cls(
                    base.model, pre, device=base.device, dtype=base.dtype, progress=False
                )
            return self._variants[key]

    def classify(
        self, path: str | os.PathLike, top_k: int, clips: int, crops: int
    ) -> list[tuple[str, float]]:
        """Top-k (label, score) of one video file; an unreadable file raises InputError with the
        reason the CLI prints."""
        clf = self._variant("classify", clips, crops)
        (result,) = list(clf.predict([path], top_k=top_k))
        if result.failure is not None:
            raise InputError(result.failure.reason)
        return result.value

    def classify_windows(
        self, path: str | os.PathLike, top_k: int, crops: int, stride: float | None
    ) -> list[dict]:
        """Top-k per window over the whole video (see :meth:`VideoClassifier.windows`)."""
        clf = self._variant("classify", 1, crops)
        try:
            return [window_record(w) for w in clf.windows(path, stride=stride, top_k=top_k)]
        except VideoMAEError as exc:
            raise InputError(describe_error(exc)) from None

    def embed_windows(
        self, path: str | os.PathLike, crops: int, stride: float | None
    ) -> list[dict]:
        """The (D,) feature of every window, with its start and end in seconds."""
        emb = self._variant("embed", 1, crops)
        try:
            return [
                {"start_s": round(w.start_s, 6), "end_s": round(w.end_s, 6),
                 "embedding": [float(v) for v in w.value]}
                for w in emb.windows(path, stride=stride)
            ]  # fmt: skip
        except VideoMAEError as exc:
            raise InputError(describe_error(exc)) from None

    def embed(self, path: str | os.PathLike, clips: int, crops: int) -> list[float]:
        """The pooled (D,) feature of one video file."""
        emb = self._variant("embed", clips, crops)
        result = emb.embed([path])
        if result.failures:
            raise InputError(result.failures[0].reason)
        return [float(v) for v in result.features[0]]
