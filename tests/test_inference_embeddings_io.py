"""Embedding files: .npy + JSON side file, or .safetensors."""

from __future__ import annotations

import pytest
import torch
from _inference_helper import make_assets

from videomae.inference.embedder import VideoEmbedder
from videomae.inference.embeddings_io import load_embeddings, save_embeddings


@pytest.fixture(scope="module")
def assets(tmp_path_factory) -> dict:
    return make_assets(tmp_path_factory)


@pytest.mark.parametrize("suffix", [".npy", ".safetensors"])
def test_save_and_load_embeddings(assets, tmp_path, suffix) -> None:
    emb = VideoEmbedder.from_pretrained(assets["clf"], progress=False)
    result = emb.embed(assets["videos"][:2])
    written = save_embeddings(tmp_path / f"feats{suffix}", result, metadata={"model": "x"})
    assert written[0].is_file()
    feats, paths = load_embeddings(written[0])
    torch.testing.assert_close(feats, result.features)
    assert paths == assets["videos"][:2]
    with pytest.raises(ValueError, match=".npy or .safetensors"):
        save_embeddings(tmp_path / "feats.csv", result)
