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

SHAPES: tuple[str, ...] = ("rectangle", "ellipse", "triangle", "cross", "diamond")
BACKGROUNDS: tuple[str, ...] = ("texture", "noise", "smooth", "flat")

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


def _upsample(grid: np.ndarray, size: int) -> np.ndarray:
    """Bilinear upsampling of a (g, g, C) grid to (size, size, C), corners aligned."""
    g = grid.shape[0]
    pos = np.linspace(0.0, g - 1.0, size)
    i0 = np.clip(np.floor(pos).astype(np.int64), 0, g - 2)
    f = (pos - i0)[:, None]
    rows = grid[i0] * (1.0 - f[..., None]) + grid[i0 + 1] * f[..., None]  # (size, g, C)
    cols = rows[:, i0] * (1.0 - f[None, :, :]) + rows[:, i0 + 1] * f[None, :, :]
    return cols  # (size, size, C)


def _background(
    kind: str, size: int, rng: np.random.Generator, canvas: int | None = None
) -> np.ndarray:
    """A static (canvas, canvas, 3) float background in [0, 1]; ``canvas`` defaults to ``size``.

    Texture scales are set relative to the frame ``size``, so a larger canvas (for a moving
    background) has the same look, only more of it.
    """
    canvas = canvas or size
    k = canvas / size
    base = rng.uniform(0.15, 0.85, size=3)
    if kind == "flat":
        return np.broadcast_to(base, (canvas, canvas, 3)).copy()
    coarse = _upsample(rng.uniform(-1, 1, size=(max(2, round(4 * k)),) * 2 + (3,)), canvas)
    if kind == "smooth":
        return np.clip(base + 0.25 * coarse, 0.0, 1.0)
    cells = max(2, canvas // 4)
    fine = _upsample(rng.uniform(-1, 1, size=(cells, cells, 3)), canvas)
    if kind == "texture":
        return np.clip(base + 0.18 * coarse + 0.18 * fine, 0.0, 1.0)
    if kind == "noise":
        return np.clip(base + 0.12 * coarse + 0.25 * rng.uniform(-1, 1, (canvas, canvas, 3)), 0, 1)
    raise ValueError(f"unknown background {kind!r}: expected one of {list(BACKGROUNDS)}")


def _shape_mask(shape: str, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Inside test in canonical object coordinates, object spans about [-1, 1]^2."""
    au, av = np.abs(u), np.abs(v)
    if shape == "rectangle":  # a bar, long along u: rotation is visible from the outline too
        return (au <= 1.0) & (av <= 0.55)
    if shape == "ellipse":
        return (u / 1.0) ** 2 + (v / 0.6) ** 2 <= 1.0
    if shape == "triangle":  # apex up, base at v = +0.8 (image v grows downwards)
        return (v >= -1.0) & (v <= 0.8) & (au <= 0.55 * (v + 1.0))
    if shape == "cross":
        return ((au <= 1.0) & (av <= 0.3)) | ((au <= 0.3) & (av <= 0.75))
    if shape == "diamond":
        return au / 1.0 + av / 0.65 <= 1.0
    raise ValueError(f"unknown shape {shape!r}: expected one of {list(SHAPES)}")


def _moved_background(
    bg: np.ndarray,
    xx: np.ndarray,
    yy: np.ndarray,
    size: int,
    off: float,
    amount: float,
    motion: tuple[float, float, float, float],
) -> np.ndarray:
    """Sample the (canvas, canvas, 3) background moved by ``amount`` x the object's motion.

    ``motion`` = (dx, dy, dangle, zoom) of the object since frame 0; the background is shifted,
    rotated and zoomed the same way (times ``amount``) about the frame centre. Nearest sampling.
    """
    dx, dy, dang, zoom = motion
    c = size / 2.0
    px, py = xx - c - amount * dx, yy - c - amount * dy  # undo the translation
    a = -amount * dang  # undo the rotation
    z = zoom**amount
    qx = (np.cos(a) * px - np.sin(a) * py) / z + c + off
    qy = (np.sin(a) * px + np.cos(a) * py) / z + c + off
    n = bg.shape[0]
    ix = np.clip(qx.astype(np.int64), 0, n - 1)
    iy = np.clip(qy.astype(np.int64), 0, n - 1)
    return bg[iy, ix]


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

    Style knobs: ``background`` (one of :data:`BACKGROUNDS`), ``object_texture`` (blocky random
    texture on the object, else flat colour), ``frame_noise`` (std of i.i.d. per-frame pixel
    noise), ``min_scale``/``max_scale`` (object half-size as a fraction of the frame),
    ``travel`` (fraction of the frame a moving object crosses over the clip), ``turn``
    (rotation over the clip, in half-turns), ``zoom`` (total scale factor for grow/shrink),
    ``num_distractors`` (static textured blobs; they never move, so they carry no class),
    ``background_motion`` (0 = static background; 1 = the background undergoes the same motion
    as the object, about the frame centre, so every pixel carries the action).
    """
    if rng is None:
        rng = np.random.default_rng()
    if num_frames < 2:
        raise ValueError(f"num_frames must be >= 2 to show motion, got {num_frames}")
    if size < 8:
        raise ValueError(f"size must be >= 8 pixels, got {size}")
    action = ACTIONS[_label_index(label, ACTIONS)]

    # ---- every random draw, label-independent ----
    canvas = 2 * size if background_motion else size  # room for the background to move
    bg = _background(background, size, rng, canvas)  # (canvas, canvas, 3)
    shape = SHAPES[rng.integers(len(SHAPES))]
    colour = rng.uniform(0.0, 1.0, size=3)
    if np.abs(colour - bg.mean(axis=(0, 1))).max() < 0.35:  # keep contrast with the background
        colour = (colour + 0.5) % 1.0
    tex_cells = int(rng.integers(3, 7))
    tex = rng.uniform(0.45, 1.0, size=(tex_cells, tex_cells, 1))  # blocky object texture
    scale0 = rng.uniform(min_scale, max_scale) * size  # half-size in pixels
    angle0 = rng.uniform(0.0, 2.0 * np.pi)
    aspect = rng.uniform(0.8, 1.25)
    cx0, cy0 = rng.uniform(0.3, 0.7, size=2) * size
    dist = rng.uniform(*travel) * size
    dtheta = rng.uniform(*turn) * np.pi
    zfac = rng.uniform(*zoom)
    distractors = []
    for _ in range(num_distractors):
        distractors.append(
            (
                SHAPES[rng.integers(len(SHAPES))],
                rng.uniform(0.0, 1.0, size=3),
                rng.uniform(0.08, 0.14) * size,
                rng.uniform(0.0, 2.0 * np.pi),
                rng.uniform(0.1, 0.9, size=2) * size,
            )
        )
    noise = frame_noise * rng.standard_normal((num_frames, size, size, 3))

    # ---- motion: the only place the label enters ----
    s = np.linspace(0.0, 1.0, num_frames)  # clip progress per frame
    cx = np.full(num_frames, cx0)
    cy = np.full(num_frames, cy0)
    ang = np.full(num_frames, angle0)
    scale = np.full(num_frames, scale0)
    if action == "move_left":
        cx = cx0 - dist * s
    elif action == "move_right":
        cx = cx0 + dist * s
    elif action == "move_up":
        cy = cy0 - dist * s
    elif action == "move_down":
        cy = cy0 + dist * s
    elif action == "rotate_cw":  # clockwise on screen: image y points down, so angle grows
        ang = angle0 + dtheta * s
    elif action == "rotate_ccw":
        ang = angle0 - dtheta * s
    elif action == "grow":
        scale = scale0 * zfac**s
    elif action == "shrink":
        scale = scale0 * zfac ** (-s)

    yy, xx = np.meshgrid(np.arange(size) + 0.5, np.arange(size) + 0.5, indexing="ij")
    frames = np.empty((num_frames, size, size, 3), dtype=np.float64)
    off = (canvas - size) / 2.0
    static = bg[int(off) : int(off) + size, int(off) : int(off) + size].copy()  # (H, W, 3)
    for d_shape, d_col, d_scale, d_ang, (dx, dy) in distractors:
        c, sn = np.cos(d_ang), np.sin(d_ang)
        u = (c * (xx - dx) + sn * (yy - dy)) / d_scale
        v = (-sn * (xx - dx) + c * (yy - dy)) / d_scale
        static[_shape_mask(d_shape, u, v)] = d_col
    for t in range(num_frames):
        c, sn = np.cos(ang[t]), np.sin(ang[t])
        dx, dy = xx - cx[t], yy - cy[t]
        u = (c * dx + sn * dy) / (scale[t] * aspect)  # (H, W) object coordinates
        v = (-sn * dx + c * dy) / (scale[t] / aspect)
        inside = _shape_mask(shape, u, v)
        if background_motion:
            frame = _moved_background(
                bg, xx, yy, size, off, background_motion,
                (cx[t] - cx0, cy[t] - cy0, ang[t] - angle0, scale[t] / scale0),
            )  # fmt: skip
        else:
            frame = static.copy()
        if object_texture:
            iu = np.clip(((u + 1.0) * 0.5 * tex_cells).astype(np.int64), 0, tex_cells - 1)
            iv = np.clip(((v + 1.0) * 0.5 * tex_cells).astype(np.int64), 0, tex_cells - 1)
            frame[inside] = colour * tex[iv[inside], iu[inside]]
        else:
            frame[inside] = colour
        frames[t] = frame
    frames += noise
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
# badly from the camera default (yuv420p halves the colour resolution: a 32 x 32 demo clip
# decodes at 27.9 dB PSNR; this setting gives 52.1 dB, the rounding of the RGB <-> YUV
# conversion), so what the models see is what was rendered.
_LOSSLESS = {"pix_fmt": "yuv444p", "options": {"qp": "0", "preset": "veryfast"}}


def _write_one(job: tuple) -> None:
    path, action, num_frames, size, fps, seed, split, index, lossless, style = job
    import av

    from videomae.video.write import write_video

    frames = render_clip(action, num_frames, size, _clip_rng(seed, split, index), **style)
    if lossless and "libx264" in av.codecs_available:
        write_video(path, frames, fps=fps, codec="libx264", **_LOSSLESS)
    else:
        write_video(path, frames, fps=fps)


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
    jobs, lines = [], {}
    for split, n in counts.items():
        (root / "videos" / split).mkdir(parents=True, exist_ok=True)
        labels = _balanced_labels(n, len(cls), seed, split)
        rows = []
        for i in range(n):
            rel = f"videos/{split}/{i:06d}.mp4"
            jobs.append(
                (
                    str(root / rel),
                    cls[labels[i]],
                    num_frames,
                    size,
                    fps,
                    seed,
                    split,
                    i,
                    lossless,
                    style,
                )
            )
            rows.append(rel if split == "unlabeled" else f"{rel} {int(labels[i])}")
        lines[split] = rows
    workers = (os.cpu_count() or 1) if workers is None else workers
    if workers <= 1 or len(jobs) < 8:
        for job in jobs:
            _write_one(job)
    else:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            list(pool.map(_write_one, jobs, chunksize=16))
    paths: dict[str, Path] = {"root": root}
    for split, rows in lines.items():
        paths[split] = root / f"{split}.txt"
        paths[split].write_text("".join(r + "\n" for r in rows))
    paths["labels"] = root / "labels.txt"
    paths["labels"].write_text("".join(n + "\n" for n in names))
    return paths
