"""Every numeric and choice flag of every subcommand, enumerated from the parsers: a value out of
range (0 where not allowed, negative, NaN, inf, huge) or a wrong choice fails while parsing,
before any work, with exit status 2 and one ``error:`` line naming the flag."""

from __future__ import annotations

import argparse
import typing

import pytest

from videomae.cli.main import main
from videomae.cli.parser import build_parser
from videomae.errors import ConfigError, InputError
from videomae.runtime import resolve_device
from videomae.train.args import _flag_type, cli_fields
from videomae.train.finetune import FinetuneConfig
from videomae.train.pretrain import PretrainConfig

# the positional arguments each subcommand needs to get as far as its flags
POSITIONALS = {
    "classify": ["v.mp4"],
    "embed": ["v.mp4", "--out", "x.npy"],
    "evaluate": ["list.txt", "--model", "m"],
    "reconstruct": ["v.mp4", "--model", "m"],
    "convert": ["a.pth", "out"],
    "synth": ["out"],
    "demo": [],
    "serve": ["--model", "m"],
    "export": ["m", "out.onnx"],
    "push": ["dir", "user/repo"],
    "models": [],
    "prepare": ["src", "dst"],
}
BAD_NUMBERS = ["-1", "nan", "inf", "-inf", "1e30", "10000000000000", "abc"]


def _subparsers() -> dict[str, argparse.ArgumentParser]:
    action = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    return dict(action.choices)


def _flags() -> list[tuple[str, argparse.Action]]:
    return [
        (name, a)
        for name, sub in _subparsers().items()
        if name in POSITIONALS
        for a in sub._actions
        if a.option_strings and a.type is not None
    ]


def test_every_subcommand_is_enumerated() -> None:
    assert set(_subparsers()) == set(POSITIONALS) | {"pretrain", "finetune"}


@pytest.mark.parametrize(("command", "action"), _flags(), ids=lambda x: getattr(x, "dest", x))
def test_numeric_flags_refuse_out_of_range_values(command, action, capsys) -> None:
    if action.choices is not None:
        values = ["bogus", "-1", "999"]
    else:
        rng = getattr(action.type, "range", None)
        assert rng is not None, f"{command} {action.option_strings[0]} has an unchecked type"
        values = BAD_NUMBERS + (["0"] if rng.lo is None or rng.lo > 0 or rng.lo_open else [])
    flag = action.option_strings[-1]
    for value in values:
        assert main([command, *POSITIONALS[command], flag, value]) == 2, (flag, value)
        err = capsys.readouterr().err
        assert sum("error:" in line for line in err.splitlines()) == 1, err
        assert flag in err or action.dest in err, err


@pytest.mark.parametrize(
    ("command", "action"),
    [
        (n, a)
        for n, sub in _subparsers().items()
        if n in POSITIONALS
        for a in sub._actions
        if a.option_strings and a.choices is not None
    ],  # fmt: skip
    ids=lambda x: getattr(x, "dest", x),
)
def test_choice_flags_refuse_unknown_values(command, action, capsys) -> None:
    assert main([command, *POSITIONALS[command], action.option_strings[-1], "bogus"]) == 2
    err = capsys.readouterr().err
    assert "invalid" in err and err.count("error:") == 1, err


def _recipe_flags(cls: type) -> list[tuple[str, str, str]]:
    """(flag, field, bad value) for every numeric and choice field of a recipe config."""
    hints = typing.get_type_hints(cls)
    out = []
    for f in cli_fields(cls):
        tp, _ = _flag_type(hints[f.name])
        if typing.get_origin(tp) is tuple:
            tp = typing.get_args(tp)[0]
        flag = "--" + f.name.replace("_", "-")
        if tp in (int, float):
            for bad in ("-1", "nan", "inf", "1e30" if tp is float else "10000000000000"):
                out.append((flag, f.name, bad))
        elif tp is str and f.name in {
            "strategy",
            "precision",
            "model",
            "mask_kind",
            "decoder_mask",
        }:
            out.append((flag, f.name, "bogus"))
    return out


@pytest.mark.parametrize(
    ("command", "cls", "data_flag"),
    [("pretrain", PretrainConfig, "--data"), ("finetune", FinetuneConfig, "--train-data")],
)
def test_training_flags_are_validated_before_any_work(command, cls, data_flag, capsys) -> None:
    cases = _recipe_flags(cls)
    assert len(cases) > 60  # every numeric field, four bad values each
    hints = typing.get_type_hints(cls)
    for flag, name, bad in cases:
        n = 2 if typing.get_origin(_flag_type(hints[name])[0]) is tuple else 1
        argv = [command, data_flag, "no-such-list.txt", flag, *([bad] * n)]
        assert main(argv) == 2, argv
        err = capsys.readouterr().err
        assert err.count("error:") == 1 and name in err, (argv, err)
        assert "no-such-list" not in err  # refused before the data was looked at


def test_zero_and_negative_intervals_and_batches(capsys) -> None:
    for flag in ("--batch-size", "--accum-steps", "--save-every", "--log-every", "--lr"):
        assert main(["pretrain", "--data", "x", flag, "0"]) == 2
        assert flag.strip("-").replace("-", "_") in capsys.readouterr().err
    assert main(["pretrain", "--data", "x", "--clip-grad", "-1"]) == 2
    assert "clip_grad must be a finite number > 0" in capsys.readouterr().err


def test_python_callers_get_the_same_validation() -> None:
    with pytest.raises(ConfigError, match="clip_grad"):
        PretrainConfig(data="x", clip_grad=-1.0)
    with pytest.raises(ConfigError, match="strategy"):
        FinetuneConfig(train_data="x", strategy="foo")
    with pytest.raises(ConfigError, match="num_frames"):
        PretrainConfig(data="x", num_frames=100_000)
    with pytest.raises(ConfigError, match="crop_scale"):
        FinetuneConfig(train_data="x", crop_scale=(0.9, 0.1))


@pytest.mark.parametrize("device", ["foo", "cuda:99", "tpu"])
def test_devices_that_are_not_there_are_refused(device, capsys) -> None:
    with pytest.raises(InputError, match=f"device '{device}'"):
        resolve_device(device)
    assert main(["pretrain", "--data", "no-such-list.txt", "--device", device]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: device") and "no-such-list" not in err
