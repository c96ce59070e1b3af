"""The fine-tuning recipe: init from a pre-training folder, end to end files, learning."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from _recipe_helper import COLORS, TINY, colour_clip

from videomae import VideoMAEConfig, VideoMAEForPreTraining
from videomae.train.finetune import FinetuneConfig, build_model, finetune, main

pytest.importorskip("av")
from videomae.video.write import write_video  # noqa: E402


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    """2 shared cores: OpenMP threads spinning against other processes cost 5x; use one."""
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(old)


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("ftdata")
    for name, rgb in COLORS.items():
        for i in range(3):
            clip = colour_clip(rgb, 8, i)
            (root / name).mkdir(exist_ok=True)
            write_video(root / name / f"{i}.mp4", clip, fps=8)
    return root


@pytest.fixture(scope="module")
def pretrained(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("pt") / "final"
    cfg = VideoMAEConfig(image_size=16, patch_size=8, num_frames=4, tubelet_size=2, **TINY)
    torch.manual_seed(3)
    VideoMAEForPreTraining(cfg).save_pretrained(out)
    return out


def _cfg(data: Path, out: Path, **kw) -> FinetuneConfig:
    base = dict(
        train_data=str(data),
        val_data=str(data),
        out_dir=str(out),
        num_frames=4,
        sampling_rate=2,
        input_size=16,
        patch_size=8,
        tubelet_size=2,
        model="small",
        model_overrides=TINY,
        epochs=2,
        warmup_steps=1,
        batch_size=3,
        repeats=1,
        lr=1e-3,
        num_workers=0,
        log_every=1,
        save_every=100,
        progress=False,
        precision="fp32",
        device="cpu",
        val_batch_size=4,
    )
    return FinetuneConfig(**{**base, **kw})


def test_init_from_pretraining_folder_keeps_encoder_and_drops_decoder(
    data: Path, pretrained: Path, tmp_path: Path
) -> None:
    model = build_model(
        _cfg(data, tmp_path, init=str(pretrained), model_overrides={}), ["a", "b", "c"]
    )
    src = VideoMAEForPreTraining.from_pretrained(pretrained).state_dict()
    mine = model.state_dict()
    enc = [k for k in src if k.startswith("videomae.")]
    assert enc and all(torch.equal(mine[k], src[k]) for k in enc)
    assert not any(k.startswith("decoder.") or k == "mask_token" for k in mine)
    assert model.classifier.weight.shape == (3, 32)
    assert float(model.classifier.weight.detach().abs().max()) < 1e-3  # init_scale 0.001
    assert model.config.id2label[2] == "c"


def test_finetune_end_to_end_from_pretraining(data: Path, pretrained: Path, tmp_path: Path) -> None:
    final = finetune(_cfg(data, tmp_path, init=str(pretrained), model_overrides={}, repeats=2))
    cfg = json.loads((final / "config.json").read_text())
    assert {int(k): v for k, v in cfg["id2label"].items()} == {0: "blue", 1: "green", 2: "red"}
    for name in (
        "metrics.csv",
        "eval_metrics.csv",
        "loss.png",
        "summary.json",
        "best/config.json",
        "best/best.txt",
        "checkpoint-00000006.pt",
    ):
        assert (tmp_path / name).is_file(), name
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["step"] == 6 and {"val_top1", "val_top5"} <= summary["last_eval"].keys()
    assert summary["best"]["metric"] == "val_top1"
    transformers = pytest.importorskip("transformers")
    ref = transformers.VideoMAEForVideoClassification.from_pretrained(final)
    assert ref.config.id2label[1] == "green"


def test_finetune_overfits_a_tiny_set_and_cli_resumes(data: Path, tmp_path: Path) -> None:
    argv = [
        "--train-data",
        str(data),
        "--val-data",
        str(data),
        "--out-dir",
        str(tmp_path),
        "--num-frames",
        "4",
        "--sampling-rate",
        "2",
        "--input-size",
        "16",
        "--patch-size",
        "8",
        "--model",
        "small",
        "--model-overrides",
        json.dumps(TINY),
        "--epochs",
        "12",
        "--warmup-steps",
        "2",
        "--batch-size",
        "3",
        "--repeats",
        "1",
        "--lr",
        "3e-3",
        "--num-workers",
        "0",
        "--log-every",
        "6",
        "--save-every",
        "12",
        "--no-progress",
        "--precision",
        "fp32",
        "--device",
        "cpu",
        "--mixup",
        "0",
        "--cutmix",
        "0",
        "--smoothing",
        "0",
        "--no-rand-augment",
        "--erase-prob",
        "0",
        "--drop-path",
        "0",
        "--layer-decay",
        "none",
        "--val-batch-size",
        "9",
    ]
    assert main(argv) == 0
    rows = (tmp_path / "metrics.csv").read_text().splitlines()
    header = rows[0].split(",")
    losses = [float(r.split(",")[header.index("loss")]) for r in rows[1:]]
    assert losses[-1] < 0.5 * losses[0], losses
    evals = (tmp_path / "eval_metrics.csv").read_text().splitlines()
    assert len(evals) == 13  # header + 12 epochs
    top1 = float(evals[-1].split(",")[evals[0].split(",").index("val_top1")])
    assert top1 == 100.0
    assert main([*argv, "--resume"]) == 0
