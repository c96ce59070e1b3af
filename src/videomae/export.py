"""Exporting a checkpoint for deployment: ONNX (opset 17) or a ``torch.export`` program (.pt2).

The exported graph is the classifier's forward (``pixel_values`` (B, T, C, S, S) float32 ->
``logits`` (B, K)) or, with ``embed=True``, the pooled features (-> ``features`` (B, D), the
same as :class:`~videomae.inference.embedder.VideoEmbedder`). The batch axis is dynamic; the
clip shape is static, taken from the model's config (``num_frames`` x ``image_size``): the
position table is built for it. The file carries the config and the preprocessing
(:mod:`videomae.inference.exported`), so ``VideoClassifier.from_exported`` runs it end to end.

:func:`check_export` runs the written file (onnxruntime / ``torch.export.load``) against the
eager model on random inputs and returns the largest difference.
"""

from __future__ import annotations

import dataclasses
import json
import os
import warnings
from pathlib import Path
from typing import Any

import torch

from videomae.inference.classifier import VideoClassifier
from videomae.inference.embedder import VideoEmbedder
from videomae.inference.exported import META_KEY, ExportedModel
from videomae.inference.pipeline import VideoPipeline
from videomae.inference.views import square_size

__all__ = ["EXPORT_FORMATS", "check_export", "export_model", "input_shape", "load_for_export"]

#: format -> file suffix
EXPORT_FORMATS = {"onnx": ".onnx", "pt2": ".pt2"}
_OPSET = 17
_MAX_BATCH = 4096


class _Forward(torch.nn.Module):
    """A pipeline's batch -> rows step as a module with one tensor in and one out."""

    def __init__(self, pipeline: VideoPipeline) -> None:
        super().__init__()
        self.model = pipeline.model
        self.step = pipeline._forward

    def forward(self, pixel_values: torch.Tensor) -> torch.Tensor:
        return self.step(pixel_values)


def load_for_export(model_dir: str | os.PathLike, *, embed: bool, pooling: str) -> VideoPipeline:
    """The float32 CPU pipeline whose forward is exported (classifier, or embedder)."""
    if embed:
        return VideoEmbedder.from_pretrained(model_dir, pooling=pooling, progress=False)
    return VideoClassifier.from_pretrained(model_dir, progress=False)


def input_shape(pipeline: VideoPipeline, batch: int = 1) -> tuple[int, ...]:
    """(B, T, C, S, S): the static clip shape of the model's config."""
    config = pipeline.model.config
    size = square_size(config.image_size, "config.image_size", "export needs square clips")
    return (batch, int(config.num_frames), int(config.num_channels), size, size)


def _metadata(pipeline: VideoPipeline, embed: bool, pooling: str) -> str:
    pre = dataclasses.asdict(pipeline.preprocessing)
    for key in ("clips", "crops", "source"):
        pre.pop(key)
    return json.dumps(
        {
            "config": pipeline.model.config.to_dict(),
            "preprocessing": pre,
            "output": "features" if embed else "logits",
            "pooling": pooling if embed else None,
        }
    )


def _onnx(module: torch.nn.Module, example: torch.Tensor, out: Path, output: str, meta: str):
    try:
        import onnx
    except ImportError as exc:  # pragma: no cover - exercised only without the extra
        raise ImportError("ONNX export needs onnx: `pip install videomae[export]`") from exc
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tracer notes on shape checks of the static clip
        torch.onnx.export(
            module, (example,), str(out), dynamo=False, opset_version=_OPSET,
            input_names=["pixel_values"], output_names=[output],
            dynamic_axes={"pixel_values": {0: "batch"}, output: {0: "batch"}},
        )  # fmt: skip
    proto = onnx.load(str(out))
    entry = proto.metadata_props.add()
    entry.key, entry.value = META_KEY, meta
    onnx.save(proto, str(out))


def _pt2(module: torch.nn.Module, example: torch.Tensor, out: Path, meta: str) -> None:
    batch = torch.export.Dim("batch", min=1, max=_MAX_BATCH)
    program = torch.export.export(module, (example,), dynamic_shapes=({0: batch},))
    torch.export.save(program, str(out), extra_files={f"{META_KEY}.json": meta})


def export_model(
    model_dir: str | os.PathLike,
    out: str | os.PathLike,
    *,
    format: str | None = None,
    embed: bool = False,
    pooling: str = "mean",
) -> Path:
    """Write the model of ``model_dir`` to ``out`` (see the module doc); ``format`` "onnx" or
    "pt2" (default: by the suffix of ``out``). Returns the written path."""
    path = Path(out)
    fmt = format or next((f for f, ext in EXPORT_FORMATS.items() if path.suffix == ext), None)
    if fmt not in EXPORT_FORMATS:
        raise ValueError(
            f"cannot tell the export format of {path.name!r}: name it .onnx or .pt2, or pass "
            f"format= one of {sorted(EXPORT_FORMATS)}"
        )
    pipeline = load_for_export(model_dir, embed=embed, pooling=pooling)
    module = _Forward(pipeline).eval()
    example = torch.randn(input_shape(pipeline, batch=2))
    meta = _metadata(pipeline, embed, pooling)
    path.parent.mkdir(parents=True, exist_ok=True)
    with torch.no_grad():
        module(example)  # builds the cached position table outside tracing: a real constant
        if fmt == "onnx":
            _onnx(module, example, path, "features" if embed else "logits", meta)
        else:
            _pt2(module, example, path, meta)
    return path


def _rows(output: Any) -> torch.Tensor:
    return output.logits if hasattr(output, "logits") else output


def check_export(
    path: str | os.PathLike, pipeline: VideoPipeline, *, batches: tuple[int, ...] = (1, 3)
) -> float:
    """The largest |exported - eager| over random float32 inputs of each batch size."""
    exported = ExportedModel(path)
    worst = 0.0
    gen = torch.Generator().manual_seed(0)
    for b in batches:
        x = torch.randn(input_shape(pipeline, b), generator=gen)
        with torch.no_grad():
            want = pipeline._forward(x).float()
            got = _rows(exported(x)).float()
        if got.shape != want.shape:
            raise ValueError(f"{path}: output {tuple(got.shape)}, eager {tuple(want.shape)}")
        worst = max(worst, float((got - want).abs().max()))
    return worst
