"""What VideoClassifier and VideoEmbedder share: loading options, views, and running many inputs.

A pipeline is a loaded model, its :class:`~videomae.inference.views.Preprocessing` and a
:class:`~videomae.inference.runner.MultiViewRunner`. Loading casts the weights for reduced
precision where that is the faster choice: bf16 everywhere, fp16 on accelerators; fp16 on CPU
keeps float32 weights and runs under autocast (allowed only for completeness; it is slower
than fp32 there). Measurements: docs/performance.md.

A file that cannot be read is reported (a log warning, ``Result.error`` / ``Result.failure``)
and skipped; it never aborts the others. ``.failures`` keeps the failures of the last call as
a convenience for interactive use; the returned results carry the same information.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from videomae.config import VideoMAEConfig
from videomae.errors import InputError
from videomae.hub import HUB_KWARGS
from videomae.inference.preprocessing import checkpoint_preprocessing
from videomae.inference.results import Failure, Result
from videomae.inference.runner import MultiViewRunner, MultiViewTask
from videomae.inference.views import Preprocessing, frames_views, video_views
from videomae.inference.windows import WindowResult, run_windows
from videomae.runtime import parse_dtype, resolve_device

#: one input of the classifier or embedder: a video file, or uint8 (T, H, W, C) frames
VideoInput = str | os.PathLike | np.ndarray | torch.Tensor

logger = logging.getLogger(__name__)

__all__ = ["LOADER_OPTIONS", "VideoPipeline", "load_options", "model_folder", "read_config"]


#: the model loader's options a pipeline passes on (which files of which revision)
LOADER_OPTIONS = (*HUB_KWARGS, "variant")


def load_options(
    device: str | torch.device | None,
    dtype: str | torch.dtype,
    num_frames: int | None,
    loader: dict[str, Any] | None = None,
) -> tuple[torch.device, torch.dtype, dict[str, Any]]:
    """(device, compute dtype, ``from_pretrained`` kwargs) for the requested options;
    ``loader`` holds hub/file options (revision, subfolder, variant, ...), anything else raises."""
    loader = dict(loader or {})
    unknown = sorted(set(loader) - set(LOADER_OPTIONS))
    if unknown:
        raise InputError(
            f"unknown option(s) {unknown}; the loader options are {list(LOADER_OPTIONS)}"
        )
    dev = resolve_device(device)
    dt = parse_dtype(dtype)
    kwargs: dict[str, Any] = {"output_loading_info": True, **loader}
    # cast the weights for bf16, fp16 off-CPU (CPU fp16 runs under autocast on fp32 weights);
    # an fp16/bf16 checkpoint is otherwise read in float32, whatever its saved dtype
    cast = dt == torch.bfloat16 or (dev.type != "cpu" and dt != torch.float32)
    kwargs["dtype"] = dt if cast else torch.float32
    if num_frames is not None:
        kwargs["num_frames"] = int(num_frames)  # the position table is resized to match
    return dev, dt, kwargs


def model_folder(id_or_dir: str | os.PathLike, loader: dict[str, Any]) -> str | os.PathLike:
    """Where a local model's files are: ``id_or_dir``, or its ``subfolder`` when one is given
    (so the processor file is read beside the weights)."""
    subfolder = loader.get("subfolder")
    if subfolder and Path(id_or_dir).is_dir():
        return Path(id_or_dir) / subfolder
    return id_or_dir


def read_config(id_or_dir: str | os.PathLike, **hub: Any) -> VideoMAEConfig | None:
    """config.json of a folder / hub id (None for an original .pth file)."""
    if Path(id_or_dir).is_file():
        return None
    return VideoMAEConfig.from_pretrained(id_or_dir, **{k: hub[k] for k in HUB_KWARGS if k in hub})


class VideoPipeline:
    """A model with its preprocessing, run over many inputs by one :class:`MultiViewRunner`.

    Subclasses define :meth:`_forward` (a batch of views -> rows) and call :meth:`_run` with
    the merge of one input's rows.
    """

    def __init__(
        self,
        model: torch.nn.Module,
        preprocessing: Preprocessing,
        *,
        device: torch.device,
        dtype: torch.dtype,
        batch_size: int | None = None,
        num_workers: int | None = None,
        progress: bool | None = None,
    ) -> None:
        self.runner = MultiViewRunner(
            model.eval(),
            device=device,
            dtype=dtype,
            batch_size=batch_size,
            num_workers=num_workers,
            progress=progress,
        )
        preprocessing.validate()  # clips/crops/strategy errors at construction, not per call
        self.preprocessing = preprocessing
        self.failures: list[Failure] = []  # of the last call; results carry them too
        self.source: str | None = None  # the folder or hub id it was loaded from, if any

    @classmethod
    def _assemble(
        cls,
        model: torch.nn.Module,
        id_or_dir: str | os.PathLike,
        dev: torch.device,
        dt: torch.dtype,
        clips: int,
        crops: int,
        sampling_rate: int | None,
        strategy: str | None,
        **options: Any,
    ) -> Any:
        """Move the loaded model into place and attach its checkpoint's preprocessing."""
        model = model.to(dev).eval()
        pre = checkpoint_preprocessing(
            id_or_dir,
            model.config,
            clips=clips,
            crops=crops,
            sampling_rate=sampling_rate,
            strategy=strategy,
        )
        pipeline = cls(model, pre, device=dev, dtype=dt, **options)
        pipeline.source = os.fspath(id_or_dir)
        return pipeline

    # --- the runner's settings ------------------------------------------------------------------
    @property
    def model(self) -> torch.nn.Module:
        return self.runner.model

    @property
    def device(self) -> torch.device:
        return self.runner.device

    @property
    def dtype(self) -> torch.dtype:
        return self.runner.dtype

    @property
    def batch_size(self) -> int:
        """Views per forward pass."""
        return self.runner.batch_size

    @property
    def num_workers(self) -> int:
        """Decoding threads (0 = inline)."""
        return self.runner.num_workers

    # --- running --------------------------------------------------------------------------------
    def views(self, item: VideoInput) -> torch.Tensor:
        """The normalised views (clips*crops, T, C, S, S) of one path or frames array."""
        pre = self.preprocessing
        if isinstance(item, (str, os.PathLike)):
            return video_views(item, pre, pre.num_frames, pre.crop_size)
        return frames_views(item, pre)

    def _forward(self, batch: torch.Tensor) -> torch.Tensor:
        """(B, T, C, S, S) views on the device -> (B, ...) rows."""
        raise NotImplementedError

    def _run(
        self, items: Sequence[Any], merge: Callable[[torch.Tensor], Any], desc: str
    ) -> Iterator[Result]:
        """One Result per item, in input order; failures logged and kept in ``.failures``."""
        task = MultiViewTask(self.views, self._forward, merge, self.preprocessing.views_per_video)
        self.failures = []
        for result in self.runner.run(items, task, desc=desc):
            failure = result.failure
            if failure is not None:
                self.failures.append(failure)
                logger.warning("skipped %s", failure)
            yield result

    def _windows(
        self,
        path: str | os.PathLike,
        merge: Callable[[torch.Tensor], Any],
        stride: float | None,
        window_frames: int | None,
    ) -> Iterator[WindowResult]:
        """The windows of one long video, each run through :meth:`_forward` and merged."""
        return run_windows(
            path,
            self.preprocessing,
            lambda batch: self.runner.forward_rows(self._forward, batch),
            merge,
            batch_size=self.batch_size,
            stride_s=stride,
            window_frames=window_frames,
        )
