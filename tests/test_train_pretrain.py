"""The pre-training recipe end to end on tiny videos (files, bad files, learning, CLI, resume)."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
from _recipe_helper import TINY

from videomae.train.pretrain import PretrainConfig, build_parser, main, pretrain

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
    root = tmp_path_factory.mktemp("ptdata")
    lines = []
    for i in range(8):
        rng = np.random.default_rng(i)
        base = rng.integers(0, 255, (24, 24, 3), dtype=np.uint8)
        clip = np.stack([np.roll(base, t, axis=1) for t in range(10)])
        write_video(root / f"v{i}.mp4", clip, fps=10)
        lines.append(f"v{i}.mp4")
    (root / "broken.mp4").write_bytes(b"garbage" * 100)
    lines[3:3] = ["missing.mp4", "broken.mp4"]
    (root / "train.txt").write_text("\n".join(lines) + "\n")
    return root


def _cfg(data: Path, out: Path, **kw) -> PretrainConfig:
    base = dict(
        data=str(data / "train.txt"),
        root=str(data),
        out_dir=str(out),
        num_frames=4,
        sampling_rate=2,
        input_size=16,
        patch_size=8,
        tubelet_size=2,
        model="small",
        model_overrides=TINY,
        mask_ratio=0.5,
        total_steps=6,
        warmup_steps=1,
        batch_size=2,
        lr=1e-3,
        num_workers=0,
        log_every=1,
        save_every=3,
        progress=False,
        precision="fp32",
        device="cpu",
    )
    return PretrainConfig(**{**base, **kw})


def _logged_losses(out: Path) -> list[float]:
    """The loss column of a run's metrics.csv."""
    return [float(r.split(",")[2]) for r in (out / "metrics.csv").read_text().splitlines()[1:]]


def test_pretrain_writes_everything_and_counts_bad_files(data: Path, tmp_path: Path) -> None:
    with pytest.warns(UserWarning, match="2 bad sample file"):
        final = pretrain(_cfg(data, tmp_path))
    assert final == tmp_path / "final"
    assert (final / "config.json").is_file() and (final / "model.safetensors").is_file()
    for name in ("metrics.csv", "loss.png", "summary.json", "checkpoint-00000006.pt"):
        assert (tmp_path / name).is_file(), name
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["step"] == 6 and summary["num_bad_files"] == 2
    bad = {Path(b["path"]).name: b["line"] for b in summary["bad_files"]}
    assert bad == {"missing.mp4": 4, "broken.mp4": 5}
    assert "missing.mp4" in (tmp_path / "bad_samples.tsv").read_text()

    transformers = pytest.importorskip("transformers")
    ref = transformers.VideoMAEForPreTraining.from_pretrained(final)
    ours = torch.load(tmp_path / "checkpoint-00000006.pt", weights_only=True)["model"]
    key = "videomae.encoder.layer.0.attention.attention.query.weight"
    assert torch.equal(ref.state_dict()[key], ours[key])


def test_pretrain_loss_goes_down_on_a_tiny_fixed_set(data: Path, tmp_path: Path) -> None:
    # raw-pixel targets: the noise videos' per-patch normalised pixels are unpredictable
    cfg = _cfg(
        data,
        tmp_path,
        total_steps=40,
        lr=3e-3,
        warmup_steps=5,
        batch_size=4,
        log_every=10,
        save_every=1000,
        flip=False,
        norm_pix_loss=False,
    )
    with pytest.warns(UserWarning, match="bad sample file"):  # the fixture lists 2 bad files
        pretrain(cfg)
    losses = _logged_losses(tmp_path)
    assert len(losses) == 4
    assert losses[-1] < 0.5 * losses[0], losses


def test_cli_flags_dual_masking_and_resume(data: Path, tmp_path: Path) -> None:
    args = build_parser().parse_args(
        [
            "--data",
            "x",
            "--betas",
            "0.9",
            "0.99",
            "--no-flip",
            "--clip_grad",
            "none",
            "--model-overrides",
            '{"a": 1}',
        ]
    )
    assert args.betas == [0.9, 0.99] and args.flip is False and args.clip_grad is None
    assert args.model_overrides == {"a": 1}
    argv = [
        "--data",
        str(data / "train.txt"),
        "--root",
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
        "--total-steps",
        "4",
        "--warmup-steps",
        "1",
        "--batch-size",
        "2",
        "--num-workers",
        "0",
        "--save-every",
        "2",
        "--precision",
        "fp32",
        "--device",
        "cpu",
        "--no-progress",
        "--decoder-mask",
        "running_cell",
        "--mask-ratio",
        "0.75",
        "--clip-grad",
        "1.0",
    ]
    with pytest.warns(UserWarning, match="bad sample file"):  # the fixture lists 2 bad files
        assert main(argv) == 0
    first = torch.load(tmp_path / "checkpoint-00000004.pt", weights_only=True)
    assert first["config"]["decoder_mask"] == "running_cell"
    with pytest.warns(UserWarning, match="bad sample file"):  # reported again from the state
        assert main([*argv, "--resume"]) == 0  # nothing left to do: resumes at step 4, exports
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["resumed_from"].endswith("checkpoint-00000004.pt") and summary["step"] == 4
    with pytest.raises(FileExistsError):
        main(argv)


def test_compile_matches_eager_and_saves_plain_keys(
    data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    compiled_modules: list[torch.nn.Module] = []
    real_compile = torch.compile

    def counting_compile(model, *args, **kwargs):
        compiled_modules.append(model)
        return real_compile(model, *args, **kwargs)

    monkeypatch.setattr(torch, "compile", counting_compile)
    runs = {}
    for compile_ in (False, True):
        out = tmp_path / ("compiled" if compile_ else "eager")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the fixture's 2 bad files
            pretrain(_cfg(data, out, total_steps=4, save_every=4, compile=compile_))
        runs[compile_] = out
        assert len(compiled_modules) == int(compile_)

    compiled, eager = _logged_losses(runs[True]), _logged_losses(runs[False])
    assert len(compiled) == 4
    assert compiled == pytest.approx(eager, rel=1e-4, abs=1e-6)
    got = torch.load(runs[True] / "checkpoint-00000004.pt", weights_only=True)["model"]
    want = torch.load(runs[False] / "checkpoint-00000004.pt", weights_only=True)["model"]
    assert got.keys() == want.keys()  # no "_orig_mod." prefixes
    for key in want:
        torch.testing.assert_close(got[key], want[key], rtol=1e-3, atol=1e-5)
