"""Model folders: what `videomae finetune` / `pretrain` / `convert` write, what the commands read
back, and transformers' pipeline on a folder written by `videomae finetune`."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
import pytest
import torch
from _recipe_helper import COLORS, TINY, colour_clip

import videomae
from videomae import VideoClassifier, VideoEmbedder, VideoMAEConfig, VideoMAEForPreTraining
from videomae.cli.main import main as cli_main
from videomae.evaluate.checkpoint import evaluate_checkpoint
from videomae.folder import read_processor, trained_geometry
from videomae.processing.video_processor import VideoMAEVideoProcessor
from videomae.runtime import IMAGENET_DEFAULT_MEAN, IMAGENET_DEFAULT_STD
from videomae.train.finetune import FinetuneConfig
from videomae.train.recipe import inherit_geometry

av = pytest.importorskip("av")
from videomae.video.write import write_video  # noqa: E402

SHAPE = {"image_size": 16, "patch_size": 8, "num_frames": 4, "tubelet_size": 2}


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(old)


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """A tiny pre-trained folder, then `videomae finetune --init` on three colour classes
    (the geometry comes from --init; only the sampling rate is given)."""
    root = tmp_path_factory.mktemp("folder")
    for name, rgb in COLORS.items():
        for i in range(2):
            (root / "data" / name).mkdir(parents=True, exist_ok=True)
            write_video(root / "data" / name / f"{i}.mp4", colour_clip(rgb, 8, i, height=24), fps=8)
    torch.manual_seed(3)
    VideoMAEForPreTraining(VideoMAEConfig(**SHAPE, **TINY)).save_pretrained(root / "pt")
    argv = ["finetune", "--train-data", str(root / "data"), "--val-data", str(root / "data")]
    argv += ["--out-dir", str(root / "ft"), "--init", str(root / "pt"), "--sampling-rate", "2"]
    argv += ["--epochs", "4", "--warmup-steps", "1", "--batch-size", "3", "--repeats", "1"]
    argv += ["--lr", "3e-3", "--num-workers", "0", "--no-progress", "--precision", "fp32"]
    argv += ["--device", "cpu", "--mixup", "0", "--cutmix", "0", "--smoothing", "0"]
    # no RandAugment: its colour ops (invert, solarize, colour) rewrite the very colours that
    # are the classes, and whether 4 epochs still learn them would hang on its random draws
    argv += ["--save-every", "100", "--val-batch-size", "6", "--no-rand-augment"]
    assert cli_main(argv) == 0
    return {"root": root, "final": root / "ft" / "final", "best": root / "ft" / "best"}


@pytest.mark.parametrize("which", ["final", "best"])
def test_finetune_folders_are_complete(run: dict, which: str) -> None:
    folder = run[which]
    for name in ("config.json", "model.safetensors", "preprocessor_config.json", "README.md"):
        assert (folder / name).is_file(), name
    pre = json.loads((folder / "preprocessor_config.json").read_text())
    assert pre["image_mean"] == pytest.approx(list(IMAGENET_DEFAULT_MEAN))  # not 0.5/0.5
    assert pre["image_std"] == pytest.approx(list(IMAGENET_DEFAULT_STD))
    assert pre["size"] == {"shortest_edge": 16} and pre["crop_size"] == {"height": 16, "width": 16}
    assert (pre["num_frames"], pre["frame_sampling_rate"]) == (4, 2)
    settings = json.loads((folder / "training_args.json").read_text())
    assert settings["sampling_rate"] == 2 and settings["num_frames"] == 4
    assert settings["init"] == str(run["root"] / "pt")


def test_card_is_in_the_hub_format_with_the_runs_metrics(run: dict) -> None:
    hub = pytest.importorskip("huggingface_hub")
    card = hub.ModelCard.load(run["best"] / "README.md")
    data = card.data.to_dict()
    assert data["library_name"] == "transformers"
    assert data["pipeline_tag"] == "video-classification"
    assert "videomae" in data["tags"]
    best = json.loads((run["root"] / "ft" / "summary.json").read_text())["best"]
    results = card.data.eval_results
    top1 = next(r for r in results if r.metric_type == "accuracy")
    assert top1.metric_value == pytest.approx(best["val_top1"], abs=1e-4)  # card: 4 decimals
    assert top1.dataset_name == "data"
    assert "VideoClassifier.from_pretrained" in card.text
    assert "VideoMAEForVideoClassification.from_pretrained" in card.text
    assert "sampling rate 2" in card.text


def test_pretrain_writes_a_complete_folder(tmp_path: Path, run: dict) -> None:
    argv = ["pretrain", "--data", str(run["root"] / "data"), "--out-dir", str(tmp_path / "pt")]
    argv += ["--init", str(run["root"] / "pt"), "--total-steps", "1", "--warmup-steps", "0"]
    argv += ["--batch-size", "2", "--num-workers", "0", "--no-progress", "--device", "cpu"]
    argv += ["--precision", "fp32", "--sampling-rate", "2", "--crop-scales", "1.0"]
    argv += ["--mask-ratio", "0.5"]
    assert cli_main(argv) == 0
    folder = tmp_path / "pt" / "final"
    assert json.loads((folder / "config.json").read_text())["num_frames"] == 4  # inherited
    assert read_processor(folder).frame_sampling_rate == 2
    card = (folder / "README.md").read_text()
    assert card.startswith("---\nlibrary_name: transformers\npipeline_tag: feature-extraction")
    assert "model-index" not in card  # no evaluation, no invented metrics


def test_write_model_folder_of_a_model_and_its_processor(tmp_path: Path, run: dict) -> None:
    clf = VideoClassifier.from_pretrained(run["final"]).model
    proc = VideoMAEVideoProcessor(size={"shortest_edge": 20}, crop_size=16, num_frames=4)
    out = videomae.write_model_folder(clf, tmp_path / "m", processor=proc)  # the public name
    assert read_processor(out).size == {"shortest_edge": 20}
    assert "resize short side to: 20" in (out / "README.md").read_text()
    assert not (out / "training_args.json").exists()  # no run: no settings invented


def test_init_inherits_the_pretrained_geometry(run: dict, caplog) -> None:
    cfg = FinetuneConfig(train_data="x", init=str(run["root"] / "pt"))
    resolved = inherit_geometry(cfg)
    assert (resolved.num_frames, resolved.input_size) == (4, 16)
    assert (resolved.patch_size, resolved.tubelet_size, resolved.sampling_rate) == (8, 2, 4)
    assert not caplog.records
    with caplog.at_level(logging.WARNING, logger="videomae"):
        resolved = inherit_geometry(FinetuneConfig(train_data="x", init=cfg.init, num_frames=8))
    assert resolved.num_frames == 8  # an explicit flag still wins...
    assert "--num-frames 8 differs from the 4 of the --init model" in caplog.text  # ...loudly
    scratch = inherit_geometry(FinetuneConfig(train_data="x"))
    assert (scratch.num_frames, scratch.input_size, scratch.sampling_rate) == (16, 224, 4)
    assert trained_geometry(run["final"])["sampling_rate"] == 2  # a finetune folder records it


def test_classifier_defaults_to_the_folders_clip_and_warns_on_override(run: dict, caplog) -> None:
    clf = VideoClassifier.from_pretrained(run["final"])
    pre = clf.preprocessing
    assert (pre.num_frames, pre.sampling_rate, pre.strategy) == (4, 2, "dense")
    assert pre.mean == pytest.approx(IMAGENET_DEFAULT_MEAN)
    assert not [r for r in caplog.records if "differs" in r.getMessage()]
    with caplog.at_level(logging.WARNING, logger="videomae"):
        other = VideoClassifier.from_pretrained(run["final"], sampling_rate=4)
    assert other.preprocessing.sampling_rate == 4
    assert "sampling_rate=4 differs from the 2 the model was trained with" in caplog.text


def test_transformers_video_preprocessor_config_is_read(tmp_path: Path, run: dict) -> None:
    """A folder with only transformers' video_preprocessor_config.json (its VideoMAEVideoProcessor
    keys; num_frames/fps None as transformers writes them by default)."""
    folder = tmp_path / "v"
    clf = VideoClassifier.from_pretrained(run["final"]).model
    clf.save_pretrained(folder)
    video_cfg = {
        "video_processor_type": "VideoMAEVideoProcessor",
        "do_resize": True,
        "size": {"shortest_edge": 18},
        "do_center_crop": True,
        "crop_size": {"height": 16, "width": 16},
        "do_rescale": True,
        "rescale_factor": 1 / 255,
        "do_normalize": True,
        "image_mean": [0.4, 0.4, 0.4],
        "image_std": [0.3, 0.3, 0.3],
        "resample": 2,
        "do_convert_rgb": True,
        "do_sample_frames": False,
        "default_to_square": False,
        "num_frames": None,
        "fps": None,
        "return_metadata": False,
        "model_input_names": ["pixel_values"],
    }
    (folder / "video_preprocessor_config.json").write_text(json.dumps(video_cfg))
    proc = VideoMAEVideoProcessor.from_pretrained(folder)
    assert proc.size == {"shortest_edge": 18} and proc.image_mean == [0.4, 0.4, 0.4]
    pre = VideoClassifier.from_pretrained(folder).preprocessing
    assert (pre.short_side, pre.mean, pre.source) == (18, (0.4,) * 3, "preprocessor_config.json")


def test_transformers_pipeline_runs_and_agrees_on_the_same_frames(run: dict, tmp_path: Path):
    transformers = pytest.importorskip("transformers")
    pipe = transformers.pipeline("video-classification", model=str(run["final"]))
    video = tmp_path / "red.mp4"
    write_video(video, colour_clip(COLORS["red"], 12, 7, height=24), fps=8)
    got = pipe(str(video), frame_sampling_rate=2, top_k=3)
    # the pipeline's frames: np.linspace(0, num_frames * rate - 1, num_frames), from frame 0
    idx = np.linspace(0, 4 * 2 - 1, 4).astype(np.int64)
    with av.open(str(video)) as container:
        decoded = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
    frames = np.stack([decoded[i] for i in idx])
    ours = VideoClassifier.from_pretrained(run["final"])(frames, top_k=3)
    assert [d["label"] for d in got] == [label for label, _ in ours]
    assert [d["score"] for d in got] == pytest.approx([s for _, s in ours], abs=1e-4)
    assert ours[0][0] == "red"  # the run learned something: the comparison is not of noise


def test_pipeline_equals_classify_on_a_clip_length_video(
    run: dict, tmp_path: Path, capsys, caplog
) -> None:
    """The documented equal case: a video of exactly num_frames frames and sampling rate 1."""
    transformers = pytest.importorskip("transformers")
    video = tmp_path / "green.mp4"
    write_video(video, colour_clip(COLORS["green"], 4, 9, height=24), fps=8)
    pipe = transformers.pipeline("video-classification", model=str(run["final"]))
    got = pipe(str(video), frame_sampling_rate=1, top_k=3)
    argv = ["classify", str(video), "--model", str(run["final"]), "--sampling-rate", "1"]
    assert cli_main([*argv, "--top-k", "3", "--json", "-q"]) == 0
    printed = capsys.readouterr()
    assert "sampling_rate=1 differs from the 2 the model was trained with" in caplog.text
    ours = json.loads(printed.out.strip().splitlines()[-1])["top_k"]
    assert [d["label"] for d in got] == [d["label"] for d in ours]
    assert [d["score"] for d in got] == pytest.approx([d["score"] for d in ours], abs=1e-4)


def test_embed_and_evaluate_default_to_the_folders_clip(run: dict) -> None:
    emb = VideoEmbedder.from_pretrained(run["final"])
    assert (emb.preprocessing.sampling_rate, emb.preprocessing.num_frames) == (2, 4)
    assert emb.preprocessing.mean == pytest.approx(IMAGENET_DEFAULT_MEAN)
    summary = evaluate_checkpoint(run["final"], run["root"] / "data", progress=False)
    assert (summary["sampling_rate"], summary["num_frames"], summary["strategy"]) == (2, 4, "dense")
