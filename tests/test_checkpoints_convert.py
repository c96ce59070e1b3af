"""Original-release checkpoints -> save_pretrained folders.

The converted models are compared with an independent reference: the original architecture's
forward written functionally over the ORIGINAL-layout tensors (fused qkv with q_bias / zero key
bias / v_bias, LayerNorm eps 1e-6, exact GELU, float64 sinusoid table), never through the
converter. Tolerance: max abs diff <= 1e-5 in fp32.
"""

from __future__ import annotations

import argparse
import errno
import json
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from conftest import tiny_kwargs
from safetensors import safe_open

from videomae import VideoMAEConfig, VideoMAEModel, _io
from videomae.checkpoints.convert import convert_checkpoint
from videomae.cli.main import main
from videomae.errors import CheckpointConversionError

EPS = 1e-6
TOL = 1e-5


# ------------------------------------------------------------------------------------------
# Random original-layout state dicts (names as in MCG-NJU/VideoMAE and OpenGVLab/VideoMAEv2)
# ------------------------------------------------------------------------------------------
def _blocks(sd, prefix, n, dim, inner, qv_bias, g):
    def r(*shape, scale=0.2):
        return torch.randn(*shape, generator=g) * scale

    for i in range(n):
        b = f"{prefix}blocks.{i}."
        sd[b + "norm1.weight"] = 1 + r(dim, scale=0.1)
        sd[b + "norm1.bias"] = r(dim, scale=0.1)
        sd[b + "attn.qkv.weight"] = r(3 * dim, dim)
        if qv_bias:
            sd[b + "attn.q_bias"] = r(dim)
            sd[b + "attn.v_bias"] = r(dim)
        sd[b + "attn.proj.weight"] = r(dim, dim)
        sd[b + "attn.proj.bias"] = r(dim)
        sd[b + "norm2.weight"] = 1 + r(dim, scale=0.1)
        sd[b + "norm2.bias"] = r(dim, scale=0.1)
        sd[b + "mlp.fc1.weight"] = r(inner, dim)
        sd[b + "mlp.fc1.bias"] = r(inner)
        sd[b + "mlp.fc2.weight"] = r(dim, inner)
        sd[b + "mlp.fc2.bias"] = r(dim)


def make_original(
    kind: str,
    *,
    dim=32,
    depth=2,
    channels=3,
    tubelet=2,
    patch=8,
    qv_bias=True,
    labels=5,
    dec_dim=16,
    dec_depth=1,
    seed=0,
):
    """kind: 'pretrain' (encoder./decoder.), 'mean' (fc_norm+head), 'token0' (norm+head),
    'backbone' (norm, no head)."""
    g = torch.Generator().manual_seed(seed)
    sd: dict[str, torch.Tensor] = {}
    pre = "encoder." if kind == "pretrain" else ""
    sd[pre + "patch_embed.proj.weight"] = (
        torch.randn(dim, channels, tubelet, patch, patch, generator=g) * 0.1
    )
    sd[pre + "patch_embed.proj.bias"] = torch.randn(dim, generator=g) * 0.1
    _blocks(sd, pre, depth, dim, 2 * dim, qv_bias, g)
    if kind in ("pretrain", "token0", "backbone"):
        sd[pre + "norm.weight"] = 1 + torch.randn(dim, generator=g) * 0.1
        sd[pre + "norm.bias"] = torch.randn(dim, generator=g) * 0.1
    if kind == "mean":
        sd["fc_norm.weight"] = 1 + torch.randn(dim, generator=g) * 0.1
        sd["fc_norm.bias"] = torch.randn(dim, generator=g) * 0.1
    if kind in ("mean", "token0"):
        sd["head.weight"] = torch.randn(labels, dim, generator=g) * 0.2
        sd["head.bias"] = torch.randn(labels, generator=g) * 0.2
    if kind == "pretrain":
        sd["encoder_to_decoder.weight"] = torch.randn(dec_dim, dim, generator=g) * 0.2
        sd["mask_token"] = torch.randn(1, 1, dec_dim, generator=g) * 0.2
        _blocks(sd, "decoder.", dec_depth, dec_dim, 2 * dec_dim, qv_bias, g)
        sd["decoder.norm.weight"] = 1 + torch.randn(dec_dim, generator=g) * 0.1
        sd["decoder.norm.bias"] = torch.randn(dec_dim, generator=g) * 0.1
        out = channels * tubelet * patch * patch
        sd["decoder.head.weight"] = torch.randn(out, dec_dim, generator=g) * 0.2
        sd["decoder.head.bias"] = torch.randn(out, generator=g) * 0.2
    return sd


# ------------------------------------------------------------------------------------------
# Independent functional reference of the original forward
# ------------------------------------------------------------------------------------------
def ref_sinusoid(n: int, d: int) -> torch.Tensor:
    """As the original get_sinusoid_encoding_table: numpy float64, then float32. (n, d)"""
    angle = np.array(
        [[pos / np.power(10000, 2 * (j // 2) / d) for j in range(d)] for pos in range(n)]
    )
    angle[:, 0::2] = np.sin(angle[:, 0::2])
    angle[:, 1::2] = np.cos(angle[:, 1::2])
    return torch.tensor(angle, dtype=torch.float32)


def ref_block(x, sd, b, heads):
    B, N, D = x.shape
    h = F.layer_norm(x, (D,), sd[b + "norm1.weight"], sd[b + "norm1.bias"], eps=EPS)
    bias = None
    if b + "attn.q_bias" in sd:
        q_bias, v_bias = sd[b + "attn.q_bias"], sd[b + "attn.v_bias"]
        bias = torch.cat([q_bias, torch.zeros_like(v_bias), v_bias])
    qkv = F.linear(h, sd[b + "attn.qkv.weight"], bias)  # (B, N, 3D)
    q, k, v = qkv.reshape(B, N, 3, heads, D // heads).permute(2, 0, 3, 1, 4)  # (B, H, N, Dh)
    attn = ((q * (D // heads) ** -0.5) @ k.transpose(-2, -1)).softmax(-1)  # (B, H, N, N)
    o = (attn @ v).transpose(1, 2).reshape(B, N, D)
    x = x + F.linear(o, sd[b + "attn.proj.weight"], sd[b + "attn.proj.bias"])
    h = F.layer_norm(x, (D,), sd[b + "norm2.weight"], sd[b + "norm2.bias"], eps=EPS)
    h = F.gelu(F.linear(h, sd[b + "mlp.fc1.weight"], sd[b + "mlp.fc1.bias"]))
    return x + F.linear(h, sd[b + "mlp.fc2.weight"], sd[b + "mlp.fc2.bias"])


def _depth(sd, prefix):
    return len({k[len(prefix) :].split(".")[0] for k in sd if k.startswith(prefix)})


def ref_encoder(video, sd, pre, heads, mask=None):
    """video (B, C, T, H, W) as the original takes it; returns tokens before any final norm."""
    w = sd[pre + "patch_embed.proj.weight"]
    x = F.conv3d(video, w, sd[pre + "patch_embed.proj.bias"], stride=w.shape[2:])
    x = x.flatten(2).transpose(1, 2)  # (B, N, D)
    B, N, D = x.shape
    x = x + ref_sinusoid(N, D)[None]
    if mask is not None:
        x = x[~mask].reshape(B, -1, D)
    for i in range(_depth(sd, pre + "blocks.")):
        x = ref_block(x, sd, f"{pre}blocks.{i}.", heads)
    return x


def ref_norm(x, sd, name):
    return F.layer_norm(x, x.shape[-1:], sd[name + ".weight"], sd[name + ".bias"], eps=EPS)


def ref_classify(video, sd, heads):
    x = ref_encoder(video, sd, "", heads)
    pooled = (
        ref_norm(x.mean(1), sd, "fc_norm")
        if "fc_norm.weight" in sd
        else ref_norm(x, sd, "norm")[:, 0]
    )
    return F.linear(pooled, sd["head.weight"], sd["head.bias"])


def ref_pretrain(video, mask, sd, heads, dec_heads):
    x = ref_norm(ref_encoder(video, sd, "encoder.", heads, mask), sd, "encoder.norm")
    x = F.linear(x, sd["encoder_to_decoder.weight"])  # (B, n_vis, Dd)
    B, _, Dd = x.shape
    pos = ref_sinusoid(mask.shape[1], Dd)[None].expand(B, -1, -1)
    vis, msk = pos[~mask].reshape(B, -1, Dd), pos[mask].reshape(B, -1, Dd)
    x = torch.cat([x + vis, sd["mask_token"] + msk], dim=1)
    for i in range(_depth(sd, "decoder.blocks.")):
        x = ref_block(x, sd, f"decoder.blocks.{i}.", dec_heads)
    x = ref_norm(x[:, -msk.shape[1] :], sd, "decoder.norm")
    return F.linear(x, sd["decoder.head.weight"], sd["decoder.head.bias"])


# ------------------------------------------------------------------------------------------
# Loading the converted folder with the package's classes
# ------------------------------------------------------------------------------------------
def load_converted(out_dir: Path, arch: str):
    from videomae.modeling import models

    return getattr(models, arch).from_pretrained(out_dir).eval()


def _layer_norm_eps(model) -> set[float]:
    """The eps of every LayerNorm: the original used 1e-6 everywhere (fc_norm, decoder.norm too).

    Checked directly because a 1e-5 vs 1e-6 eps moves these tiny models' outputs by less than the
    parity tolerance."""
    return {m.eps for m in model.modules() if isinstance(m, torch.nn.LayerNorm)}


def _video(channels=3, frames=4, size=32, batch=2, seed=1):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(batch, frames, channels, size, size, generator=g)  # (B, T, C, H, W)


def _config(out: Path) -> dict:
    return json.loads((out / "config.json").read_text())


def _disk_keys(out: Path) -> set[str]:
    with safe_open(str(out / "model.safetensors"), "pt") as f:
        return set(f.keys())


TINY = {"image_size": 32, "num_frames": 4, "num_attention_heads": 4}


# ------------------------------------------------------------------------------------------
# Parity with the reference
# ------------------------------------------------------------------------------------------
def test_finetuned_mean_pooling_matches_reference(tmp_path):
    sd = make_original("mean")
    src = tmp_path / "ft.pth"
    torch.save({"model": sd, "epoch": 3}, src)
    labels = tmp_path / "labels.txt"
    labels.write_text("abseiling\nair drumming\nc\nd\ne\n")
    out = convert_checkpoint(src, tmp_path / "hf", label_file=labels, **TINY)

    cfg = _config(out)
    assert cfg["architectures"] == ["VideoMAEForVideoClassification"]
    assert cfg["layer_norm_eps"] == cfg["fc_norm_eps"] == 1e-6
    assert cfg["use_mean_pooling"] is True and cfg["qv_bias"] is True
    assert cfg["id2label"]["1"] == "air drumming" and cfg["label2id"]["e"] == 4
    # a complete folder: the original recipe's preprocessing (ImageNet statistics) and a card
    pre = json.loads((out / "preprocessor_config.json").read_text())
    assert pre["image_mean"] == [0.485, 0.456, 0.406] and pre["num_frames"] == cfg["num_frames"]
    assert pre["crop_size"]["height"] == cfg["image_size"] and "frame_sampling_rate" not in pre
    card = (out / "README.md").read_text()
    assert "pipeline_tag: video-classification" in card and "converted from: ft.pth" in card
    keys = _disk_keys(out)
    assert (
        "videomae.encoder.layer.0.attention.attention.q_bias" in keys
    )  # transformers' disk layout
    assert "fc_norm.weight" in keys and "classifier.bias" in keys

    model = load_converted(out, "VideoMAEForVideoClassification")
    assert _layer_norm_eps(model) == {1e-6}
    video = _video()
    with torch.no_grad():
        got = model(pixel_values=video).logits
    want = ref_classify(video.permute(0, 2, 1, 3, 4), sd, heads=4)
    assert got.shape == (2, 5)
    assert (got - want).abs().max().item() <= TOL


def test_token0_norm_deepspeed_layout_matches_reference(tmp_path):
    sd = make_original("token0", seed=2)
    src = tmp_path / "mp_rank_00_model_states.pt"
    torch.save(
        {"module": sd, "ds_version": "0.9.5", "global_steps": 7, "ds_config": {"fp16": {}}}, src
    )
    out = convert_checkpoint(src, tmp_path / "hf", **TINY)
    cfg = _config(out)
    assert cfg["use_mean_pooling"] is False and cfg["id2label"]["0"] == "LABEL_0"
    assert "videomae.layernorm.weight" in _disk_keys(out)

    model = load_converted(out, "VideoMAEForVideoClassification")
    assert _layer_norm_eps(model) == {1e-6}
    video = _video(seed=3)
    with torch.no_grad():
        got = model(pixel_values=video).logits
    want = ref_classify(video.permute(0, 2, 1, 3, 4), sd, heads=4)
    assert (got - want).abs().max().item() <= TOL

    # transformers reads the folder too (no fc_norm here, so its hard-coded 1e-5 does not apply)
    transformers = pytest.importorskip("transformers")
    theirs = transformers.VideoMAEForVideoClassification.from_pretrained(out).eval()
    with torch.no_grad():
        assert (theirs(pixel_values=video).logits - want).abs().max().item() <= TOL


def test_pretraining_wrapped_matches_reference(tmp_path):
    sd = make_original("pretrain", seed=4)
    wrapped = {f"module._orig_mod.{k}": v for k, v in sd.items()}  # DDP + torch.compile
    src = tmp_path / "checkpoint-799.pth"
    args = argparse.Namespace(model="pretrain_videomae_base_patch16_224", lr=1.5e-4)
    torch.save({"model": wrapped, "args": args, "epoch": 799}, src)
    out = convert_checkpoint(src, tmp_path / "hf", decoder_num_attention_heads=2, **TINY)

    cfg = _config(out)
    assert cfg["architectures"] == ["VideoMAEForPreTraining"]
    assert cfg["use_mean_pooling"] is False  # the encoder's final norm is kept
    assert (cfg["decoder_hidden_size"], cfg["decoder_num_hidden_layers"]) == (16, 1)
    assert cfg["decoder_intermediate_size"] == 32 and cfg["decoder_norm_eps"] == 1e-6
    keys = _disk_keys(out)
    assert {"encoder_to_decoder.weight", "mask_token", "decoder.norm.weight"} <= keys
    assert "decoder.decoder_layers.0.attention.attention.v_bias" in keys

    model = load_converted(out, "VideoMAEForPreTraining")
    assert _layer_norm_eps(model) == {1e-6}
    video = _video(seed=5)
    n = 32  # (4 / 2) * (32 / 8) ** 2
    g = torch.Generator().manual_seed(6)
    mask = torch.zeros(2, n, dtype=torch.bool)
    for row in mask:
        row[torch.randperm(n, generator=g)[:24]] = True  # 75 % masked, same count per sample
    with torch.no_grad():
        got = model(pixel_values=video, bool_masked_pos=mask).logits
    want = ref_pretrain(video.permute(0, 2, 1, 3, 4), mask, sd, heads=4, dec_heads=2)
    assert got.shape == (2, 24, 3 * 2 * 8 * 8)
    assert (got - want).abs().max().item() <= TOL


def test_tubelet1_two_channels_without_qv_bias_matches_reference(tmp_path):
    sd = make_original("mean", channels=2, tubelet=1, qv_bias=False, labels=3, seed=7)
    src = tmp_path / "ft.pth"
    torch.save(sd, src)  # a bare state dict
    out = convert_checkpoint(src, tmp_path / "hf", **TINY)
    cfg = _config(out)
    assert (cfg["tubelet_size"], cfg["num_channels"], cfg["qv_bias"]) == (1, 2, False)
    assert not (out / "preprocessor_config.json").exists()  # 2-channel statistics are unknown

    model = load_converted(out, "VideoMAEForVideoClassification")
    assert _layer_norm_eps(model) == {1e-6}
    video = _video(channels=2, seed=8)
    with torch.no_grad():
        got = model(pixel_values=video).logits
    want = ref_classify(video.permute(0, 2, 1, 3, 4), sd, heads=4)
    assert (got - want).abs().max().item() <= TOL


def test_backbone_without_head_becomes_videomae_model(tmp_path):
    sd = {f"backbone.{k}": v for k, v in make_original("backbone", seed=9).items()}
    src = tmp_path / "bb.pth"
    torch.save({"state_dict": sd}, src)
    out = convert_checkpoint(src, tmp_path / "hf", **TINY)
    assert _config(out)["architectures"] == ["VideoMAEModel"]
    assert "layernorm.weight" in _disk_keys(out)  # the bare model has no `videomae.` prefix

    model = load_converted(out, "VideoMAEModel")
    assert _layer_norm_eps(model) == {1e-6}
    video = _video(seed=10)
    with torch.no_grad():
        got = model(pixel_values=video).last_hidden_state
    plain = {k.removeprefix("backbone."): v for k, v in sd.items()}
    want = ref_norm(ref_encoder(video.permute(0, 2, 1, 3, 4), plain, "", heads=4), plain, "norm")
    assert (got - want).abs().max().item() <= TOL


def test_half_precision_file_stays_half(tmp_path):
    sd = {k: v.half() for k, v in make_original("mean", depth=1).items()}
    src = tmp_path / "half.pth"
    torch.save({"model": sd}, src)
    out = convert_checkpoint(src, tmp_path / "hf", **{**TINY, "num_frames": None})  # None: unset
    assert _config(out)["num_frames"] == 16
    with safe_open(str(out / "model.safetensors"), "pt") as f:
        assert f.get_tensor("classifier.weight").dtype == torch.float16


def test_label_file_must_match_head(tmp_path):
    src = tmp_path / "ft.pth"
    torch.save({"model": make_original("mean", depth=1)}, src)
    labels = tmp_path / "labels.txt"
    labels.write_text("a\nb\n")
    with pytest.raises(CheckpointConversionError, match="2 names but the checkpoint's head has 5"):
        convert_checkpoint(src, tmp_path / "hf", label_file=labels, **TINY)


def test_convert_into_an_existing_folder_replaces_the_model_and_keeps_other_files(tmp_path):
    """Converting into a folder that holds a (sharded) model swaps the new model in as a whole:
    the old index and shards are gone, a file of the user's stays (README.md is the model card
    a converted folder carries)."""
    out = tmp_path / "hf"
    VideoMAEModel(VideoMAEConfig(**tiny_kwargs())).save_pretrained(out, max_shard_size=20_000)
    (out / "notes.txt").write_text("mine\n")
    src = tmp_path / "half.pth"
    torch.save({"model": {k: v.half() for k, v in make_original("mean", depth=1).items()}}, src)
    assert (out / "model.safetensors.index.json").is_file()

    convert_checkpoint(src, out, **{**TINY, "num_frames": None})
    assert sorted(p.name for p in out.iterdir()) == [
        "README.md",
        "config.json",
        "model.safetensors",
        "notes.txt",
        "preprocessor_config.json",
    ]
    assert _config(out)["architectures"] == ["VideoMAEForVideoClassification"]
    assert (out / "notes.txt").read_text() == "mine\n"


def test_convert_on_a_full_disk_is_one_error_line_and_keeps_the_old_folder(
    tmp_path, monkeypatch, capsys
):
    """`videomae convert` over an existing folder when the disk fills up: exit 2, one
    `error: disk full ... <file>` line, the old converted model still in place."""
    src = tmp_path / "ft.pth"
    torch.save({"model": make_original("mean", depth=1)}, src)
    out = tmp_path / "hf"
    flags = ["--num-frames", "4", "--image-size", "32", "--num-heads", "4"]
    assert main(["convert", str(src), str(out), *flags]) == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}

    def full(self, data):
        self.error = OSError(errno.ENOSPC, "No space left on device")
        raise self.error

    monkeypatch.setattr(_io._Sink, "write", full)
    capsys.readouterr()
    assert main(["convert", str(src), str(out), *flags, "--dtype", "fp16"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: disk full"), err
    assert str(out / "config.json") in err[0]
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
