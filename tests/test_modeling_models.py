"""Parity with transformers (the contract) and the behaviour of the model classes.

Tolerance: fp32, max abs diff <= 1e-5 on every output, weights copied through
save_pretrained -> from_pretrained in both directions.
"""

from __future__ import annotations

import warnings

import pytest
import torch
import transformers
from conftest import random_mask, tiny_kwargs

import videomae
from videomae import (
    VideoMAEConfig,
    VideoMAEForPreTraining,
    VideoMAEForVideoClassification,
    VideoMAEModel,
)
from videomae.masking import running_cell_mask

TOL = 1e-5
CLASSES = ["VideoMAEModel", "VideoMAEForPreTraining", "VideoMAEForVideoClassification"]

CASES = {
    "default": dict(),
    "tubelet1": dict(tubelet_size=1, num_frames=3),
    "channels1": dict(num_channels=1),
    "cls_token0": dict(use_mean_pooling=False),
    "raw_pixels": dict(norm_pix_loss=False),
    "no_qv_bias": dict(qv_bias=False, image_size=(32, 48)),
}


def max_diff(a, b) -> float:
    if isinstance(a, (tuple, list)):
        assert len(a) == len(b)
        return max(max_diff(x, y) for x, y in zip(a, b))
    return (a.float() - b.float()).abs().max().item()


def build_inputs(cls_name, cfg, masked: bool, seed=0):
    g = torch.Generator().manual_seed(seed)
    h, w = cfg.image_hw
    x = torch.randn(2, cfg.num_frames, cfg.num_channels, h, w, generator=g)
    kwargs = {}
    n = cfg.num_tokens
    if cls_name == "VideoMAEForPreTraining" or masked:
        kwargs["bool_masked_pos"] = random_mask(2, n, max(1, (3 * n) // 4), seed)
    if cls_name == "VideoMAEForVideoClassification":
        kwargs.pop("bool_masked_pos", None)
        kwargs["labels"] = torch.tensor([0, 1])
    return x, kwargs


def compare(ref_out, our_out):
    keys = [
        k
        for k in ref_out
        if ref_out[k] is not None and (not isinstance(ref_out[k], tuple) or len(ref_out[k]))
    ]
    assert keys, "reference returned nothing to compare"
    for key in keys:
        assert key in our_out, key
        d = max_diff(ref_out[key], our_out[key])
        assert d <= TOL, f"{key}: max abs diff {d:.3e} > {TOL}"


@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("cls_name", CLASSES)
@pytest.mark.parametrize("attn", ["sdpa", "eager"])
@pytest.mark.parametrize("direction", ["theirs_to_ours", "ours_to_theirs"])
def test_parity_with_transformers(tmp_path, case, cls_name, attn, direction):
    kw = tiny_kwargs(num_labels=3, **CASES[case])
    torch.manual_seed(0)
    if direction == "theirs_to_ours":
        ref = getattr(transformers, cls_name)(transformers.VideoMAEConfig(**kw))
        ref.save_pretrained(tmp_path)
        ref = (
            getattr(transformers, cls_name)
            .from_pretrained(tmp_path, attn_implementation=attn)
            .eval()
        )
        ours = (
            getattr(videomae, cls_name).from_pretrained(tmp_path, attn_implementation=attn).eval()
        )
    else:
        ours = getattr(videomae, cls_name)(VideoMAEConfig(**kw))
        ours.save_pretrained(tmp_path)
        ours = (
            getattr(videomae, cls_name).from_pretrained(tmp_path, attn_implementation=attn).eval()
        )
        ref = (
            getattr(transformers, cls_name)
            .from_pretrained(tmp_path, attn_implementation=attn)
            .eval()
        )
    assert sorted(ref.state_dict()) == sorted(ours.state_dict())
    for masked in [False, True] if cls_name == "VideoMAEModel" else [True]:
        x, kwargs = build_inputs(cls_name, ours.config, masked)
        with torch.no_grad():
            r = ref(x, output_hidden_states=True, output_attentions=(attn == "eager"), **kwargs)
            o = ours(x, output_hidden_states=True, output_attentions=(attn == "eager"), **kwargs)
        compare(r, o)
        if attn == "eager":
            assert len(o.attentions) == ours.config.num_hidden_layers


@pytest.mark.parametrize("case", ["default", "no_qv_bias"])
@pytest.mark.parametrize("cls_name", ["VideoMAEForPreTraining", "VideoMAEForVideoClassification"])
def test_training_gradients_match_transformers(tmp_path, case, cls_name):
    """With gradients on, attention takes the three-GEMM path: same loss and gradients."""
    torch.manual_seed(0)
    getattr(transformers, cls_name)(
        transformers.VideoMAEConfig(**tiny_kwargs(num_labels=3, **CASES[case]))
    ).save_pretrained(tmp_path)
    ref = getattr(transformers, cls_name).from_pretrained(tmp_path, attn_implementation="sdpa")
    ours = getattr(videomae, cls_name).from_pretrained(tmp_path)
    x, kwargs = build_inputs(cls_name, ours.config, masked=True)
    losses = []
    for model in (ref.train(), ours.train()):
        loss = model(x, **kwargs).loss
        loss.backward()
        losses.append(loss.item())
    assert abs(losses[0] - losses[1]) <= TOL * max(1.0, abs(losses[0]))
    ours_params = dict(ours.named_parameters())
    for name, p in ref.named_parameters():
        if p.grad is None:  # parameters the loss does not reach in transformers either
            assert ours_params[name].grad is None or not ours_params[name].grad.any(), name
            continue
        scale = max(1.0, p.grad.abs().max().item())
        assert max_diff(p.grad, ours_params[name].grad) <= TOL * scale, name


@pytest.mark.parametrize("act", ["gelu", "gelu_new", "relu", "silu", "quick_gelu"])
def test_inference_in_place_ops_change_nothing(tiny_config, act):
    """Without autograd the blocks reuse buffers (activation, residual): same numbers, and the
    hidden states already returned are not overwritten."""
    model = VideoMAEModel(tiny_config.copy(hidden_act=act)).eval()
    x = torch.randn(2, 4, 3, 32, 32)
    recorded = model(x, output_hidden_states=True)  # parameters need grads: out-of-place ops
    with torch.inference_mode():
        in_place = model(x, output_hidden_states=True)
    assert torch.equal(recorded.last_hidden_state.detach(), in_place.last_hidden_state)
    for a, b in zip(recorded.hidden_states, in_place.hidden_states):
        assert torch.equal(a.detach(), b)


def test_in_place_residual_keeps_type_promotion():
    """fp32 stream + bf16 branch is fp32: the in-place residual must not store it in bf16."""
    from videomae.modeling.layers import _residual

    x = torch.randn(3, 5)
    with torch.inference_mode():
        branch = torch.randn(3, 5).bfloat16()
        expected = x + branch
        out = _residual(x, branch)
        assert out.dtype == torch.float32 and torch.equal(out, expected)
        same = torch.randn(3, 5)
        expected = x + same
        out = _residual(x, same)
        assert out.data_ptr() == same.data_ptr() and torch.equal(out, expected)


@pytest.mark.slow
def test_base_size_classifier_parity(tmp_path):
    """Parity at the real size: 16 frames of 224x224, ViT-B, 400 labels."""
    torch.manual_seed(0)
    ref = transformers.VideoMAEForVideoClassification(
        transformers.VideoMAEConfig(num_labels=400)
    ).eval()
    ref.save_pretrained(tmp_path)
    ours = VideoMAEForVideoClassification.from_pretrained(tmp_path)
    assert ours.num_parameters() == 86_534_800
    x = torch.randn(1, 16, 3, 224, 224, generator=torch.Generator().manual_seed(1))
    with torch.inference_mode():
        r, o = ref(x).logits, ours(x).logits
    assert r.shape == o.shape == (1, 400)
    assert max_diff(r, o) <= TOL


def test_pretraining_parameter_count_base():
    with torch.device("meta"):
        model = VideoMAEForPreTraining(VideoMAEConfig(use_mean_pooling=False))
    # transformers' VideoMAEForPreTraining(use_mean_pooling=False) has the same count
    assert model.num_parameters() == 94_209_408 + 768 * 2


def test_outputs_index_like_tuples(tiny_config):
    model = VideoMAEForVideoClassification(tiny_config).eval()
    x = torch.randn(1, 4, 3, 32, 32)
    out = model(x, labels=torch.tensor([1]))
    assert out[0] is out.loss and out[1] is out.logits and out["logits"] is out.logits
    tup = model(x, labels=torch.tensor([1]), return_dict=False)
    assert isinstance(tup, tuple) and torch.equal(tup[1], out.logits)
    assert model(x)[0] is not None and model(x)[0].shape == (1, 2)


def test_sdpa_and_eager_agree_and_attentions_fall_back(tiny_config):
    model = VideoMAEModel(tiny_config).eval()
    x = torch.randn(2, 4, 3, 32, 32)
    sdpa = model(x).last_hidden_state
    with pytest.warns(UserWarning, match="cannot return"):
        out = model(x, output_attentions=True)
    assert len(out.attentions) == 2 and out.attentions[0].shape == (2, 4, 32, 32)
    model.set_attn_implementation("eager")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        eager = model(x, output_attentions=True)
    assert max_diff(sdpa, eager.last_hidden_state) <= 1e-6
    assert torch.allclose(eager.attentions[0].sum(-1), torch.ones(2, 4, 32))


def test_set_attn_implementation_reaches_decoder(tiny_config):
    model = VideoMAEForPreTraining(tiny_config)
    model.set_attn_implementation("eager")
    kinds = {m.attn_implementation for m in model.modules() if hasattr(m, "attn_implementation")}
    assert kinds == {"eager"}
    assert model.decoder.decoder_layers[0].attention.attention.attn_implementation == "eager"


def test_flash_attention_needs_package_and_gpu(tiny_config):
    if videomae.modeling.attention.flash_attn_available():
        pytest.skip("flash_attn and CUDA are present here")
    with pytest.raises(ImportError, match="flash_attn package and a CUDA"):
        VideoMAEModel(tiny_config.copy(attn_implementation="flash_attention_2"))


# ---------------------------------------------------------------- bad input
@pytest.mark.parametrize(
    "shape,match",
    [
        ((4, 3, 32, 32), "must have 5 dimensions"),
        ((1, 4, 1, 32, 32), "1 channels at dim 2.*num_channels=3"),
        ((1, 3, 4, 32, 32), "channels-first"),
        ((1, 3, 3, 32, 32), "not divisible by tubelet_size=2"),
        ((1, 4, 3, 30, 32), "not divisible by patch_size=8"),
        ((1, 4, 3, 40, 40), "configured for 4 frames of 32x32.*interpolate_pos_encoding=True"),
        ((1, 8, 3, 32, 32), "input is 8 frames of 32x32"),
    ],
)
def test_bad_pixel_values(tiny_config, shape, match):
    model = VideoMAEModel(tiny_config)
    with pytest.raises(ValueError, match=match):
        model(torch.randn(*shape))


def test_bad_masks(tiny_config):
    model = VideoMAEForPreTraining(tiny_config)
    x = torch.randn(2, 4, 3, 32, 32)
    n = tiny_config.num_tokens
    with pytest.raises(
        ValueError, match=r"shape \(batch_size, num_tokens\) = \(2, 32\), got \(2, 31\)"
    ):
        model(x, bool_masked_pos=torch.zeros(2, n - 1, dtype=torch.bool))
    uneven = random_mask(2, n, 20)
    uneven[1, uneven[1].nonzero()[0]] = False
    with pytest.raises(
        ValueError, match=r"same number of tokens in every sample, got counts \[20, 19\]"
    ):
        model(x, bool_masked_pos=uneven)
    with pytest.raises(ValueError, match="torch.bool tensor.*got dtype torch.int64"):
        model(x, bool_masked_pos=random_mask(2, n, 20).long())
    with pytest.raises(ValueError, match="masks no token"):
        model(x, bool_masked_pos=torch.zeros(2, n, dtype=torch.bool))
    with pytest.raises(ValueError, match="masks every token"):
        model(x, bool_masked_pos=torch.ones(2, n, dtype=torch.bool))
    with pytest.raises(ValueError, match="needs bool_masked_pos"):
        model(x)


def test_classifier_label_errors(tiny_config):
    model = VideoMAEForVideoClassification(tiny_config)
    x = torch.randn(2, 4, 3, 32, 32)
    with pytest.raises(ValueError, match=r"labels must be in \[0, 2\)"):
        model(x, labels=torch.tensor([0, 5]))
    with pytest.raises(ValueError, match="3 entries for a batch of 2"):
        model(x, labels=torch.tensor([0, 1, 1]))


@pytest.mark.parametrize("problem", ["regression", "single", "multi"])
def test_loss_rules_match_transformers(tmp_path, problem):
    n_labels = 1 if problem == "regression" else 3
    kw = tiny_kwargs(num_labels=n_labels)
    ref = transformers.VideoMAEForVideoClassification(transformers.VideoMAEConfig(**kw))
    ref.save_pretrained(tmp_path)
    ref.eval()
    ours = VideoMAEForVideoClassification.from_pretrained(tmp_path)
    x = torch.randn(2, 4, 3, 32, 32)
    labels = {
        "regression": torch.tensor([0.5, -1.0]),
        "single": torch.tensor([2, 0]),
        "multi": torch.tensor([[1.0, 0.0, 1.0], [0.0, 0.0, 1.0]]),
    }[problem]
    with torch.no_grad():
        r, o = ref(x, labels=labels), ours(x, labels=labels)
    assert ours.config.problem_type == ref.config.problem_type
    assert abs(r.loss.item() - o.loss.item()) <= TOL


# ---------------------------------------------------------------- clip shapes
def test_interpolate_pos_encoding_identity_is_exact(tiny_config):
    model = VideoMAEModel(tiny_config).eval()
    x = torch.randn(1, 4, 3, 32, 32)
    assert torch.equal(
        model(x).last_hidden_state, model(x, interpolate_pos_encoding=True).last_hidden_state
    )


@pytest.mark.parametrize("shape", [(8, 32, 32), (2, 48, 48), (6, 40, 24)])
def test_interpolate_pos_encoding_other_sizes(tiny_config, shape):
    t, h, w = shape
    for cls in (VideoMAEModel, VideoMAEForVideoClassification):
        model = cls(tiny_config).eval()
        out = model(torch.randn(1, t, 3, h, w), interpolate_pos_encoding=True)
        assert torch.isfinite(out[0]).all()
    pre = VideoMAEForPreTraining(tiny_config)
    n = (t // 2) * (h // 8) * (w // 8)
    out = pre(
        torch.randn(1, t, 3, h, w),
        bool_masked_pos=random_mask(1, n, n // 2),
        interpolate_pos_encoding=True,
    )
    assert out.logits.shape == (1, n // 2, 2 * 8 * 8 * 3)


def test_load_with_other_clip_length_resizes_table(tmp_path, tiny_config):
    VideoMAEForVideoClassification(tiny_config).save_pretrained(tmp_path)
    model = VideoMAEForVideoClassification.from_pretrained(tmp_path, num_frames=8, image_size=48)
    assert model.config.position_embedding_grid == [2, 4, 4]
    assert model(torch.randn(1, 8, 3, 48, 48)).logits.shape == (1, 2)
    model.save_pretrained(tmp_path / "again")
    again = VideoMAEForVideoClassification.from_pretrained(tmp_path / "again")
    x = torch.randn(1, 8, 3, 48, 48)
    assert torch.equal(model(x).logits, again(x).logits)


# ---------------------------------------------------------------- training features
def test_every_parameter_gets_a_gradient(tiny_config):
    for cls, kwargs in [
        (VideoMAEForPreTraining, {"bool_masked_pos": random_mask(2, 32, 24)}),
        (VideoMAEForVideoClassification, {"labels": torch.tensor([0, 1])}),
    ]:
        model = cls(tiny_config.copy(drop_path_rate=0.1)).train()
        model(torch.randn(2, 4, 3, 32, 32), **kwargs).loss.backward()
        for name, p in model.named_parameters():
            assert p.grad is not None and torch.isfinite(p.grad).all(), name
        assert model.mask_token.grad.abs().sum() > 0 if cls is VideoMAEForPreTraining else True


def test_gradient_checkpointing_gives_same_gradients(tiny_config):
    torch.manual_seed(0)
    a = VideoMAEForPreTraining(tiny_config)
    b = VideoMAEForPreTraining(tiny_config)
    b.load_state_dict(a.state_dict())
    b.gradient_checkpointing_enable()
    assert b.is_gradient_checkpointing
    x, m = torch.randn(2, 4, 3, 32, 32), random_mask(2, 32, 24)
    a(x, bool_masked_pos=m).loss.backward()
    b(x, bool_masked_pos=m).loss.backward()
    for (name, p), q in zip(a.named_parameters(), b.parameters()):
        assert torch.allclose(p.grad, q.grad, atol=1e-7), name


def test_drop_path_is_random_in_training_only(tiny_config):
    model = VideoMAEModel(tiny_config.copy(drop_path_rate=0.5))
    x = torch.randn(4, 4, 3, 32, 32)
    model.eval()
    assert torch.equal(model(x)[0], model(x)[0])
    model.train()
    torch.manual_seed(0)
    first = model(x)[0]
    assert not torch.equal(first, model(x)[0])


def v2_dual_masking_reference(model, x, mask, decode):
    """VideoMAE V2's pre-training step, written from its algorithm (models/modeling_pretrain.py
    and engine_for_pretraining.py of OpenGVLab/VideoMAEv2), on our modules' weights.

    Decoder input: the visible tokens (plus their positions), then ONE mask token per position
    the decoder mask selects, whether or not the encoder saw it; the head reads the last ones.
    Labels: every decoded position; loss: per-token MSE averaged over decoded AND masked tokens.
    """
    b, n = mask.shape
    visible = model.videomae(x, bool_masked_pos=mask).last_hidden_state
    x_vis = model.encoder_to_decoder(visible)  # (B, n_vis, Dd)
    pos = model.decoder_tables.get(model.config.token_grid, x.device, x.dtype)  # (N, Dd)
    rows = []
    for i in range(b):
        mask_tokens = model.mask_token[0] + pos[decode[i]]  # (n_dec, Dd)
        rows.append(torch.cat([x_vis[i] + pos[~mask[i]], mask_tokens]))
    h = torch.stack(rows)
    for layer in model.decoder.decoder_layers:
        h = layer(h)[0]
    n_dec = int(decode[0].sum())
    pred = model.decoder.head(model.decoder.norm(h[:, -n_dec:]))
    labels = model.targets(x, decode)
    per_token = ((pred - labels) ** 2).mean(-1)
    weight = torch.stack([mask[i][decode[i]] for i in range(b)]).float()
    return pred, (per_token * weight).sum() / weight.sum()


def test_dual_masking_computes_v2_when_the_masks_overlap():
    torch.manual_seed(0)
    # larger initial weights than the default 0.02, so that attention is far from uniform, as
    # in a trained model (the effect of the extra mask tokens is then visible)
    tiny_config = VideoMAEConfig(**tiny_kwargs(initializer_range=0.3))
    model = VideoMAEForPreTraining(tiny_config).eval()
    with torch.no_grad():
        model.mask_token.normal_(0, 1.0)
    x = torch.randn(2, 4, 3, 32, 32)
    mask = random_mask(2, 32, 24)
    decode = running_cell_mask(2, tiny_config.token_grid, 0.5)  # independent of `mask`
    assert bool((decode & ~mask).any())  # the decoder also reconstructs tokens the encoder saw
    with torch.no_grad():
        out = model(x, bool_masked_pos=mask, decoder_mask=decode)
        pred, loss = v2_dual_masking_reference(model, x, mask, decode)
        # decoding only the masked AND selected tokens (this package's former rule) differs
        only = decode & mask
        keep = only.sum(1).min()
        only = only & (only.cumsum(1) <= keep)
        narrow = model(x, bool_masked_pos=mask, decoder_mask=only)
    assert out.logits.shape == (2, 16, 2 * 8 * 8 * 3)
    torch.testing.assert_close(out.logits, pred, atol=1e-5, rtol=0)
    torch.testing.assert_close(out.loss, loss, atol=1e-6, rtol=0)
    wide = torch.stack([out.logits[i][only[i][decode[i]]] for i in range(2)])
    assert (wide - narrow.logits).abs().max() > 0.05
    with pytest.raises(ValueError, match="same, non-zero number"):
        model(x, bool_masked_pos=mask, decoder_mask=torch.zeros_like(mask))
    with pytest.raises(ValueError, match="both masked"):
        model(x, bool_masked_pos=mask, decoder_mask=~mask)


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16])
def test_low_precision_forward(tiny_config, dtype):
    model = VideoMAEForPreTraining(tiny_config).to(dtype)
    x = torch.randn(2, 4, 3, 32, 32, dtype=dtype)
    out = model(x, bool_masked_pos=random_mask(2, 32, 24))
    assert out.logits.dtype == dtype and torch.isfinite(out.loss)


@pytest.mark.parametrize("cls", [VideoMAEForVideoClassification, VideoMAEForPreTraining])
def test_fp32_pixels_into_a_bf16_model_run_in_bf16(tiny_config, cls):
    """Processors return fp32; a bf16 model takes them as if they were given in bf16."""
    model = cls(tiny_config.copy(num_labels=3)).to(torch.bfloat16).eval()
    x = torch.randn(2, 4, 3, 32, 32)
    kwargs = {"bool_masked_pos": random_mask(2, 32, 24)} if cls is VideoMAEForPreTraining else {}
    with torch.no_grad():
        from_fp32 = model(x, **kwargs).logits
        from_bf16 = model(x.bfloat16(), **kwargs).logits
    assert from_fp32.dtype == torch.bfloat16
    assert max_diff(from_fp32, from_bf16) == 0.0


def test_bf16_autocast_close_to_fp32(tiny_config):
    model = VideoMAEForVideoClassification(tiny_config).eval()
    x = torch.randn(2, 4, 3, 32, 32)
    ref = model(x).logits
    with torch.autocast("cpu", dtype=torch.bfloat16):
        low = model(x).logits
    assert (low.float() - ref).abs().max() < 0.05


def test_torch_compile(tiny_config):
    model = VideoMAEForVideoClassification(tiny_config).eval()
    compiled = torch.compile(model)
    x = torch.randn(1, 4, 3, 32, 32)
    with torch.no_grad():
        assert max_diff(model(x).logits, compiled(x).logits) <= 1e-5


@pytest.mark.parametrize("shape", [(1, 2, 40, 8), (2, 4, 700, 16)])
def test_chunked_attention_matches_sdpa(shape, monkeypatch):
    """The blocked-GEMM path used for bf16 CPU inference computes the same attention."""
    from videomae.modeling import attention

    monkeypatch.setattr(attention, "_SCORE_BLOCK", 4096)  # force several query blocks
    g = torch.Generator().manual_seed(0)
    q, k, v = (torch.randn(*shape, generator=g) for _ in range(3))
    ref = torch.nn.functional.scaled_dot_product_attention(q, k, v, scale=0.3)
    assert max_diff(attention.chunked_attention(q, k, v, 0.3), ref) <= 1e-6
    low = attention.chunked_attention(q.bfloat16(), k.bfloat16(), v.bfloat16(), 0.3)
    assert low.dtype == torch.bfloat16 and max_diff(low, ref) <= 2e-2


def test_bf16_inference_close_to_fp32_and_trains_through_sdpa(tiny_config):
    model = VideoMAEForVideoClassification(tiny_config).eval()
    x = torch.randn(2, 4, 3, 32, 32)
    with torch.inference_mode():
        ref = model(x).logits
    model.to(torch.bfloat16)
    with torch.inference_mode():  # builds (and caches) bf16 position tables in inference mode
        low = model(x.bfloat16()).logits
    assert max_diff(low, ref) < 0.05
    # with gradients the fused kernel is used (the chunked path is inference-only)
    loss = model(x.bfloat16(), labels=torch.tensor([0, 1])).loss
    loss.backward()
    assert model.classifier.weight.grad is not None
