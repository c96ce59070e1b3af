"""from_pretrained / save_pretrained keywords behave like transformers' (loader options, config
overrides, unknown keywords, dtype="auto"), for models, processors and the pipelines."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
import transformers
from conftest import tiny_kwargs
from safetensors.torch import load_file

from videomae import (
    VideoClassifier,
    VideoEmbedder,
    VideoMAEConfig,
    VideoMAEForVideoClassification,
    VideoMAEImageProcessor,
    VideoMAEModel,
    VideoMAEVideoProcessor,
)
from videomae.errors import ConfigError, InputError


@pytest.fixture
def folder(tmp_path):
    torch.manual_seed(0)
    model = VideoMAEForVideoClassification(VideoMAEConfig(**tiny_kwargs(num_labels=3)))
    model.save_pretrained(tmp_path / "m")
    return model, tmp_path / "m"


def test_config_fields_override_like_transformers(folder):
    _, path = folder
    kw = dict(hidden_dropout_prob=0.25, num_labels=5, problem_type="multi_label_classification")
    ours = VideoMAEForVideoClassification.from_pretrained(path, ignore_mismatched_sizes=True, **kw)
    theirs = transformers.VideoMAEForVideoClassification.from_pretrained(
        path, ignore_mismatched_sizes=True, **kw
    )
    for key in kw:
        assert getattr(ours.config, key) == getattr(theirs.config, key), key
    assert ours.classifier.out_features == theirs.classifier.out_features == 5


def test_unknown_keywords_raise_in_both_libraries_and_never_reach_config_json(folder, tmp_path):
    _, path = folder
    with pytest.raises(ConfigError, match=r"unknown keyword\(s\) \['hiden_size'\]"):
        VideoMAEForVideoClassification.from_pretrained(path, hiden_size=64)
    with pytest.raises(TypeError):  # transformers passes it on to the model's __init__
        transformers.VideoMAEForVideoClassification.from_pretrained(path, hiden_size=64)
    with pytest.raises(ConfigError, match="quantization_config"):
        VideoMAEModel.from_pretrained(path, quantization_config={"bits": 4})
    # options transformers accepts and ignores are accepted here too
    VideoMAEModel.from_pretrained(path, low_cpu_mem_usage=True, trust_remote_code=False)


def test_subfolder_and_variant_read_the_files_transformers_writes(folder, tmp_path):
    model, _ = folder
    theirs = transformers.VideoMAEForVideoClassification(
        transformers.VideoMAEConfig(**tiny_kwargs(num_labels=3))
    )
    theirs.save_pretrained(tmp_path / "repo" / "sub", variant="ema")
    assert (tmp_path / "repo" / "sub" / "model.ema.safetensors").is_file()
    ours = VideoMAEForVideoClassification.from_pretrained(
        tmp_path / "repo", subfolder="sub", variant="ema"
    )
    x = torch.randn(1, 4, 3, 32, 32)
    with torch.no_grad():
        torch.testing.assert_close(ours(x).logits, theirs.eval()(x).logits, atol=1e-5, rtol=0)
    with pytest.raises(OSError, match=r"subfolder 'sub'.*looked for model.safetensors"):
        VideoMAEForVideoClassification.from_pretrained(tmp_path / "repo", subfolder="sub")
    with pytest.raises(OSError, match="no subfolder 'nope'"):
        VideoMAEForVideoClassification.from_pretrained(tmp_path / "repo", subfolder="nope")


def test_hub_options_reach_huggingface_hub(folder, monkeypatch):
    import huggingface_hub

    _, path = folder
    calls = []

    def download(repo_id, filename, **options):
        calls.append((filename, options))
        sub = options.get("subfolder")
        assert sub == "s"
        return str(path / filename)

    monkeypatch.setattr(huggingface_hub, "hf_hub_download", download)
    options = dict(revision="r1", token="t", cache_dir="/c", local_files_only=True, subfolder="s")
    VideoMAEForVideoClassification.from_pretrained("org/m", **options)
    VideoMAEImageProcessor.save_pretrained(VideoMAEImageProcessor(), path)
    VideoMAEImageProcessor.from_pretrained("org/m", **options)
    assert {c[0] for c in calls} == {"config.json", "model.safetensors", "preprocessor_config.json"}
    assert all(c[1] == options for c in calls)


def test_processor_keywords(tmp_path):
    VideoMAEImageProcessor(image_mean=[0.4, 0.4, 0.4]).save_pretrained(tmp_path / "p" / "sub")
    proc = VideoMAEVideoProcessor.from_pretrained(tmp_path / "p", subfolder="sub", do_resize=False)
    assert proc.image_mean == [0.4, 0.4, 0.4] and proc.do_resize is False
    for cls in (VideoMAEImageProcessor, VideoMAEVideoProcessor):
        with pytest.raises(ConfigError, match=r"unknown keyword\(s\) \['image_meen'\]"):
            cls.from_pretrained(tmp_path / "p", subfolder="sub", image_meen=[0.1])


def test_pipelines_take_loader_options_and_refuse_others(folder, tmp_path):
    model, path = folder
    model.save_pretrained(tmp_path / "repo" / "sub")
    frames = np.random.default_rng(0).integers(0, 256, size=(4, 32, 32, 3), dtype=np.uint8)
    clf = VideoClassifier.from_pretrained(tmp_path / "repo", subfolder="sub")
    assert len(clf(frames, top_k=2)) == 2
    emb = VideoEmbedder.from_pretrained(tmp_path / "repo", subfolder="sub")
    assert emb.dim == 32
    for cls in (VideoClassifier, VideoEmbedder):
        with pytest.raises(InputError, match=r"unknown option\(s\) \['revison'\]"):
            cls.from_pretrained(path, revison="main")


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16])
def test_half_checkpoint_loads_in_its_saved_dtype_like_transformers(folder, tmp_path, dtype):
    model, _ = folder
    model.to(dtype).save_pretrained(tmp_path / "half")
    assert json.loads((tmp_path / "half" / "config.json").read_text())["dtype"] == str(dtype)[6:]
    ours = VideoMAEForVideoClassification.from_pretrained(tmp_path / "half")
    theirs = transformers.VideoMAEForVideoClassification.from_pretrained(tmp_path / "half")
    assert ours.dtype == theirs.dtype == dtype
    assert ours.config.dtype == theirs.config.dtype == dtype  # a torch.dtype, not a string
    explicit = VideoMAEForVideoClassification.from_pretrained(tmp_path / "half", dtype="float32")
    assert explicit.dtype == torch.float32
    # no dtype in config.json: taken from the weights, as transformers does
    cfg = json.loads((tmp_path / "half" / "config.json").read_text())
    del cfg["dtype"]
    (tmp_path / "half" / "config.json").write_text(json.dumps(cfg))
    assert VideoMAEForVideoClassification.from_pretrained(tmp_path / "half").dtype == dtype
    theirs = transformers.VideoMAEForVideoClassification.from_pretrained(tmp_path / "half")
    assert theirs.dtype == dtype


def test_config_dtype_is_a_torch_dtype_and_written_as_a_name(tmp_path):
    config = VideoMAEConfig(**tiny_kwargs(torch_dtype="bfloat16"))
    assert config.dtype is torch.bfloat16
    assert transformers.VideoMAEConfig(torch_dtype="bfloat16").dtype is torch.bfloat16
    assert config.to_dict()["dtype"] == "bfloat16"
    assert VideoMAEConfig(**tiny_kwargs()).dtype is None


def test_save_pretrained_state_dict_is_honoured(folder, tmp_path):
    model, _ = folder
    other = {k: torch.zeros_like(v) for k, v in model.state_dict().items()}
    model.save_pretrained(tmp_path / "z", state_dict=other)
    saved = load_file(str(tmp_path / "z" / "model.safetensors"))
    assert all(not bool(v.any()) for v in saved.values())
    assert any(bool(v.any()) for v in model.state_dict().values())  # the model is unchanged


def test_pipelines_read_the_processor_of_their_subfolder(folder, tmp_path):
    """With ``subfolder``, VideoClassifier/VideoEmbedder read the preprocessing beside the
    weights, not the parent folder's."""
    model, _ = folder
    model.save_pretrained(tmp_path / "repo" / "sub")
    size = model.config.image_size
    VideoMAEImageProcessor(
        size={"shortest_edge": size},
        crop_size={"height": size, "width": size},
        image_mean=[0.4, 0.4, 0.4],
        image_std=[0.2, 0.2, 0.2],
    ).save_pretrained(tmp_path / "repo" / "sub")
    for cls in (VideoClassifier, VideoEmbedder):
        pipe = cls.from_pretrained(tmp_path / "repo", subfolder="sub")
        assert pipe.preprocessing.mean == pytest.approx((0.4, 0.4, 0.4))
        assert pipe.preprocessing.std == pytest.approx((0.2, 0.2, 0.2))
