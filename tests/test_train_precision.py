"""The precision policy: "auto" picks bf16 only with fast hardware support; fp16 needs CUDA."""

from __future__ import annotations

import pytest
import torch

from videomae.train.precision import resolve_precision


def test_precision_checks(monkeypatch: pytest.MonkeyPatch) -> None:
    from videomae.train import precision

    monkeypatch.setattr(precision, "cpu_has_fast_bf16", lambda: True)
    assert resolve_precision("auto", torch.device("cpu")) == "bf16"
    monkeypatch.setattr(precision, "cpu_has_fast_bf16", lambda: False)
    assert resolve_precision("auto", torch.device("cpu")) == "fp32"
    with pytest.raises(ValueError, match="needs CUDA"):
        resolve_precision("fp16", torch.device("cpu"))
    with pytest.raises(ValueError, match="precision must be"):
        resolve_precision("fp8", torch.device("cpu"))
