"""The multi-view engine: its CPU defaults, through a classifier and an embedder."""

from __future__ import annotations

import pytest
import torch
from _inference_helper import _probabilities_and_batches, make_assets

from videomae.inference.classifier import VideoClassifier
from videomae.inference.embedder import VideoEmbedder
from videomae.inference.runner import default_batch_size, default_num_workers


@pytest.fixture(scope="module")
def assets(tmp_path_factory) -> dict:
    return make_assets(tmp_path_factory)


def test_cpu_defaults_one_view_per_forward_and_inline_decoding(assets) -> None:
    assert (default_batch_size(torch.device("cpu")), default_num_workers("cpu")) == (1, 0)
    # the device object only: no GPU is used
    assert (default_batch_size(torch.device("cuda")), default_num_workers("cuda:0")) == (8, 2)
    clf = VideoClassifier.from_pretrained(assets["clf"], clips=2, crops=3, progress=False)
    assert (clf.batch_size, clf.num_workers) == (1, 0)
    got, seen = _probabilities_and_batches(clf, assets["videos"][:2])
    assert seen == [1] * (2 * 2 * 3)
    batched = VideoClassifier.from_pretrained(
        assets["clf"], clips=2, crops=3, batch_size=5, num_workers=2
    )
    for a, b in zip(got, batched.probabilities(assets["videos"][:2])):
        torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-5)
    emb = VideoEmbedder.from_pretrained(assets["pre"], batch_size=None, num_workers=None)
    assert (emb.batch_size, emb.num_workers) == (1, 0)
