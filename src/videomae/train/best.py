"""The best model of a run and early stopping: which validation is best, when patience is
spent, and writing ``best/`` so the model and its record change together."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

from videomae._io import atomic_write_text
from videomae.errors import ConfigError
from videomae.train.state import RunState

__all__ = ["check_early_stop", "export_best", "patience_spent", "track_best"]


def check_early_stop(patience: int, eval_fn: Any, best_metric: str | None) -> None:
    """Early stopping needs a validation and a metric to watch."""
    if patience and (eval_fn is None or not best_metric):
        raise ConfigError(
            "early_stop needs validation: give validation data (--val-data) or drop --early-stop"
        )


def track_best(state: RunState, best_metric: str | None, row: dict[str, Any]) -> bool:
    """Update ``state.best`` from a validation row; True when it improved (higher is better)."""
    if not best_metric or best_metric not in row:
        return False
    value = float(row[best_metric])
    if state.best is not None and not value > state.best["value"]:
        return False
    state.best = {"metric": best_metric, "value": value, **row}
    return True


def patience_spent(patience: int, state: RunState, best_dir: Path) -> str | None:
    """The message to print when ``patience`` validations passed without a new best, else None."""
    best = state.best
    if not patience or best is None:
        return None
    since = sum(1 for r in state.eval_history if r["step"] > best["step"])
    if since < patience:
        return None
    return (
        f"early stop at step {state.step}: {best['metric']} has not improved for {since} "
        f"validations (best {best['value']:.4g} at step {best['step']}, saved in {best_dir})"
    )


def export_best(
    best_dir: Path,
    model: torch.nn.Module,
    export_fn: Callable[[torch.nn.Module, Path, dict[str, Any]], Any],
    best: dict[str, Any],
) -> None:
    """Write ``best/`` through ``export_fn`` (a complete model folder, swapped in as a whole),
    then its record ``best.txt`` (atomically, right after)."""
    export_fn(model, best_dir, best)
    atomic_write_text(best_dir / "best.txt", "".join(f"{k}: {v}\n" for k, v in best.items()))
