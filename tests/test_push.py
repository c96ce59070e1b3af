"""push_to_hub and `videomae push` through huggingface_hub.HfApi (a stand-in: no network)."""

from __future__ import annotations

import json
from pathlib import Path

import huggingface_hub
import pytest

from videomae import VideoMAEForVideoClassification, VideoMAEImageProcessor
from videomae.cli.main import main
from videomae.errors import CheckpointError, InputError


class FakeApi:
    """Records HfApi calls and the uploaded folder's files (read while the folder exists)."""

    instances: list[FakeApi] = []

    def __init__(self, token=None, fail: Exception | None = None) -> None:
        self.token = token
        self.calls: list[tuple[str, dict]] = []
        self.files: dict[str, bytes] = {}
        FakeApi.instances.append(self)

    def create_repo(self, repo_id, **kwargs):
        self.calls.append(("create_repo", {"repo_id": repo_id, **kwargs}))
        full = repo_id if "/" in repo_id else f"user/{repo_id}"  # the hub adds the namespace
        return huggingface_hub.RepoUrl(f"https://huggingface.co/{full}")

    def upload_folder(self, **kwargs):
        self.calls.append(("upload_folder", kwargs))
        root = Path(kwargs["folder_path"])
        self.files = {p.name: p.read_bytes() for p in root.iterdir()}
        return huggingface_hub.CommitInfo(
            commit_url=f"https://huggingface.co/{kwargs['repo_id']}/commit/abc",
            commit_message=kwargs["commit_message"],
            commit_description="",
            oid="abc",
        )


@pytest.fixture
def api(monkeypatch):
    FakeApi.instances.clear()
    monkeypatch.setattr(huggingface_hub, "HfApi", FakeApi)
    return FakeApi.instances


def test_model_push_to_hub_creates_repo_then_uploads_the_saved_folder(api, tiny_config):
    model = VideoMAEForVideoClassification(tiny_config)
    url = model.push_to_hub("me/tiny", private=True, token="tok", commit_message="first")
    (hub,) = api
    assert hub.token == "tok"
    assert [name for name, _ in hub.calls] == ["create_repo", "upload_folder"]
    create, upload = hub.calls[0][1], hub.calls[1][1]
    assert create["repo_id"] == "me/tiny" and create["private"] is True and create["exist_ok"]
    assert upload["repo_id"] == "me/tiny" and upload["commit_message"] == "first"
    assert sorted(hub.files) == ["config.json", "model.safetensors"]
    assert json.loads(hub.files["config.json"])["architectures"] == [type(model).__name__]
    assert url.endswith("me/tiny/commit/abc")


def test_save_pretrained_push_to_hub_uses_folder_name_and_token_default(api, tmp_path, tiny_config):
    model = VideoMAEForVideoClassification(tiny_config)
    model.save_pretrained(tmp_path / "my-model", push_to_hub=True)
    (hub,) = api
    assert hub.token is None  # huggingface_hub then reads HF_TOKEN / the saved login
    assert hub.calls[0][1]["repo_id"] == "my-model"
    assert hub.calls[1][1]["repo_id"] == "user/my-model"  # the id the hub gave back
    assert hub.calls[1][1]["folder_path"] == str(tmp_path / "my-model")
    with pytest.raises(Exception, match="unknown keyword"):
        model.save_pretrained(tmp_path / "x", pushto_hub=True)


def test_processor_push_to_hub(api):
    VideoMAEImageProcessor(image_mean=[0.4, 0.4, 0.4]).push_to_hub("me/proc")
    (hub,) = api
    saved = json.loads(hub.files["preprocessor_config.json"])
    assert saved["image_mean"] == [0.4, 0.4, 0.4]
    assert hub.calls[0][1]["repo_id"] == "me/proc"


def test_cli_push_sends_flags_and_folder(api, tmp_path, tiny_config, capsys):
    VideoMAEForVideoClassification(tiny_config).save_pretrained(tmp_path / "m")
    code = main(["push", str(tmp_path / "m"), "me/m", "--private", "--message", "hello"])
    assert code == 0
    (hub,) = api
    assert hub.calls[0][1]["private"] is True
    assert hub.calls[1][1]["commit_message"] == "hello"
    assert "model.safetensors" in hub.files
    assert "me/m/commit/abc" in capsys.readouterr().out
    # a folder with nothing in it: one clear error line, exit 2
    (tmp_path / "empty").mkdir()
    assert main(["push", str(tmp_path / "empty"), "me/m"]) == 2
    assert "save a model into it first" in capsys.readouterr().err


def test_push_errors_are_clear(monkeypatch, tmp_path, tiny_config):
    class Offline(FakeApi):
        def create_repo(self, repo_id, **kwargs):
            raise OSError("connection refused")

    monkeypatch.setattr(huggingface_hub, "HfApi", Offline)
    model = VideoMAEForVideoClassification(tiny_config)
    with pytest.raises(CheckpointError, match="could not push .* 'me/x'.*token"):
        model.push_to_hub("me/x")
    with pytest.raises(InputError, match="repo id"):
        model.push_to_hub("a/b/c")
