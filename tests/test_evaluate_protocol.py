"""The multi-view evaluation end to end on tiny videos."""

from __future__ import annotations

import csv
import json

import pytest
import torch

from videomae.evaluate.config import EvalConfig
from videomae.evaluate.protocol import evaluate
from videomae.inference.views import video_views


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
