"""Synthetic motion-only action clips: determinism, shapes, label-blind first frame, list files."""

from __future__ import annotations

import numpy as np
import pytest

from videomae.data.drawing import BACKGROUNDS
from videomae.data.synthetic import ACTIONS, generate_clips, render_clip


def test_render_shape_dtype_and_determinism():
    a = render_clip(3, 8, 32, np.random.default_rng(7))
    b = render_clip(3, 8, 32, np.random.default_rng(7))
    c = render_clip(3, 8, 32, np.random.default_rng(8))
    assert a.shape == (8, 32, 32, 3) and a.dtype == np.uint8
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_label_name_and_index_agree():
    a = render_clip("grow", 6, 24, np.random.default_rng(1))
    b = render_clip(ACTIONS.index("grow"), 6, 24, np.random.default_rng(1))
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("background", BACKGROUNDS)
@pytest.mark.parametrize("background_motion", [0.0, 1.0])
def test_first_frame_does_not_depend_on_label(background, background_motion):
    # Same generator state, every class: frame 0 identical, later frames differ per class.
    clips = [
        render_clip(
            k,
            8,
            32,
            np.random.default_rng(123),
            background=background,
            background_motion=background_motion,
        )  # fmt: skip
        for k in range(len(ACTIONS))
    ]
    for clip in clips[1:]:
        np.testing.assert_array_equal(clip[0], clips[0][0])
    lasts = {clip[-1].tobytes() for clip in clips}
    assert len(lasts) == len(ACTIONS)


def test_motion_direction_is_what_the_label_says():
    # Centroid of the pixels that change between frames follows the action's direction.
    def centroid_shift(label):
        clip = render_clip(label, 8, 48, np.random.default_rng(5), background="flat")
        f = clip.astype(np.int64)
        obj = np.abs(f - f[0, 0, 0]).sum(-1) > 40  # (T, H, W); corner pixel is background here
        ys, xs = np.mgrid[0:48, 0:48]
        cx = [xs[m].mean() for m in (obj[0], obj[-1])]
        cy = [ys[m].mean() for m in (obj[0], obj[-1])]
        return cx[1] - cx[0], cy[1] - cy[0]

    dx, _ = centroid_shift("move_right")
    assert dx > 5
    dx, _ = centroid_shift("move_left")
    assert dx < -5
    _, dy = centroid_shift("move_down")
    assert dy > 5
    _, dy = centroid_shift("move_up")
    assert dy < -5


def test_moving_background_follows_the_action():
    # Static background: only pixels the object crosses change. background_motion=1: the whole
    # scene moves, so nearly every pixel changes between the first and last frame.
    def changed(amount):
        clip = render_clip(
            "move_right", 8, 32, np.random.default_rng(4), background_motion=amount, frame_noise=0.0
        ).astype(np.int64)
        return (np.abs(clip[-1] - clip[0]).sum(-1) > 0).mean()

    assert changed(0.0) < 0.5
    assert changed(1.0) > 0.9


def test_grow_and_shrink_change_area():
    def area(label, t):
        clip = render_clip(label, 8, 48, np.random.default_rng(2), background="flat")
        clip = clip.astype(np.int64)
        bg = clip[0, 0, 0]  # corner pixel is background in this draw
        return int((np.abs(clip[t] - bg).sum(-1) > 40).sum())

    assert area("grow", -1) > 1.5 * area("grow", 0)
    assert area("shrink", -1) < 0.75 * area("shrink", 0)


def test_generate_clips_balanced_and_reproducible():
    x, y = generate_clips(12, num_frames=4, size=16, seed=3, classes=["move_left", "move_right"])
    x2, y2 = generate_clips(12, num_frames=4, size=16, seed=3, classes=["move_left", "move_right"])
    assert x.shape == (12, 4, 16, 16, 3)
    np.testing.assert_array_equal(x, x2)
    np.testing.assert_array_equal(y, y2)
    assert np.bincount(y).tolist() == [6, 6]
    xv, _ = generate_clips(12, num_frames=4, size=16, seed=3, split="val", classes=[0, 1])
    assert not np.array_equal(x, xv)  # splits never share clips


def test_bad_input_raises():
    with pytest.raises(ValueError, match="unknown action"):
        render_clip("jump", 4, 16, np.random.default_rng(0))
    with pytest.raises(ValueError, match="out of range"):
        render_clip(99, 4, 16, np.random.default_rng(0))
    with pytest.raises(ValueError, match="num_frames"):
        render_clip(0, 1, 16, np.random.default_rng(0))


def test_make_dataset_writes_videos_and_list_files(tmp_path):
    video = pytest.importorskip("videomae.video.write")
    if not hasattr(video, "write_video"):
        pytest.skip("videomae.video.write.write_video not available yet")
    av = pytest.importorskip("av")
    from videomae.data.synthetic import make_dataset

    classes = ["move_up", "move_down", "grow"]
    paths = make_dataset(
        tmp_path, num_unlabeled=4, num_train=3, num_val=3, num_test=6,
        num_frames=8, size=32, fps=8, seed=1, classes=classes, workers=1,
    )  # fmt: skip
    assert paths["labels"].read_text().split() == classes
    unl = paths["unlabeled"].read_text().splitlines()
    assert len(unl) == 4 and all(len(line.split(" ")) == 1 for line in unl)
    for split, n in (("train", 3), ("val", 3), ("test", 6)):
        rows = [line.split(" ") for line in paths[split].read_text().splitlines()]
        assert len(rows) == n and all(len(r) == 2 for r in rows)
        assert sorted(int(r[1]) for r in rows) == sorted(np.arange(n) % 3)
        for rel, _ in rows:
            assert (tmp_path / rel).is_file()
    rel = paths["test"].read_text().split()[0]
    with av.open(str(tmp_path / rel)) as container:
        frames = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
    assert len(frames) == 8 and frames[0].shape == (32, 32, 3)
    # lossless by default: the decoded clip is the rendered clip up to colour-space rounding
    from videomae.data.synthetic import _balanced_labels, _clip_rng

    label = classes[_balanced_labels(6, 3, 1, "test")[0]]
    want = render_clip(label, 8, 32, _clip_rng(1, "test", 0))
    assert np.abs(np.stack(frames).astype(int) - want).max() <= 3
