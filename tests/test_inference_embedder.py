"""VideoEmbedder on tiny checkpoints and tiny videos written by the tests."""

from __future__ import annotations

import pytest
import torch
from _inference_helper import _frames, make_assets

from videomae import VideoMAEForPreTraining
from videomae.inference.embedder import VideoEmbedder
from videomae.processing.ops import normalize
from videomae.runtime import IMAGENET_DEFAULT_MEAN, IMAGENET_DEFAULT_STD


@pytest.fixture(scope="module")
def assets(tmp_path_factory) -> dict:
    return make_assets(tmp_path_factory)


def test_embeddings_shape_determinism_and_pooling(assets) -> None:
    emb = VideoEmbedder.from_pretrained(assets["clf"], progress=False)
    assert emb.dim == 32
    paths = assets["videos"]
    a = emb(paths)
    b = emb(list(reversed(paths)))
    assert a.shape == (3, 32) and a.dtype == torch.float32
    torch.testing.assert_close(a, b.flip(0), atol=1e-6, rtol=0)  # deterministic, order kept
    assert emb(paths[0]).shape == (1, 32)

    frames = _frames()
    pv = normalize(
        torch.from_numpy(frames).permute(0, 3, 1, 2), IMAGENET_DEFAULT_MEAN, IMAGENET_DEFAULT_STD
    )[None]
    with torch.no_grad():
        hidden = emb.model.videomae(pv).last_hidden_state
        fc = emb.model.fc_norm(hidden.mean(1))
    torch.testing.assert_close(emb(frames), hidden.mean(1), atol=1e-5, rtol=1e-5)  # raw mean
    head = VideoEmbedder.from_pretrained(assets["clf"], pooling="head")
    torch.testing.assert_close(head(frames), fc, atol=1e-5, rtol=1e-5)


def test_embedder_on_pretraining_checkpoint_and_failures(assets) -> None:
    emb = VideoEmbedder.from_pretrained(assets["pre"], progress=False)
    assert not hasattr(emb.model, "decoder")  # encoder only
    missing = str(assets["root"] / "gone.mp4")
    result = emb.embed([assets["videos"][0], missing, assets["videos"][2]])
    assert result.features.shape == (2, 32)
    assert result.indices == [0, 2] and emb.kept == [0, 2]
    assert result.names == [assets["videos"][0], assets["videos"][2]]
    assert [f.path for f in result.failures] == [missing]
    # the same checkpoint's encoder, loaded by hand, gives the same features
    full = VideoMAEForPreTraining.from_pretrained(assets["pre"])
    frames = _frames(seed=3)
    pv = normalize(
        torch.from_numpy(frames).permute(0, 3, 1, 2), IMAGENET_DEFAULT_MEAN, IMAGENET_DEFAULT_STD
    )[None]
    with torch.no_grad():
        want = full.videomae(pv).last_hidden_state.mean(1)
    torch.testing.assert_close(emb(frames), want, atol=1e-5, rtol=1e-5)
