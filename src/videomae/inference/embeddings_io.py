"""Embedding files: (N, D) float32 features with the list of the videos they came from."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors import safe_open
from safetensors.torch import save_file

from videomae.errors import InputError
from videomae.inference.results import Embeddings

__all__ = ["EMBEDDING_SUFFIXES", "check_embedding_path", "load_embeddings", "save_embeddings"]

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
