"""The `videomae` entry point: exit codes, one-line errors, forwarding, `python -m`."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from _cli_helper import HUB_ID, LABELS, _env, make_assets

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


@pytest.mark.parametrize(
    ("raised", "code"), [(KeyboardInterrupt(), 130), (SystemExit(143), 143)], ids=["int", "term"]
)
def test_an_interrupted_training_command_exits_130_or_143(monkeypatch, raised, code) -> None:
    """What the training loop raises after saving on SIGINT / SIGTERM (train/interrupt.py)."""

    def interrupted(command, argv):
        raise raised

    monkeypatch.setattr("videomae.cli.main.run_forwarded", interrupted)
    assert main(["pretrain", "--out-dir", "x"]) == code
