"""What a run over many inputs gives back: one Result per input, Failures, Embeddings."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

import torch

from videomae.errors import VideoDecodeError

__all__ = ["Embeddings", "Failure", "Result", "describe_error", "name_of"]


@dataclass(frozen=True)
class Failure:
    """An input that could not be processed: its path (or ``<frames #i>``) and why."""

    path: str
    reason: str

    def __str__(self) -> str:
        return f"{self.path}: {self.reason}"


def describe_error(exc: BaseException) -> str:
    """A one-line reason: a decode error's cause, else ``"<Type>: <message>"``."""
    if isinstance(exc, VideoDecodeError):
        return exc.cause
    return f"{type(exc).__name__}: {exc}"


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

    @property
    def failure(self) -> Failure | None:
        """The failure record of a failed input (None when it worked)."""
        if self.error is None:
            return None
        return Failure(self.name, describe_error(self.error))


@dataclass
class Embeddings:
    """Features of the inputs that worked: ``features`` (N, D), their ``names`` and ``indices``."""

    features: torch.Tensor
    names: list[str]
    indices: list[int]
    failures: list[Failure] = field(default_factory=list)


def name_of(item: Any, index: int) -> str:
    """How results and failures name an input: its path, or ``<frames #index>``."""
    return os.fspath(item) if isinstance(item, (str, os.PathLike)) else f"<frames #{index}>"
