"""Broken and hostile weight files (issue #14): truncated, empty, swapped, mis-indexed and
escaping files are CheckpointErrors naming the file and the fix; hostile pickles in every
container format torch reads never run code, through every loading path."""

from __future__ import annotations

import io
import json
import pickle
import tarfile
from pathlib import Path

import pytest
import torch
from conftest import tiny_kwargs
from safetensors.torch import load_file, save_file

from videomae import (
    VideoMAEConfig,
    VideoMAEForPreTraining,
    VideoMAEForVideoClassification,
    VideoMAEModel,
)
from videomae.checkpoints.convert import convert_checkpoint, load_original_model
from videomae.checkpoints.files import read_state_dict, weight_files
from videomae.cli.main import main as cli_main
from videomae.errors import CheckpointConversionError, CheckpointError, VideoMAEError


class Hostile:
    """Unpickling this creates `path`: proof that code ran."""

    def __init__(self, path: Path) -> None:
        self.path = str(path)

    def __reduce__(self):
        return (open, (self.path, "w"))


def _payload(marker: Path) -> dict:
    return {
        "videomae.embeddings.patch_embeddings.projection.weight": torch.zeros(2),
        "x": Hostile(marker),
    }


def _write_tar(path: Path, obj: object) -> None:
    """torch's oldest container: a tar of sys_info / pickle / storages / tensors."""
    members = {
        "sys_info": pickle.dumps({"protocol_version": 1001, "little_endian": True}),
        "pickle": pickle.dumps(obj),
        "storages": pickle.dumps(0),
        "tensors": pickle.dumps(0),
    }
    with tarfile.open(path, "w") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))


FORMATS = {
    "zip": lambda path, obj: torch.save(obj, path),
    "legacy": lambda path, obj: torch.save(obj, path, _use_new_zipfile_serialization=False),
    "raw-pickle": lambda path, obj: path.write_bytes(pickle.dumps(obj, protocol=2)),
    "tar": _write_tar,
}


def test_the_hostile_payload_is_live(tmp_path):
    """Sanity: plain unpickling really runs the payload (so the refusals below mean something)."""
    marker = tmp_path / "ran"
    pickle.loads(pickle.dumps(_payload(marker)))
    assert marker.exists()


def _folder_bin(tmp_path: Path, write, obj) -> None:
    VideoMAEConfig(**tiny_kwargs()).save_pretrained(tmp_path / "m")
    write(tmp_path / "m" / "pytorch_model.bin", obj)
    VideoMAEModel.from_pretrained(tmp_path / "m")


def _folder_bin_index(tmp_path: Path, write, obj) -> None:
    folder = tmp_path / "m"
    VideoMAEConfig(**tiny_kwargs()).save_pretrained(folder)
    write(folder / "pytorch_model-00001-of-00001.bin", obj)
    index = {"weight_map": {"x": "pytorch_model-00001-of-00001.bin"}}
    (folder / "pytorch_model.bin.index.json").write_text(json.dumps(index))
    VideoMAEModel.from_pretrained(folder)


def _pth(tmp_path: Path, write, obj) -> None:
    write(tmp_path / "w.pth", obj)
    VideoMAEForVideoClassification.from_pretrained(tmp_path / "w.pth")


def _convert(tmp_path: Path, write, obj) -> None:
    write(tmp_path / "w.pth", obj)
    convert_checkpoint(tmp_path / "w.pth", tmp_path / "out")


def _load_original(tmp_path: Path, write, obj) -> None:
    write(tmp_path / "w.pth", obj)
    load_original_model(tmp_path / "w.pth")


PATHS = {
    "from_pretrained-folder-bin": _folder_bin,
    "from_pretrained-bin-index": _folder_bin_index,
    "from_pretrained-pth": _pth,
    "convert": _convert,
    "load_original_model": _load_original,
}


@pytest.mark.parametrize("fmt", sorted(FORMATS))
@pytest.mark.parametrize("route", sorted(PATHS))
def test_hostile_pickle_never_runs(tmp_path, fmt, route):
    marker = tmp_path / "ran"
    with pytest.raises(VideoMAEError, match="refuse to unpickle|weights_only"):
        PATHS[route](tmp_path, FORMATS[fmt], _payload(marker))
    assert not marker.exists()
    assert not (tmp_path / "out" / "model.safetensors").exists()


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_hostile_pickle_through_the_cli(tmp_path, capsys, fmt):
    marker = tmp_path / "ran"
    FORMATS[fmt](tmp_path / "w.pth", _payload(marker))
    assert cli_main(["convert", str(tmp_path / "w.pth"), str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error:") and "refuse to unpickle" in err[0]
    assert not marker.exists()


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    root = tmp_path_factory.mktemp("saved")
    model = VideoMAEForVideoClassification(VideoMAEConfig(**tiny_kwargs()))
    model.save_pretrained(root / "st")
    model.save_pretrained(root / "bin", safe_serialization=False)
    torch.save(model.state_dict(), root / "w.pth")
    return root


def _copy(src: Path, dst: Path) -> Path:
    dst.mkdir()
    for f in src.iterdir():
        (dst / f.name).write_bytes(f.read_bytes())
    return dst


@pytest.mark.parametrize("name", ["model.safetensors", "pytorch_model.bin"])
@pytest.mark.parametrize("cut", [0, 7, 100, 0.5, -1])
def test_truncated_or_empty_weights_name_file_and_fix(saved, tmp_path, name, cut):
    folder = _copy(saved / ("st" if name.endswith("safetensors") else "bin"), tmp_path / "m")
    data = (folder / name).read_bytes()
    size = int(len(data) * cut) if isinstance(cut, float) else cut % len(data)
    (folder / name).write_bytes(data[:size])
    with pytest.raises(CheckpointError, match="fix: re-download or re-save") as info:
        VideoMAEForVideoClassification.from_pretrained(folder)
    assert str(folder / name) in str(info.value)
    assert "empty" in str(info.value) if size == 0 else "truncated or corrupt" in str(info.value)


@pytest.mark.parametrize("cut", [0, 10, 0.5])
def test_truncated_pth_is_a_checkpoint_error(saved, tmp_path, cut):
    data = (saved / "w.pth").read_bytes()
    path = tmp_path / "w.pth"
    path.write_bytes(data[: int(len(data) * cut) if isinstance(cut, float) else cut])
    for load in (VideoMAEForVideoClassification.from_pretrained, load_original_model):
        with pytest.raises(CheckpointError, match="fix: re-download or re-save") as info:
            load(path)
        assert str(path) in str(info.value)
    assert cli_main(["convert", str(path), str(tmp_path / "out")]) == 2


def test_text_file_as_weights(tmp_path):
    path = tmp_path / "pytorch_model.bin"
    path.write_text("this is not a checkpoint\n")
    with pytest.raises(CheckpointError, match="truncated or corrupt"):
        read_state_dict(path)


def _sharded(saved: Path, tmp_path: Path) -> Path:
    model = VideoMAEForVideoClassification.from_pretrained(saved / "st")
    model.save_pretrained(tmp_path / "sh", max_shard_size=20_000)
    return tmp_path / "sh"


@pytest.mark.parametrize(
    "index, expected",
    [
        ({"metadata": {}}, "has no 'weight_map'"),
        ({"weight_map": {}}, "has no 'weight_map'"),
        ([1, 2], "has no 'weight_map'"),
        ("{not json", "not a readable JSON index"),
        ({"weight_map": {"a": "/etc/passwd"}}, "outside the model folder"),
        ({"weight_map": {"a": "../other/model.safetensors"}}, "outside the model folder"),
        ({"weight_map": {"a": "sub/../../x.safetensors"}}, "outside the model folder"),
        ({"weight_map": {"a": "..\\x.safetensors"}}, "outside the model folder"),
        ({"weight_map": {"a": "C:/x.safetensors"}}, "outside the model folder"),
        ({"weight_map": {"a": "model-00009-of-00009.safetensors"}}, "which is missing"),
    ],
)
def test_bad_or_escaping_index(saved, tmp_path, index, expected):
    folder = _sharded(saved, tmp_path)
    text = index if isinstance(index, str) else json.dumps(index)
    (folder / "model.safetensors.index.json").write_text(text)
    with pytest.raises(CheckpointError, match="fix:") as info:
        VideoMAEForVideoClassification.from_pretrained(folder)
    assert expected in str(info.value)
    assert "model.safetensors.index.json" in str(info.value)


def test_escaping_shard_is_not_read_even_if_it_exists(saved, tmp_path):
    folder = _sharded(saved, tmp_path)
    outside = tmp_path / "outside.safetensors"
    outside.write_bytes((saved / "st" / "model.safetensors").read_bytes())
    index = json.loads((folder / "model.safetensors.index.json").read_text())
    index["weight_map"] = {k: "../outside.safetensors" for k in index["weight_map"]}
    (folder / "model.safetensors.index.json").write_text(json.dumps(index))
    with pytest.raises(CheckpointError, match="outside the model folder"):
        weight_files(folder)
    index["weight_map"] = {k: str(outside) for k in index["weight_map"]}
    (folder / "model.safetensors.index.json").write_text(json.dumps(index))
    with pytest.raises(CheckpointError, match="outside the model folder"):
        weight_files(folder)


def test_intact_shards_still_load(saved, tmp_path):
    folder = _sharded(saved, tmp_path)
    assert len(weight_files(folder)) > 1
    VideoMAEForVideoClassification.from_pretrained(folder)


def test_config_of_another_size_is_a_shape_error(saved, tmp_path):
    folder = _copy(saved / "st", tmp_path / "m")
    VideoMAEConfig(**tiny_kwargs(hidden_size=48, num_attention_heads=4)).save_pretrained(folder)
    with pytest.raises(CheckpointError, match=r"shapes in .* do not match") as info:
        VideoMAEForVideoClassification.from_pretrained(folder)
    assert str(folder) in str(info.value)


@pytest.mark.parametrize("layers", [1, 3])
def test_config_with_another_depth_is_refused(saved, tmp_path, layers):
    folder = _copy(saved / "st", tmp_path / "m")
    VideoMAEConfig(**tiny_kwargs(num_hidden_layers=layers)).save_pretrained(folder)
    with pytest.raises(CheckpointError, match="does not match the encoder") as info:
        VideoMAEForVideoClassification.from_pretrained(folder)
    assert "videomae.encoder" in str(info.value) and "fix:" in str(info.value).lower()


def test_non_tensor_state_dict(tmp_path):
    torch.save({"a": 1, "b": "two"}, tmp_path / "pytorch_model.bin")
    with pytest.raises(CheckpointError, match="name -> tensor"):
        read_state_dict(tmp_path / "pytorch_model.bin")


def test_missing_original_file_is_a_checkpoint_error(tmp_path):
    with pytest.raises(CheckpointError, match="not found"):
        load_original_model(tmp_path / "nope.pth")
    torch.save({"x": Hostile(tmp_path / "ran")}, tmp_path / "evil.pth")
    with pytest.raises(CheckpointConversionError, match="refuse to unpickle"):
        load_original_model(tmp_path / "evil.pth")
    assert not (tmp_path / "ran").exists()


def test_pretraining_model_loads_back(tmp_path):
    model = VideoMAEForPreTraining(VideoMAEConfig(**tiny_kwargs()))
    model.save_pretrained(tmp_path)
    VideoMAEForPreTraining.from_pretrained(tmp_path)


def _bad_config(folder: Path, content: str) -> None:
    (folder / "config.json").write_text(content)


def _head_only(folder: Path) -> None:
    state = load_file(str(folder / "model.safetensors"))
    save_file(
        {k: v for k, v in state.items() if k.startswith("classifier.")},
        str(folder / "model.safetensors"),
    )


BROKEN_FOLDERS = {
    "negative-layers": (
        lambda f: _bad_config(f, json.dumps({**tiny_kwargs(), "num_hidden_layers": -1})),
        "num_hidden_layers=-1",
    ),
    "huge-width": (
        lambda f: _bad_config(f, json.dumps({**tiny_kwargs(), "hidden_size": 10**9})),
        "hidden_size=1000000000",
    ),
    "not-an-object": (lambda f: _bad_config(f, "[1, 2]"), "config.json"),
    "head-only": (_head_only, "does not match the encoder"),
    "empty-weights": (lambda f: (f / "model.safetensors").write_bytes(b""), "is empty"),
}


@pytest.mark.parametrize("case", sorted(BROKEN_FOLDERS))
def test_cli_reports_broken_model_folders_in_one_line(saved, tmp_path, capsys, case):
    folder = _copy(saved / "st", tmp_path / "m")
    breaker, expected = BROKEN_FOLDERS[case]
    breaker(folder)
    assert cli_main(["classify", str(tmp_path / "v.mp4"), "--model", str(folder)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error:") and expected in err[0]
    assert str(folder) in err[0] and "fix" in err[0].lower()
