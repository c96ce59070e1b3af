"""FSDP2 and activation checkpointing (train/sharding.py): two gloo processes under --fsdp match
one plain process, checkpoints keep the plain layout and resume exactly, the saved folder loads
into a plain model, and --grad-checkpointing leaves outputs and gradients unchanged."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from videomae import VideoMAEForPreTraining, VideoMAEForVideoClassification
from videomae.errors import ConfigError
from videomae.masking import tube_mask
from videomae.train.args import parse_config
from videomae.train.config import TrainConfig
from videomae.train.finetune import FinetuneConfig
from videomae.train.loop import train
from videomae.train.optim import build_optimizer
from videomae.train.pretrain import PretrainConfig
from videomae.train.sharding import (
    check_fsdp,
    optimizer_state_by_index,
    optimizer_state_by_name,
)
from videomae.video.write import write_video

sys.path.insert(0, str(Path(__file__).parent))
from _recipe_helper import COLORS, TINY, colour_clip  # noqa: E402
from _train_helper import NoiseClips, fixed_clips, tiny_config  # noqa: E402

HELPER = Path(__file__).with_name("_train_helper.py")
ENV = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}
TOL = 1e-5  # the DDP test's tolerance: fp32, only the order of the gradient sums differs


def _launch(out: Path, *flags: str, procs: int = 1) -> subprocess.Popen:
    """Start the helper in one process, or ``procs`` gloo processes under torchrun."""
    head = [sys.executable]
    if procs > 1:
        head += ["-m", "torch.distributed.run", "--standalone", "--nproc_per_node", str(procs)]
    batch = str(4 // procs)
    args = [str(HELPER), str(out), "--steps", "4", "--batch", batch, "--save-every", "2", *flags]
    return subprocess.Popen(
        [*head, *args], env=ENV, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )


def _wait(*procs: subprocess.Popen) -> None:
    for p in procs:
        out = p.communicate(timeout=240)[0]
        assert p.returncode == 0, out


def _weights(run: Path) -> dict[str, torch.Tensor]:
    return torch.load(run / "final.pt", weights_only=True)


def _max_diff(a: dict, b: dict) -> float:
    assert a.keys() == b.keys()
    return max(float((a[k].double() - b[k].double()).abs().max()) for k in a)


@pytest.fixture(scope="module")
def pretrain_runs(tmp_path_factory) -> Path:
    """One plain process and two FSDP processes, 4 pre-training steps each, started together."""
    root = tmp_path_factory.mktemp("fsdp_pretrain")
    _wait(_launch(root / "one"), _launch(root / "fsdp", "--fsdp", procs=2))
    return root


def test_fsdp_pretraining_matches_one_process(pretrain_runs: Path) -> None:
    assert _max_diff(_weights(pretrain_runs / "one"), _weights(pretrain_runs / "fsdp")) <= TOL


def test_fsdp_checkpoint_has_the_plain_layout_and_values(pretrain_runs: Path) -> None:
    plain = torch.load(pretrain_runs / "one" / "checkpoint-00000004.pt", weights_only=True)
    fsdp = torch.load(pretrain_runs / "fsdp" / "checkpoint-00000004.pt", weights_only=True)
    assert _max_diff(plain["model"], fsdp["model"]) <= TOL
    a, b = plain["optimizer"], fsdp["optimizer"]
    assert sorted(a["state"]) == sorted(b["state"]) == list(range(len(a["state"])))
    assert [g["params"] for g in a["param_groups"]] == [g["params"] for g in b["param_groups"]]
    assert [g["param_names"] for g in a["param_groups"]] == [
        g["param_names"] for g in b["param_groups"]
    ]
    for i, s in a["state"].items():
        assert float(s["step"]) == float(b["state"][i]["step"]) == 4.0
        assert float((s["exp_avg_sq"] - b["state"][i]["exp_avg_sq"]).abs().max()) <= TOL


def test_fsdp_final_folder_loads_into_a_plain_model_with_the_same_outputs(
    pretrain_runs: Path,
) -> None:
    run = pretrain_runs / "fsdp"
    model = VideoMAEForPreTraining.from_pretrained(run / "final").eval()
    mask = tube_mask(2, (2, 2, 2), 0.5, generator=torch.Generator().manual_seed(5))
    with torch.no_grad():
        plain = model(fixed_clips(), bool_masked_pos=mask).logits
    sharded = torch.load(run / "outputs.pt", weights_only=True)
    assert plain.shape == sharded.shape
    assert float((plain - sharded).abs().max()) <= TOL


def test_fsdp_resume_from_a_checkpoint_ends_like_the_uninterrupted_run(
    pretrain_runs: Path, tmp_path: Path
) -> None:
    resumed = tmp_path / "resumed"
    resumed.mkdir()
    name = "checkpoint-00000002.pt"
    shutil.copy(pretrain_runs / "fsdp" / name, resumed / name)
    _wait(_launch(resumed, "--fsdp", "--resume", procs=2))
    assert _max_diff(_weights(pretrain_runs / "fsdp"), _weights(resumed)) == 0.0


def test_fsdp_finetuning_with_grad_checkpointing_matches_one_plain_process(
    tmp_path: Path,
) -> None:
    fsdp = _launch(tmp_path / "fsdp", "--classify", "--fsdp", "--grad-checkpointing", procs=2)
    _wait(_launch(tmp_path / "one", "--classify"), fsdp)
    assert _max_diff(_weights(tmp_path / "one"), _weights(tmp_path / "fsdp")) <= TOL
    model = VideoMAEForVideoClassification.from_pretrained(tmp_path / "fsdp" / "final").eval()
    with torch.no_grad():
        plain = model(fixed_clips()).logits
    sharded = torch.load(tmp_path / "fsdp" / "outputs.pt", weights_only=True)
    assert float((plain - sharded).abs().max()) <= TOL


def test_ddp_with_grad_checkpointing_matches_one_plain_process(tmp_path: Path) -> None:
    ddp = _launch(tmp_path / "ddp", "--grad-checkpointing", procs=2)
    _wait(_launch(tmp_path / "one"), ddp)
    assert _max_diff(_weights(tmp_path / "one"), _weights(tmp_path / "ddp")) <= TOL


# ----------------------------------------------------------------------------- in one process


def _loss_and_grads(model: torch.nn.Module, checkpointing: bool) -> tuple[torch.Tensor, dict]:
    model.train()
    if checkpointing:
        model.gradient_checkpointing_enable()
    else:
        model.gradient_checkpointing_disable()
    model.zero_grad()
    item = NoiseClips().getitem_seeded(1, 3)
    x, mask = fixed_clips(), item["bool_masked_pos"].expand(2, -1)
    torch.manual_seed(11)  # drop path draws; checkpointing must replay the same draws
    out = model(x, bool_masked_pos=mask)
    out.loss.backward()
    return out.logits.detach(), {n: p.grad.clone() for n, p in model.named_parameters()}


def test_grad_checkpointing_keeps_outputs_and_gradients() -> None:
    """Tolerance 1e-6: the recomputed blocks run the same fp32 kernels on the same inputs."""
    torch.manual_seed(0)
    config = tiny_config()
    config.drop_path_rate = 0.3
    model = VideoMAEForPreTraining(config)
    model.decoder.decoder_layers[0].drop_path_rate = 0.2  # the decoder checkpoints too
    plain_out, plain_grads = _loss_and_grads(model, False)
    ckpt_out, ckpt_grads = _loss_and_grads(model, True)
    assert float((plain_out - ckpt_out).abs().max()) <= 1e-6
    assert _max_diff(plain_grads, ckpt_grads) <= 1e-6
    assert max(float(g.abs().max()) for g in plain_grads.values()) > 0


def _cfg(out: Path, **kw) -> TrainConfig:
    return TrainConfig(
        out_dir=str(out), total_steps=1, batch_size=2, lr=1e-3, warmup_steps=0, progress=False,
        device="cpu", precision="fp32", num_workers=0, **kw,
    )  # fmt: skip


def _pretrain_step(m, batch):
    return m(batch["pixel_values"], bool_masked_pos=batch["bool_masked_pos"]).loss


def test_fsdp_in_one_process_says_to_launch_with_torchrun(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="torchrun --nproc_per_node"):
        train(VideoMAEForPreTraining(tiny_config()), NoiseClips(), _pretrain_step,
              _cfg(tmp_path, fsdp=True))  # fmt: skip


def test_fsdp_refuses_fp16_ema_and_a_given_optimizer() -> None:
    check_fsdp(2, "bf16", ema=False, optimizer_given=False)
    with pytest.raises(ConfigError, match="--precision bf16"):
        check_fsdp(2, "fp16", ema=False, optimizer_given=False)
    with pytest.raises(ConfigError, match="--ema-decay"):
        check_fsdp(2, "fp32", ema=True, optimizer_given=False)
    with pytest.raises(ConfigError, match="optimizer=None"):
        check_fsdp(8, "fp32", ema=False, optimizer_given=True)


def test_grad_checkpointing_needs_a_model_that_has_it(tmp_path: Path) -> None:
    class Plain(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.fc = torch.nn.Linear(2, 2)

    with pytest.raises(ConfigError, match="drop --grad-checkpointing"):
        train(Plain(), NoiseClips(), _pretrain_step, _cfg(tmp_path, grad_checkpointing=True))


def test_optimizer_state_by_name_and_by_index_are_inverse() -> None:
    model = VideoMAEForPreTraining(tiny_config())
    optimizer = build_optimizer(model, lr=1e-3, weight_decay=0.05)
    _, grads = _loss_and_grads(model, False)
    optimizer.step()
    plain = optimizer.state_dict()
    by_name = optimizer_state_by_name(plain, optimizer)
    assert set(by_name["state"]) == {n for n, p in model.named_parameters() if n in grads}
    back = optimizer_state_by_index(by_name)
    assert back["param_groups"] == plain["param_groups"]
    assert sorted(back["state"]) == sorted(plain["state"])
    for i, s in plain["state"].items():
        assert all(torch.equal(v, back["state"][i][k]) for k, v in s.items())


def test_fsdp_finetune_recipe_bf16_exports_best_and_final(tmp_path: Path) -> None:
    """`python -m videomae.train.finetune --fsdp --precision bf16` on 2 gloo processes: 9
    validation videos over 2 ranks in batches of 4 (the ranks run 2 and 1 batches: the idle one
    must keep step), best/ and final/ load into plain models."""
    pytest.importorskip("av")
    data = tmp_path / "data"
    for name, rgb in COLORS.items():
        (data / name).mkdir(parents=True)
        for i in range(3):
            write_video(data / name / f"{i}.mp4", colour_clip(rgb, 8, i), fps=8)
    out = tmp_path / "run"
    flags = {
        "--train-data": data, "--val-data": data, "--out-dir": out, "--num-frames": 4,
        "--sampling-rate": 2, "--input-size": 16, "--patch-size": 8, "--model": "small",
        "--model-overrides": json.dumps(TINY), "--epochs": 1, "--warmup-steps": 1,
        "--batch-size": 2, "--repeats": 1, "--num-workers": 0, "--precision": "bf16",
        "--device": "cpu", "--val-batch-size": 4, "--layer-decay": "none",
    }  # fmt: skip
    argv = [str(x) for kv in flags.items() for x in kv]
    cmd = ["-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2"]
    cmd += ["-m", "videomae.train.finetune", *argv, "--fsdp", "--grad-checkpointing", "-q"]
    done = subprocess.run(
        [sys.executable, *cmd], env=ENV, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "fine-tuned model saved to" in done.stdout
    for folder in ("best", "final"):
        model = VideoMAEForVideoClassification.from_pretrained(out / folder)
        assert model.config.num_labels == 3
        assert all(torch.isfinite(p).all() for p in model.parameters())
    rows = (out / "eval_metrics.csv").read_text().splitlines()
    assert len(rows) == 2 and "val_top1" in rows[0]


@pytest.mark.parametrize("cls", [PretrainConfig, FinetuneConfig])
def test_both_recipes_take_the_memory_flags(cls) -> None:
    cfg = parse_config(cls, "videomae x", ["--fsdp", "--grad-checkpointing"])
    assert cfg.fsdp and cfg.grad_checkpointing
    assert not parse_config(cls, "videomae x", []).fsdp
