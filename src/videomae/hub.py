"""Resolving a local folder or a Hugging Face Hub id to the files of a checkpoint.

Hub ids go through ``huggingface_hub`` (its cache, ``revision``, ``token``, ``HF_HUB_OFFLINE``).
Whether the hub's host resolves is looked up once per process (``hub_resolvable``); call
``hub_resolvable.cache_clear()`` after the network changes.
"""

from __future__ import annotations

import functools
import os
import re
import socket
from pathlib import Path

from videomae._io import readable_folder
from videomae.errors import CheckpointError

__all__ = ["HUB_KWARGS", "hub_resolvable", "is_hub_id", "resolve_file"]

#: the loader keywords that choose which files a hub id resolves to
HUB_KWARGS = ("revision", "token", "cache_dir", "local_files_only", "subfolder")


def is_hub_id(name: str) -> bool:
    return bool(re.fullmatch(r"[\w.-]+/[\w.-]+", name)) and not Path(name).exists()


@functools.lru_cache(maxsize=1)
def hub_resolvable() -> bool:
    """False when the hub's host name does not even resolve (no network): then we read the
    local cache only, instead of letting huggingface_hub retry with back-off for ~25 s."""
    from urllib.parse import urlparse

    from huggingface_hub import constants

    host = urlparse(constants.ENDPOINT).hostname
    if not host:
        return True
    try:
        socket.getaddrinfo(host, 443)
    except OSError:
        return False
    return True


def resolve_file(
    name_or_path: str | os.PathLike,
    filename: str,
    *,
    revision: str | None = None,
    token: str | bool | None = None,
    cache_dir: str | os.PathLike | None = None,
    local_files_only: bool = False,
    subfolder: str = "",
    required: bool = True,
) -> Path | None:
    """Path of ``filename`` in a local folder or a hub repo (downloaded into the HF cache),
    inside ``subfolder`` of it when given.

    A missing file raises :class:`CheckpointError` when ``required``, else gives None.
    """
    local = readable_folder(name_or_path)  # the old folder if a kill interrupted its save
    if local.is_dir() and subfolder:
        local = local / subfolder
        if not local.is_dir():
            raise CheckpointError(f"{Path(name_or_path)} has no subfolder {subfolder!r}")
    if local.is_dir():
        candidate = local / filename
        if candidate.is_file():
            return candidate
        if required:
            raise CheckpointError(
                f"{local} has no {filename}; is this a VideoMAE checkpoint folder?"
            )
        return None
    name = str(name_or_path)
    if not is_hub_id(name):
        raise CheckpointError(
            f"{name!r} is neither an existing folder nor a hub id like 'MCG-NJU/videomae-base'"
        )
    if not local_files_only and not hub_resolvable():
        local_files_only = True
    options = dict(
        revision=revision,
        token=token,
        cache_dir=cache_dir,
        local_files_only=local_files_only,
    )
    if subfolder:
        options["subfolder"] = subfolder
    return _download(name, filename, options, required)


def _download(name: str, filename: str, options: dict, required: bool) -> Path | None:
    """``hf_hub_download`` with its errors turned into one clear :class:`CheckpointError`."""
    import huggingface_hub
    from huggingface_hub import errors as hub_errors

    offline_message = (
        f"could not fetch {filename} of {name!r} from the Hugging Face Hub and it is not in "
        "the local cache (no network, or HF_HUB_OFFLINE=1). Without network, download the "
        "folder elsewhere and pass its local path instead of the hub id"
    )
    missing = (hub_errors.EntryNotFoundError,)  # the repo exists but lacks this file
    remote_missing = getattr(hub_errors, "RemoteEntryNotFoundError", None)
    if remote_missing is not None:
        missing += (remote_missing,)
    try:
        return Path(huggingface_hub.hf_hub_download(name, filename, **options))
    except hub_errors.LocalEntryNotFoundError:
        if required:
            raise CheckpointError(offline_message) from None
        return None
    except missing:
        if required:
            raise CheckpointError(f"hub repo {name} has no file {filename}") from None
        return None
    except hub_errors.RepositoryNotFoundError:
        raise CheckpointError(
            f"hub repo {name!r} was not found, or is private or gated: check the id, or pass "
            "token=... for a private repo"
        ) from None
    except hub_errors.RevisionNotFoundError:
        revision = options.get("revision")
        raise CheckpointError(f"hub repo {name!r} has no revision {revision!r}") from None
    except Exception as err:
        raise CheckpointError(f"{offline_message} [{type(err).__name__}]") from None
