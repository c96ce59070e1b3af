"""The study's subset lists (videomae.study.data.balanced_first): nested, balanced."""

from __future__ import annotations

import pytest

from videomae.study.data import balanced_first, shifted_seed

LINES = [
    f"videos/train/{i:06d}.mp4 {label}"
    for i, label in enumerate([2, 0, 0, 1, 3, 1, 2, 3, 0, 1, 2, 3])
]


def _labels(lines):
    return [int(line.split()[-1]) for line in lines]


def test_balanced_first_is_balanced_and_nested():
    eight = balanced_first(LINES, 8, 4)
    assert sorted(_labels(eight)) == [0, 0, 1, 1, 2, 2, 3, 3]
    four = balanced_first(LINES, 4, 4)
    assert set(four) <= set(eight)
    assert [line for line in LINES if line in eight] == eight  # list order kept
    five = balanced_first(LINES, 5, 4)
    assert sorted(_labels(five)) == [0, 0, 1, 2, 3]


def test_balanced_first_refuses_too_many():
    with pytest.raises(ValueError, match="holds only"):
        balanced_first(LINES, 13, 4)
    with pytest.raises(ValueError, match="too few clips of some class"):
        balanced_first(LINES[:4], 4, 4)


def test_shifted_seed_differs():
    assert shifted_seed(0) != 0 and shifted_seed(1) != shifted_seed(0)
