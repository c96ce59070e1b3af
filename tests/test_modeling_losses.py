"""videomae.modeling.losses: the same numbers as the computations it replaced, bit for bit."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from videomae import VideoMAEConfig, VideoMAEForPreTraining, VideoMAEForVideoClassification
from videomae.data.mixup import smooth_one_hot
from videomae.masking import random_mask
from videomae.modeling.losses import (
    classification_loss,
    cross_entropy,
    infer_problem_type,
    reconstruction_loss,
    reconstruction_targets,
    soft_target_cross_entropy,
)
from videomae.modeling.patches import normalize_patches, patchify
from videomae.runtime import IMAGENET_DEFAULT_MEAN, IMAGENET_DEFAULT_STD

TINY = dict(
    image_size=32,
    patch_size=8,
    num_frames=4,
    tubelet_size=2,
    hidden_size=32,
    num_hidden_layers=1,
    num_attention_heads=2,
    intermediate_size=64,
    decoder_hidden_size=16,
    decoder_num_hidden_layers=1,
    decoder_num_attention_heads=2,
    decoder_intermediate_size=32,
)


def _old_targets(pixel_values, selected, p, ts, norm_pix, channels):
    """The model's target code before it moved to losses.py."""
    with torch.no_grad():
        frames = pixel_values
        if channels == 3:
            mean = torch.tensor(IMAGENET_DEFAULT_MEAN, device=frames.device, dtype=frames.dtype)
            std = torch.tensor(IMAGENET_DEFAULT_STD, device=frames.device, dtype=frames.dtype)
            frames = frames * std.view(1, 1, 3, 1, 1) + mean.view(1, 1, 3, 1, 1)
        patches = patchify(frames, p, ts)
        b, _, k = patches.shape
        patches = patches[selected].reshape(b, -1, k)
        if norm_pix:
            patches = normalize_patches(patches, channels)
    return patches


@pytest.mark.parametrize("norm_pix", [True, False])
@pytest.mark.parametrize("channels", [3, 1])
def test_reconstruction_matches_the_previous_in_model_loss(norm_pix: bool, channels: int) -> None:
    cfg = VideoMAEConfig(**TINY, num_channels=channels, norm_pix_loss=norm_pix)
    torch.manual_seed(0)
    model = VideoMAEForPreTraining(cfg).eval()
    x = torch.randn(2, 4, channels, 32, 32)
    mask = random_mask(2, 32, 0.75)
    out = model(x, bool_masked_pos=mask)
    want_target = _old_targets(x, mask, 8, 2, norm_pix, channels)
    got_target = reconstruction_targets(
        x, mask, patch_size=8, tubelet_size=2, norm_pix_loss=norm_pix
    )
    assert torch.equal(got_target, want_target)
    assert got_target.shape == (2, 24, 2 * 8 * 8 * channels)
    want = F.mse_loss(out.logits, want_target.to(out.logits.dtype))
    assert torch.equal(out.loss, want)
    assert torch.equal(reconstruction_loss(out.logits, got_target), want)


def test_hard_label_losses_match_the_recipe_and_validation() -> None:
    g = torch.Generator().manual_seed(1)
    logits = torch.randn(6, 5, generator=g, dtype=torch.bfloat16)
    labels = torch.tensor([0, 4, 2, 2, 1, 3])
    train_old = torch.nn.functional.cross_entropy(logits.float(), labels)
    assert torch.equal(cross_entropy(logits.float(), labels), train_old)
    val_old = torch.nn.functional.cross_entropy(logits.float(), labels, reduction="sum")
    assert torch.equal(cross_entropy(logits.float(), labels, reduction="sum"), val_old)


def test_soft_target_cross_entropy_matches_the_previous_mixup_loss() -> None:
    g = torch.Generator().manual_seed(2)
    logits = torch.randn(4, 7, generator=g)
    targets = smooth_one_hot(torch.tensor([1, 6, 0, 3]), 7, 0.1)
    want = (-(targets * F.log_softmax(logits.float(), dim=-1)).sum(dim=-1)).mean()
    assert torch.equal(soft_target_cross_entropy(logits, targets), want)
    with pytest.raises(ValueError, match="must match"):
        soft_target_cross_entropy(logits, targets[:, :3])


def test_classifier_loss_follows_transformers_rules() -> None:
    torch.manual_seed(0)
    x = torch.randn(2, 4, 3, 32, 32)
    model = VideoMAEForVideoClassification(VideoMAEConfig(**TINY, num_labels=3)).eval()
    labels = torch.tensor([2, 0])
    out = model(x, labels=labels)
    assert model.config.problem_type == "single_label_classification"
    assert torch.equal(out.loss, F.cross_entropy(out.logits.view(-1, 3), labels.view(-1)))
    with pytest.raises(ValueError, match="labels must be in"):
        model(x, labels=torch.tensor([3, 0]))
    multi = torch.tensor([[1.0, 0.0, 1.0], [0.0, 1.0, 0.0]])
    assert infer_problem_type(3, multi) == "multi_label_classification"
    got = classification_loss(out.logits, multi, "multi_label_classification", 3)
    assert torch.equal(got, F.binary_cross_entropy_with_logits(out.logits, multi))
    assert infer_problem_type(1, labels) == "regression"
    with pytest.raises(ValueError, match="unknown problem_type"):
        classification_loss(out.logits, labels, "ranking", 3)
