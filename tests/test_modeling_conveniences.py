"""The conveniences of transformers models, with transformers' values on the same config."""

from __future__ import annotations

import pytest
import torch
import transformers
from conftest import tiny_kwargs

import videomae

CLASSES = ("VideoMAEModel", "VideoMAEForPreTraining", "VideoMAEForVideoClassification")


def pair(name: str, tmp_path, **config):
    """Our model and transformers' loaded from the same folder (same weights)."""
    ours = getattr(videomae, name)(videomae.VideoMAEConfig(**tiny_kwargs(**config)))
    ours.save_pretrained(tmp_path / name)
    theirs = getattr(transformers, name).from_pretrained(tmp_path / name)
    return ours, theirs


@pytest.mark.parametrize("name", CLASSES)
def test_counts_footprint_and_modules_match_transformers(name, tmp_path):
    ours, theirs = pair(name, tmp_path, num_labels=3)
    for kwargs in ({}, {"only_trainable": True}, {"exclude_embeddings": True}):
        assert ours.num_parameters(**kwargs) == theirs.num_parameters(**kwargs), kwargs
    for buffers in (True, False):
        want = theirs.get_memory_footprint(return_buffers=buffers)
        assert ours.get_memory_footprint(return_buffers=buffers) == want
    emb_ours, emb_theirs = ours.get_input_embeddings(), theirs.get_input_embeddings()
    assert type(emb_ours).__name__ == type(emb_theirs).__name__  # the tubelet embedding module
    assert torch.equal(emb_ours.projection.weight, emb_theirs.projection.weight)
    assert type(ours.base_model).__name__ == type(theirs.base_model).__name__ == "VideoMAEModel"
    assert ours.name_or_path == ""  # built from a config, as transformers
    loaded = type(ours).from_pretrained(tmp_path / name)
    assert loaded.name_or_path == theirs.name_or_path == str(tmp_path / name)


def test_only_trainable_counts_frozen_parameters_out(tiny_config):
    model = videomae.VideoMAEForVideoClassification(tiny_config)
    total = model.num_parameters()
    for p in model.videomae.parameters():
        p.requires_grad_(False)
    head = sum(p.numel() for p in model.fc_norm.parameters()) + sum(
        p.numel() for p in model.classifier.parameters()
    )
    assert model.num_parameters(only_trainable=True) == head < total
    half = model.to(torch.bfloat16).get_memory_footprint()
    assert half == 2 * total  # bytes: bf16 parameters, no registered buffers
