"""VideoClassifier: top-k labels for video files or frames, with the paper's multi-view protocol.

    clf = VideoClassifier.from_pretrained("path/to/checkpoint", clips=2, crops=3)
    clf("a.mp4")                      # [("archery", 0.91), ("bowling", 0.02), ...]
    clf(["a.mp4", "b.mp4"], top_k=3)  # one list per input; None where a file failed

Each video is decoded once for all its ``clips x crops`` views; the softmax of the views is
averaged (:func:`~videomae.inference.views.merge_views`, the paper's protocol).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import torch

from videomae.errors import CheckpointError
from videomae.inference.exported import ExportedModel, exported_preprocessing
from videomae.inference.pipeline import VideoPipeline, load_options, model_folder, read_config
from videomae.inference.results import Result
from videomae.inference.views import merge_views
from videomae.inference.windows import WindowResult, top_labels
from videomae.modeling.models import VideoMAEForVideoClassification
from videomae.processing.inputs import split_videos

__all__ = ["VideoClassifier"]


def _load_classifier(
    id_or_dir: str | os.PathLike, kwargs: dict[str, Any]
) -> VideoMAEForVideoClassification:
    """The classifier of a checkpoint; CheckpointError when it has no trained head."""
    config = read_config(id_or_dir, **kwargs)
    if config is not None:
        archs = list(config.architectures or [])
        if archs and "VideoMAEForVideoClassification" not in archs:
            raise CheckpointError(
                f"{id_or_dir} is a {archs[0]} checkpoint without a classification head; use "
                "VideoEmbedder (CLI: videomae embed) for its features, or fine-tune it first "
                "(videomae finetune)"
            )
        kwargs = {**kwargs, "config": config}
    model, info = VideoMAEForVideoClassification.from_pretrained(id_or_dir, **kwargs)
    if any(k.startswith("classifier.") for k in info["missing_keys"]):
        raise CheckpointError(
            f"{id_or_dir} has no trained classification head (classifier.* missing); use "
            "VideoEmbedder for its features, or fine-tune it first (videomae finetune)"
        )
    return model


class VideoClassifier(VideoPipeline):
    """Top-k labels for video files or frames, with the paper's multi-view protocol.

    Build it with :meth:`from_pretrained`. Calling it on one input returns ``[(label, score),
    ...]`` (scores are the view-averaged softmax probabilities, best first); on a list it
    returns one such list per input, ``None`` for inputs that failed (see ``.failures``).
    """

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
        **loader: Any,
    ) -> VideoClassifier:
        """Load a fine-tuned classifier from a folder, a hub id, or an original ``.pth`` file.

        ``clips`` x ``crops`` views per video (crops 1 = centre, 3 = spanning the longer side);
        ``num_frames`` defaults to the checkpoint's (another value resizes its position table);
        ``sampling_rate`` (dense sampling stride) and ``strategy`` ("dense" as for Kinetics,
        "uniform" as for Something-Something) choose the frames; both default to the folder's
        ``preprocessor_config.json`` (else 4, "dense"), and a value that differs from it warns.
        ``batch_size`` counts views; ``num_workers`` decoding threads, 0 = inline (defaults: 1
        view per forward and inline decoding on CPU, 8 views and 2 threads elsewhere;
        :func:`~videomae.inference.runner.default_batch_size`,
        :func:`~videomae.inference.runner.default_num_workers`). ``progress``: None shows a bar
        for more than one input. ``**loader``: the model loader's file options (``revision``,
        ``subfolder``, ``variant``, ``token``, ``cache_dir``, ``local_files_only``); any other
        keyword raises InputError. Raises CheckpointError when the checkpoint cannot be found
        (e.g. a hub id without network) or has no classification head.
        """
        dev, dt, kwargs = load_options(device, dtype, num_frames, loader)
        model = _load_classifier(id_or_dir, kwargs)
        return cls._assemble(
            model,
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
        )

    @classmethod
    def from_exported(
        cls,
        path: str | os.PathLike,
        *,
        backend: str | None = None,
        clips: int = 1,
        crops: int = 1,
        sampling_rate: int | None = None,
        strategy: str | None = None,
        batch_size: int | None = None,
        num_workers: int | None = None,
        progress: bool | None = None,
    ) -> VideoClassifier:
        """Run a file written by ``videomae export`` (``.onnx`` with onnxruntime, ``.pt2`` with
        torch.export) on the CPU in float32, with the same decoding, views and merging as
        :meth:`from_pretrained`. The clip shape (frames, crop size) is the file's."""
        model = ExportedModel(path, backend)
        if model.meta["output"] != "logits":
            raise CheckpointError(
                f"{path} was exported with --embed (it outputs features, not class scores); "
                "export the classifier without --embed"
            )
        pre = exported_preprocessing(
            model.meta, clips=clips, crops=crops, sampling_rate=sampling_rate, strategy=strategy
        )
        return cls(
            model,
            pre,
            device=torch.device("cpu"),
            dtype=torch.float32,
            batch_size=batch_size,
            num_workers=num_workers,
            progress=progress,
        )

    @property
    def labels(self) -> list[str]:
        """Class names in index order (``config.id2label``)."""
        id2label = self.model.config.id2label
        return [str(id2label.get(i, f"LABEL_{i}")) for i in range(self.model.config.num_labels)]

    def _forward(self, batch: torch.Tensor) -> torch.Tensor:
        return self.model(batch).logits  # (B, K)

    def probabilities(self, inputs: Any) -> list[torch.Tensor | None]:
        """View-averaged class probabilities (K,) per input (None where it failed)."""
        items, _ = split_videos(inputs, paths=True, frame_lists=False, allow_empty=True)
        return [r.value for r in self._run(items, merge_views, "classify")]

    def predict(self, inputs: Any, top_k: int = 5) -> Iterator[Result]:
        """Stream one :class:`~videomae.inference.results.Result` per input, in order, as soon
        as it is ready.

        ``Result.value`` is the top-k ``[(label, score), ...]``; failures have ``value=None``
        and the exception in ``Result.error`` (also appended to ``.failures``).
        """
        if top_k < 1:
            raise ValueError(f"top_k must be >= 1, got {top_k}")
        items, _ = split_videos(inputs, paths=True, frame_lists=False, allow_empty=True)
        labels = self.labels

        def topk(rows: torch.Tensor) -> list[tuple[str, float]]:
            return top_labels(merge_views(rows), labels, top_k)  # of the (K,) probabilities

        yield from self._run(items, topk, "classify")

    def windows(
        self,
        path: str | os.PathLike,
        *,
        stride: float | None = None,
        window_frames: int | None = None,
        top_k: int = 5,
    ) -> Iterator[WindowResult]:
        """Classify a long video window by window, lazily (one forward pass over the file).

        Each window is one clip of ``num_frames`` frames every ``sampling_rate`` frames (or
        spread over ``window_frames`` frames); windows start every ``stride`` seconds (default:
        the window's span, side by side; smaller values overlap). Yields
        :class:`~videomae.inference.windows.WindowResult` with ``value`` the window's (K,)
        probabilities (averaged over ``crops``) and ``labels`` its top-k. A video shorter than
        one window gives one window, its last frame repeated. Raises VideoDecodeError for an
        unreadable file.
        """
        if top_k < 1:
            raise ValueError(f"top_k must be >= 1, got {top_k}")
        labels = self.labels
        for result in self._windows(path, merge_views, stride, window_frames):
            result.labels = top_labels(result.value, labels, top_k)
            yield result

    def __call__(
        self, inputs: Any, top_k: int = 5
    ) -> list[tuple[str, float]] | list[list[tuple[str, float]] | None]:
        """Top-k ``(label, score)`` for one input, or one list (or None) per input of a list.

        A single input that cannot be read raises its error (e.g. VideoDecodeError); in a list
        it is skipped, reported in ``.failures`` and its entry is None.
        """
        _, single = split_videos(inputs, paths=True, frame_lists=False, allow_empty=True)
        results = list(self.predict(inputs, top_k))
        if single:
            if results[0].error is not None:
                raise results[0].error
            return results[0].value
        return [r.value for r in results]
