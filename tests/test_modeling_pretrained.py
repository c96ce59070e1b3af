"""Loading and saving in every layout that exists in the wild."""

from __future__ import annotations

import json
import logging

import pytest
import torch
import transformers
from conftest import random_mask, tiny_kwargs
from safetensors.torch import load_file, save_file

from videomae import (
    VideoMAEConfig,
    VideoMAEForPreTraining,
    VideoMAEForVideoClassification,
    VideoMAEModel,
)
from videomae.errors import CheckpointError


class Evil:
    """Not a tensor: a pickle holding it must be refused."""


def same_params(a: torch.nn.Module, b: torch.nn.Module, prefix_b: str = "") -> None:
    sb = b.state_dict()
    for key, value in a.state_dict().items():
        assert torch.equal(value, sb[prefix_b + key]), key


@pytest.fixture
def pretraining_folder(tmp_path):
    model = VideoMAEForPreTraining(VideoMAEConfig(**tiny_kwargs(use_mean_pooling=False)))
    model.save_pretrained(tmp_path / "pre")
    return model, tmp_path / "pre"


def test_disk_layout_is_transformers(tmp_path, tiny_config):
    model = VideoMAEForVideoClassification(tiny_config)
    model.save_pretrained(tmp_path)
    keys = set(load_file(str(tmp_path / "model.safetensors")))
    assert "videomae.encoder.layer.0.attention.attention.q_bias" in keys
    assert "videomae.encoder.layer.0.attention.attention.v_bias" in keys
    assert not any(k.endswith("query.bias") for k in keys)
    cfg = json.loads((tmp_path / "config.json").read_text())
    assert (
        cfg["architectures"] == ["VideoMAEForVideoClassification"]
        and cfg["model_type"] == "videomae"
    )
    assert cfg["dtype"] == "float32"
    # transformers loads it with nothing missing or unexpected
    theirs, info = transformers.VideoMAEForVideoClassification.from_pretrained(
        tmp_path, output_loading_info=True
    )
    assert not info["missing_keys"] and not info["unexpected_keys"]


def test_new_key_format_query_bias_loads(tmp_path, tiny_config):
    """Files that store query.bias/value.bias (in-memory names) load too."""
    model = VideoMAEForVideoClassification(tiny_config)
    torch.nn.init.normal_(model.videomae.encoder.layer[0].attention.attention.query.bias)
    tiny_config.save_pretrained(tmp_path)
    save_file(
        {k: v.contiguous() for k, v in model.state_dict().items()},
        str(tmp_path / "model.safetensors"),
    )
    loaded, info = VideoMAEForVideoClassification.from_pretrained(
        tmp_path, output_loading_info=True
    )
    assert not info["missing_keys"] and not info["unexpected_keys"]
    same_params(model, loaded)


def test_pytorch_model_bin(tmp_path, tiny_config):
    model = VideoMAEForPreTraining(tiny_config)
    model.save_pretrained(tmp_path, safe_serialization=False)
    assert (tmp_path / "pytorch_model.bin").exists() and not (
        tmp_path / "model.safetensors"
    ).exists()
    same_params(model, VideoMAEForPreTraining.from_pretrained(tmp_path))


def test_pickle_with_objects_is_refused(tmp_path, tiny_config):
    tiny_config.save_pretrained(tmp_path)

    torch.save({"x": Evil()}, tmp_path / "pytorch_model.bin")
    with pytest.raises(CheckpointError, match="weights_only=True"):
        VideoMAEModel.from_pretrained(tmp_path)


@pytest.mark.parametrize("writer", ["ours", "transformers"])
def test_sharded_safetensors(tmp_path, tiny_config, writer):
    torch.manual_seed(0)
    if writer == "ours":
        model = VideoMAEForPreTraining(tiny_config)
        model.save_pretrained(tmp_path, max_shard_size=20_000)
    else:
        model = transformers.VideoMAEForPreTraining(transformers.VideoMAEConfig(**tiny_kwargs()))
        model.save_pretrained(tmp_path, max_shard_size="20KB")
    index = json.loads((tmp_path / "model.safetensors.index.json").read_text())
    assert len(set(index["weight_map"].values())) > 1
    loaded, info = VideoMAEForPreTraining.from_pretrained(tmp_path, output_loading_info=True)
    assert not info["missing_keys"] and not info["unexpected_keys"]
    same_params(model, loaded)
    if writer == "ours":  # transformers reads our shards
        theirs = transformers.VideoMAEForPreTraining.from_pretrained(tmp_path)
        same_params(model, theirs)


def test_pretraining_checkpoint_into_classifier(pretraining_folder, caplog):
    pre, folder = pretraining_folder
    with caplog.at_level(logging.WARNING, logger="videomae"):
        clf, info = VideoMAEForVideoClassification.from_pretrained(
            folder, num_labels=5, use_mean_pooling=True, output_loading_info=True
        )
    assert sorted(info["missing_keys"]) == [
        "classifier.bias",
        "classifier.weight",
        "fc_norm.bias",
        "fc_norm.weight",
    ]
    unexpected = set(info["unexpected_keys"])
    assert {"encoder_to_decoder.weight", "mask_token", "videomae.layernorm.weight"} <= unexpected
    assert all(
        k.startswith(("decoder.", "encoder_to_decoder", "mask_token", "videomae.layernorm"))
        for k in unexpected
    )
    assert "newly initialised" in caplog.text and "classifier.weight" in caplog.text
    same_params(clf.videomae.encoder, pre.videomae.encoder)
    assert clf.config.num_labels == 5 and clf.classifier.out_features == 5


def test_pretraining_checkpoint_into_bare_encoder(pretraining_folder):
    pre, folder = pretraining_folder
    enc, info = VideoMAEModel.from_pretrained(folder, output_loading_info=True)
    assert not info["missing_keys"]
    same_params(enc, pre.videomae)


def test_bare_encoder_into_classifier_adds_prefix(tmp_path, tiny_config):
    enc = VideoMAEModel(tiny_config)
    enc.save_pretrained(tmp_path)
    assert all(
        not k.startswith("videomae.") for k in load_file(str(tmp_path / "model.safetensors"))
    )
    clf, info = VideoMAEForVideoClassification.from_pretrained(tmp_path, output_loading_info=True)
    assert not info["unexpected_keys"]
    same_params(enc, clf.videomae)


def test_transformers_pretraining_into_our_classifier_matches_transformers(tmp_path):
    pre = transformers.VideoMAEForPreTraining(
        transformers.VideoMAEConfig(**tiny_kwargs(use_mean_pooling=False))
    )
    pre.save_pretrained(tmp_path)
    ours = VideoMAEForVideoClassification.from_pretrained(tmp_path, num_labels=3)
    theirs = transformers.VideoMAEForVideoClassification.from_pretrained(tmp_path, num_labels=3)
    ours.classifier.load_state_dict(theirs.classifier.state_dict())
    x = torch.randn(1, 4, 3, 32, 32)
    with torch.no_grad():
        assert (ours(x).logits - theirs.eval()(x).logits).abs().max() <= 1e-5


def test_mismatched_head_is_an_error_unless_ignored(tmp_path, tiny_config):
    VideoMAEForVideoClassification(tiny_config.copy(num_labels=4)).save_pretrained(tmp_path)
    with pytest.raises(
        CheckpointError,
        match=r"(?s)classifier.weight: checkpoint \(4, 32\) vs model \(7, 32\).*ignore_mismatched_sizes",
    ):
        VideoMAEForVideoClassification.from_pretrained(tmp_path, num_labels=7)
    model, info = VideoMAEForVideoClassification.from_pretrained(
        tmp_path, num_labels=7, ignore_mismatched_sizes=True, output_loading_info=True
    )
    assert model.classifier.out_features == 7
    assert {k for k, _, _ in info["mismatched_keys"]} == {"classifier.weight", "classifier.bias"}


def test_label_overrides(tmp_path, tiny_config):
    VideoMAEForVideoClassification(
        tiny_config.copy(id2label={0: "a", 1: "b", 2: "c"})
    ).save_pretrained(tmp_path)
    model = VideoMAEForVideoClassification.from_pretrained(tmp_path)
    assert model.config.id2label == {0: "a", 1: "b", 2: "c"} and model.config.label2id["c"] == 2
    model = VideoMAEForVideoClassification.from_pretrained(
        tmp_path, id2label={0: "x", 1: "y", 2: "z"}
    )
    assert model.config.id2label[2] == "z"


def test_dtype_device_and_attn_arguments(tmp_path, tiny_config):
    VideoMAEForPreTraining(tiny_config).save_pretrained(tmp_path)
    model = VideoMAEForPreTraining.from_pretrained(
        tmp_path, torch_dtype=torch.bfloat16, device="cpu", attn_implementation="eager"
    )
    assert model.dtype == torch.bfloat16 and model.device.type == "cpu"
    assert model.decoder.decoder_layers[0].attention.attention.attn_implementation == "eager"
    out = model(
        torch.randn(1, 4, 3, 32, 32, dtype=torch.bfloat16), bool_masked_pos=random_mask(1, 32, 24)
    )
    assert out.logits.dtype == torch.bfloat16
    model.save_pretrained(tmp_path / "bf16")
    assert json.loads((tmp_path / "bf16" / "config.json").read_text())["dtype"] == "bfloat16"
    assert (
        VideoMAEForPreTraining.from_pretrained(tmp_path / "bf16", torch_dtype="auto").dtype
        == torch.bfloat16
    )


def test_offline_hub_id_gives_one_clear_error(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(CheckpointError, match="pass its local path instead of the hub id"):
        VideoMAEForVideoClassification.from_pretrained("MCG-NJU/videomae-base-finetuned-kinetics")


def test_missing_folder_and_missing_weights(tmp_path, tiny_config):
    with pytest.raises(CheckpointError, match="neither an existing folder nor a hub id"):
        VideoMAEModel.from_pretrained(str(tmp_path / "nope" / "deeper"))
    tiny_config.save_pretrained(tmp_path)
    with pytest.raises(CheckpointError, match="no weights found.*model.safetensors"):
        VideoMAEModel.from_pretrained(tmp_path)
    with pytest.raises(CheckpointError, match="has no config.json"):
        VideoMAEModel.from_pretrained(tmp_path / "..")


def test_save_is_atomic_and_leaves_no_temp_files(tmp_path, tiny_config):
    model = VideoMAEModel(tiny_config)
    model.save_pretrained(tmp_path)
    model.save_pretrained(tmp_path)  # overwrite in place
    assert sorted(p.name for p in tmp_path.iterdir()) == ["config.json", "model.safetensors"]


class FakeHub:
    """Stands in for huggingface_hub.hf_hub_download: serves a local folder as repo 'org/model'."""

    def __init__(self, folder):
        self.folder = folder
        self.calls = []

    def __call__(
        self,
        repo_id,
        filename,
        *,
        revision=None,
        token=None,
        cache_dir=None,
        local_files_only=False,
    ):
        from huggingface_hub.errors import RepositoryNotFoundError

        self.calls.append((repo_id, filename, revision, token))
        if repo_id != "org/model":
            error = RepositoryNotFoundError.__new__(RepositoryNotFoundError)
            Exception.__init__(error, f"{repo_id} not found")  # skip the HTTP response it wants
            raise error
        path = self.folder / filename
        if not path.exists():
            from huggingface_hub.errors import EntryNotFoundError

            raise EntryNotFoundError(f"{filename} not in {repo_id}")
        return str(path)


def test_hub_ids_go_through_huggingface_hub(tmp_path, tiny_config, monkeypatch):
    import huggingface_hub

    model = VideoMAEForVideoClassification(tiny_config)
    model.save_pretrained(tmp_path, max_shard_size=20_000)  # sharded: index + shards fetched
    hub = FakeHub(tmp_path)
    monkeypatch.setattr(huggingface_hub, "hf_hub_download", hub)
    loaded = VideoMAEForVideoClassification.from_pretrained("org/model", revision="v1", token="t")
    same_params(model, loaded)
    fetched = [c[1] for c in hub.calls]
    assert fetched[0] == "config.json" and "model.safetensors.index.json" in fetched
    assert all(c[2:] == ("v1", "t") for c in hub.calls)
    with pytest.raises(CheckpointError, match="hub repo 'org/other' was not found"):
        VideoMAEModel.from_pretrained("org/other")
    (tmp_path / "config.json").unlink()
    with pytest.raises(CheckpointError, match="hub repo org/model has no file config.json"):
        VideoMAEModel.from_pretrained("org/model")


@pytest.mark.parametrize("cls", [VideoMAEForVideoClassification, VideoMAEForPreTraining])
def test_weights_without_the_encoder_are_refused(tmp_path, tiny_config, cls):
    """A file with only the head (or decoder) must not run behind a random encoder (#14)."""
    model = cls(tiny_config)
    kept = {
        k: v.contiguous()
        for k, v in model.state_dict().items()
        if not k.startswith("videomae.encoder.")
    }
    tiny_config.save_pretrained(tmp_path)
    save_file(kept, str(tmp_path / "model.safetensors"))
    with pytest.raises(CheckpointError, match="does not match the encoder") as info:
        cls.from_pretrained(tmp_path)
    message = str(info.value)
    assert "videomae.encoder.* (" in message and "fix:" in message
    with pytest.raises(CheckpointError, match="does not match the encoder"):
        cls.from_pretrained(tmp_path, ignore_mismatched_sizes=True)


def test_encoder_of_another_patch_size_is_refused_even_when_ignoring_sizes(tmp_path, tiny_config):
    VideoMAEForVideoClassification(tiny_config).save_pretrained(tmp_path)
    with pytest.raises(CheckpointError, match="patch_embeddings"):
        VideoMAEForVideoClassification.from_pretrained(
            tmp_path, patch_size=16, ignore_mismatched_sizes=True
        )


def test_classifier_checkpoint_into_pretraining_gets_a_new_decoder(tmp_path, tiny_config):
    VideoMAEForVideoClassification(tiny_config).save_pretrained(tmp_path)
    pre, info = VideoMAEForPreTraining.from_pretrained(tmp_path, output_loading_info=True)
    assert info["missing_keys"] and all(
        not k.startswith("videomae.encoder.") for k in info["missing_keys"]
    )
