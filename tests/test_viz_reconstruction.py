"""Reconstruction rows and the PNG/GIF layouts (exact sizes and pixel placement)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import torch

from videomae.modeling.patches import normalize_patches, patchify
from videomae.viz import reconstruction as viz

IMNET_MEAN = torch.tensor([0.485, 0.456, 0.406])
IMNET_STD = torch.tensor([0.229, 0.224, 0.225])


def _model_classes(source: str = "videomae"):
    """The one switch point for the model classes (transformers is the reference)."""
    if source == "transformers":
        from transformers import VideoMAEConfig, VideoMAEForPreTraining
    else:
        from videomae import VideoMAEConfig, VideoMAEForPreTraining

    return VideoMAEConfig, VideoMAEForPreTraining


def _tiny_pretraining(
    norm_pix: bool,
    *,
    num_frames: int = 4,
    image_size: int = 8,
    channels: int = 3,
    source: str = "videomae",
):
    config_cls, model_cls = _model_classes(source)
    cfg = config_cls(
        image_size=image_size,
        patch_size=4,
        num_channels=channels,
        num_frames=num_frames,
        tubelet_size=2,
        hidden_size=32,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=64,
        decoder_hidden_size=32,
        decoder_num_hidden_layers=1,
        decoder_num_attention_heads=2,
        decoder_intermediate_size=64,
        norm_pix_loss=norm_pix,
    )
    torch.manual_seed(0)
    return model_cls(cfg).eval()


class OracleDecoder(torch.nn.Module):
    """Returns the exact training target for the masked tokens: a perfect decoder."""

    def __init__(self, patch_size: int, tubelet_size: int, num_channels: int, norm_pix: bool):
        super().__init__()
        self.config = SimpleNamespace(
            patch_size=patch_size,
            tubelet_size=tubelet_size,
            num_channels=num_channels,
            norm_pix_loss=norm_pix,
        )

    def forward(self, pixel_values: torch.Tensor, bool_masked_pos: torch.Tensor):
        c = pixel_values.shape[2]
        if c == 3:
            frames = pixel_values * IMNET_STD.view(1, 1, 3, 1, 1) + IMNET_MEAN.view(1, 1, 3, 1, 1)
        else:
            frames = pixel_values
        patches = patchify(frames, self.config.patch_size, self.config.tubelet_size)
        if self.config.norm_pix_loss:
            patches = normalize_patches(patches, c)
        b, _, d = patches.shape
        return SimpleNamespace(logits=patches[bool_masked_pos].reshape(b, -1, d))


def _clip(t: int, c: int, h: int, w: int, mean: torch.Tensor, std: torch.Tensor, seed: int = 0):
    """A normalised clip built from uint8 pixels, so the original row is exactly recoverable."""
    g = torch.Generator().manual_seed(seed)
    u8 = torch.randint(0, 256, (1, t, c, h, w), generator=g, dtype=torch.uint8)
    x = (u8.float() / 255 - mean.view(1, 1, c, 1, 1)) / std.view(1, 1, c, 1, 1)
    return u8, x


def _mask(n: int, num_masked: int, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    m = torch.zeros(1, n, dtype=torch.bool)
    m[0, torch.randperm(n, generator=g)[:num_masked]] = True
    return m


def _token_mask_image(mask: torch.Tensor, t: int, h: int, w: int, p: int, ts: int) -> torch.Tensor:
    """(T, H, W) bool: True where the pixel belongs to a masked token (independent of viz)."""
    grid = mask.reshape(t // ts, h // p, w // p)
    return grid.repeat_interleave(ts, 0).repeat_interleave(p, 1).repeat_interleave(p, 2)


@pytest.mark.parametrize("source", ["videomae", "transformers"])
@pytest.mark.parametrize("norm_pix", [True, False])
def test_oracle_target_matches_the_models_loss(norm_pix: bool, source: str) -> None:
    # the oracle below is what both models train against, so reconstruct() inverts the right thing
    model = _tiny_pretraining(norm_pix, source=source)
    _, x = _clip(4, 3, 8, 8, IMNET_MEAN, IMNET_STD)
    mask = _mask(8, 6)
    out = model(x, bool_masked_pos=mask)
    target = OracleDecoder(4, 2, 3, norm_pix)(x, mask).logits
    assert torch.allclose(out.loss, torch.nn.functional.mse_loss(out.logits, target), atol=1e-6)


@pytest.mark.parametrize(
    ("norm_pix", "channels", "custom_stats"),
    [(True, 3, False), (False, 3, False), (False, 3, True), (True, 1, True)],
)
def test_perfect_decoder_pastes_back_the_original(
    norm_pix: bool, channels: int, custom_stats: bool
) -> None:
    t, h, w, p, ts = 6, 8, 12, 4, 2  # non-square, 3 temporal slots
    if custom_stats:
        mean, std = torch.full((channels,), 0.5), torch.full((channels,), 0.25)
    else:
        mean, std = IMNET_MEAN, IMNET_STD
    u8, x = _clip(t, channels, h, w, mean, std, seed=1)
    n = (t // ts) * (h // p) * (w // p)
    mask = _mask(n, 14, seed=2)
    rows = viz.reconstruct(
        OracleDecoder(p, ts, channels, norm_pix), x, mask, mean=mean.tolist(), std=std.tolist()
    )
    assert list(rows) == list(viz.ROW_KINDS)
    original = u8[0].permute(0, 2, 3, 1)  # (T, H, W, C)
    for kind, row in rows.items():
        assert row.dtype == torch.uint8 and row.shape == (t, h, w, channels), kind
    assert torch.equal(rows["original"], original)
    pix = _token_mask_image(mask, t, h, w, p, ts)  # (T, H, W)
    assert torch.equal(rows["masked"][~pix], original[~pix])
    assert torch.equal(rows["pasted"][~pix], original[~pix])
    assert bool((rows["masked"][pix] == 128).all())
    assert bool((rows["reconstruction"][~pix] == 128).all())
    assert rows.error["mse"] < 1e-6 * max(rows.error["baseline"], 1.0)  # a perfect decoder
    assert rows.error["baseline"] > 1e-3
    if not norm_pix:  # raw pixels: the prediction is the picture, exactly
        assert (rows["pasted"].int() - original.int()).abs().max() <= 1
        assert (rows["reconstruction"][pix].int() - original[pix].int()).abs().max() <= 1
    else:  # the hidden patches' own statistics are never used
        assert "visible patches' mean/std" in rows.titles["reconstruction"]
        assert rows.error["space"] == "normalised patches"


def test_real_model_rows_and_normalised_prediction_range() -> None:
    model = _tiny_pretraining(True)
    u8, x = _clip(4, 3, 8, 8, IMNET_MEAN, IMNET_STD)
    mask = _mask(8, 6, seed=3)
    rows = viz.reconstruct(model, x, mask)
    pix = _token_mask_image(mask, 4, 8, 8, 4, 2)
    original = u8[0].permute(0, 2, 3, 1)
    assert torch.equal(rows["pasted"][~pix], original[~pix])  # visible patches are the truth
    assert not model.training
    # each masked token of the normalised prediction is stretched to the full [0, 255] range
    norm = rows["normalized_prediction"].permute(0, 3, 1, 2).unsqueeze(0).float()  # (1,T,C,H,W)
    tokens = patchify(norm, 4, 2)[0]  # (N, D)
    assert torch.equal(tokens[mask[0]].amin(dim=1), torch.zeros(6))
    assert torch.equal(tokens[mask[0]].amax(dim=1), torch.full((6,), 255.0))
    assert bool((tokens[~mask[0]] == 128).all())


def test_reconstruct_rejects_bad_inputs() -> None:
    model = _tiny_pretraining(False)
    _, x = _clip(4, 3, 8, 8, IMNET_MEAN, IMNET_STD)
    with pytest.raises(ValueError, match="N=8 tokens"):
        viz.reconstruct(model, x, _mask(9, 3))
    with pytest.raises(ValueError, match=r"\(1, T, C, H, W\)"):
        viz.reconstruct(model, x[0], _mask(8, 3))


def test_the_picture_uses_nothing_hidden_from_the_model() -> None:
    """Changing only the hidden pixels changes neither the prediction nor any shown guess."""
    model = _tiny_pretraining(True)
    _, x = _clip(4, 3, 8, 8, IMNET_MEAN, IMNET_STD)
    mask = _mask(8, 6, seed=3)
    pix = _token_mask_image(mask, 4, 8, 8, 4, 2)  # (T, H, W)
    changed = x.clone()
    # brighter and higher-contrast hidden patches: their true mean/std move a lot
    changed.permute(0, 1, 3, 4, 2)[0][pix] = changed.permute(0, 1, 3, 4, 2)[0][pix] * 3 + 2
    a, b = viz.reconstruct(model, x, mask), viz.reconstruct(model, changed, mask)
    for kind in ("masked", "reconstruction", "normalized_prediction"):
        assert torch.equal(a[kind], b[kind]), kind
    assert not torch.equal(a["original"], b["original"])
    assert a.error["mse"] != b.error["mse"]  # the error is measured against the truth


def _stripes(n: int = 1) -> torch.Tensor:
    """(n, 4, 3, 16, 16) clips whose every 4x4 patch holds the same stripes: trivially learnable."""
    u = torch.tensor([0.1, 0.9, 0.3, 0.7]).view(1, 4).expand(4, 4)  # columns of four greys
    frame = u.repeat(4, 4)  # (16, 16)
    clip = frame.view(1, 1, 1, 16, 16).expand(n, 4, 3, 16, 16)
    return (clip - IMNET_MEAN.view(1, 1, 3, 1, 1)) / IMNET_STD.view(1, 1, 3, 1, 1)


def test_a_trained_models_picture_differs_measurably_from_a_random_ones(tmp_path) -> None:
    from videomae import VideoMAEConfig, VideoMAEForPreTraining
    from videomae.masking import random_mask
    from videomae.viz.picture import save_reconstruction_png

    cfg = VideoMAEConfig(
        image_size=16, patch_size=4, num_frames=4, tubelet_size=2, hidden_size=32,
        num_hidden_layers=1, num_attention_heads=2, intermediate_size=64, decoder_hidden_size=32,
        decoder_num_hidden_layers=1, decoder_num_attention_heads=2, decoder_intermediate_size=64,
        norm_pix_loss=True,
    )  # fmt: skip
    torch.manual_seed(0)
    random_model, trained = VideoMAEForPreTraining(cfg), VideoMAEForPreTraining(cfg)
    trained.load_state_dict(random_model.state_dict())
    opt = torch.optim.AdamW(trained.parameters(), lr=3e-3)
    g = torch.Generator().manual_seed(0)
    x = _stripes(8)
    for _ in range(150):
        mask = random_mask(8, 32, 0.75, generator=g)
        loss = trained(x, bool_masked_pos=mask).loss
        opt.zero_grad()
        loss.backward()
        opt.step()
    mask = random_mask(1, 32, 0.75, generator=g)
    before, after = (
        viz.reconstruct(random_model, x[:1], mask),
        viz.reconstruct(trained, x[:1], mask),
    )
    assert before.error["mse"] > 0.5 * before.error["baseline"]
    assert after.error["mse"] < 0.1 * after.error["baseline"]
    pix = _token_mask_image(mask, 4, 16, 16, 4, 2)
    original = before["original"][pix].float()
    err_before = (before["pasted"][pix].float() - original).abs().mean()
    err_after = (after["pasted"][pix].float() - original).abs().mean()
    assert err_after < 0.5 * err_before  # the shown pixels, not only the loss, got better
    save_reconstruction_png(after, tmp_path / "trained.png", scale=None)
    save_reconstruction_png(before, tmp_path / "random.png", scale=None)
