"""transformers' Trainer trains our classes like its own, and its folders load in both libraries."""

from __future__ import annotations

import json

import pytest
import torch
import transformers
from conftest import tiny_kwargs

from videomae import ModelFolderCallback, VideoMAEConfig, VideoMAEForVideoClassification

pytest.importorskip("accelerate", reason="transformers.Trainer needs accelerate (dev extra)")


class Clips(torch.utils.data.Dataset):
    """Eight fixed random clips with labels 0..2."""

    def __len__(self) -> int:
        return 8

    def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
        g = torch.Generator().manual_seed(i)
        return {
            "pixel_values": torch.randn(4, 3, 32, 32, generator=g),
            "labels": torch.tensor(i % 3),
        }


def train(model, out_dir, callbacks=()):
    args = transformers.TrainingArguments(
        output_dir=str(out_dir),
        use_cpu=True,
        report_to="none",
        max_steps=3,
        per_device_train_batch_size=2,
        learning_rate=1e-3,
        logging_steps=1,
        save_strategy="steps",
        save_steps=2,
        seed=0,
        disable_tqdm=True,
    )
    trainer = transformers.Trainer(
        model=model, args=args, train_dataset=Clips(), callbacks=list(callbacks)
    )
    trainer.train()
    return trainer, [h["loss"] for h in trainer.state.log_history if "loss" in h]


def test_trainer_losses_match_transformers_and_checkpoints_load_both_ways(tmp_path):
    torch.manual_seed(0)
    ours = VideoMAEForVideoClassification(VideoMAEConfig(**tiny_kwargs(num_labels=3)))
    ours.save_pretrained(tmp_path / "init")
    theirs = transformers.VideoMAEForVideoClassification.from_pretrained(tmp_path / "init")
    ours.train()

    trainer, our_losses = train(ours, tmp_path / "ours", [ModelFolderCallback()])
    _, their_losses = train(theirs, tmp_path / "theirs")
    assert len(our_losses) == 3
    # same weights, data and optimiser: the same losses to float32 round-off (tolerance 1e-4)
    assert our_losses == pytest.approx(their_losses, abs=1e-4)
    assert our_losses[-1] != pytest.approx(our_losses[0], abs=1e-6)  # it did train

    trainer.save_model()  # into args.output_dir, where the callback wrote config.json
    x = Clips()[0]["pixel_values"][None]
    with torch.no_grad():
        want = ours.eval()(x).logits
    for folder in (tmp_path / "ours" / "checkpoint-2", tmp_path / "ours"):
        assert len(json.loads((folder / "config.json").read_text())["id2label"]) == 3
        assert (folder / "preprocessor_config.json").is_file()  # transformers' pipeline needs it
        assert (folder / "README.md").read_text().startswith("---\n")  # the Hub's card format
        reloaded = transformers.VideoMAEForVideoClassification.from_pretrained(folder)
        ours_again = VideoMAEForVideoClassification.from_pretrained(folder)
        with torch.no_grad():
            a, b = reloaded.eval()(x).logits, ours_again(x).logits
        torch.testing.assert_close(a, b, atol=1e-5, rtol=0)
    torch.testing.assert_close(b, want, atol=1e-5, rtol=0)  # the final folder = trained model


def test_trainer_flop_count_uses_transformers_signature(tiny_config):
    model = VideoMAEForVideoClassification(tiny_config)
    # the Trainer calls this for total_flos; VideoMAE has no nn.Embedding, so nothing is excluded
    assert model.num_parameters(exclude_embeddings=True) == model.num_parameters()
