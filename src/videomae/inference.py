"""Inference for people: classify or embed video files in a few lines.

    from videomae import VideoClassifier, VideoEmbedder

    clf = VideoClassifier.from_pretrained("path/to/checkpoint", clips=2, crops=3)
    clf("a.mp4")                      # [("archery", 0.91), ("bowling", 0.02), ...]
    clf(["a.mp4", "b.mp4"], top_k=3)  # one list per input; None where a file failed
    clf.failures                      # [Failure(path="b.mp4", reason="...")] of the last call

    emb = VideoEmbedder.from_pretrained("path/to/checkpoint")
    emb(["a.mp4", "b.mp4"])           # (B, D) float32; rows of inputs that decoded (emb.kept)

Preprocessing follows the checkpoint folder: ``preprocessor_config.json`` when present (short
side, crop size, mean/std, read with :mod:`videomae.processing`), else the model config
(``image_size``) with the ImageNet mean/std of the original releases. Each video is decoded
once for all its ``clips x crops`` views (:func:`videomae.evaluate.video_views`); a classifier
averages the softmax of the views (:func:`videomae.evaluate.merge_views`, the paper's
protocol); an embedder averages the views' features.

Many inputs: videos are decoded in background threads (``num_workers``) while the model runs
on the previous batch; views of several videos share a batch of ``batch_size`` views. By
default that is for GPUs only: on CPU the views go one at a time and decoding is inline, which
is as fast there and uses less memory (:func:`default_batch_size`, :func:`default_num_workers`).
A file that cannot be read is reported (path + reason, in ``.failures`` and as a log warning)
and skipped; it never aborts the others. With a single input the error is raised instead.

Reduced precision (``dtype="bf16"``/``"fp16"``): bf16 casts the weights (on this project's
CPU, ViT-B batch 1: 596 ms cast vs 607 ms under autocast vs 1812 ms fp32, and 22 MB less
peak memory than autocast: benchmarks/bench_inference.py, docs/performance.md). fp16 casts on
accelerators; on CPU it runs under ``torch.autocast`` and is slower than fp32 (allowed only
for completeness).
"""

from __future__ import annotations

import logging
import os
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from videomae.evaluate import EvalConfig, merge_views, video_views
from videomae.runtime import (
    IMAGENET_DEFAULT_MEAN,
    IMAGENET_DEFAULT_STD,
    parse_dtype,
    resolve_device,
)

logger = logging.getLogger(__name__)

__all__ = [
    "Embeddings",
    "Failure",
    "Preprocessing",
    "Result",
    "VideoClassifier",
    "VideoEmbedder",
    "default_batch_size",
    "default_num_workers",
    "evaluate_checkpoint",
    "frames_views",
    "load_embeddings",
    "read_samples",
    "reconstruct_video",
    "save_embeddings",
]

VideoInput = str | os.PathLike | np.ndarray | torch.Tensor


@dataclass(frozen=True)
class Failure:
    """An input that could not be processed: its path (or ``<frames #i>``) and why."""

    path: str
    reason: str

    def __str__(self) -> str:
        return f"{self.path}: {self.reason}"


@dataclass
class Result:
    """The outcome for one input, in input order (see ``VideoClassifier.predict``).

    ``value`` is the top-k list (classifier) or the (D,) feature (embedder); None on failure,
    then ``error`` holds the exception.
    """

    index: int
    name: str
    value: Any = None
    error: BaseException | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass
class Embeddings:
    """Features of the inputs that worked: ``features`` (N, D), their ``names`` and ``indices``."""

    features: torch.Tensor
    names: list[str]
    indices: list[int]
    failures: list[Failure] = field(default_factory=list)


@dataclass(frozen=True)
class Preprocessing:
    """How a checkpoint wants its videos: sampling, resize, crops and normalisation.

    ``short_side``: the short side is resized to this; ``crop_size`` x ``crop_size`` crops
    (``crops`` of them spanning the longer side, 1 = centre); frames in [0, 1] are normalised
    with ``mean``/``std``. ``source`` says where size and statistics came from.
    """

    num_frames: int
    crop_size: int
    short_side: int
    mean: tuple[float, ...]
    std: tuple[float, ...]
    sampling_rate: int = 4
    strategy: str = "dense"
    clips: int = 1
    crops: int = 1
    source: str = "config.json"

    def eval_config(self, **overrides: Any) -> EvalConfig:
        """The equivalent :class:`~videomae.evaluate.EvalConfig` (validated)."""
        cfg = EvalConfig(
            clips=self.clips,
            crops=self.crops,
            num_frames=self.num_frames,
            sampling_rate=self.sampling_rate,
            strategy=self.strategy,
            short_side=self.short_side,
            crop_size=self.crop_size,
            mean=self.mean,
            std=self.std,
            **overrides,
        )
        cfg.validate()
        return cfg


# ---------------------------------------------------------------------------------------------
# Small helpers


def default_batch_size(device: torch.device | str) -> int:
    """Views per forward pass when none is given: 1 on CPU, 8 on accelerators.

    On CPU a batch is no faster per view (ViT-B fp32: batch 4 takes 4.08x batch 1's time,
    ``benchmarks/bench_inference.py``); it only holds more activations and delays the first
    result (8 files -> top-5: 511 MB above the loaded model at batch 8, 127 MB at batch 1 with
    inline decoding; ``benchmarks/bench_end_to_end.py``, docs/performance.md). A GPU needs
    batches to fill it.
    """
    return 1 if torch.device(device).type == "cpu" else 8


def default_num_workers(device: torch.device | str) -> int:
    """Decoding threads when none are given: 0 (inline) on CPU, 2 on accelerators.

    On CPU the model's forward already keeps every core busy, and FFmpeg decodes with its own
    threads, so decoding ahead only competes for the same cores and holds decoded videos in
    memory (2 cores: inline was faster in 4 of 5 rounds, 127 vs 271 MB). Next to a GPU the
    threads decode while the device computes.
    """
    return 0 if torch.device(device).type == "cpu" else 2


def _square(value: Any, name: str) -> int:
    if isinstance(value, (list, tuple)):
        if len(set(int(v) for v in value)) != 1:
            raise ValueError(f"{name}={value} is not square; inference uses square crops")
        value = value[0]
    return int(value)


def _read_preprocessor(id_or_dir: str | os.PathLike) -> Any | None:
    """The checkpoint's ``preprocessor_config.json`` as a processor, or None when it has none."""
    from videomae.processing import PROCESSOR_CONFIG_NAME, VideoMAEImageProcessor

    path = Path(id_or_dir)
    if path.is_dir():
        found: Path | None = path / PROCESSOR_CONFIG_NAME
        if not found.is_file():
            return None
    elif path.is_file():
        return None  # an original .pth file carries no preprocessing settings
    else:
        from videomae.checkpoints import CheckpointError, resolve_file

        try:
            found = resolve_file(id_or_dir, PROCESSOR_CONFIG_NAME, required=False)
        except CheckpointError:
            return None  # the model came from the cache; its processor file did not
        if found is None:
            return None
    return VideoMAEImageProcessor.from_pretrained(found)


def _preprocessing(
    id_or_dir: str | os.PathLike,
    config: Any,
    *,
    clips: int,
    crops: int,
    sampling_rate: int | None,
    strategy: str | None,
) -> Preprocessing:
    """Sizes and statistics from preprocessor_config.json, else from the model config."""
    image_size = _square(config.image_size, "config.image_size")
    num_frames = int(config.num_frames)
    proc = _read_preprocessor(id_or_dir)
    if proc is None:
        short, crop = image_size, image_size
        mean, std = IMAGENET_DEFAULT_MEAN, IMAGENET_DEFAULT_STD
        source = "config.json"
    else:
        crop = int(proc.crop_size["height"]) if proc.do_center_crop else image_size
        if proc.do_center_crop and proc.crop_size["height"] != proc.crop_size["width"]:
            raise ValueError(
                f"preprocessor_config.json has a non-square crop_size {proc.crop_size}; "
                "inference uses square crops of config.image_size"
            )
        size = proc.size
        short = int(size["shortest_edge"]) if "shortest_edge" in size else min(size.values())
        if proc.do_normalize:
            mean, std = tuple(proc.image_mean), tuple(proc.image_std)
        else:
            mean, std = (0.0,), (1.0,)
        source = "preprocessor_config.json"
        if crop != image_size:
            raise ValueError(
                f"preprocessor_config.json crops {crop}x{crop} but the model's config.json has "
                f"image_size={image_size}; fix one of the two files so they agree"
            )
    return Preprocessing(
        num_frames=num_frames,
        crop_size=crop,
        short_side=short,
        mean=tuple(float(v) for v in mean),
        std=tuple(float(v) for v in std),
        sampling_rate=int(sampling_rate or getattr(config, "sampling_rate", None) or 4),
        strategy=str(strategy or getattr(config, "sampling_strategy", None) or "dense"),
        clips=int(clips),
        crops=int(crops),
        source=source,
    )


def frames_views(frames: np.ndarray | torch.Tensor, pre: Preprocessing) -> torch.Tensor:
    """In-memory uint8 frames (T, H, W, C) (or (T, C, H, W)) -> views (V, T', C, S, S) float.

    The same steps as :func:`videomae.evaluate.video_views` on a decoded file: ``clips`` clips
    sampled from the T frames (dense or uniform, as for files; a clip past the end repeats the
    last frame), short side resized, ``crops`` crops, normalised. Views are clip-major.
    Exactly ``num_frames`` frames are taken as an already sampled clip and used as given.
    """
    from videomae.processing import normalize, resize_short_side, spatial_crops
    from videomae.video import clip_indices

    x = torch.from_numpy(np.ascontiguousarray(frames)) if isinstance(frames, np.ndarray) else frames
    if not isinstance(x, torch.Tensor):
        raise TypeError(
            f"frames must be a numpy array or torch tensor, got {type(frames).__name__}"
        )
    if x.dtype != torch.uint8 or x.ndim != 4:
        raise ValueError(
            f"frames must be uint8 (T, H, W, C), got dtype {x.dtype} and shape {tuple(x.shape)}; "
            "convert float frames in [0, 1] with (x * 255).round().to(torch.uint8)"
        )
    if x.shape[-1] in (1, 3):
        tchw = x.permute(0, 3, 1, 2)
    elif x.shape[1] in (1, 3):
        tchw = x
    else:
        raise ValueError(
            f"cannot find the channel dim of frames with shape {tuple(x.shape)}: expected "
            "(T, H, W, C) with C = 3 (RGB) or 1"
        )
    if tchw.shape[1] == 1 and len(pre.mean) == 3:
        tchw = tchw.expand(-1, 3, -1, -1)
    if tchw.shape[0] < 1:
        raise ValueError("frames has zero frames")
    t = int(tchw.shape[0])
    if t == pre.num_frames:  # already a clip: used as given (by every clip view)
        groups = [np.arange(t)] * pre.clips
    else:
        groups = clip_indices(
            t,
            pre.num_frames,
            strategy=pre.strategy,
            sampling_rate=pre.sampling_rate,
            num_clips=pre.clips,
            train=False,
        )
    views: list[torch.Tensor] = []
    for idx in groups:
        clip = resize_short_side(tchw[torch.from_numpy(idx)], pre.short_side)  # (T', C, h, w)
        for crop in spatial_crops(clip, pre.crop_size, pre.crops):
            views.append(normalize(crop, pre.mean, pre.std))  # (T', C, S, S)
    return torch.stack(views)  # (V, T', C, S, S)


def _describe_error(exc: BaseException) -> str:
    from videomae.video import VideoDecodeError

    if isinstance(exc, VideoDecodeError):
        return exc.cause
    return f"{type(exc).__name__}: {exc}"


def _split_inputs(inputs: Any) -> tuple[list[Any], bool]:
    """-> (list of single inputs, whether one input was given)."""
    if isinstance(inputs, (str, os.PathLike)):
        return [inputs], True
    if isinstance(inputs, (np.ndarray, torch.Tensor)):
        if inputs.ndim == 4:
            return [inputs], True
        if inputs.ndim == 5:
            return list(inputs), False
        raise ValueError(
            f"an array input must be one video (T, H, W, C) or a batch (B, T, H, W, C), got "
            f"shape {tuple(inputs.shape)}"
        )
    if isinstance(inputs, (list, tuple)):
        for item in inputs:
            if not isinstance(item, (str, os.PathLike, np.ndarray, torch.Tensor)):
                raise TypeError(
                    "each input must be a video path or a uint8 (T, H, W, C) frames array, got "
                    f"{type(item).__name__}"
                )
        return list(inputs), False
    raise TypeError(
        "inputs must be a video path, a uint8 (T, H, W, C) frames array, or a list of these; "
        f"got {type(inputs).__name__}"
    )


def _name_of(item: Any, index: int) -> str:
    return os.fspath(item) if isinstance(item, (str, os.PathLike)) else f"<frames #{index}>"


# ---------------------------------------------------------------------------------------------
# The shared runner


class _Runner:
    """Loading options, view decoding in background threads, batching across videos."""

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
        if batch_size is None:
            batch_size = default_batch_size(device)
        if num_workers is None:
            num_workers = default_num_workers(device)
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        if num_workers < 0:
            raise ValueError(f"num_workers must be >= 0 (0 decodes inline), got {num_workers}")
        self.model = model.eval()
        self.preprocessing = preprocessing
        self.device = device
        self.dtype = dtype
        self.batch_size = int(batch_size)
        self.num_workers = int(num_workers)
        self.progress = progress
        self.failures: list[Failure] = []
        self._eval_cfg = preprocessing.eval_config()  # validates clips/crops/strategy early

    # --- loading ------------------------------------------------------------------------------
    @staticmethod
    def _load_options(
        device: str | torch.device | None, dtype: str | torch.dtype, num_frames: int | None
    ) -> tuple[torch.device, torch.dtype, dict[str, Any]]:
        dev = resolve_device(device)
        dt = parse_dtype(dtype)
        kwargs: dict[str, Any] = {"output_loading_info": True}
        if dt == torch.bfloat16 or (dev.type != "cpu" and dt != torch.float32):
            kwargs["torch_dtype"] = dt  # cast the weights (CPU fp16 runs under autocast instead)
        if num_frames is not None:
            kwargs["num_frames"] = int(num_frames)  # the position table is resized to match
        return dev, dt, kwargs

    @staticmethod
    def _read_config(id_or_dir: str | os.PathLike) -> Any | None:
        """config.json of a folder / hub id (None for an original .pth file)."""
        from videomae.config import VideoMAEConfig

        if Path(id_or_dir).is_file():
            return None
        return VideoMAEConfig.from_pretrained(id_or_dir)

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
    ):
        """Move the loaded model into place and attach its preprocessing (shared by both)."""
        model = model.to(dev).eval()
        pre = _preprocessing(
            id_or_dir,
            model.config,
            clips=clips,
            crops=crops,
            sampling_rate=sampling_rate,
            strategy=strategy,
        )
        return cls(model, pre, device=dev, dtype=dt, **options)

    # --- precision ------------------------------------------------------------------------------
    def _autocast(self) -> AbstractContextManager:
        if self.dtype != torch.float16 or self.device.type != "cpu":
            return nullcontext()  # fp32, or weights already cast
        return torch.autocast("cpu", dtype=self.dtype)

    def _model_dtype(self) -> torch.dtype:
        for p in self.model.parameters():
            return p.dtype
        return torch.float32

    # --- views ------------------------------------------------------------------------------
    def views(self, item: VideoInput) -> torch.Tensor:
        """The normalised views (clips*crops, T, C, S, S) of one path or frames array."""
        pre = self.preprocessing
        if isinstance(item, (str, os.PathLike)):
            return video_views(item, self._eval_cfg, pre.num_frames, pre.crop_size)
        return frames_views(item, pre)

    def _decoded(self, items: Sequence[Any]) -> Iterator[tuple[torch.Tensor | None, Any]]:
        """(views, None) or (None, exception) per item, in order, decoding ahead in threads."""

        def job(item: Any) -> tuple[torch.Tensor | None, BaseException | None]:
            try:
                return self.views(item), None
            except Exception as exc:  # noqa: BLE001 - every per-file failure is reported
                return None, exc

        if self.num_workers == 0 or len(items) == 1:
            for item in items:
                yield job(item)
            return
        ahead = max(2, 2 * self.num_workers)  # bounded: decoded views wait in memory
        with ThreadPoolExecutor(self.num_workers, thread_name_prefix="videomae-decode") as pool:
            queue: deque[Future] = deque()
            pending = iter(items)
            for item in pending:
                queue.append(pool.submit(job, item))
                if len(queue) >= ahead:
                    break
            while queue:
                result = queue.popleft().result()
                nxt = next(pending, None)
                if nxt is not None:
                    queue.append(pool.submit(job, nxt))
                yield result

    # --- the loop ------------------------------------------------------------------------------
    def _forward(self, batch: torch.Tensor) -> torch.Tensor:
        """(B, T, C, S, S) views -> (B, ...) float32 rows on the CPU."""
        raise NotImplementedError

    def _merge(self, rows: torch.Tensor) -> torch.Tensor:
        """(V, ...) rows of one video -> its merged output."""
        raise NotImplementedError

    def _run(
        self, items: Sequence[Any], finish: Callable[[torch.Tensor], Any], desc: str
    ) -> Iterator[Result]:
        """One Result per item, in input order; views of several items share batches."""
        from tqdm.auto import tqdm

        names = [_name_of(item, i) for i, item in enumerate(items)]
        v_per = self.preprocessing.clips * self.preprocessing.crops
        buf_views: list[torch.Tensor] = []
        buf_owner: list[int] = []
        pieces: dict[int, list[torch.Tensor]] = {}
        done: dict[int, Result] = {}
        next_out = 0
        show = len(items) > 1 if self.progress is None else self.progress
        bar = tqdm(total=len(items), disable=not show, unit="video", desc=desc)

        def run_batch(n: int) -> None:
            batch = torch.stack(buf_views[:n])  # (n, T, C, S, S)
            owners = buf_owner[:n]
            del buf_views[:n], buf_owner[:n]
            rows = self._forward(batch)
            for owner, row in zip(owners, rows):
                pieces.setdefault(owner, []).append(row)
                if len(pieces[owner]) == v_per:
                    merged = self._merge(torch.stack(pieces.pop(owner)))
                    done[owner] = Result(owner, names[owner], finish(merged))

        def ready() -> Iterator[Result]:
            nonlocal next_out
            while next_out in done:
                result = done.pop(next_out)
                next_out += 1
                bar.update(1)
                yield result

        self.failures = []
        was_training = self.model.training
        self.model.eval()
        try:
            for i, (views, error) in enumerate(self._decoded(items)):
                if views is None:
                    assert error is not None
                    failure = Failure(names[i], _describe_error(error))
                    self.failures.append(failure)
                    logger.warning("skipped %s", failure)
                    bar.set_postfix(failed=len(self.failures), refresh=False)
                    done[i] = Result(i, names[i], None, error)
                else:
                    if views.shape[0] != v_per:
                        raise ValueError(
                            f"{names[i]}: got {views.shape[0]} views, expected {v_per}"
                        )
                    buf_views.extend(views.unbind(0))
                    buf_owner.extend([i] * v_per)
                    while len(buf_views) >= self.batch_size:
                        run_batch(self.batch_size)
                yield from ready()
            while buf_views:
                run_batch(min(self.batch_size, len(buf_views)))
            yield from ready()
        finally:
            bar.close()
            self.model.train(was_training)


# ---------------------------------------------------------------------------------------------
# Classification


class VideoClassifier(_Runner):
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
    ) -> VideoClassifier:
        """Load a fine-tuned classifier from a folder, a hub id, or an original ``.pth`` file.

        ``clips`` x ``crops`` views per video (crops 1 = centre, 3 = spanning the longer side);
        ``num_frames`` defaults to the checkpoint's (another value resizes its position table);
        ``sampling_rate`` (dense sampling stride, default 4) and ``strategy`` ("dense" as for
        Kinetics, "uniform" as for Something-Something) choose the frames. ``batch_size`` counts
        views; ``num_workers`` decoding threads, 0 = inline (defaults: 1 view per forward and
        inline decoding on CPU, 8 views and 2 threads elsewhere; :func:`default_batch_size`,
        :func:`default_num_workers`). ``progress``: None shows a bar for more than one input.
        Raises CheckpointError when the checkpoint cannot be found (e.g. a hub id without
        network) or has no classification head.
        """
        from videomae.checkpoints import CheckpointError
        from videomae.modeling.models import VideoMAEForVideoClassification

        dev, dt, kwargs = cls._load_options(device, dtype, num_frames)
        config = cls._read_config(id_or_dir)
        if config is not None:
            archs = list(config.architectures or [])
            if archs and "VideoMAEForVideoClassification" not in archs:
                raise CheckpointError(
                    f"{id_or_dir} is a {archs[0]} checkpoint without a classification head; use "
                    "VideoEmbedder (CLI: videomae embed) for its features, or fine-tune it first "
                    "(videomae finetune)"
                )
            kwargs["config"] = config
        model, info = VideoMAEForVideoClassification.from_pretrained(id_or_dir, **kwargs)
        if any(k.startswith("classifier.") for k in info["missing_keys"]):
            raise CheckpointError(
                f"{id_or_dir} has no trained classification head (classifier.* missing); use "
                "VideoEmbedder for its features, or fine-tune it first (videomae finetune)"
            )
        return cls._assemble(
            model,
            id_or_dir,
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

    @property
    def labels(self) -> list[str]:
        """Class names in index order (``config.id2label``)."""
        id2label = self.model.config.id2label
        return [str(id2label.get(i, f"LABEL_{i}")) for i in range(self.model.config.num_labels)]

    def _forward(self, batch: torch.Tensor) -> torch.Tensor:
        batch = batch.to(self.device, dtype=self._model_dtype(), non_blocking=True)
        with torch.inference_mode(), self._autocast():
            logits = self.model(batch).logits
        return logits.float().cpu()  # (B, K)

    def _merge(self, rows: torch.Tensor) -> torch.Tensor:
        return merge_views(rows, "prob_mean")  # (K,) probabilities

    def probabilities(self, inputs: Any) -> list[torch.Tensor | None]:
        """View-averaged class probabilities (K,) per input (None where it failed)."""
        items, _ = _split_inputs(inputs)
        return [r.value for r in self._run(items, lambda p: p, "classify")]

    def predict(self, inputs: Any, top_k: int = 5) -> Iterator[Result]:
        """Stream one :class:`Result` per input, in order, as soon as it is ready.

        ``Result.value`` is the top-k ``[(label, score), ...]``; failures have ``value=None``
        and the exception in ``Result.error`` (also appended to ``.failures``).
        """
        if top_k < 1:
            raise ValueError(f"top_k must be >= 1, got {top_k}")
        items, _ = _split_inputs(inputs)
        labels = self.labels

        def topk(probs: torch.Tensor) -> list[tuple[str, float]]:
            k = min(int(top_k), probs.shape[0])
            vals, idx = probs.topk(k)
            return [(labels[int(i)], float(v)) for v, i in zip(vals, idx)]

        yield from self._run(items, topk, "classify")

    def __call__(
        self, inputs: Any, top_k: int = 5
    ) -> list[tuple[str, float]] | list[list[tuple[str, float]] | None]:
        """Top-k ``(label, score)`` for one input, or one list (or None) per input of a list.

        A single input that cannot be read raises its error (e.g. VideoDecodeError); in a list
        it is skipped, reported in ``.failures`` and its entry is None.
        """
        _, single = _split_inputs(inputs)
        results = list(self.predict(inputs, top_k))
        if single:
            if results[0].error is not None:
                raise results[0].error
            return results[0].value
        return [r.value for r in results]


# ---------------------------------------------------------------------------------------------
# Embeddings


POOLINGS = ("mean", "head")


class VideoEmbedder(_Runner):
    """Video-level features: the encoder's tokens mean-pooled, (B, D) float32.

    ``pooling="mean"`` (default, the standard and the same for every checkpoint kind): the raw
    mean over tokens of the encoder's ``last_hidden_state``. ``pooling="head"``: for a
    classifier checkpoint, the exact feature its head sees (``fc_norm`` of the mean, or the
    first token when the checkpoint does not mean-pool); for pre-training and bare encoder
    checkpoints, which have no ``fc_norm``, it equals "mean". Views (clips x crops) are averaged.
    """

    def __init__(self, *args: Any, pooling: str = "mean", **kwargs: Any) -> None:
        if pooling not in POOLINGS:
            raise ValueError(f"pooling must be one of {POOLINGS}, got {pooling!r}")
        super().__init__(*args, **kwargs)
        self.pooling = pooling
        self.kept: list[int] = []

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
    ) -> VideoEmbedder:
        """Load any VideoMAE checkpoint (pre-training, classifier or bare encoder).

        The options are those of :meth:`VideoClassifier.from_pretrained`, plus ``pooling``
        (see the class doc). A pre-training checkpoint's decoder is loaded and dropped.
        """
        from videomae.modeling import models

        dev, dt, kwargs = cls._load_options(device, dtype, num_frames)
        config = cls._read_config(id_or_dir)
        archs = list(getattr(config, "architectures", None) or []) if config is not None else []
        if config is not None:
            kwargs["config"] = config
        if "VideoMAEForVideoClassification" in archs:
            model, _ = models.VideoMAEForVideoClassification.from_pretrained(id_or_dir, **kwargs)
        elif "VideoMAEForPreTraining" in archs:
            full, _ = models.VideoMAEForPreTraining.from_pretrained(id_or_dir, **kwargs)
            model = full.videomae  # the encoder; decoder weights are not needed
        else:
            model, _ = models.VideoMAEModel.from_pretrained(id_or_dir, **kwargs)
        return cls._assemble(
            model,
            id_or_dir,
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

    def _encoder(self) -> torch.nn.Module:
        return getattr(self.model, "videomae", self.model)

    def _forward(self, batch: torch.Tensor) -> torch.Tensor:
        batch = batch.to(self.device, dtype=self._model_dtype(), non_blocking=True)
        with torch.inference_mode(), self._autocast():
            hidden = self._encoder()(batch).last_hidden_state  # (B, N, D)
            if self.pooling == "head" and hasattr(self.model, "pool"):
                feats = self.model.pool(hidden)  # (B, D)
            else:
                feats = hidden.float().mean(dim=1)  # (B, D)
        return feats.float().cpu()

    def _merge(self, rows: torch.Tensor) -> torch.Tensor:
        return rows.mean(dim=0)  # (D,)

    def embed(self, inputs: Any) -> Embeddings:
        """Features of every input that worked, with their names, indices and the failures."""
        items, _ = _split_inputs(inputs)
        feats: list[torch.Tensor] = []
        names: list[str] = []
        indices: list[int] = []
        for r in self._run(items, lambda f: f, "embed"):
            if r.ok:
                feats.append(r.value)
                names.append(r.name)
                indices.append(r.index)
        features = torch.stack(feats) if feats else torch.zeros(0, self.dim)
        self.kept = indices
        return Embeddings(features, names, indices, list(self.failures))

    def __call__(self, inputs: Any) -> torch.Tensor:
        """(B, D) float32 features: one row per input that worked (their indices: ``.kept``).

        A single input gives (1, D) and raises its error if it cannot be read; in a list a bad
        input is skipped and reported in ``.failures``.
        """
        items, single = _split_inputs(inputs)
        if single:
            (result,) = list(self._run(items, lambda f: f, "embed"))
            if result.error is not None:
                raise result.error
            self.kept = [0]
            return result.value.unsqueeze(0)
        return self.embed(items).features


# ---------------------------------------------------------------------------------------------
# Files and whole tasks (the CLI's subcommands call these)

EMBEDDING_SUFFIXES = (".npy", ".safetensors")


def save_embeddings(
    path: str | os.PathLike,
    embeddings: Embeddings,
    *,
    metadata: dict[str, Any] | None = None,
) -> list[Path]:
    """Write (N, D) float32 features with the list of their files; returns the files written.

    ``.npy``: the array, plus ``<stem>.json`` next to it holding ``{"paths": [...],
    "failures": [...], **metadata}`` (row i of the array is ``paths[i]``).
    ``.safetensors``: one tensor ``"features"``; the file list is in the header metadata under
    ``"paths"`` (a JSON list, since safetensors metadata values are strings), with
    ``"failures"`` and the other metadata likewise JSON-encoded.
    """
    import json

    out = Path(path)
    suffix = out.suffix.lower()
    if suffix not in EMBEDDING_SUFFIXES:
        raise ValueError(
            f"embedding file must end in .npy or .safetensors, got {out.name!r}; e.g. --out feats.npy"
        )
    out.parent.mkdir(parents=True, exist_ok=True)
    features = embeddings.features.detach().float().cpu().contiguous()
    info = {
        "paths": list(embeddings.names),
        "failures": [{"path": f.path, "reason": f.reason} for f in embeddings.failures],
        **(metadata or {}),
    }
    if suffix == ".npy":
        np.save(out, features.numpy())
        side = out.with_suffix(".json")
        side.write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")
        return [out, side]
    from safetensors.torch import save_file

    save_file(
        {"features": features}, str(out), metadata={k: json.dumps(v) for k, v in info.items()}
    )
    return [out]


def load_embeddings(path: str | os.PathLike) -> tuple[torch.Tensor, list[str]]:
    """Read back what :func:`save_embeddings` wrote: (features (N, D), paths)."""
    import json

    p = Path(path)
    if p.suffix.lower() == ".npy":
        feats = torch.from_numpy(np.load(p))
        info = json.loads(p.with_suffix(".json").read_text(encoding="utf-8"))
        return feats, list(info["paths"])
    from safetensors import safe_open

    with safe_open(str(p), framework="pt") as f:
        meta = f.metadata() or {}
        feats = f.get_tensor("features")
    return feats, list(json.loads(meta.get("paths", "[]")))


RECONSTRUCTION_SUFFIXES = (".png", ".gif")


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
) -> Path:
    """Reconstruct a masked clip of ``video`` with a pre-training checkpoint; save a picture.

    The clip has ``config.num_frames`` frames ``sampling_rate`` apart, starting at
    ``start_frame`` (default: the centred clip); the short side is resized to
    ``config.image_size``, then centre-cropped and normalised with the ImageNet mean/std (what
    the pre-training target assumes). ``mask_ratio`` of the tokens are hidden, drawn with
    ``seed``: whole tubes (``mask_kind="tube"``) or single tubelets (``"random"``); use the
    masking the model was pre-trained with. ``out`` ending in ``.png`` is a grid (see :func:`videomae.viz.grid_size`);
    ``.gif`` an animation at ``fps``.
    """
    from videomae.checkpoints import CheckpointError
    from videomae.masking import make_mask
    from videomae.modeling.models import VideoMAEForPreTraining
    from videomae.processing import center_crop, normalize, resize_short_side
    from videomae.video import read_clip, read_frames
    from videomae.viz.reconstruction import (
        reconstruct,
        save_reconstruction_gif,
        save_reconstruction_png,
    )

    out_path = Path(out)
    if out_path.suffix.lower() not in RECONSTRUCTION_SUFFIXES:
        raise ValueError(f"--out must end in .png or .gif, got {out_path.name!r}")
    if mask_kind not in ("tube", "random"):
        raise ValueError(f"mask_kind must be 'tube' or 'random', got {mask_kind!r}")
    if not 0.0 < mask_ratio < 1.0:
        raise ValueError(f"mask_ratio must be in (0, 1), got {mask_ratio}")
    if sampling_rate < 1:
        raise ValueError(f"sampling_rate must be >= 1, got {sampling_rate}")
    if start_frame is not None and start_frame < 0:
        raise ValueError(f"start_frame must be >= 0, got {start_frame}")
    dev = resolve_device(device)
    model, info = VideoMAEForPreTraining.from_pretrained(id_or_dir, output_loading_info=True)
    if any(k.startswith(("decoder.", "encoder_to_decoder")) for k in info["missing_keys"]):
        raise CheckpointError(
            f"{id_or_dir} has no decoder: reconstructions need a pre-training checkpoint "
            "(VideoMAEForPreTraining), not a fine-tuned classifier or bare encoder"
        )
    model = model.to(dev).eval()
    cfg = model.config
    size = _square(cfg.image_size, "config.image_size")
    t = int(cfg.num_frames)
    if start_frame is None:
        clip = read_clip(video, t, strategy="dense", sampling_rate=sampling_rate)
    else:
        clip = read_frames(video, [start_frame + i * sampling_rate for i in range(t)])
    frames = clip.frames.permute(0, 3, 1, 2)  # (T, C, H, W) uint8
    frames = center_crop(resize_short_side(frames, size), size)  # (T, C, S, S)
    pixel_values = (
        normalize(frames, IMAGENET_DEFAULT_MEAN, IMAGENET_DEFAULT_STD).unsqueeze(0).to(dev)
    )
    generator = torch.Generator().manual_seed(int(seed))
    mask = make_mask(mask_kind, 1, cfg.token_grid, mask_ratio, generator=generator).to(dev)
    rows = reconstruct(
        model, pixel_values, mask, mean=IMAGENET_DEFAULT_MEAN, std=IMAGENET_DEFAULT_STD
    )
    if out_path.suffix.lower() == ".gif":
        return save_reconstruction_gif(rows, out_path, fps=fps)
    return save_reconstruction_png(rows, out_path)


def read_samples(
    source: str | os.PathLike,
    *,
    root: str | os.PathLike | None = None,
    label_names: Sequence[str] | None = None,
) -> list[tuple[str, int]]:
    """(path, label) pairs from a list file (``path label`` lines) or a folder per class.

    List files: relative paths are joined to ``root`` (default: the list file's folder); labels
    may be integers or names from ``label_names``. Class folders: when ``label_names`` (the
    model's classes) holds every folder name, labels follow the model's order; otherwise the
    folders' sorted order, with a warning.
    """
    from videomae.data.lists import load_samples

    src = Path(source)
    if not src.exists():
        raise FileNotFoundError(f"{src} does not exist; pass a list file or a folder per class")
    if src.is_dir():
        samples, classes = load_samples(src, labeled=True)
        if label_names is not None and classes:
            index = {name: i for i, name in enumerate(label_names)}
            if all(c in index for c in classes):
                return [(s.path, index[classes[s.label]]) for s in samples]
            logger.warning(
                "class folders %s are not all among the model's labels; using sorted folder order",
                classes[:5],
            )
        return [(s.path, int(s.label)) for s in samples]
    if root is None and src.parent != Path("."):
        root = src.parent
    samples, _ = load_samples(src, root, label_names, labeled=True)
    return [(s.path, int(s.label)) for s in samples]


def evaluate_checkpoint(
    id_or_dir: str | os.PathLike,
    source: str | os.PathLike,
    *,
    root: str | os.PathLike | None = None,
    clips: int = 1,
    crops: int = 1,
    num_frames: int | None = None,
    sampling_rate: int | None = None,
    strategy: str | None = None,
    batch_size: int | None = None,
    device: str | torch.device | None = "cpu",
    dtype: str = "fp32",
    out_dir: str | os.PathLike | None = None,
    progress: bool = True,
) -> dict[str, Any]:
    """The paper's multi-view test protocol on a list file or class folders (see
    :func:`videomae.evaluate.evaluate`); preprocessing as :class:`VideoClassifier`'s.

    Reduced precision runs under autocast with float32 weights. Returns the summary dict
    (``summary.json`` with predictions and a confusion matrix under ``out_dir`` when given).
    """
    from videomae.evaluate import evaluate

    dt = parse_dtype(dtype)
    clf = VideoClassifier.from_pretrained(
        id_or_dir,
        device=device,
        dtype="fp32",
        clips=clips,
        crops=crops,
        num_frames=num_frames,
        sampling_rate=sampling_rate,
        strategy=strategy,
        batch_size=batch_size,
    )
    samples = read_samples(source, root=root, label_names=clf.labels)
    cfg = clf.preprocessing.eval_config(
        batch_size=clf.batch_size,
        device=str(clf.device),
        dtype=str(dt).replace("torch.", ""),
        out_dir=out_dir,
        extra={"model": os.fspath(id_or_dir), "data": os.fspath(source)},
    )
    return evaluate(clf.model, samples, cfg, progress=progress)
