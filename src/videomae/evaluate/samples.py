"""Labelled test videos: (path, label) pairs from a list file or a folder per class."""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from pathlib import Path

from videomae.data.datasets import load_samples

logger = logging.getLogger(__name__)

__all__ = ["read_samples"]


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
