"""The ``README.md`` model card of a model folder, in the Hub's format.

YAML front matter (``library_name``, ``pipeline_tag``, ``tags``, ``base_model`` when it is a hub
id, ``model-index`` with the evaluation results when known), then a body: what the model is,
how it was trained, its results, and how to load it in ``videomae`` and in transformers.
Values are written as JSON scalars, which YAML reads unchanged (no YAML library needed).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["CardFacts", "model_card"]

README_NAME = "README.md"

_TASKS = {
    "VideoMAEForVideoClassification": ("video-classification", "Video Classification"),
    "VideoMAEForPreTraining": ("feature-extraction", "Masked video pre-training"),
    "VideoMAEModel": ("feature-extraction", "Video feature extraction"),
}
# metrics the recipes report (percentages) -> (model-index type, readable name)
_METRICS = {
    "val_top1": ("accuracy", "top-1 accuracy"),
    "val_top5": ("top_5_accuracy", "top-5 accuracy"),
    "top1": ("accuracy", "top-1 accuracy"),
    "top5": ("top_5_accuracy", "top-5 accuracy"),
}


@dataclass
class CardFacts:
    """What a card says beyond the config: how the model was made and how well it does.

    ``training``: readable settings (recipe, data, steps...), ``metrics``: name -> value (the
    recipes' ``val_top1``/``val_top5`` percentages), ``preprocessing``: the processor's dict,
    ``base_model``: the folder or hub id the run started from, ``dataset``: the data's name.
    """

    training: Mapping[str, Any] = field(default_factory=dict)
    metrics: Mapping[str, float] = field(default_factory=dict)
    preprocessing: Mapping[str, Any] = field(default_factory=dict)
    base_model: str | None = None
    dataset: str | None = None


def _q(value: Any) -> str:
    return json.dumps(value)


def _is_hub_id(text: str | None) -> bool:
    return bool(text) and text.count("/") == 1 and not text.startswith((".", "/", "~"))  # type: ignore[union-attr]


def _model_index(name: str, arch: str, facts: CardFacts) -> list[str]:
    known = [(k, float(v)) for k, v in facts.metrics.items() if k in _METRICS and v is not None]
    if not known:
        return []
    task, task_name = _TASKS.get(arch, _TASKS["VideoMAEModel"])
    dataset = facts.dataset or "custom"
    lines = [
        "model-index:",
        f"- name: {_q(name)}",
        "  results:",
        "  - task:",
        f"      type: {_q(task)}",
        f"      name: {_q(task_name)}",
        "    dataset:",
        f"      name: {_q(dataset)}",
        f"      type: {_q(dataset)}",
        "    metrics:",
    ]
    for key, value in known:
        kind, readable = _METRICS[key]
        lines += [
            f"    - type: {_q(kind)}",
            f"      name: {_q(readable)}",
            f"      value: {round(value, 4)}",
        ]
    return lines


def _front_matter(name: str, arch: str, facts: CardFacts) -> str:
    pipeline_tag, _ = _TASKS.get(arch, _TASKS["VideoMAEModel"])
    lines = [
        "---",
        "library_name: transformers",
        f"pipeline_tag: {pipeline_tag}",
        "tags:",
        "- videomae",
        "- video",
        "- vision",
    ]
    if _is_hub_id(facts.base_model):
        lines.append(f"base_model: {_q(facts.base_model)}")
    lines += _model_index(name, arch, facts)
    return "\n".join([*lines, "---"]) + "\n"


def _architecture(config: Any, arch: str) -> str:
    grid = "x".join(str(v) for v in config.token_grid)
    size = f"{config.hidden_size}-wide, {config.num_hidden_layers} layers"
    what = {
        "VideoMAEForVideoClassification": f"a video classifier over {config.num_labels} classes",
        "VideoMAEForPreTraining": "a masked-autoencoder pre-training model (encoder + decoder)",
    }.get(arch, "a bare video encoder")
    return (
        f"A VideoMAE ViT ({size}), {what}. Input: {config.num_frames} frames of "
        f"{config.image_size}x{config.image_size} pixels, cut into tubelets of "
        f"{config.tubelet_size}x{config.patch_size}x{config.patch_size} ({grid} tokens)."
    )


def _bullets(rows: Mapping[str, Any]) -> str:
    return "".join(f"- {k}: {v}\n" for k, v in rows.items() if v is not None)


def _loading(arch: str) -> str:
    use = (
        'clf = VideoClassifier.from_pretrained("path/to/this/folder")\nprint(clf("video.mp4"))'
        if arch == "VideoMAEForVideoClassification"
        else 'emb = VideoEmbedder.from_pretrained("path/to/this/folder")\n'
        'features = emb(["video.mp4"])'
    )
    name = "VideoClassifier" if arch == "VideoMAEForVideoClassification" else "VideoEmbedder"
    pipe = (
        "\n\nor with transformers' pipeline (it samples the first frames, see videomae's "
        "docs/compatibility.md):\n\n```python\nfrom transformers import pipeline\n"
        'pipe = pipeline("video-classification", model="path/to/this/folder")\n```'
        if arch == "VideoMAEForVideoClassification"
        else ""
    )
    return (
        f"## How to use\n\nWith videomae (uses this folder's frames, sampling rate and "
        f"normalisation):\n\n```python\nfrom videomae import {name}\n{use}\n```\n\n"
        f"With transformers:\n\n```python\nfrom transformers import {arch}, "
        f'VideoMAEImageProcessor\nmodel = {arch}.from_pretrained("path/to/this/folder")\n'
        'processor = VideoMAEImageProcessor.from_pretrained("path/to/this/folder")\n```'
        f"{pipe}\n"
    )


def model_card(config: Any, arch: str, facts: CardFacts | None = None, name: str = "") -> str:
    """The README.md text of a folder holding a ``arch`` model with ``config``."""
    facts = facts or CardFacts()
    name = name or f"videomae-{arch.removeprefix('VideoMAE').lower()}"
    parts = [_front_matter(name, arch, facts), f"# {name}\n", _architecture(config, arch) + "\n"]
    if facts.training:
        parts.append("## Training\n\n" + _bullets(facts.training))
    pre = facts.preprocessing
    if pre:
        parts.append(
            "## Preprocessing\n\n"
            + _bullets(
                {
                    "frames": pre.get("num_frames"),
                    "frame sampling rate": pre.get("frame_sampling_rate"),
                    "frame sampling": pre.get("frame_sampling_strategy"),
                    "resize short side to": (pre.get("size") or {}).get("shortest_edge"),
                    "centre crop": (pre.get("crop_size") or {}).get("height"),
                    "mean": pre.get("image_mean"),
                    "std": pre.get("image_std"),
                }
            )
            + "\n(`preprocessor_config.json`; videomae reads all of it, transformers' image "
            "processor reads the resize, crop and normalisation.)\n"
        )
    known = {_METRICS[k][1]: v for k, v in facts.metrics.items() if k in _METRICS}
    if known:
        where = f" on {facts.dataset}" if facts.dataset else ""
        parts.append(f"## Evaluation{where}\n\n" + _bullets(known))
    parts.append(_loading(arch))
    return "\n".join(parts)
