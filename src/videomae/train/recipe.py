"""What the two recipes share after training: the exported folders, the summary, the CLI entry.

A finished run leaves ``out_dir/final`` (the model as a save_pretrained folder),
``out_dir/final-ema`` (the EMA weights, when ``ema_decay`` is set) and ``out_dir/summary.json``;
a run started from the command line also saves its effective settings (``out_dir/config.yaml``
or ``.json``), which ``--config`` takes back to repeat it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import torch

from videomae._io import atomic_write_text
from videomae.train import distributed as D
from videomae.train.args import cli_values, parse_run
from videomae.train.loop import TrainResult
from videomae.train.settings import save_settings, settings_format


def write_summary(result: TrainResult, path: Path, extra: dict[str, Any] | None = None) -> Path:
    """A JSON summary of a finished run (final loss, steps, bad files with line numbers)."""
    summary = {
        "step": result.step,
        "final_loss": result.final_loss,
        "resumed_from": str(result.resumed_from) if result.resumed_from else None,
        "last_checkpoint": str(result.last_checkpoint) if result.last_checkpoint else None,
        "num_bad_files": len(result.bad_samples),
        "bad_files": list(result.bad_samples.values()),
        "best": result.best,
        **(extra or {}),
    }
    return atomic_write_text(path, json.dumps(summary, indent=2, default=str) + "\n")


def save_model(model: torch.nn.Module, path: Path) -> None:
    """``model`` (unwrapped from DDP / compile) as a save_pretrained folder."""
    D.unwrap(model).save_pretrained(path)


def export_ema(model: torch.nn.Module, result: TrainResult, path: Path) -> None:
    """Save the EMA weights of ``result`` as a second save_pretrained folder."""
    if result.ema_state is None:
        return
    base = D.unwrap(model)
    current = {k: v.detach().clone() for k, v in base.state_dict().items()}
    base.load_state_dict(result.ema_state)
    base.save_pretrained(path)
    base.load_state_dict(current)


def export_run(
    model: torch.nn.Module, result: TrainResult, out_dir: str, extra: dict[str, Any]
) -> Path:
    """Write final/, final-ema/ and summary.json on rank 0 (``extra`` joins the summary)."""
    out = Path(out_dir)
    final = out / "final"
    if D.get_info().is_main:
        save_model(model, final)
        export_ema(model, result, out / "final-ema")
        write_summary(result, out / "summary.json", {"final_model": str(final), **extra})
    D.barrier()
    return final


def run_cli(
    cls: type, prog: str, run: Callable[[Any], Path], done: str, argv: Sequence[str] | None
) -> int:
    """Parse ``cls`` from ``argv`` (and ``--config``), save the effective settings in the run's
    folder, ``run`` it, print ``done`` and the folder; leave the process group."""
    cfg, source = parse_run(cls, prog, argv)
    if D.env_rank() == 0:
        fmt = settings_format(source) if source else None
        saved = save_settings(cli_values(cfg), cfg.out_dir, fmt)
        print(f"settings saved to {saved} (repeat the run with --config {saved})")
    try:
        final = run(cfg)
        if D.get_info().is_main:
            print(f"{done} {final}")
    finally:
        D.cleanup()
    return 0
