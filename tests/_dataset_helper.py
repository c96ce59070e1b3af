"""Tiny copies of the benchmarks' distributed layouts, with generated videos (not a test module).

Each writer lays out the annotation files exactly as UCF101, HMDB51, Kinetics and
Something-Something V2 distribute them (line endings, 1-based indices, headers, JSON shapes)
and writes a short video per entry whose colour is its class's, so a model can learn them.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np

from videomae.video.write import write_video

# classInd.txt order (1-based); not sorted, so that a by-position mix-up cannot pass a test
UCF_CLASSES = ["YoYo", "ApplyEyeMakeup", "Archery"]
HMDB_CLASSES = ["brush_hair", "cartwheel"]
KINETICS_LABELS = ["air drumming", "abseiling", "passing American football (in game)"]
SSV2_LABELS = {  # labels.json: name -> index (as strings, as distributed)
    "Pushing something from left to right": "0",
    "Putting something on a surface": "1",
}
SSV2_TEMPLATES = ["Pushing [something] from left to right", "Putting [something] on a surface"]


def video(path: Path, label: int, seed: int = 0) -> Path:
    """8 frames of 20 x 20 in a colour that encodes ``label``, with a little noise."""
    rng = np.random.default_rng(seed)
    rgb = np.array([(220, 30, 30), (30, 200, 40), (30, 40, 220)][label % 3])
    clip = np.clip(rgb[None, None, None] + rng.normal(0, 20, (8, 20, 20, 3)), 0, 255)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_video(path, clip.astype(np.uint8), fps=8)
    return path


def write_ucf101(root: Path, groups: int = 3) -> dict[str, Path]:
    """``UCF-101/<Class>/v_<Class>_gNN_c01.avi`` + ``ucfTrainTestlist/`` (CRLF, as released):
    groups 1..groups-1 train, the last group test."""
    lists = root / "ucfTrainTestlist"
    lists.mkdir(parents=True)
    train, test = [], []
    for i, cls in enumerate(UCF_CLASSES):
        for g in range(1, groups + 1):
            rel = f"{cls}/v_{cls}_g{g:02d}_c01.avi"
            video(root / "UCF-101" / rel, i, seed=10 * i + g)
            (train.append(f"{rel} {i + 1}") if g < groups else test.append(rel))
    crlf = "\r\n"
    (lists / "classInd.txt").write_text(
        crlf.join(f"{i + 1} {c}" for i, c in enumerate(UCF_CLASSES)) + crlf, newline=""
    )
    (lists / "trainlist01.txt").write_text(crlf.join(train) + crlf, newline="")
    (lists / "testlist01.txt").write_text(crlf.join(test) + crlf, newline="")
    return {
        "videos": root / "UCF-101",
        "classInd": lists / "classInd.txt",
        "train": lists / "trainlist01.txt",
        "test": lists / "testlist01.txt",
    }


def write_hmdb51(root: Path) -> dict[str, Path]:
    """``hmdb51/<class>/<name>.avi`` + ``splits/<class>_test_split{1,2}.txt`` ('name.avi 1 ')."""
    splits = root / "splits"
    splits.mkdir(parents=True)
    for i, cls in enumerate(HMDB_CLASSES):
        names = [f"{cls}_clip{j}_u_nm_np1_fr_goo_{j}.avi" for j in range(4)]
        for j, name in enumerate(names):
            video(root / "hmdb51" / cls / name, i, seed=20 * i + j)
        codes1, codes2 = ["1", "1", "2", "0"], ["2", "1", "1", "0"]
        for split, codes in ((1, codes1), (2, codes2)):
            text = "".join(f"{n} {c} \n" for n, c in zip(names, codes, strict=True))
            (splits / f"{cls}_test_split{split}.txt").write_text(text)
    return {"videos": root / "hmdb51", "splits": splits}


def write_kinetics(root: Path) -> dict[str, Path]:
    """``train.csv`` (videos in per-label folders) and ``validate.csv`` (videos flat)."""
    out = {}
    root.mkdir(parents=True, exist_ok=True)
    for split, per_label in (("train", True), ("val", False)):
        rows = []
        for i, label in enumerate(KINETICS_LABELS):
            for j in range(2 if split == "train" else 1):
                yid, start = f"yt{split}{i}{j}-_x", 10 * j
                rows.append([label, yid, start, start + 10, split])
                name = f"{yid}_{start:06d}_{start + 10:06d}.mp4"
                folder = root / split / (label.replace(" ", "_") if per_label else "")
                video(folder / name, i, seed=30 * i + j)
        path = root / ("train.csv" if split == "train" else "validate.csv")
        with open(path, "w", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(["label", "youtube_id", "time_start", "time_end", "split"])
            writer.writerows(rows)
        out[split] = path
    return {**out, "train_videos": root / "train", "val_videos": root / "val"}


def write_ssv2(root: Path) -> dict[str, Path]:
    """``labels.json``, ``train.json``, ``validation.json`` beside them; ``videos/<id>.webm``."""
    out = {}
    root.mkdir(parents=True, exist_ok=True)
    (root / "labels.json").write_text(json.dumps(SSV2_LABELS, indent=1))
    out["labels"] = root / "labels.json"
    for split, ids in (("train", (1, 2, 3, 4)), ("validation", (5, 6))):
        entries = []
        for k in ids:
            cls = k % 2
            entries.append(
                {
                    "id": str(1000 + k),
                    "label": SSV2_TEMPLATES[cls].replace("[something]", "a pen"),
                    "template": SSV2_TEMPLATES[cls],
                    "placeholders": ["a pen"],
                }
            )
            video(root / "videos" / f"{1000 + k}.webm", cls, seed=k)
        (root / f"{split}.json").write_text(json.dumps(entries))
        out[split] = root / f"{split}.json"
    return {**out, "videos": root / "videos"}
