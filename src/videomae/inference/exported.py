"""Running an exported model file in place of the eager model: ONNX with onnxruntime, or a
``torch.export`` program (.pt2) with ``torch.export.load``.

An exported file carries what running it needs besides the weights, as JSON under the key
``"videomae"`` (ONNX metadata property, or an extra file of the .pt2 archive): the model's
config, its preprocessing (frames, crop size, statistics) and what it outputs (``"logits"`` or
``"features"``). :class:`ExportedModel` is an ``nn.Module`` that returns what the eager model
returns, so the classifier and its runner use it unchanged (:meth:`VideoClassifier.from_exported
<videomae.inference.classifier.VideoClassifier.from_exported>`).

onnxruntime is optional (the ``export`` extra: ``pip install videomae[export]``).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import torch

from videomae.config import VideoMAEConfig
from videomae.errors import CheckpointError
from videomae.inference.views import Preprocessing
from videomae.modeling.outputs import ImageClassifierOutput

__all__ = [
    "BACKENDS",
    "META_KEY",
    "ExportedModel",
    "backend_of",
    "exported_preprocessing",
    "read_export_metadata",
]

META_KEY = "videomae"
#: backend name -> file suffix it runs
BACKENDS = {"onnxruntime": ".onnx", "pt2": ".pt2"}


def backend_of(path: str | os.PathLike) -> str:
    """The backend that runs an exported file, from its suffix; CheckpointError otherwise."""
    suffix = Path(path).suffix.lower()
    for name, ext in BACKENDS.items():
        if suffix == ext:
            return name
    raise CheckpointError(
        f"{path} is not an exported model (expected a .onnx or .pt2 file written by "
        "`videomae export`)"
    )


def _onnx_runtime() -> Any:
    try:
        import onnxruntime
    except ImportError as exc:  # pragma: no cover - exercised only without the extra
        raise ImportError(
            "running .onnx files needs onnxruntime: `pip install videomae[export]`"
        ) from exc
    return onnxruntime


def _check_file(path: Path) -> None:
    if not path.is_file():
        raise CheckpointError(f"{path} does not exist; export one with `videomae export`")


def _parse_meta(text: str | bytes | None, path: Path) -> dict[str, Any]:
    if not text:
        raise CheckpointError(
            f"{path} has no videomae metadata; it was not written by `videomae export` "
            "(re-export the model folder with it)"
        )
    meta = json.loads(text)
    missing = {"config", "preprocessing", "output"} - set(meta)
    if missing:
        raise CheckpointError(
            f"{path}: the videomae metadata lacks {sorted(missing)}; re-export it"
        )
    return meta


def read_export_metadata(path: str | os.PathLike) -> dict[str, Any]:
    """The ``"videomae"`` metadata of an exported file (config, preprocessing, output)."""
    p = Path(path)
    _check_file(p)
    if backend_of(p) == "onnxruntime":
        session = _onnx_runtime().InferenceSession(str(p), providers=["CPUExecutionProvider"])
        return _parse_meta(session.get_modelmeta().custom_metadata_map.get(META_KEY), p)
    extra = {f"{META_KEY}.json": ""}
    torch.export.load(str(p), extra_files=extra)
    return _parse_meta(extra[f"{META_KEY}.json"], p)


class ExportedModel(torch.nn.Module):
    """An exported file as a module: ``forward(pixel_values)`` -> an output with ``.logits``
    (a classifier) or the (B, D) features (an ``--embed`` export). ``config`` and ``meta`` as
    stored in the file. ``backend``: "onnxruntime" or "pt2" (default: by suffix)."""

    def __init__(
        self, path: str | os.PathLike, backend: str | None = None, *, threads: int | None = None
    ) -> None:
        super().__init__()
        p = Path(path)
        _check_file(p)
        self.path = p
        self.backend = backend or backend_of(p)
        if self.backend not in BACKENDS:
            raise ValueError(f"backend must be one of {sorted(BACKENDS)}, got {self.backend!r}")
        if self.backend == "onnxruntime":
            ort = _onnx_runtime()
            options = ort.SessionOptions()
            if threads:
                options.intra_op_num_threads = int(threads)
            self.session = ort.InferenceSession(str(p), options, providers=["CPUExecutionProvider"])
            text = self.session.get_modelmeta().custom_metadata_map.get(META_KEY)
            self.meta = _parse_meta(text, p)
            self.input_name = self.session.get_inputs()[0].name
        else:
            extra = {f"{META_KEY}.json": ""}
            # kept out of the module tree: an exported program refuses train()/eval() calls,
            # which the runner makes on its model
            self.__dict__["program"] = torch.export.load(str(p), extra_files=extra).module()
            self.meta = _parse_meta(extra[f"{META_KEY}.json"], p)
        self.config = VideoMAEConfig.from_dict(self.meta["config"])

    def _run(self, pixel_values: torch.Tensor) -> torch.Tensor:
        if self.backend == "onnxruntime":
            x = pixel_values.detach().float().cpu().contiguous().numpy()
            return torch.from_numpy(self.session.run(None, {self.input_name: x})[0])
        return self.program(pixel_values.float()).detach()

    def forward(self, pixel_values: torch.Tensor) -> Any:
        out = self._run(pixel_values)
        if self.meta["output"] == "logits":
            return ImageClassifierOutput(logits=out)  # (B, K)
        return out  # (B, D)


def exported_preprocessing(
    meta: dict[str, Any],
    *,
    clips: int = 1,
    crops: int = 1,
    sampling_rate: int | None = None,
    strategy: str | None = None,
) -> Preprocessing:
    """The preprocessing an exported file was written with; the clip shape is fixed by the
    file, the views and the frame sampling may change."""
    stored = dict(meta["preprocessing"])
    return Preprocessing(
        num_frames=int(stored["num_frames"]),
        crop_size=int(stored["crop_size"]),
        short_side=int(stored["short_side"]),
        mean=tuple(float(v) for v in stored["mean"]),
        std=tuple(float(v) for v in stored["std"]),
        sampling_rate=int(sampling_rate or stored.get("sampling_rate") or 4),
        strategy=str(strategy or stored.get("strategy") or "dense"),
        clips=int(clips),
        crops=int(crops),
        source="exported file",
    )
