"""The study's videos on disk: each dataset of the plan generated once per seed, and the
subset lists the cells read.

The label-count cells and the small in-domain pool do not generate data of their own: they
read the first clips of the target's lists. A training subset of N clips takes, in list
order, the first N // K clips of each of the K classes (the first N % K classes one more), so
every smaller set lies inside every larger one and stays class-balanced. The small unlabeled
pool is the first N lines of the target's ``unlabeled.txt``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from videomae._io import atomic_write_text
from videomae.demo_recipe import generate_data
from videomae.study.cells import SHIFTED, TARGET, StudyPlan

__all__ = ["balanced_first", "prepare_data", "shifted_seed", "unlabeled_list"]


def shifted_seed(seed: int) -> int:
    """The shifted dataset's seed: another stream than the target's, so clip i of the two
    pools does not share its object, colours and start position."""
    return seed + 100_003


def balanced_first(lines: Sequence[str], n: int, num_classes: int) -> list[str]:
    """The first ``n`` ``path label`` lines, class-balanced (see the module docstring)."""
    if n > len(lines):
        raise ValueError(f"asked for {n} clips, but the list holds only {len(lines)}")
    quota = [n // num_classes + (1 if c < n % num_classes else 0) for c in range(num_classes)]
    picked = []
    for line in lines:
        label = int(line.split()[-1])
        if quota[label] > 0:
            quota[label] -= 1
            picked.append(line)
    if len(picked) != n:
        raise ValueError(f"the list has too few clips of some class for {n} balanced clips")
    return picked


def _write_list(path: Path, lines: Sequence[str]) -> Path:
    atomic_write_text(path, "".join(line + "\n" for line in lines))
    return path


def prepare_data(
    data_dir: Path, plan: StudyPlan, seed: int, workers: int
) -> dict[str, dict[str, Path]]:
    """Generate every dataset of ``plan`` under ``data_dir/<name>`` and write the subset lists.

    Returns, per dataset, its paths (``make_dataset``'s, plus ``train-<N>`` and
    ``unlabeled-<N>`` subset lists, and ``root``).
    """
    out: dict[str, dict[str, Path]] = {}
    for name, spec in plan.data.items():
        data_seed = shifted_seed(seed) if name == SHIFTED else seed
        out[name] = dict(generate_data(data_dir / name, spec, data_seed, workers))
    for name, paths in out.items():
        unlabeled = paths["unlabeled"].read_text().splitlines()
        for cell in plan.pretrain.values():
            if cell.data == name and cell.num_unlabeled < len(unlabeled):
                sub = paths["root"] / f"unlabeled-{cell.num_unlabeled}.txt"
                paths[f"unlabeled-{cell.num_unlabeled}"] = _write_list(
                    sub, unlabeled[: cell.num_unlabeled]
                )
    target = out[TARGET]
    train = target["train"].read_text().splitlines()
    counts = {c.num_labels for c in (*plan.finetune.values(), *plan.probe.values())}
    for n in sorted(counts):
        sub = target["root"] / f"train-{n}.txt"
        target[f"train-{n}"] = _write_list(sub, balanced_first(train, n, plan.num_classes))
    return out


def unlabeled_list(paths: dict[str, Path], n: int) -> Path:
    """The list of the first ``n`` unlabeled clips (the whole list when there is no subset)."""
    return paths.get(f"unlabeled-{n}", paths["unlabeled"])
