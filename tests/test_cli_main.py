"""The `videomae` entry point: exit codes, one-line errors, forwarding, `python -m`."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import torch
from _cli_helper import HUB_ID, LABELS, _env, make_assets
from _dataset_helper import write_ucf101

from videomae.cli.main import main


@pytest.fixture(scope="module")
def assets(tmp_path_factory) -> dict:
    return make_assets(tmp_path_factory.mktemp("cli"))


def test_classify_subprocess_python_m(assets) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "videomae", "classify", assets["videos"][0]]
        + ["--model", assets["clf"], "--json", "--top-k", "1"],
        capture_output=True,
        text=True,
        env=_env(),
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    (line,) = [json.loads(x) for x in proc.stdout.splitlines() if x.strip()]
    assert line["path"] == assets["videos"][0]
    assert line["top_k"][0]["label"] in LABELS


def test_hub_id_offline_is_one_clear_line(tmp_path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "videomae", "classify", "x.mp4", "--model", HUB_ID],
        capture_output=True,
        text=True,
        env=_env(),
        cwd=tmp_path,
        timeout=120,
    )
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("error: ") and "Traceback" not in proc.stderr
    assert HUB_ID in lines[0] and "local" in lines[0]


def test_single_input_errors_exit_2_without_traceback(assets, capsys) -> None:
    rc = main(["reconstruct", str(assets["root"] / "nope.mp4"), "--model", assets["pre"]])
    err = capsys.readouterr().err
    assert rc == 2 and err.startswith("error: ") and "does not exist" in err
    assert main(["classify", assets["videos"][0], "--model", assets["pre"]]) == 2
    assert "classification head" in capsys.readouterr().err
    assert main(["classify", assets["videos"][0], "--model", str(assets["root"] / "none")]) == 2
    assert main(["classify", assets["videos"][0], "--crops", "2"]) == 2  # argparse choices


def test_no_command_prints_help(capsys) -> None:
    assert main([]) == 2
    assert "classify" in capsys.readouterr().err


@pytest.mark.parametrize("command", ["pretrain", "finetune"])
def test_training_commands_forward_their_flags(command, monkeypatch) -> None:
    module = pytest.importorskip(f"videomae.train.{command}")
    seen: list[list[str]] = []
    monkeypatch.setattr(module, "main", lambda argv: seen.append(list(argv)) or 0)
    assert main([command, "--data", "x.txt", "--epochs", "1"]) == 0
    assert seen == [["--data", "x.txt", "--epochs", "1"]]


def test_training_help_is_the_modules_own(capsys) -> None:
    pytest.importorskip("videomae.train.pretrain")
    assert main(["pretrain", "--help"]) == 0
    assert "videomae pretrain" in capsys.readouterr().out


def test_new_user_finetunes_and_evaluates_a_ucf101_folder(tmp_path, capsys, request) -> None:
    """UCF101 as downloaded (videos + ucfTrainTestlist/): no list file written by the user."""
    pytest.importorskip("av")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # 2 shared cores: spinning OpenMP threads cost more than they give
    request.addfinalizer(lambda: torch.set_num_threads(threads))
    ucf = write_ucf101(tmp_path / "data")
    run = tmp_path / "run"
    tiny = {"hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 2}
    argv = ["finetune", "--train-data", str(ucf["train"]), "--val-data", str(ucf["test"])]
    argv += ["--root", str(ucf["videos"]), "--out-dir", str(run), "--model", "small"]
    argv += ["--model-overrides", json.dumps({**tiny, "intermediate_size": 64})]
    argv += ["--num-frames", "4", "--sampling-rate", "2", "--input-size", "16", "--patch-size"]
    argv += ["8", "--epochs", "12", "--warmup-steps", "2", "--batch-size", "3", "--repeats", "1"]
    argv += ["--lr", "3e-3", "--num-workers", "0", "--no-progress", "--precision", "fp32"]
    argv += ["--device", "cpu", "--mixup", "0", "--cutmix", "0", "--smoothing", "0"]
    argv += ["--no-rand-augment", "--erase-prob", "0", "--drop-path", "0", "--layer-decay"]
    argv += ["none", "--log-every", "100", "--save-every", "100"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "training 3 classes: YoYo, ApplyEyeMakeup, Archery" in out  # classInd.txt's order
    config = json.loads((run / "final" / "config.json").read_text())
    assert config["id2label"] == {"0": "YoYo", "1": "ApplyEyeMakeup", "2": "Archery"}
    # the test split, and the whole class-folder tree whose sorted order differs from the
    # model's: both are matched to the model's labels by name
    for data, count in ((ucf["test"], 3), (ucf["videos"], 9)):
        rc = main(["evaluate", str(data), "--root", str(ucf["videos"]), "--model"]
                  + [str(run / "final"), "--out", str(tmp_path / "eval"), "-q"])  # fmt: skip
        assert rc == 0
        summary = json.loads((tmp_path / "eval" / "summary.json").read_text())
        assert summary["num_evaluated"] == count and summary["top1"] == 1.0, summary
    capsys.readouterr()
    # a wrong root is one error line naming the fix
    assert main(["evaluate", str(ucf["test"]), "--model", str(run / "final")]) == 2
    assert "pass the folder that holds them with --root" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("raised", "code"), [(KeyboardInterrupt(), 130), (SystemExit(143), 143)], ids=["int", "term"]
)
def test_an_interrupted_training_command_exits_130_or_143(monkeypatch, raised, code) -> None:
    """What the training loop raises after saving on SIGINT / SIGTERM (train/interrupt.py)."""

    def interrupted(command, argv):
        raise raised

    monkeypatch.setattr("videomae.cli.main.run_forwarded", interrupted)
    assert main(["pretrain", "--out-dir", "x"]) == code


@pytest.mark.parametrize("module", ["videomae.train.pretrain", "videomae.train.finetune"])
def test_python_m_training_entry_points_keep_the_cli_contract(module, tmp_path) -> None:
    """`python -m videomae.train.*` (what torchrun runs) with a bad setting: exit status 2 and
    one `error:` line, no traceback."""
    import subprocess
    import sys

    data = "--data" if module.endswith("pretrain") else "--train-data"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            module,
            data,
            str(tmp_path),
            "--out-dir",
            str(tmp_path / "o"),
            "--clip-grad",
            "-1",
        ],  # fmt: skip
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2, done.stderr
    lines = [ln for ln in done.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: clip_grad"), done.stderr
