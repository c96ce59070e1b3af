"""Synthetic action videos whose class is visible only from motion (a tiny Something-Something).

Every clip shows one textured object over a textured background. All appearance parameters
(shape, colours, textures, size, start position, speed, background) are drawn from the same
distribution for every class and *before* the label is used, so the first frame of a clip has
the same distribution whatever its class: with the same random generator state, two classes
render byte-identical first frames. Only the motion over time (translation direction, rotation
sense, growth or shrinkage) tells the classes apart.

The textures matter for masked-autoencoder pre-training: a flat object on a flat background
gives near-constant patches, which the per-patch normalised target (``norm_pix_loss``) turns
into noise; texture makes every patch carry structure, and makes the reconstruction of a masked
patch depend on where the object is at that instant, i.e. on its motion.

Public API:
  ``ACTIONS``                    class names, in label-index order
  ``render_clip(label, ...)``    one clip as uint8 (T, H, W, 3); pure given the generator
  ``generate_clips(n, ...)``     in-memory arrays (clips, labels) for experiments and tests
  ``make_dataset(out_dir, ...)`` mp4 files + list files (``path label`` lines) on disk
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

from videomae.data.drawing import (
    Scene,
    draw_scene,
    moved_background,
    object_coords,
    shape_mask,
)
from videomae.video.write import write_video

ACTIONS: tuple[str, ...] = (
    "move_left",
    "move_right",
    "move_up",
    "move_down",
    "rotate_cw",
    "rotate_ccw",
    "grow",
    "shrink",
)

# split name -> small integer mixed into each clip's seed, so splits never share clips
_SPLIT_IDS = {"unlabeled": 1, "train": 2, "val": 3, "test": 4}


def _label_index(label: int | str, classes: Sequence[str]) -> int:
    if isinstance(label, str):
        if label not in classes:
            raise ValueError(f"unknown action {label!r}: expected one of {list(classes)}")
        return list(classes).index(label)
    if not 0 <= int(label) < len(ACTIONS):
        raise ValueError(
            f"label index {label} out of range: expected 0..{len(ACTIONS) - 1} (an index into "
            "ACTIONS) or an action name"
        )
    return int(label)


def _trajectory(action: str, scene: Scene, num_frames: int) -> tuple[np.ndarray, ...]:
    """Per-frame (cx, cy, angle, half-size) of the object: the only place the label enters."""
    s = np.linspace(0.0, 1.0, num_frames)  # clip progress per frame
    cx0, cy0, angle0, scale0 = scene.cx0, scene.cy0, scene.angle0, scene.scale0
    cx = np.full(num_frames, cx0)
    cy = np.full(num_frames, cy0)
    ang = np.full(num_frames, angle0)
    scale = np.full(num_frames, scale0)
    if action == "move_left":
        cx = cx0 - scene.dist * s
    elif action == "move_right":
        cx = cx0 + scene.dist * s
    elif action == "move_up":
        cy = cy0 - scene.dist * s
    elif action == "move_down":
        cy = cy0 + scene.dist * s
    elif action == "rotate_cw":  # clockwise on screen: image y points down, so angle grows
        ang = angle0 + scene.dtheta * s
    elif action == "rotate_ccw":
        ang = angle0 - scene.dtheta * s
    elif action == "grow":
        scale = scale0 * scene.zfac**s
    elif action == "shrink":
        scale = scale0 * scene.zfac ** (-s)
    return cx, cy, ang, scale


def _static_background(
    scene: Scene, size: int, off: float, xx: np.ndarray, yy: np.ndarray
) -> np.ndarray:
    """The frame-sized centre of the background with the static distractors drawn in."""
    static = scene.bg[int(off) : int(off) + size, int(off) : int(off) + size].copy()
    for d_shape, d_col, d_scale, d_ang, (dx, dy) in scene.distractors:
        u, v = object_coords(xx, yy, (dx, dy), d_ang, d_scale, 1.0)
        static[shape_mask(d_shape, u, v)] = d_col
    return static


def _paint_object(
    frame: np.ndarray, scene: Scene, u: np.ndarray, v: np.ndarray, textured: bool
) -> None:
    """Fill the object's pixels of ``frame`` in place (textured or flat colour)."""
    inside = shape_mask(scene.shape, u, v)
    if textured:
        cells = scene.tex.shape[0]
        iu = np.clip(((u + 1.0) * 0.5 * cells).astype(np.int64), 0, cells - 1)
        iv = np.clip(((v + 1.0) * 0.5 * cells).astype(np.int64), 0, cells - 1)
        frame[inside] = scene.colour * scene.tex[iv[inside], iu[inside]]
    else:
        frame[inside] = scene.colour


def _check_clip_size(num_frames: int, size: int) -> None:
    if num_frames < 2:
        raise ValueError(f"num_frames must be >= 2 to show motion, got {num_frames}")
    if size < 8:
        raise ValueError(f"size must be >= 8 pixels, got {size}")


def render_clip(
    label: int | str,
    num_frames: int = 16,
    size: int = 64,
    rng: np.random.Generator | None = None,
    *,
    background: str = "texture",
    object_texture: bool = True,
    frame_noise: float = 0.02,
    min_scale: float = 0.14,
    max_scale: float = 0.24,
    travel: tuple[float, float] = (0.3, 0.5),
    turn: tuple[float, float] = (0.5, 0.9),
    zoom: tuple[float, float] = (1.6, 2.2),
    num_distractors: int = 0,
    background_motion: float = 0.0,
) -> np.ndarray:
    """Render one clip of action ``label`` (index into :data:`ACTIONS` or its name).

    Returns uint8 (T, H, W, 3) with T = ``num_frames`` and H = W = ``size``. Pure given ``rng``:
    the same generator state gives the same clip. Every random draw happens before the label is
    looked at, so the first frame does not depend on the label.

    Style knobs: ``background`` (one of :data:`videomae.data.drawing.BACKGROUNDS`),
    ``object_texture`` (blocky random texture on the object, else flat colour), ``frame_noise`` (std of i.i.d. per-frame pixel
    noise), ``min_scale``/``max_scale`` (object half-size as a fraction of the frame),
    ``travel`` (fraction of the frame a moving object crosses over the clip), ``turn``
    (rotation over the clip, in half-turns), ``zoom`` (total scale factor for grow/shrink),
    ``num_distractors`` (static textured blobs; they never move, so they carry no class),
    ``background_motion`` (0 = static background; 1 = the background undergoes the same motion
    as the object, about the frame centre, so every pixel carries the action).
    """
    if rng is None:
        rng = np.random.default_rng()
    _check_clip_size(num_frames, size)
    action = ACTIONS[_label_index(label, ACTIONS)]
    canvas = 2 * size if background_motion else size  # room for the background to move
    scene = draw_scene(
        rng, num_frames, size, canvas, background=background, frame_noise=frame_noise,
        min_scale=min_scale, max_scale=max_scale, travel=travel, turn=turn, zoom=zoom,
        num_distractors=num_distractors,
    )  # fmt: skip
    cx, cy, ang, scale = _trajectory(action, scene, num_frames)
    yy, xx = np.meshgrid(np.arange(size) + 0.5, np.arange(size) + 0.5, indexing="ij")
    off = (canvas - size) / 2.0
    static = _static_background(scene, size, off, xx, yy)
    frames = np.empty((num_frames, size, size, 3), dtype=np.float64)
    for t in range(num_frames):
        u, v = object_coords(xx, yy, (cx[t], cy[t]), ang[t], scale[t], scene.aspect)
        if background_motion:
            motion = (cx[t] - scene.cx0, cy[t] - scene.cy0, ang[t] - scene.angle0,
                      scale[t] / scene.scale0)  # fmt: skip
            frame = moved_background(scene.bg, xx, yy, size, off, background_motion, motion)
        else:
            frame = static.copy()
        _paint_object(frame, scene, u, v, object_texture)
        frames[t] = frame
    frames += scene.noise
    return (np.clip(frames, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)


def _clip_rng(seed: int, split: str, index: int) -> np.random.Generator:
    """Independent generator per (seed, split, clip): results do not depend on worker count."""
    return np.random.default_rng([int(seed), _SPLIT_IDS[split], int(index)])


def _balanced_labels(n: int, num_classes: int, seed: int, split: str) -> np.ndarray:
    """n labels, classes as balanced as n allows, in a seeded random order."""
    labels = np.arange(n) % num_classes
    return np.random.default_rng([int(seed), _SPLIT_IDS[split], 10**9]).permutation(labels)


def _class_indices(classes: Sequence[str | int] | None) -> list[int]:
    if classes is None:
        return list(range(len(ACTIONS)))
    idx = [_label_index(c, ACTIONS) for c in classes]
    if len(set(idx)) != len(idx) or len(idx) < 2:
        raise ValueError(f"classes must be >= 2 distinct actions, got {list(classes)}")
    return idx


def generate_clips(
    n: int,
    *,
    num_frames: int = 16,
    size: int = 64,
    seed: int = 0,
    split: str = "train",
    classes: Sequence[str | int] | None = None,
    **style,
) -> tuple[np.ndarray, np.ndarray]:
    """In-memory clips: uint8 (n, T, H, W, 3) and int64 labels (n,) indexing ``classes``.

    The same (seed, split, index) gives the same clip as :func:`make_dataset` writes.
    """
    if split not in _SPLIT_IDS:
        raise ValueError(f"unknown split {split!r}: expected one of {list(_SPLIT_IDS)}")
    cls = _class_indices(classes)
    labels = _balanced_labels(n, len(cls), seed, split)
    clips = np.empty((n, num_frames, size, size, 3), dtype=np.uint8)
    for i in range(n):
        clips[i] = render_clip(cls[labels[i]], num_frames, size, _clip_rng(seed, split, i), **style)
    return clips, labels.astype(np.int64)


# Near-lossless H.264: full colour resolution (yuv444p) and quantiser 0. Tiny frames suffer
# badly from the camera default (yuv420p halves the colour resolution), so what the models see
# is what was rendered; docs/demo.md has the measured difference.
_LOSSLESS = {"pix_fmt": "yuv444p", "options": {"qp": "0", "preset": "veryfast"}}


def _write_one(job: tuple) -> None:
    path, action, num_frames, size, fps, seed, split, index, lossless, style = job
    import av  # optional dependency (the "video" extra): only writing files needs it

    frames = render_clip(action, num_frames, size, _clip_rng(seed, split, index), **style)
    if lossless and "libx264" in av.codecs_available:
        write_video(path, frames, fps=fps, codec="libx264", **_LOSSLESS)
    else:
        write_video(path, frames, fps=fps)


def _plan(
    root: Path, counts: dict[str, int], cls: list[int], seed: int, clip_args: tuple
) -> tuple[list[tuple], dict[str, list[str]]]:
    """(render jobs, list-file lines per split); creates the ``videos/<split>`` folders.

    ``clip_args`` = (num_frames, size, fps, lossless, style), the same for every clip.
    """
    num_frames, size, fps, lossless, style = clip_args
    jobs, lines = [], {}
    for split, n in counts.items():
        (root / "videos" / split).mkdir(parents=True, exist_ok=True)
        labels = _balanced_labels(n, len(cls), seed, split)
        rows = []
        for i in range(n):
            rel = f"videos/{split}/{i:06d}.mp4"
            jobs.append(
                (str(root / rel), cls[labels[i]], num_frames, size, fps, seed, split, i,
                 lossless, style)
            )  # fmt: skip
            rows.append(rel if split == "unlabeled" else f"{rel} {int(labels[i])}")
        lines[split] = rows
    return jobs, lines


def _run(jobs: list[tuple], workers: int | None) -> None:
    """Render and encode every job, in ``workers`` processes (in-process for few jobs)."""
    workers = (os.cpu_count() or 1) if workers is None else workers
    if workers <= 1 or len(jobs) < 8:
        for job in jobs:
            _write_one(job)
    else:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            list(pool.map(_write_one, jobs, chunksize=16))


def _write_lists(root: Path, lines: dict[str, list[str]], names: list[str]) -> dict[str, Path]:
    paths: dict[str, Path] = {"root": root}
    for split, rows in lines.items():
        paths[split] = root / f"{split}.txt"
        paths[split].write_text("".join(r + "\n" for r in rows))
    paths["labels"] = root / "labels.txt"
    paths["labels"].write_text("".join(n + "\n" for n in names))
    return paths


def make_dataset(
    out_dir: str | os.PathLike,
    *,
    num_unlabeled: int = 800,
    num_train: int = 80,
    num_val: int = 80,
    num_test: int = 200,
    num_frames: int = 16,
    size: int = 64,
    fps: int = 8,
    seed: int = 0,
    classes: Sequence[str | int] | None = None,
    workers: int | None = None,
    lossless: bool = True,
    **style,
) -> dict[str, Path]:
    """Write mp4 clips and list files under ``out_dir``; return their paths.

    Layout: ``videos/<split>/<index>.mp4`` and, in ``out_dir``,
      ``train.txt`` / ``val.txt`` / ``test.txt``: ``videos/<split>/000012.mp4 <label>`` per line
      (path relative to ``out_dir``, one space, label index into ``labels.txt``), the original
      release's list format;
      ``unlabeled.txt``: the path only per line (pre-training reads only the first column; the
      hidden labels are deliberately not written);
      ``labels.txt``: one class name per line, line i is label i.
    Returns ``{"root", "unlabeled", "train", "val", "test", "labels"}``.
    ``workers`` processes render and encode (default: ``os.cpu_count()``; 1 = in-process).
    ``lossless`` encodes H.264 at full colour resolution and quantiser 0 (decoded frames match
    the rendered ones to rounding); ``False`` writes the camera-like default (yuv420p, CRF 18).
    """
    root = Path(out_dir)
    cls = _class_indices(classes)
    names = [ACTIONS[i] for i in cls]
    counts = {"unlabeled": num_unlabeled, "train": num_train, "val": num_val, "test": num_test}
    for split, n in counts.items():
        if n < 0:
            raise ValueError(f"num_{split} must be >= 0, got {n}")
    jobs, lines = _plan(root, counts, cls, seed, (num_frames, size, fps, lossless, style))
    _run(jobs, workers)
    return _write_lists(root, lines, names)
