"""The training loop: outputs, evaluation schedule, accumulation, resume after SIGKILL, DDP."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from videomae.train.config import TrainConfig
from videomae.train.loop import train
from videomae.train.state import load_training_state

HELPER = Path(__file__).with_name("_train_helper.py")
ENV = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    """2 shared cores: OpenMP threads spinning against other processes cost 5x; use one."""
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(old)


def _run(args: list[str], timeout: float = 120) -> subprocess.CompletedProcess:
    proc = subprocess.run(
        [sys.executable, *args], env=ENV, capture_output=True, text=True, timeout=timeout
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc


def _load(path: Path) -> dict[str, torch.Tensor]:
    return torch.load(path, weights_only=True)


def _max_diff(a: dict, b: dict) -> float:
    assert a.keys() == b.keys()
    return max(float((a[k].double() - b[k].double()).abs().max()) for k in a)


# ----------------------------------------------------------------------------- in-process loop


class _Regression(torch.utils.data.Dataset):
    """y = x @ w + noise, where the noise comes from the per-sample seeded global RNG."""

    def __init__(self, n: int = 32) -> None:
        g = torch.Generator().manual_seed(0)
        self.x = torch.randn(n, 6, generator=g)
        self.y = self.x @ torch.randn(6, 2, generator=g)

    def __len__(self) -> int:
        return len(self.x)

    def __getitem__(self, i: int) -> dict:
        return {"x": self.x[i], "y": self.y[i] + 0.01 * torch.randn(2)}


class _Net(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc1, self.fc2 = torch.nn.Linear(6, 16), torch.nn.Linear(16, 2)
        self.drop = torch.nn.Dropout(0.1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(self.drop(torch.relu(self.fc1(x))))


def _step(model: torch.nn.Module, batch: dict) -> tuple[torch.Tensor, dict]:
    loss = torch.nn.functional.mse_loss(model(batch["x"]), batch["y"])
    return loss, {"abs_err": float(loss.detach().sqrt())}


def _cfg(out: Path, **kw) -> TrainConfig:
    base = dict(
        out_dir=str(out),
        total_steps=12,
        batch_size=4,
        lr=3e-2,
        min_lr=1e-4,
        warmup_steps=2,
        log_every=2,
        save_every=4,
        keep_last=2,
        seed=1,
        progress=False,
        device="cpu",
        precision="fp32",
        num_workers=0,
    )
    return TrainConfig(**{**base, **kw})


def _fresh() -> _Net:
    torch.manual_seed(0)
    return _Net()


def test_loop_writes_outputs_and_learns(tmp_path: Path) -> None:
    model = _fresh()
    res = train(model, _Regression(), _step, _cfg(tmp_path, total_steps=40, ema_decay=0.9))
    assert res.step == 40
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["checkpoint-00000036.pt", "checkpoint-00000040.pt", "loss.png", "metrics.csv"]
    header = (tmp_path / "metrics.csv").read_text().splitlines()[0].split(",")
    assert header[:5] == ["step", "epoch", "loss", "lr", "clips_per_s"] and "abs_err" in header
    assert res.history[-1]["loss"] < 0.5 * res.history[0]["loss"]
    assert res.ema_state is not None
    with pytest.raises(FileExistsError, match="resume"):
        train(_fresh(), _Regression(), _step, _cfg(tmp_path, total_steps=40))


def test_eval_every_validates_on_schedule_and_after_the_last_epoch(tmp_path: Path) -> None:
    seen: list[int] = []

    def eval_fn(model: torch.nn.Module, epoch: int) -> dict:
        seen.append(epoch)
        return {"val_metric": float(epoch)}

    # 32 samples / batch 4 = 8 steps per epoch; 40 steps = 5 epochs
    res = train(_fresh(), _Regression(), _step, _cfg(tmp_path, total_steps=40, eval_every=3),
                eval_fn=eval_fn)  # fmt: skip
    assert seen == [2, 4]  # after the 3rd epoch, then after the last one
    assert [row["epoch"] for row in res.eval_history] == [2, 4]
    with pytest.raises(ValueError, match="eval_every"):
        train(_fresh(), _Regression(), _step, _cfg(tmp_path / "b", eval_every=0))


def test_resume_after_crash_in_process_is_exact(tmp_path: Path) -> None:
    ref = _fresh()
    train(ref, _Regression(), _step, _cfg(tmp_path / "ref"))

    calls = {"n": 0}

    def crashing(model, batch):
        calls["n"] += 1
        if calls["n"] == 7:  # during step 7: checkpoint 4 exists, steps 5-6 are lost
            raise KeyboardInterrupt
        return _step(model, batch)

    with pytest.raises(KeyboardInterrupt):
        train(_fresh(), _Regression(), crashing, _cfg(tmp_path / "run"))
    other = _fresh()
    with torch.no_grad():  # resumed weights must come from the checkpoint, not this init
        for p in other.parameters():
            p.add_(1.0)
    res = train(other, _Regression(), _step, _cfg(tmp_path / "run", resume=True))
    assert res.resumed_from is not None and res.resumed_from.name == "checkpoint-00000004.pt"
    for (k, a), b in zip(ref.state_dict().items(), other.state_dict().values()):
        assert torch.equal(a, b), k
    ref_rows = [
        r["loss"]
        for r in load_training_state(tmp_path / "ref" / "checkpoint-00000012.pt")["history"]
    ]
    assert [r["loss"] for r in res.history] == ref_rows


def test_grad_accumulation_matches_the_big_batch(tmp_path: Path) -> None:
    a, b = _fresh(), _fresh()
    a.drop.p = b.drop.p = 0.0
    train(a, _Regression(), _step, _cfg(tmp_path / "a", batch_size=8, accum_steps=1))
    train(b, _Regression(), _step, _cfg(tmp_path / "b", batch_size=4, accum_steps=2))
    assert _max_diff(a.state_dict(), b.state_dict()) < 1e-6


def test_bf16_autocast_on_cpu_runs(tmp_path: Path) -> None:
    res = train(_fresh(), _Regression(), _step, _cfg(tmp_path, total_steps=3, precision="bf16"))
    assert res.step == 3 and all(torch.isfinite(torch.tensor(r["loss"])) for r in res.history)


# ----------------------------------------------------------------------------- subprocess runs


def test_sigkill_mid_run_then_resume_gives_identical_weights(tmp_path: Path) -> None:
    common = ["--steps", "20", "--save-every", "2", "--workers", "1"]
    ref = subprocess.Popen(
        [sys.executable, str(HELPER), str(tmp_path / "ref"), *common],
        env=ENV,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    run_dir = tmp_path / "run"
    victim = subprocess.Popen(
        [sys.executable, str(HELPER), str(run_dir), *common, "--sleep", "0.5"],
        env=ENV,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    deadline = time.time() + 90
    while not (run_dir / "checkpoint-00000002.pt").exists():
        assert victim.poll() is None, victim.stdout.read()
        assert time.time() < deadline, "no checkpoint appeared"
        time.sleep(0.01)
    victim.send_signal(signal.SIGKILL)
    victim.wait(timeout=30)
    assert victim.returncode == -signal.SIGKILL, (
        f"victim exited with {victim.returncode} before the kill: {victim.stdout.read()}"
    )
    assert not (run_dir / "final.pt").exists()
    assert not (run_dir / "checkpoint-00000020.pt").exists(), "killed too late to test resume"

    out = _run([str(HELPER), str(run_dir), *common, "--resume"])
    assert "resumed_from=" in out.stdout and "resumed_from=None" not in out.stdout
    assert ref.wait(timeout=120) == 0, ref.stdout.read()
    a, b = _load(tmp_path / "ref" / "final.pt"), _load(run_dir / "final.pt")
    assert _max_diff(a, b) == 0.0, (out.stdout, sorted(p.name for p in run_dir.iterdir()))
    leftovers = [p.name for p in run_dir.iterdir() if p.name.endswith(".tmp")]
    assert leftovers == []


def test_ddp_two_gloo_processes_match_one_process(tmp_path: Path) -> None:
    one = subprocess.Popen(
        [
            sys.executable,
            str(HELPER),
            str(tmp_path / "one"),
            "--steps",
            "4",
            "--batch",
            "4",
            "--save-every",
            "100",
        ],
        env=ENV,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    _run(
        [
            "-m",
            "torch.distributed.run",
            "--standalone",
            "--nproc_per_node",
            "2",
            str(HELPER),
            str(tmp_path / "two"),
            "--steps",
            "4",
            "--batch",
            "2",
            "--save-every",
            "100",
        ],
        timeout=180,
    )
    assert one.wait(timeout=120) == 0, one.stdout.read()
    a, b = _load(tmp_path / "one" / "final.pt"), _load(tmp_path / "two" / "final.pt")
    assert _max_diff(a, b) <= 1e-5
    ckpt = torch.load(tmp_path / "two" / "checkpoint-00000004.pt", weights_only=True)
    assert len(ckpt["rng"]) == 2 and ckpt["loop"]["world_size"] == 2


# ----------------------------------------------------------------------------- watching a run


def test_validation_lines_early_stop_and_loss_png_curves(tmp_path: Path, capsys) -> None:
    values = iter([50.0, 60.0, 55.0, 58.0, 70.0, 80.0])

    def eval_fn(model: torch.nn.Module, epoch: int) -> dict:
        return {"val_loss": 1.0 / (epoch + 1), "val_top1": next(values), "val_top5": 100.0}

    # 8 steps per epoch, 6 epochs; best at epoch 2 (60), then two worse: patience 2 stops at 4
    res = train(_fresh(), _Regression(), _step, _cfg(tmp_path, total_steps=48, early_stop=2),
                eval_fn=eval_fn, best_metric="val_top1")  # fmt: skip
    out = capsys.readouterr().out
    assert res.stopped_early and res.step == 32 and len(res.eval_history) == 4
    assert "validation @ step 8 (epoch 1): top-1 50.00%  top-5 100.00%  loss 1" in out
    assert "| best top-1 60.00% (step 16)" in out.splitlines()[-2]
    assert "early stop at step 32: val_top1 has not improved for 2 validations" in out
    assert (tmp_path / "checkpoint-00000032.pt").exists()
    from matplotlib.image import imread

    png = imread(tmp_path / "loss.png")
    assert png.shape[0] == 3 * 260  # three panels: loss (+ val loss), validation, lr
    with pytest.raises(ValueError, match="early_stop needs validation"):
        train(_fresh(), _Regression(), _step, _cfg(tmp_path / "b", early_stop=2))


def test_plain_lines_when_not_a_terminal_and_quiet(tmp_path: Path, capsys) -> None:
    train(_fresh(), _Regression(), _step, _cfg(tmp_path / "a", progress=True, log_every=4))
    out = capsys.readouterr()
    lines = [ln for ln in out.out.splitlines() if ln.startswith("step ")]
    assert [ln.split()[1] for ln in lines] == ["4/12", "8/12", "12/12"]
    assert "loss" in lines[0] and "clips/s" in lines[0] and "eta" in lines[0]
    assert "train:" not in out.err  # no tqdm bar redraws in a log file
    train(_fresh(), _Regression(), _step, _cfg(tmp_path / "b", progress=False, log_every=4))
    assert "step " not in capsys.readouterr().out


def test_tensorboard_event_files_hold_the_scalars_and_images(tmp_path: Path) -> None:
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    def image_fn(model: torch.nn.Module):
        import numpy as np

        return np.full((8, 12, 3), 200, dtype=np.uint8)

    tb = tmp_path / "tb"
    train(_fresh(), _Regression(), _step, _cfg(tmp_path / "run", total_steps=16, tensorboard=str(tb)),
          eval_fn=lambda m, e: {"val_top1": 10.0 * e}, best_metric="val_top1",
          image_fn=image_fn, image_every=8)  # fmt: skip
    acc = EventAccumulator(str(tb), size_guidance={"images": 0, "scalars": 0})
    acc.Reload()
    tags = acc.Tags()
    assert {"train/loss", "train/lr", "val/top1"} <= set(tags["scalars"])
    assert [e.step for e in acc.Scalars("train/loss")] == [2, 4, 6, 8, 10, 12, 14, 16]
    assert [e.value for e in acc.Scalars("val/top1")] == [0.0, 10.0]
    images = acc.Images("reconstruction")
    assert [e.step for e in images] == [8, 16] and (images[0].width, images[0].height) == (12, 8)


def _wait_for(path: Path, proc: subprocess.Popen, timeout: float = 90) -> None:
    deadline = time.time() + timeout
    while not path.exists():
        assert proc.poll() is None, proc.stdout.read()
        assert time.time() < deadline, f"{path} did not appear"
        time.sleep(0.01)


def test_sigint_and_sigterm_save_the_current_step_then_resume_exactly(tmp_path: Path) -> None:
    """Ctrl-C (SIGINT to the whole process group, loader worker included) and SIGTERM (a
    preempted job) mid-run: the run saves the step it finished (no checkpoint was due: saves
    every 100 steps), exits 130-style / 143, and --resume ends with bit-identical weights."""
    common = ["--steps", "8", "--save-every", "100", "--workers", "1"]
    ref = subprocess.Popen(
        [sys.executable, str(HELPER), str(tmp_path / "ref"), *common],
        env=ENV,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    victims = {}
    for sig in (signal.SIGINT, signal.SIGTERM):
        victims[sig] = subprocess.Popen(
            [sys.executable, str(HELPER), str(tmp_path / sig.name), *common, "--sleep", "0.5"],
            env=ENV,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,  # its own process group, like a terminal's foreground job
        )
    for sig, proc in victims.items():
        _wait_for(tmp_path / sig.name / "metrics.csv", proc)  # step 1 is done
        os.killpg(proc.pid, sig)
    expected_rc = {signal.SIGINT: -signal.SIGINT, signal.SIGTERM: 128 + signal.SIGTERM}
    resumed = {}
    for sig, proc in victims.items():
        out = proc.communicate(timeout=60)[0]
        assert proc.returncode == expected_rc[sig], out
        run_dir = tmp_path / sig.name
        ckpts = sorted(p.name for p in run_dir.glob("checkpoint-*.pt"))
        assert len(ckpts) == 1, (ckpts, out)
        step = int(ckpts[0][len("checkpoint-") : -len(".pt")])
        assert 1 <= step < 8, ckpts
        assert f"{sig.name} received: stopped after step {step}" in out
        assert "--resume" in out and not (run_dir / "final.pt").exists()
        resumed[sig] = subprocess.Popen(
            [sys.executable, str(HELPER), str(run_dir), *common, "--resume"],
            env=ENV,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
    assert ref.wait(timeout=120) == 0, ref.stdout.read()
    for sig, proc in resumed.items():
        out = proc.communicate(timeout=120)[0]
        assert proc.returncode == 0, out
        run_dir = tmp_path / sig.name
        assert f"resumed_from={run_dir / 'checkpoint-'}" in out
        a, b = _load(tmp_path / "ref" / "final.pt"), _load(run_dir / "final.pt")
        assert _max_diff(a, b) == 0.0, sig.name
