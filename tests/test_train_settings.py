"""``--config FILE`` (YAML / JSON) for the recipes: same run as the flags, saved settings repeat it."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml
from safetensors.torch import load_file

from videomae.errors import ConfigError
from videomae.train.args import parse_run
from videomae.train.pretrain import PretrainConfig, main

pytest.importorskip("av")
from videomae.video.write import write_video  # noqa: E402


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(old)


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("settings")
    for i in range(4):
        base = np.random.default_rng(i).integers(0, 255, (16, 16, 3), dtype=np.uint8)
        write_video(root / f"v{i}.mp4", np.stack([np.roll(base, t, 1) for t in range(6)]), fps=6)
    (root / "all.txt").write_text("".join(f"v{i}.mp4\n" for i in range(4)))
    return root


SETTINGS = {
    "num_frames": 4,
    "sampling_rate": 1,
    "input_size": 16,
    "patch_size": 8,
    "model": "tiny",
    "hidden_size": 32,
    "num_hidden_layers": 1,
    "num_attention_heads": 2,
    "intermediate_size": 64,
    "decoder_hidden_size": 16,
    "decoder_num_hidden_layers": 1,
    "decoder_num_attention_heads": 2,
    "decoder_intermediate_size": 32,
    "total_steps": 3,
    "warmup_steps": 1,
    "batch_size": 2,
    "crop_scales": [1.0],
    "mask_ratio": 0.5,
    "num_workers": 0,
    "precision": "fp32",
    "device": "cpu",
}


def _flags(values: dict) -> list[str]:
    argv = []
    for k, v in values.items():
        argv.append("--" + k.replace("_", "-"))
        argv.extend(str(x) for x in v) if isinstance(v, list) else argv.append(str(v))
    return argv


def _weights(out: Path) -> dict[str, torch.Tensor]:
    return load_file(out / "final" / "model.safetensors")


def test_config_file_equals_flags_and_saved_settings_repeat_the_run(data: Path, tmp_path: Path):
    common = ["--data", str(data / "all.txt"), "--root", str(data), "-q"]
    tb = tmp_path / "tb"
    flags = [*common, *_flags(SETTINGS), "--tensorboard", str(tb), "--tensorboard-image-every", "3"]
    assert main([*flags, "--out-dir", str(tmp_path / "flags")]) == 0
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    acc = EventAccumulator(str(tb), size_guidance={"images": 0})
    acc.Reload()
    assert [e.step for e in acc.Images("reconstruction")] == [3]  # a real picture, from pretrain
    cfg_file = tmp_path / "run.yaml"
    cfg_file.write_text(yaml.safe_dump({k.replace("_", "-"): v for k, v in SETTINGS.items()}))
    assert main([*common, "--config", str(cfg_file), "--out-dir", str(tmp_path / "file")]) == 0
    saved = tmp_path / "file" / "config.yaml"
    values = yaml.safe_load(saved.read_text())
    assert values["hidden_size"] == 32 and values["progress"] is False
    assert main(["--config", str(saved), "--out-dir", str(tmp_path / "again")]) == 0
    a, b, c = (_weights(tmp_path / n) for n in ("flags", "file", "again"))
    assert a.keys() == b.keys() == c.keys()
    assert all(torch.equal(a[k], b[k]) and torch.equal(a[k], c[k]) for k in a)
    assert a["videomae.embeddings.patch_embeddings.projection.weight"].shape[0] == 32
    # a different setting gives different weights (the comparison above can fail)
    assert main(["--config", str(saved), "--out-dir", str(tmp_path / "seed1"), "--seed", "1"]) == 0
    d = _weights(tmp_path / "seed1")
    assert not all(torch.equal(a[k], d[k]) for k in a)


def test_flags_override_the_file_json_and_errors(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    path.write_text(json.dumps({"batch_size": 4, "betas": [0.8, 0.9], "flip": "false"}))
    cfg, source = parse_run(PretrainConfig, "p", ["--config", str(path), "--batch-size", "6"])
    assert (cfg.batch_size, cfg.betas, cfg.flip, source) == (6, (0.8, 0.9), False, str(path))
    path.write_text(json.dumps({"batch_sise": 4}))
    with pytest.raises(ConfigError, match=r"batch_sise \(did you mean batch_size\?\)"):
        parse_run(PretrainConfig, "p", ["--config", str(path)])
    path.write_text(json.dumps({"batch_size": "many"}))
    with pytest.raises(ConfigError, match="batch_size"):
        parse_run(PretrainConfig, "p", ["--config", str(path)])
    with pytest.raises(ConfigError, match="expected a .yaml, .yml or .json"):
        parse_run(PretrainConfig, "p", ["--config", str(tmp_path / "s.toml")])
    with pytest.raises(ConfigError, match="cannot read"):
        parse_run(PretrainConfig, "p", ["--config", str(tmp_path / "none.yaml")])
    cfg, _ = parse_run(PretrainConfig, "p", ["-q", "--hidden-size", "128"])
    assert cfg.progress is False and cfg.hidden_size == 128
