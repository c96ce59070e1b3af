"""Which annotation format a path is: decided from its content (``--format auto``)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from videomae.data.formats import hmdb51, kinetics, ssv2, ucf101
from videomae.data.formats.common import Annotations, read_head
from videomae.errors import InputError

FORMATS = ("auto", "list", "folders", "ucf101", "hmdb51", "kinetics", "ssv2")
FORMAT_HELP = (
    "auto (from the content), list ('path label' lines), folders (one folder per class), "
    "ucf101 (trainlist0N/testlist0N.txt + classInd.txt), hmdb51 (<class>_test_splitN.txt "
    "files), kinetics (label,youtube_id,time_start,time_end,split CSV), ssv2 (train.json / "
    "validation.json + labels.json)"
)

# the distributed formats, in the order detection tries them
READERS: dict[str, Callable[[Path, Path, Path | None, str], Annotations]] = {
    "hmdb51": hmdb51.read,
    "kinetics": kinetics.read,
    "ssv2": ssv2.read,
    "ucf101": ucf101.read,
}
_DETECTORS = {
    "hmdb51": hmdb51.looks_like,
    "kinetics": kinetics.looks_like,
    "ssv2": ssv2.looks_like,
    "ucf101": ucf101.looks_like,
}


def check_format(fmt: str) -> str:
    if fmt not in FORMATS:
        raise InputError(f"unknown data format {fmt!r}; expected one of {', '.join(FORMATS)}")
    return fmt


def detect_format(path: str | Path) -> str:
    """One of ``FORMATS`` (never ``auto``) for an existing file or folder."""
    path = Path(path)
    head = "" if path.is_dir() else read_head(path)
    for name, looks_like in _DETECTORS.items():
        if looks_like(path, head):
            return name
    return "folders" if path.is_dir() else "list"
