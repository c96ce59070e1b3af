"""VideoClassifier / VideoEmbedder on tiny checkpoints and tiny videos written by the tests."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import tiny_kwargs

from videomae import VideoMAEConfig, VideoMAEForPreTraining, VideoMAEForVideoClassification
from videomae.errors import CheckpointError, VideoDecodeError
from videomae.evaluate import EvalConfig, video_views
from videomae.inference import (
    Preprocessing,
    VideoClassifier,
    VideoEmbedder,
    default_batch_size,
    default_num_workers,
    frames_views,
    load_embeddings,
    save_embeddings,
)
from videomae.processing.ops import normalize
from videomae.runtime import IMAGENET_DEFAULT_MEAN, IMAGENET_DEFAULT_STD
from videomae.video.write import write_video

LABELS = ["walk", "run", "jump", "swim", "climb"]


def _classifier_dir(root: Path, seed: int = 0) -> Path:
    torch.manual_seed(seed)
    config = VideoMAEConfig(**tiny_kwargs(id2label=dict(enumerate(LABELS))))
    model = VideoMAEForVideoClassification(config)
    with torch.no_grad():  # a head that gives clearly different scores per class
        model.classifier.weight.normal_(0, 2.0)
    out = root / "clf"
    model.save_pretrained(out)
    return out


@pytest.fixture(scope="module")
def assets(tmp_path_factory) -> dict:
    root = tmp_path_factory.mktemp("inference")
    rng = np.random.default_rng(0)
    videos = []
    for i in range(3):
        frames = rng.integers(0, 256, size=(12, 40, 48, 3), dtype=np.uint8)
        path = root / f"v{i}.mp4"
        write_video(path, frames, fps=8)
        videos.append(str(path))
    torch.manual_seed(1)
    pre = VideoMAEForPreTraining(VideoMAEConfig(**tiny_kwargs()))
    pre.save_pretrained(root / "pre")
    return {"root": root, "clf": _classifier_dir(root), "pre": root / "pre", "videos": videos}


def _frames(t: int = 4, h: int = 32, w: int = 32, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, size=(t, h, w, 3), dtype=np.uint8)


# ---------------------------------------------------------------------------------------------
# classification


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


def _probabilities_and_batches(clf: VideoClassifier, videos: list[str]) -> tuple[list, list]:
    """The classifier's probabilities for ``videos`` and the batch size of each forward."""
    seen: list[int] = []
    hook = clf.model.register_forward_hook(lambda m, inp, out: seen.append(inp[0].shape[0]))
    try:
        return clf.probabilities(videos), seen
    finally:
        hook.remove()


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


def test_frames_views_shapes_for_long_and_non_square_frames() -> None:
    pre = Preprocessing(
        num_frames=4,
        crop_size=32,
        short_side=32,
        mean=IMAGENET_DEFAULT_MEAN,
        std=IMAGENET_DEFAULT_STD,
        crops=3,
    )
    views = frames_views(_frames(20, 36, 60), pre)
    assert views.shape == (3, 4, 3, 32, 32)
    assert views.dtype == torch.float32


def test_bf16_close_to_fp32(assets) -> None:
    fp32 = VideoClassifier.from_pretrained(assets["clf"]).probabilities([_frames()])[0]
    bf16 = VideoClassifier.from_pretrained(assets["clf"], dtype="bf16")
    assert bf16.model.dtype == torch.bfloat16  # bf16 weights (as fast as autocast, less memory)
    got = bf16.probabilities([_frames()])[0]
    torch.testing.assert_close(got, fp32, atol=3e-2, rtol=0)
    with pytest.raises(ValueError, match="dtype"):
        VideoClassifier.from_pretrained(assets["clf"], dtype="int8")


def test_preprocessing_from_config_or_preprocessor_file(assets, tmp_path) -> None:
    clf = VideoClassifier.from_pretrained(assets["clf"])
    pre = clf.preprocessing
    assert pre.source == "config.json"
    assert (pre.crop_size, pre.short_side, pre.num_frames) == (32, 32, 4)
    assert pre.mean == pytest.approx(IMAGENET_DEFAULT_MEAN) and pre.std == pytest.approx(
        IMAGENET_DEFAULT_STD
    )

    folder = _classifier_dir(tmp_path)
    (folder / "preprocessor_config.json").write_text(
        json.dumps(
            {
                "size": {"shortest_edge": 36},
                "crop_size": {"height": 32, "width": 32},
                "image_mean": [0.5, 0.5, 0.5],
                "image_std": [0.25, 0.25, 0.25],
                "image_processor_type": "VideoMAEImageProcessor",
            }
        )
    )
    pre = VideoClassifier.from_pretrained(folder).preprocessing
    assert pre.source == "preprocessor_config.json"
    assert (pre.short_side, pre.crop_size) == (36, 32)
    assert pre.mean == (0.5, 0.5, 0.5) and pre.std == (0.25, 0.25, 0.25)

    longer = VideoClassifier.from_pretrained(folder, num_frames=8, sampling_rate=1)
    assert longer.preprocessing.num_frames == longer.model.config.num_frames == 8
    assert len(longer(_frames(10, 40, 40), top_k=2)) == 2  # position table resized to 8 frames

    (folder / "preprocessor_config.json").write_text(json.dumps({"crop_size": 224}))
    with pytest.raises(ValueError, match="image_size=32"):
        VideoClassifier.from_pretrained(folder)


def test_loading_errors_are_clear(assets) -> None:
    with pytest.raises(CheckpointError, match="classification head"):
        VideoClassifier.from_pretrained(assets["pre"])
    with pytest.raises(CheckpointError, match="local path"):
        VideoClassifier.from_pretrained("MCG-NJU/videomae-base-finetuned-kinetics")
    with pytest.raises(ValueError, match="crops must be 1"):
        VideoClassifier.from_pretrained(assets["clf"], crops=2)


# ---------------------------------------------------------------------------------------------
# embeddings


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
