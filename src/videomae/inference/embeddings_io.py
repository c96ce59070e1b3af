"""Embedding files: (N, D) float32 features with the list of the videos they came from; and
per-window features of long videos (:func:`save_window_embeddings`)."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors import safe_open
from safetensors.torch import save_file

from videomae.errors import InputError
from videomae.inference.results import Embeddings
from videomae.inference.windows import WindowResult

__all__ = [
    "EMBEDDING_SUFFIXES",
    "WINDOW_TENSORS",
    "check_embedding_path",
    "load_embeddings",
    "load_window_embeddings",
    "save_embeddings",
    "save_window_embeddings",
]

#: the tensors of one video's windows: features (W, D), start_s (W,), end_s (W,)
WINDOW_TENSORS = ("features", "start_s", "end_s")

EMBEDDING_SUFFIXES = (".npy", ".safetensors")


def check_embedding_path(path: str | os.PathLike) -> Path:
    """``path`` as a Path when it names a format we write (.npy, .safetensors), else InputError.

    Called before any work, so a wrong ``--out`` fails before the model loads.
    """
    out = Path(path)
    if out.suffix.lower() not in EMBEDDING_SUFFIXES:
        raise InputError(
            f"embedding file must end in .npy or .safetensors, got {out.name!r}; e.g. --out feats.npy"
        )
    return out


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
    out = check_embedding_path(path)
    suffix = out.suffix.lower()
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
    save_file(
        {"features": features}, str(out), metadata={k: json.dumps(v) for k, v in info.items()}
    )
    return [out]


def load_embeddings(path: str | os.PathLike) -> tuple[torch.Tensor, list[str]]:
    """Read back what :func:`save_embeddings` wrote: (features (N, D), paths)."""
    p = Path(path)
    if p.suffix.lower() == ".npy":
        feats = torch.from_numpy(np.load(p))
        info = json.loads(p.with_suffix(".json").read_text(encoding="utf-8"))
        return feats, list(info["paths"])
    with safe_open(str(p), framework="pt") as f:
        meta = f.metadata() or {}
        feats = f.get_tensor("features")
    return feats, list(json.loads(meta.get("paths", "[]")))


def _window_tensors(results: Sequence[WindowResult], dim: int) -> dict[str, torch.Tensor]:
    feats = [r.value.detach().float().cpu() for r in results]
    return {
        "features": torch.stack(feats) if feats else torch.zeros(0, dim),  # (W, D)
        "start_s": torch.tensor([r.start_s for r in results], dtype=torch.float64),  # (W,)
        "end_s": torch.tensor([r.end_s for r in results], dtype=torch.float64),  # (W,)
    }


def save_window_embeddings(
    path: str | os.PathLike,
    videos: Mapping[str, Sequence[WindowResult]],
    *,
    dim: int,
    metadata: dict[str, Any] | None = None,
) -> Path:
    """Write each video's window features to one ``.safetensors`` file.

    One video: tensors ``features`` (W, D) float32, ``start_s`` (W,) and ``end_s`` (W,)
    float64 seconds. Several videos: the same three per video, keys prefixed by the video's
    path as given and a slash (``"clips/a.mp4/features"``). Header metadata: ``"paths"`` (a
    JSON list, in order) and ``"layout"`` (``"single"`` or ``"prefixed"``), plus ``metadata``.
    """
    out = Path(path)
    if out.suffix.lower() != ".safetensors":
        raise InputError(
            f"window embeddings are written to .safetensors, got {out.name!r}; e.g. --out w.safetensors"
        )
    out.parent.mkdir(parents=True, exist_ok=True)
    single = len(videos) == 1
    tensors: dict[str, torch.Tensor] = {}
    for name, results in videos.items():
        for key, t in _window_tensors(results, dim).items():
            tensors[key if single else f"{name}/{key}"] = t.contiguous()
    info = {"paths": list(videos), "layout": "single" if single else "prefixed", **(metadata or {})}
    save_file(tensors, str(out), metadata={k: json.dumps(v) for k, v in info.items()})
    return out


def load_window_embeddings(path: str | os.PathLike) -> dict[str, dict[str, torch.Tensor]]:
    """Read back :func:`save_window_embeddings`: ``{video path: {"features", "start_s",
    "end_s"}}`` in the order written."""
    with safe_open(str(path), framework="pt") as f:
        meta = f.metadata() or {}
        paths = list(json.loads(meta.get("paths", "[]")))
        single = json.loads(meta.get("layout", '"single"')) == "single"
        return {
            p: {k: f.get_tensor(k if single else f"{p}/{k}") for k in WINDOW_TENSORS} for p in paths
        }
