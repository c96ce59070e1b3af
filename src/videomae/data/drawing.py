"""The scene of one synthetic clip (:mod:`videomae.data.synthetic`) and how it is drawn, in numpy.

``draw_scene`` makes every random draw of a clip (appearance, speeds, noise) in a fixed order;
the primitives draw textured backgrounds, test which pixels are inside each object shape (in the
object's own coordinates), map the pixel grid into those coordinates, and move the background
with the object.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

SHAPES: tuple[str, ...] = ("rectangle", "ellipse", "triangle", "cross", "diamond")
BACKGROUNDS: tuple[str, ...] = ("texture", "noise", "smooth", "flat")


def upsample(grid: np.ndarray, size: int) -> np.ndarray:
    """Bilinear upsampling of a (g, g, C) grid to (size, size, C), corners aligned."""
    g = grid.shape[0]
    pos = np.linspace(0.0, g - 1.0, size)
    i0 = np.clip(np.floor(pos).astype(np.int64), 0, g - 2)
    f = (pos - i0)[:, None]
    rows = grid[i0] * (1.0 - f[..., None]) + grid[i0 + 1] * f[..., None]  # (size, g, C)
    cols = rows[:, i0] * (1.0 - f[None, :, :]) + rows[:, i0 + 1] * f[None, :, :]
    return cols  # (size, size, C)


def draw_background(
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
    coarse = upsample(rng.uniform(-1, 1, size=(max(2, round(4 * k)),) * 2 + (3,)), canvas)
    if kind == "smooth":
        return np.clip(base + 0.25 * coarse, 0.0, 1.0)
    cells = max(2, canvas // 4)
    fine = upsample(rng.uniform(-1, 1, size=(cells, cells, 3)), canvas)
    if kind == "texture":
        return np.clip(base + 0.18 * coarse + 0.18 * fine, 0.0, 1.0)
    if kind == "noise":
        return np.clip(base + 0.12 * coarse + 0.25 * rng.uniform(-1, 1, (canvas, canvas, 3)), 0, 1)
    raise ValueError(f"unknown background {kind!r}: expected one of {list(BACKGROUNDS)}")


def shape_mask(shape: str, u: np.ndarray, v: np.ndarray) -> np.ndarray:
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


def moved_background(
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


def object_coords(
    xx: np.ndarray, yy: np.ndarray, centre: tuple, angle: float, scale: float, aspect: float
) -> tuple[np.ndarray, np.ndarray]:
    """Pixel grid -> canonical (u, v) coordinates of an object (see :func:`shape_mask`)."""
    c, sn = np.cos(angle), np.sin(angle)
    dx, dy = xx - centre[0], yy - centre[1]
    u = (c * dx + sn * dy) / (scale * aspect)
    v = (-sn * dx + c * dy) / (scale / aspect)
    return u, v


@dataclass(frozen=True)
class Scene:
    """Every random draw of one clip, made before the label is looked at."""

    bg: np.ndarray  # (canvas, canvas, 3) background in [0, 1]
    shape: str
    colour: np.ndarray  # (3,)
    tex: np.ndarray  # (cells, cells, 1) blocky object texture
    scale0: float  # object half-size in pixels at frame 0
    angle0: float
    aspect: float
    cx0: float
    cy0: float
    dist: float  # pixels a moving object travels over the clip
    dtheta: float  # radians a rotating object turns over the clip
    zfac: float  # total scale factor of grow / shrink
    distractors: list[tuple]  # (shape, colour, half-size, angle, (x, y)) per static blob
    noise: np.ndarray  # (T, H, W, 3) per-frame pixel noise


def draw_scene(
    rng: np.random.Generator,
    num_frames: int,
    size: int,
    canvas: int,
    *,
    background: str,
    frame_noise: float,
    min_scale: float,
    max_scale: float,
    travel: tuple[float, float],
    turn: tuple[float, float],
    zoom: tuple[float, float],
    num_distractors: int,
) -> Scene:
    """Draw the scene of one clip from ``rng``, in a fixed order (the clip's identity)."""
    bg = draw_background(background, size, rng, canvas)  # (canvas, canvas, 3)
    shape = SHAPES[rng.integers(len(SHAPES))]
    colour = rng.uniform(0.0, 1.0, size=3)
    if np.abs(colour - bg.mean(axis=(0, 1))).max() < 0.35:  # keep contrast with the background
        colour = (colour + 0.5) % 1.0
    tex_cells = int(rng.integers(3, 7))
    tex = rng.uniform(0.45, 1.0, size=(tex_cells, tex_cells, 1))
    scale0 = rng.uniform(min_scale, max_scale) * size
    angle0 = rng.uniform(0.0, 2.0 * np.pi)
    aspect = rng.uniform(0.8, 1.25)
    cx0, cy0 = rng.uniform(0.3, 0.7, size=2) * size
    dist = rng.uniform(*travel) * size
    dtheta = rng.uniform(*turn) * np.pi
    zfac = rng.uniform(*zoom)
    distractors = [
        (
            SHAPES[rng.integers(len(SHAPES))],
            rng.uniform(0.0, 1.0, size=3),
            rng.uniform(0.08, 0.14) * size,
            rng.uniform(0.0, 2.0 * np.pi),
            rng.uniform(0.1, 0.9, size=2) * size,
        )
        for _ in range(num_distractors)
    ]
    noise = frame_noise * rng.standard_normal((num_frames, size, size, 3))
    return Scene(
        bg, shape, colour, tex, scale0, angle0, aspect, cx0, cy0, dist, dtheta, zfac,
        distractors, noise,
    )  # fmt: skip
