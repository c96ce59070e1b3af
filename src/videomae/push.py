"""Publishing a saved folder to the Hugging Face Hub (``push_to_hub``, ``videomae push``).

Through ``huggingface_hub.HfApi``: ``create_repo(exist_ok=True)`` then ``upload_folder``. The
token comes from the argument, else from huggingface_hub's usual places (``HF_TOKEN``, the token
saved by ``hf auth login``). Objects are written with their own ``save_pretrained`` into a
temporary folder first, so what is uploaded is exactly what a local save holds.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

from videomae.errors import CheckpointError, InputError

__all__ = ["push_folder", "push_to_hub"]


def push_folder(
    folder: str | os.PathLike,
    repo_id: str,
    *,
    private: bool | None = None,
    token: str | bool | None = None,
    commit_message: str | None = None,
    commit_description: str | None = None,
    revision: str | None = None,
    create_pr: bool = False,
) -> str:
    """Create ``repo_id`` (kept if it exists) and upload every file of ``folder``; returns the
    commit's URL."""
    import huggingface_hub

    folder = Path(folder)
    if not folder.is_dir() or not any(folder.iterdir()):
        raise InputError(f"{folder} is not a folder with files to push; save a model into it first")
    if not repo_id or repo_id.count("/") > 1:
        raise InputError(f"repo id {repo_id!r} must look like 'name' or 'user/name'")
    api = huggingface_hub.HfApi(token=token)
    try:
        repo = api.create_repo(repo_id, private=private, exist_ok=True, repo_type="model")
        commit = api.upload_folder(
            repo_id=getattr(repo, "repo_id", repo_id),
            folder_path=str(folder),
            commit_message=commit_message or "Upload VideoMAE model",
            commit_description=commit_description,
            revision=revision,
            create_pr=create_pr,
            repo_type="model",
        )
    except (OSError, ValueError) as err:  # HTTP, auth and offline errors of huggingface_hub
        raise CheckpointError(
            f"could not push {folder} to the hub repo {repo_id!r}: {err}. Check the network and "
            "the token (HF_TOKEN, `hf auth login`, or token=...)"
        ) from None
    return str(getattr(commit, "commit_url", commit))


def push_to_hub(obj: Any, repo_id: str, save_kwargs: dict | None = None, **push_kwargs: Any) -> str:
    """``obj.save_pretrained`` into a temporary folder, then :func:`push_folder` it."""
    with tempfile.TemporaryDirectory(prefix="videomae-push-") as tmp:
        obj.save_pretrained(tmp, **(save_kwargs or {}))
        return push_folder(tmp, repo_id, **push_kwargs)
