"""The argument parser: defaults left to the library, help texts with defaults."""

from __future__ import annotations

import pytest

from videomae.cli.main import main
from videomae.cli.parser import build_parser


@pytest.mark.parametrize("command", [["classify", "a.mp4"], ["embed", "a.mp4", "--out", "f.npy"]])
def test_batch_size_and_workers_default_to_the_device_choice(command) -> None:
    args = build_parser().parse_args(command)
    # None -> inference.default_batch_size / default_num_workers: (1, 0) on CPU, (8, 2) on GPU
    assert (args.batch_size, args.workers) == (None, None)
    args = build_parser().parse_args([*command, "--batch-size", "4", "--workers", "3"])
    assert (args.batch_size, args.workers) == (4, 3)


@pytest.mark.parametrize("command", ["classify", "embed", "evaluate", "reconstruct", "convert"])
def test_help_lists_flags_with_defaults(command, capsys) -> None:
    assert main([command, "--help"]) == 0
    out = capsys.readouterr().out
    assert "--" in out and "(default:" in out


@pytest.mark.parametrize(
    ("command", "shown"),
    [
        ("evaluate", ["--format", "ucf101", "hmdb51", "kinetics", "ssv2", "--label-file"]),
        ("finetune", ["--format", "ucf101", "--train-data", "--label-file", "classInd.txt"]),
        ("pretrain", ["--format", "kinetics", "--data", "--root"]),
        ("classify", ["--pattern", "folders"]),
        ("embed", ["--pattern", "folders"]),
        ("reconstruct", ["--pattern", "folder"]),
    ],
)
def test_help_shows_the_data_formats_and_folder_inputs(command, shown, capsys) -> None:
    assert main([command, "--help"]) == 0
    text = " ".join(capsys.readouterr().out.split())
    for word in shown:
        assert word in text, (command, word)
