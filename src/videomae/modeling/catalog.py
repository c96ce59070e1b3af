"""The models a person can start from: the size presets (parameters counted from the config)
and the well-known checkpoints on the Hugging Face hub (``videomae models`` prints both)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch

from videomae.config import VideoMAEConfig
from videomae.modeling.models import VideoMAEForPreTraining, VideoMAEForVideoClassification
from videomae.presets import PRESETS


@dataclass(frozen=True)
class HubModel:
    """A released checkpoint: what it was trained on and the input it expects."""

    hub_id: str
    kind: str  # "pre-training" (encoder + decoder) or "classifier"
    frames: int
    size: int
    classes: int | None  # None for pre-training checkpoints
    dataset: str


# The MCG-NJU releases on the hub (frames x size, classes of the head; from their config.json).
HUB_MODELS: tuple[HubModel, ...] = (
    HubModel("MCG-NJU/videomae-small-finetuned-kinetics", "classifier", 16, 224, 400, "Kinetics-400"),
    HubModel("MCG-NJU/videomae-small-finetuned-ssv2", "classifier", 16, 224, 174, "SSv2"),
    HubModel("MCG-NJU/videomae-base", "pre-training", 16, 224, None, "Kinetics-400"),
    HubModel("MCG-NJU/videomae-base-short", "pre-training", 16, 224, None, "Kinetics-400"),
    HubModel("MCG-NJU/videomae-base-finetuned-kinetics", "classifier", 16, 224, 400, "Kinetics-400"),
    HubModel("MCG-NJU/videomae-base-ssv2", "pre-training", 16, 224, None, "SSv2"),
    HubModel("MCG-NJU/videomae-base-finetuned-ssv2", "classifier", 16, 224, 174, "SSv2"),
    HubModel("MCG-NJU/videomae-large", "pre-training", 16, 224, None, "Kinetics-400"),
    HubModel("MCG-NJU/videomae-large-finetuned-kinetics", "classifier", 16, 224, 400, "Kinetics-400"),
    HubModel("MCG-NJU/videomae-huge-finetuned-kinetics", "classifier", 16, 224, 400, "Kinetics-400"),
)  # fmt: skip


def count_parameters(config: VideoMAEConfig, kind: str = "classifier") -> int:
    """Parameters of the model ``config`` describes, built on the meta device (no memory, no init).

    ``kind``: "classifier" (encoder + head) or "pre-training" (encoder + decoder).
    """
    cls = {"classifier": VideoMAEForVideoClassification, "pre-training": VideoMAEForPreTraining}
    if kind not in cls:
        raise ValueError(f"kind must be 'classifier' or 'pre-training', got {kind!r}")
    with torch.device("meta"):
        model = cls[kind](config)
    return sum(p.numel() for p in model.parameters())


def preset_rows(num_labels: int = 400, **overrides: Any) -> list[dict[str, Any]]:
    """One row per preset: its sizes and parameter counts (classifier with ``num_labels``
    classes, and pre-training model), counted from the config at 16 x 224 x 224."""
    rows = []
    for name in PRESETS:
        cfg = VideoMAEConfig.from_preset(name, num_labels=num_labels, **overrides)
        rows.append(
            {
                "name": name,
                "hidden_size": cfg.hidden_size,
                "layers": cfg.num_hidden_layers,
                "heads": cfg.num_attention_heads,
                "patch_size": cfg.patch_size,
                "classifier_params": count_parameters(cfg, "classifier"),
                "pretraining_params": count_parameters(cfg, "pre-training"),
            }
        )
    return rows


def _millions(n: int) -> str:
    return f"{n / 1e6:.1f}M"


def models_table(num_labels: int = 400) -> str:
    """The text ``videomae models`` prints: presets, then the hub checkpoints."""
    lines = [
        f"presets (--model NAME; parameters counted from the config, {num_labels}-class head)",
        f"  {'name':<7} {'hidden':>6} {'layers':>6} {'heads':>5} {'patch':>5} "
        f"{'classifier':>11} {'pre-training':>13}",
    ]
    for r in preset_rows(num_labels):
        lines.append(
            f"  {r['name']:<7} {r['hidden_size']:>6} {r['layers']:>6} {r['heads']:>5} "
            f"{r['patch_size']:>5} {_millions(r['classifier_params']):>11} "
            f"{_millions(r['pretraining_params']):>13}"
        )
    lines += ["", "hub checkpoints (--model ID or --init ID; network needed once)"]
    width = max(len(m.hub_id) for m in HUB_MODELS)
    for m in HUB_MODELS:
        classes = "-" if m.classes is None else str(m.classes)
        lines.append(
            f"  {m.hub_id:<{width}}  {m.kind:<12} {m.frames} x {m.size}px  "
            f"classes {classes:>3}  {m.dataset}"
        )
    return "\n".join(lines)
