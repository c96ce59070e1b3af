"""Training that would be silently wrong fails instead: resuming with settings that change the
run, a mistyped label that would grow the head, a list whose files are all missing."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from videomae.errors import ConfigError, InputError
from videomae.train.config import TrainConfig
from videomae.train.finetune import FinetuneConfig, resolve_labels
from videomae.train.loop import train


class _Data(torch.utils.data.Dataset):
    def __init__(self) -> None:
        g = torch.Generator().manual_seed(0)
        self.x = torch.randn(16, 4, generator=g)

    def __len__(self) -> int:
        return len(self.x)

    def __getitem__(self, i: int) -> dict:
        return {"x": self.x[i]}


def _step(model: torch.nn.Module, batch: dict) -> torch.Tensor:
    return model(batch["x"]).pow(2).mean()


def _cfg(out: Path, **kw) -> TrainConfig:
    base = dict(out_dir=str(out), total_steps=4, batch_size=4, lr=1e-2, warmup_steps=0,
                save_every=2, seed=1, progress=False, device="cpu", precision="fp32",
                num_workers=0)  # fmt: skip
    return TrainConfig(**{**base, **kw})


@pytest.mark.filterwarnings("ignore:resuming a run planned")
def test_resume_with_changed_settings_says_which_and_how_to_override(tmp_path: Path) -> None:
    torch.manual_seed(0)
    train(torch.nn.Linear(4, 2), _Data(), _step, _cfg(tmp_path, total_steps=2))
    with pytest.raises(ConfigError) as info:
        train(torch.nn.Linear(4, 2), _Data(), _step,
              _cfg(tmp_path, resume=True, seed=2, batch_size=2))  # fmt: skip
    msg = str(info.value)
    assert "batch_size 4 -> 2" in msg and "seed 1 -> 2" in msg
    assert "--allow-config-change" in msg and "checkpoint-00000002.pt" in msg
    # a longer run, other logging and workers do not change what is computed: accepted
    res = train(torch.nn.Linear(4, 2), _Data(), _step,
                _cfg(tmp_path, resume=True, total_steps=4, save_every=1, log_every=1))  # fmt: skip
    assert res.resumed_from is not None and res.resumed_from.name == "checkpoint-00000002.pt"
    # the explicit opt-in continues a changed run
    res = train(torch.nn.Linear(4, 2), _Data(), _step,
                _cfg(tmp_path, resume=True, total_steps=6, seed=3, allow_config_change=True))  # fmt: skip
    assert res.resumed_from is not None and res.resumed_from.name == "checkpoint-00000004.pt"


def _labelled_list(tmp_path: Path, labels: list[int]) -> Path:
    lines = []
    for i, label in enumerate(labels):
        (tmp_path / f"v{i}.mp4").write_bytes(b"x")
        lines.append(f"v{i}.mp4 {label}")
    p = tmp_path / "train.txt"
    p.write_text("\n".join(lines) + "\n")
    return p


def test_a_mistyped_label_names_its_line_instead_of_growing_the_head(tmp_path: Path) -> None:
    labels = [i % 10 for i in range(20)]
    labels[13] = 99
    lst = _labelled_list(tmp_path, labels)
    with pytest.raises(InputError, match=rf"{lst}:14: label 99 implies 100 classes.*--label-file"):
        resolve_labels(FinetuneConfig(train_data=str(lst), root=str(tmp_path)))
    names = tmp_path / "labels.txt"
    names.write_text("\n".join(f"c{i}" for i in range(10)) + "\n")
    with pytest.raises(InputError, match=rf"{lst}:14: label 99 is outside 0..9"):
        resolve_labels(FinetuneConfig(train_data=str(lst), root=str(tmp_path),
                                      label_file=str(names)))  # fmt: skip
    labels[13] = 3
    _, _, classes = resolve_labels(
        FinetuneConfig(train_data=str(_labelled_list(tmp_path, labels)), root=str(tmp_path))
    )
    assert classes == [str(i) for i in range(10)]


def test_training_on_a_list_with_every_file_missing_fails(tmp_path: Path) -> None:
    lst = tmp_path / "train.txt"
    lst.write_text("a.mp4 0\nb.mp4 1\n")
    with pytest.raises(InputError, match="none of its 2 videos"):
        resolve_labels(FinetuneConfig(train_data=str(lst), root=str(tmp_path / "wrong")))
