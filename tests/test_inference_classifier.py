"""VideoClassifier on tiny checkpoints and tiny videos written by the tests."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from _inference_helper import LABELS, _frames, _probabilities_and_batches, make_assets

from videomae.errors import CheckpointError, VideoDecodeError
from videomae.evaluate.config import EvalConfig
from videomae.inference.classifier import VideoClassifier
from videomae.inference.views import video_views
from videomae.processing.ops import normalize
from videomae.runtime import IMAGENET_DEFAULT_MEAN, IMAGENET_DEFAULT_STD


@pytest.fixture(scope="module")
def assets(tmp_path_factory) -> dict:
    return make_assets(tmp_path_factory)


def test_top_k_labels_scores_and_order(assets) -> None:
    clf = VideoClassifier.from_pretrained(assets["clf"])
    assert clf.labels == LABELS
    top = clf(assets["videos"][0], top_k=3)
    assert len(top) == 3
    labels = [label for label, _ in top]
    scores = [score for _, score in top]
    assert set(labels) <= set(LABELS) and len(set(labels)) == 3
    assert scores == sorted(scores, reverse=True)
    assert all(0.0 < s <= 1.0 for s in scores)
    full = clf(assets["videos"][0], top_k=50)  # capped at the 5 classes
    assert len(full) == 5
    assert sum(s for _, s in full) == pytest.approx(1.0, abs=1e-5)
    assert full[:3] == top


def test_multi_view_counts_and_probabilities_match_manual_views(assets) -> None:
    clf = VideoClassifier.from_pretrained(assets["clf"], clips=2, crops=3, batch_size=4)
    probs, seen = _probabilities_and_batches(clf, assets["videos"][:2])
    assert sum(seen) == 2 * 2 * 3  # every view of both videos, batches spanning videos
    assert max(seen) <= 4

    cfg = EvalConfig(
        clips=2, crops=3, sampling_rate=4, mean=IMAGENET_DEFAULT_MEAN, std=IMAGENET_DEFAULT_STD
    )
    for path, got in zip(assets["videos"][:2], probs):
        views = video_views(path, cfg, num_frames=4, crop_size=32)  # (6, T, C, S, S)
        assert views.shape[0] == 6
        with torch.no_grad():
            want = clf.model(views).logits.softmax(-1).mean(0)  # softmax per view, then mean
        torch.testing.assert_close(got, want, atol=1e-5, rtol=1e-5)


def test_missing_file_is_reported_and_others_still_classified(assets) -> None:
    v0, v1, _ = assets["videos"]
    missing = str(assets["root"] / "nope.mp4")
    clf = VideoClassifier.from_pretrained(
        assets["clf"], clips=2, batch_size=3, num_workers=2, progress=False
    )
    out = clf([v0, missing, v1], top_k=2)
    assert len(out) == 3 and out[1] is None
    assert [f.path for f in clf.failures] == [missing]
    assert "does not exist" in clf.failures[0].reason
    alone = VideoClassifier.from_pretrained(assets["clf"], clips=2, num_workers=0)
    for got, path in zip((out[0], out[2]), (v0, v1)):
        want = alone(path, top_k=2)
        assert [lab for lab, _ in got] == [lab for lab, _ in want]
        assert [s for _, s in got] == pytest.approx([s for _, s in want], abs=1e-5)

    not_video = assets["root"] / "notes.mp4"
    not_video.write_text("this is not a video")
    out = clf([str(not_video), v0])
    assert out[0] is None and out[1] is not None
    assert clf.failures[0].path == str(not_video)


def test_single_bad_input_raises(assets) -> None:
    clf = VideoClassifier.from_pretrained(assets["clf"])
    with pytest.raises(VideoDecodeError, match="does not exist"):
        clf(str(assets["root"] / "missing.mp4"))
    assert clf.failures and clf.failures[0].reason


def test_frames_array_input_matches_manual_preprocessing(assets) -> None:
    clf = VideoClassifier.from_pretrained(assets["clf"])
    frames = _frames()  # already T=4, 32x32: sampling and crops are the identity
    (probs,) = clf.probabilities([frames])
    pv = normalize(
        torch.from_numpy(frames).permute(0, 3, 1, 2), IMAGENET_DEFAULT_MEAN, IMAGENET_DEFAULT_STD
    )
    with torch.no_grad():
        want = clf.model(pv[None]).logits.softmax(-1)[0]
    torch.testing.assert_close(probs, want, atol=1e-5, rtol=1e-5)

    top = clf(torch.from_numpy(frames), top_k=2)  # a tensor works too
    assert [lab for lab, _ in top] == [LABELS[i] for i in want.topk(2).indices.tolist()]
    batch = clf(np.stack([_frames(seed=1), _frames(seed=2)]), top_k=1)  # (B, T, H, W, C)
    assert len(batch) == 2 and all(len(r) == 1 for r in batch)
    mixed = clf([_frames(seed=1), _frames(20, 40, 56, seed=2)], top_k=1)  # any sizes in a list
    assert mixed[0] == batch[0] and len(mixed[1]) == 1
    with pytest.raises(ValueError, match="uint8"):
        clf(frames.astype(np.float32))


def test_bf16_close_to_fp32(assets) -> None:
    fp32 = VideoClassifier.from_pretrained(assets["clf"]).probabilities([_frames()])[0]
    bf16 = VideoClassifier.from_pretrained(assets["clf"], dtype="bf16")
    assert bf16.model.dtype == torch.bfloat16  # bf16 weights (as fast as autocast, less memory)
    got = bf16.probabilities([_frames()])[0]
    torch.testing.assert_close(got, fp32, atol=3e-2, rtol=0)
    with pytest.raises(ValueError, match="dtype"):
        VideoClassifier.from_pretrained(assets["clf"], dtype="int8")


def test_loading_errors_are_clear(assets) -> None:
    with pytest.raises(CheckpointError, match="classification head"):
        VideoClassifier.from_pretrained(assets["pre"])
    with pytest.raises(CheckpointError, match="local path"):
        VideoClassifier.from_pretrained("MCG-NJU/videomae-base-finetuned-kinetics")
    with pytest.raises(ValueError, match="crops must be 1"):
        VideoClassifier.from_pretrained(assets["clf"], crops=2)
