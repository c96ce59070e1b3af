"""What ``videomae prepare`` will do, decided before any video is touched: the sources read
(list files, annotation files, class folders, video folders), one output per input video, the
list files to write, and every check that must fail before work starts (two inputs mapping to
one output, an output folder that would overwrite its source).

Paths under the output folder mirror the inputs' paths under their root (the folder the list's
paths resolve against, or the class / video folder itself), with the extension replaced by
``.mp4``: ``a/b/c.avi`` -> ``DST/a/b/c.mp4``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from videomae.data.formats import hmdb51, ucf101
from videomae.data.formats.common import Sample, is_integer, is_video
from videomae.data.formats.detect import check_format, detect_format
from videomae.data.lists import load_samples
from videomae.errors import InputError

__all__ = ["LABELS_NAME", "MANIFEST_NAME", "Job", "ListPlan", "Plan", "make_plan"]

MANIFEST_NAME = "prepare_manifest.jsonl"
LABELS_NAME = "labels.txt"


@dataclass(frozen=True)
class Job:
    """One video to re-encode: absolute source path, output path relative to DST."""

    source: str
    rel: str


@dataclass
class ListPlan:
    """One list file to write into DST: (output rel path, label or None) per entry."""

    name: str
    source: str
    entries: list[tuple[str, int | None]]
    names: list[str] | None


@dataclass
class Plan:
    """Everything to do: jobs (one per distinct output, in first-seen order) and lists."""

    dst: Path
    jobs: list[Job] = field(default_factory=list)
    lists: list[ListPlan] = field(default_factory=list)


def _has_direct_videos(folder: Path) -> bool:
    return any(is_video(p) for p in folder.iterdir())


def _read_source(
    src: Path, fmt: str, root: str | None, label_file: str | None
) -> list[tuple[str, Path, list[Sample], list[str] | None]]:
    """(list name, root, samples, class names) for each list one source yields."""
    kind = detect_format(src) if check_format(fmt) == "auto" else fmt
    if src.is_dir() and kind == "folders":
        labeled = fmt == "folders" or not _has_direct_videos(src)
        samples, names = load_samples(src, labeled=labeled, fmt="folders")
        return [(_list_name(src.name), src, samples, names)]
    base = Path(root) if root is not None else (src if src.is_dir() else src.parent)
    options = dict(fmt=kind, label_file=label_file)
    if kind == "hmdb51":
        stem = src.name if src.is_dir() else src.stem
        found = []
        for subset in ("train", "test"):
            samples, names = load_samples(src, base, labeled=False, subset=subset, **options)
            found.append((_list_name(f"{stem}_{subset}"), base, samples, names))
        return found
    samples, names = load_samples(src, base, labeled=False, **options)
    return [(_list_name(src.stem), base, samples, names)]


def _list_name(stem: str) -> str:
    """``stem.txt``, or ``stem_list.txt`` where the name alone would make the format detection
    read the file as a UCF101 / HMDB51 split file."""
    name = f"{stem}.txt"
    if ucf101.looks_like(Path(name), "") or hmdb51.looks_like(Path(name), ""):
        return f"{stem}_list.txt"
    return name


def _relative(video: str, base: Path, where: str) -> str:
    """The video's path under ``base`` with the ``.mp4`` extension, '/' separated."""
    rel = os.path.relpath(os.path.abspath(video), os.path.abspath(base))
    if rel == ".." or rel.startswith(".." + os.sep) or os.path.isabs(rel):
        raise InputError(
            f"{where}: {video} is outside the video root {base}; prepare keeps paths relative to "
            "the root, so every video must lie under it (check --root)"
        )
    return Path(rel).with_suffix(".mp4").as_posix()


def _inside(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def _check_dst(dst: Path, sources: list[Path], roots: list[Path]) -> None:
    """DST must not be a file, a source, the video root, or inside a source folder."""
    if dst.exists() and not dst.is_dir():
        raise InputError(f"output folder {dst} is a file; pass a folder (new or used before)")
    for src in sources:
        if src.is_dir() and _inside(dst, src):
            raise InputError(
                f"output folder {dst} is inside the source folder {src}: the prepared videos "
                "would mix with (or replace) the originals; choose a folder outside it"
            )
    for root in roots:
        if dst == root:
            raise InputError(
                f"output folder {dst} is the folder of the source videos: outputs could replace "
                "them; choose another folder"
            )


def _add_jobs(plan: Plan, owners: dict[str, str], lst: ListPlan, samples: list[Sample]) -> None:
    """Append the jobs of one list; an output claimed by another input is an error."""
    for sample, (rel, _) in zip(samples, lst.entries, strict=True):
        source = os.path.realpath(sample.path)
        owner = owners.setdefault(rel, source)
        if owner != source:
            raise InputError(
                f"two inputs map to the same output {plan.dst / rel}: {owner} and {source} "
                "(same path, different extension); rename one of them"
            )
        if len(owners) > len(plan.jobs):
            plan.jobs.append(Job(source, rel))
        if os.path.realpath(plan.dst / rel) == source:
            raise InputError(
                f"output {plan.dst / rel} would replace its own source; choose another DST"
            )


def _label_text(label: int | None, names: list[str] | None) -> str | None:
    if label is None:
        return None
    return str(label) if names is None else names[label]


def names_are_words(names: list[str] | None) -> bool:
    """Class names that a 'path label' line can hold as they are (else indices are written)."""
    return names is not None and all(
        n and not any(c.isspace() for c in n) and "," not in n and not n.startswith("#")
        and not is_integer(n)
        for n in names
    )  # fmt: skip


def make_plan(
    sources: list[str | os.PathLike],
    dst: str | os.PathLike,
    *,
    fmt: str = "auto",
    root: str | os.PathLike | None = None,
    label_file: str | os.PathLike | None = None,
) -> Plan:
    """Read every source and decide the jobs and lists; raises InputError before any work."""
    if not sources:
        raise InputError("no sources given; pass a list file, an annotation file or a folder")
    dst_path = Path(os.path.abspath(dst))
    plan = Plan(dst_path)
    srcs = [Path(os.path.abspath(s)) for s in sources]
    read = []
    for src in srcs:
        if not src.exists():
            raise InputError(f"source {src} does not exist; pass a list file or a folder")
        found = _read_source(
            src, fmt, None if root is None else os.fspath(root),
            None if label_file is None else os.fspath(label_file),
        )  # fmt: skip
        read += [(src, *one) for one in found]
    _check_dst(dst_path, srcs, [Path(os.path.abspath(r)) for _, _, r, _, _ in read])
    owners: dict[str, str] = {}
    taken = {MANIFEST_NAME, LABELS_NAME}
    for src, name, base, samples, names in read:
        if name in taken or any(dst_path / name == s for s in srcs):
            raise InputError(
                f"two sources (or a source and prepare's own files) would write {dst_path / name}; "
                "rename one source or prepare them into separate folders"
            )
        taken.add(name)
        entries = [(_relative(s.path, base, name), s.label) for s in samples]
        lst = ListPlan(name, str(src), entries, names)
        _add_jobs(plan, owners, lst, samples)
        plan.lists.append(lst)
    return plan


def list_lines(lst: ListPlan, failed: set[str]) -> tuple[str, int]:
    """The text of one list (entries whose output failed left out) and how many were left out."""
    words = names_are_words(lst.names)
    lines, left_out = [], 0
    for rel, label in lst.entries:
        if rel in failed:
            left_out += 1
            continue
        text = _label_text(label, lst.names if words else None)
        lines.append(rel if text is None else f"{rel} {text}")
    return "".join(line + "\n" for line in lines), left_out
