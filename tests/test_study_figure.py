"""study.png (videomae.study.figure.plot_study) from a hand-written table."""

from __future__ import annotations

import pytest
from matplotlib.image import imread

from videomae.study.figure import plot_study


def _row(cell, seeds, **fields):
    mean = sum(seeds) / len(seeds)
    std = (sum((s - mean) ** 2 for s in seeds) / (len(seeds) - 1)) ** 0.5 if len(seeds) > 1 else 0.0
    return {"cell": cell, **fields, "finetune_top1": mean, "finetune_top1_std": std,
            "finetune_top1_seeds": list(seeds)}  # fmt: skip


def hand_tables(seeds: int = 3) -> dict:
    """Plausible numbers (not measured): the shape of the three findings."""
    spread = [0.0, 0.02, -0.02][:seeds]
    masking = []
    for kind, base in (("tube", 0.80), ("random", 0.74)):
        for ratio, gain in ((0.5, 0.0), (0.75, 0.08), (0.9, 0.12), (0.95, 0.09)):
            row = _row(f"{kind} masking at {ratio:.0%}", [base + gain + d for d in spread],
                       mask_kind=kind, mask_ratio=ratio, default=(kind, ratio) == ("tube", 0.9))  # fmt: skip
            probe = [base + gain - 0.15 + d for d in spread]
            row.update(probe_top1=sum(probe) / len(probe), probe_top1_std=0.02 if seeds > 1 else 0.0,
                       probe_top1_seeds=probe)  # fmt: skip
            masking.append(row)
    labels = [
        _row(f"{init}, {n} labelled clips", [acc + d for d in spread], init=init, num_labels=n)
        for init, accs in (
            ("pretrained", (0.7, 0.85, 0.95, 0.98)),
            ("scratch", (0.27, 0.3, 0.45, 0.8)),
        )
        for n, acc in zip((50, 100, 200, 800), accs)
    ]
    domain = [
        _row(
            "in-domain, 500 clips",
            [0.9 + d for d in spread],
            pretrain_data="in-domain",
            num_unlabeled=500,
        ),
        _row(
            "shifted (rotate_cw, rotate_ccw, grow, shrink; smooth), 2000 clips",
            [0.6 + d for d in spread],
            pretrain_data="shifted (rotate_cw, rotate_ccw, grow, shrink; smooth)",
            num_unlabeled=2000,
        ),  # fmt: skip
        _row(
            "in-domain, 2000 clips",
            [0.95 + d for d in spread],
            pretrain_data="in-domain",
            num_unlabeled=2000,
        ),
    ]
    return {"masking": masking, "labels": labels, "domain": domain}


@pytest.mark.parametrize("seeds", [1, 3])
def test_figure_from_hand_written_tables(tmp_path, seeds):
    path = plot_study(hand_tables(seeds), tmp_path / "study.png", num_classes=4, title="test")
    image = imread(path)
    assert image.shape[:2] == (600, 1600)
    assert image[..., :3].std() > 0.05  # something is drawn


def test_figure_refuses_empty_tables(tmp_path):
    tables = hand_tables(1)
    tables["labels"] = []
    with pytest.raises(ValueError, match="labels"):
        plot_study(tables, tmp_path / "study.png", num_classes=4)
