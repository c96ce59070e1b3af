"""Multi-view merging, metrics, and the end-to-end evaluation on tiny videos."""

from __future__ import annotations

import csv
import json
import math

import pytest
import torch

from videomae.evaluate import (
    EvalConfig,
    confusion_matrix,
    evaluate,
    mean_class_accuracy,
    merge_views,
    topk_correct,
    video_views,
)

# ---------------------------------------------------------------------------------------------
# merging


def test_prob_mean_and_logit_mean_disagree_on_a_known_case() -> None:
    # true class 0: one view is very confident and wrong, two views are moderately right
    views = torch.tensor([[0.0, 20.0, 0.0], [2.0, 0.0, 0.0], [2.0, 0.0, 0.0]])
    e2 = math.exp(2.0)
    p_right = e2 / (e2 + 2)  # softmax([2, 0, 0])[0]
    p_wrong_view = 1 / (1 + 2 * math.exp(-20.0))  # softmax([0, 20, 0])[1]
    expected0 = (2 * p_right + (1 - p_wrong_view) / 2) / 3
    probs = merge_views(views)  # default: prob_mean
    assert probs.shape == (3,)
    assert probs.sum().item() == pytest.approx(1.0, abs=1e-6)
    assert probs[0].item() == pytest.approx(expected0, abs=1e-6)
    assert probs.argmax().item() == 0
    logits = merge_views(views, "logit_mean")
    assert torch.allclose(logits, torch.tensor([4 / 3, 20 / 3, 0.0]))
    assert logits.argmax().item() == 1


def test_merge_views_single_view_and_errors() -> None:
    v = torch.tensor([[1.0, 3.0]])
    assert torch.allclose(merge_views(v), v.softmax(-1)[0])
    with pytest.raises(ValueError, match="unknown merge method"):
        merge_views(v, "max")
    with pytest.raises(ValueError, match=r"\(V, K\)"):
        merge_views(torch.zeros(0, 3))


# ---------------------------------------------------------------------------------------------
# metrics


def test_topk_correct_on_hand_made_scores() -> None:
    scores = torch.tensor(
        [
            [0.9, 0.05, 0.03, 0.02],  # label 0: top-1
            [0.1, 0.2, 0.3, 0.4],  # label 2: rank 2
            [0.4, 0.3, 0.2, 0.1],  # label 3: rank 4
            [0.25, 0.35, 0.3, 0.1],  # label 0: rank 3
        ]
    )
    labels = torch.tensor([0, 2, 3, 0])
    assert topk_correct(scores, labels, ks=(1, 2, 3)) == {1: 1, 2: 2, 3: 3}
    assert topk_correct(scores, labels, ks=(1, 5)) == {1: 1, 5: 4}  # k=5 capped at K=4
    with pytest.raises(ValueError, match="labels must be"):
        topk_correct(scores, labels[:2])


def test_mean_class_accuracy_and_confusion() -> None:
    labels = torch.tensor([0, 0, 0, 0, 1, 2, 2])
    preds = torch.tensor([0, 0, 0, 1, 1, 0, 2])
    cm = confusion_matrix(preds, labels, 4)
    expected = torch.tensor([[3, 1, 0, 0], [0, 1, 0, 0], [1, 0, 1, 0], [0, 0, 0, 0]])
    assert torch.equal(cm, expected)
    # classes 0,1,2 present: (3/4 + 1 + 1/2) / 3; class 3 (no samples) is left out
    assert mean_class_accuracy(preds, labels, 4) == pytest.approx((0.75 + 1.0 + 0.5) / 3)
    # overall accuracy differs (5/7), so the two metrics are not confused
    assert (preds == labels).float().mean().item() == pytest.approx(5 / 7)
    with pytest.raises(ValueError, match="preds must lie"):
        confusion_matrix(torch.tensor([5]), torch.tensor([0]), 4)


# ---------------------------------------------------------------------------------------------
# end to end


def _classifier_classes():
    """The one switch point for the model classes (transformers' are drop-in compatible)."""
    from videomae import VideoMAEConfig, VideoMAEForVideoClassification

    return VideoMAEConfig, VideoMAEForVideoClassification


def _tiny_classifier(num_labels: int = 3):
    config_cls, model_cls = _classifier_classes()
    cfg = config_cls(
        image_size=16,
        patch_size=8,
        num_channels=3,
        num_frames=4,
        tubelet_size=2,
        hidden_size=32,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=64,
        num_labels=num_labels,
        id2label={i: f"class_{i}" for i in range(num_labels)},
        label2id={f"class_{i}": i for i in range(num_labels)},
    )
    torch.manual_seed(0)
    return model_cls(cfg).eval()


class CountingModel(torch.nn.Module):
    """Wraps a classifier and records the batch size of each forward call."""

    def __init__(self, inner: torch.nn.Module) -> None:
        super().__init__()
        self.inner = inner
        self.config = inner.config
        self.batch_sizes: list[int] = []

    def forward(self, pixel_values: torch.Tensor):
        assert pixel_values.shape[1:] == (4, 3, 16, 16)
        self.batch_sizes.append(pixel_values.shape[0])
        return self.inner(pixel_values)


@pytest.fixture(scope="module")
def videos(tmp_path_factory) -> list[tuple[str, int]]:
    from videomae.video.write import write_video

    root = tmp_path_factory.mktemp("videos")
    g = torch.Generator().manual_seed(0)
    out = []
    for i in range(3):
        frames = torch.randint(0, 256, (20, 24, 32, 3), generator=g, dtype=torch.uint8)
        path = root / f"v{i}.mp4"
        write_video(path, frames, fps=10)
        out.append((str(path), i))
    return out


def _cfg(tmp_path, **kw) -> EvalConfig:
    base = dict(
        clips=2,
        crops=3,
        num_frames=4,
        sampling_rate=2,
        crop_size=16,
        batch_size=4,
        out_dir=tmp_path,
    )
    base.update(kw)
    return EvalConfig(**base)


def test_evaluate_end_to_end(videos, tmp_path) -> None:
    bad = tmp_path / "broken.mp4"
    bad.write_bytes(b"this is not a video")
    samples = [videos[0], (str(tmp_path / "missing.mp4"), 1), videos[1], (str(bad), 0), videos[2]]
    model = CountingModel(_tiny_classifier())
    summary = evaluate(model, samples, _cfg(tmp_path / "out"), progress=False)

    # 3 decodable videos x (2 clips x 3 crops) views, batched 4 at a time across videos
    assert sum(model.batch_sizes) == 3 * 6 == summary["views_run"]
    assert model.batch_sizes == [4, 4, 4, 4, 2]
    assert summary["num_videos"] == 5
    assert summary["num_evaluated"] == 3
    assert summary["num_failed"] == 2
    failed = {f["path"]: f["reason"] for f in summary["failed"]}
    assert "not found" in failed[str(tmp_path / "missing.mp4")]
    assert str(bad) in failed
    for key in ("top1", "top5", "mean_class_accuracy", "views_per_video", "elapsed_s", "files"):
        assert key in summary
    assert summary["views_per_video"] == 6 and summary["topk_k"] == 3
    assert summary["top5"] == 1.0  # k capped at K=3: every label is in the top 3

    out = tmp_path / "out"
    for name in ("predictions.csv", "confusion.png", "summary.json", "confusion.csv"):
        assert (out / name).stat().st_size > 0, name
    assert json.loads((out / "summary.json").read_text())["num_failed"] == 2
    with open(out / "predictions.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [r["path"] for r in rows] == [videos[0][0], videos[1][0], videos[2][0]]
    assert {"top1", "top1_name", "top1_score", "top3_score"} <= set(rows[0])
    assert rows[0]["label_name"] == "class_0"
    top1 = sum(int(r["correct"]) for r in rows) / 3
    assert summary["top1"] == pytest.approx(top1)

    # the merged score of video 1 equals an independent per-video computation
    cfg = _cfg(None)
    views = video_views(videos[1][0], cfg, 4, 16)
    assert views.shape == (6, 4, 3, 16, 16)
    with torch.inference_mode():
        probs = model.inner(views).logits.softmax(-1).mean(0)
    assert float(rows[1]["top1_score"]) == pytest.approx(probs.max().item(), abs=1e-5)
    assert int(rows[1]["pred"]) == probs.argmax().item()


def test_evaluate_without_prefetch_matches_and_writes_nothing(videos) -> None:
    model = _tiny_classifier()
    a = evaluate(model, videos, _cfg(None, prefetch=0, clips=1, crops=1), progress=False)
    b = evaluate(model, videos, _cfg(None, prefetch=2, clips=1, crops=1), progress=False)
    assert a["top1"] == b["top1"] and a["views_run"] == b["views_run"] == 3
    assert "files" not in a


def test_evaluate_rejects_labels_outside_the_model(videos) -> None:
    with pytest.raises(ValueError, match="labels must lie"):
        evaluate(_tiny_classifier(), [(videos[0][0], 7)], _cfg(None), progress=False)
    with pytest.raises(ValueError, match="crops must be"):
        evaluate(_tiny_classifier(), videos, _cfg(None, crops=2), progress=False)


def test_evaluate_bfloat16_autocast_runs(videos) -> None:
    cfg = _cfg(None, clips=1, crops=3, dtype="bfloat16")
    summary = evaluate(_tiny_classifier(), videos, cfg, progress=False)
    assert summary["num_evaluated"] == 3 and summary["views_run"] == 9
    assert 0.0 <= summary["top1"] <= 1.0
