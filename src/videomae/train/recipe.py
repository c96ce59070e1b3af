"""What the two recipes share after training: the exported folders, the summary, the CLI entry.

A finished run leaves ``out_dir/final`` (the model as a complete folder, see
:mod:`videomae.folder`: weights, preprocessor_config.json with the run's frames, sampling rate
and normalisation, README.md card, training_args.json), ``out_dir/final-ema`` (the EMA weights,
when ``ema_decay`` is set) and ``out_dir/summary.json``; a run started from the command line
also saves its effective settings (``out_dir/config.yaml`` or ``.json``), which ``--config``
takes back to repeat it. :func:`inherit_geometry` gives a run started from ``--init`` the
pre-trained model's frames, image size, patch and tubelet.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import torch

from videomae._io import atomic_write_text
from videomae.folder import trained_geometry, trained_processor, write_model_folder
from videomae.modeling.model_card import CardFacts
from videomae.runtime import resolve_device
from videomae.train import distributed as D
from videomae.train.args import cli_values, parse_run
from videomae.train.config import config_dict
from videomae.train.loop import TrainResult
from videomae.train.settings import save_settings, settings_format
from videomae.train.sharding import plain_model

logger = logging.getLogger("videomae")

#: what a run uses when neither a flag nor the ``--init`` folder says otherwise
GEOMETRY_DEFAULTS = {
    "num_frames": 16,
    "input_size": 224,
    "patch_size": 16,
    "tubelet_size": 2,
    "sampling_rate": 4,
    "strategy": "dense",
}
# run config field -> key of trained_geometry()
_GEOMETRY_KEYS = {"input_size": "image_size"}


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


def inherit_geometry(cfg: Any) -> Any:
    """``cfg`` with each unset (None) geometry field taken from ``cfg.init``, else the default.

    An explicit value that differs from the ``--init`` model's is kept, with a warning: the
    position table is then interpolated and the model sees clips unlike its pre-training ones.
    """
    trained = trained_geometry(cfg.init) if cfg.init else {}
    values = {}
    for name, default in GEOMETRY_DEFAULTS.items():
        given, was = getattr(cfg, name), trained.get(_GEOMETRY_KEYS.get(name, name))
        if given is not None and was is not None and given != was:
            logger.warning(
                "--%s %s differs from the %s of the --init model %s; it will be adapted "
                "(position table interpolated) rather than used as pre-trained",
                name.replace("_", "-"),
                given,
                was,
                cfg.init,
            )
        values[name] = given if given is not None else (was if was is not None else default)
    return dataclasses.replace(cfg, **values)


def _card_facts(cfg: Any, metrics: Mapping[str, Any] | None) -> CardFacts:
    data = getattr(cfg, "train_data", None) or getattr(cfg, "data", None)
    recipe = "videomae finetune" if hasattr(cfg, "train_data") else "videomae pretrain"
    metrics = dict(metrics or {})
    training = {
        "recipe": recipe,
        "started from": cfg.init or f"random weights ({cfg.model} preset)",
        "training data": data,
        "steps": metrics.get("step"),
        "clip": f"{cfg.num_frames} frames, sampling rate {cfg.sampling_rate} ({cfg.strategy})",
        "input size": cfg.input_size,
        "precision": cfg.precision,
        "settings": "training_args.json in this folder",
    }
    dataset = Path(str(data)).name if data else None
    return CardFacts(training=training, metrics=metrics, base_model=cfg.init, dataset=dataset)


def save_model(
    model: torch.nn.Module,
    path: Path,
    metrics: Mapping[str, Any] | None = None,
    *,
    cfg: Any = None,
) -> None:
    """``model`` (unwrapped from DDP / compile) as a complete folder; with the run's ``cfg``
    its processor records the clip and the card the run and ``metrics``."""
    base = D.unwrap(model)
    if cfg is None:
        write_model_folder(base, path)
        return
    proc = None
    if int(base.config.num_channels) == 3:
        proc = trained_processor(
            base.config, sampling_rate=cfg.sampling_rate, strategy=cfg.strategy
        )
    facts = _card_facts(cfg, metrics)
    write_model_folder(base, path, processor=proc, facts=facts, settings=config_dict(cfg))


def export_ema(model: torch.nn.Module, result: TrainResult, path: Path, cfg: Any = None) -> None:
    """Save the EMA weights of ``result`` as a second complete folder."""
    if result.ema_state is None:
        return
    base = D.unwrap(model)
    current = {k: v.detach().clone() for k, v in base.state_dict().items()}
    base.load_state_dict(result.ema_state)
    save_model(base, path, cfg=cfg)
    base.load_state_dict(current)


def export_run(
    model: torch.nn.Module,
    result: TrainResult,
    cfg: Any,
    extra: dict[str, Any],
    metrics: Mapping[str, Any] | None = None,
) -> Path:
    """Write final/, final-ema/ and summary.json on rank 0 (``extra`` joins the summary); a
    sharded model is gathered whole first, on every rank."""
    out = Path(cfg.out_dir)
    final = out / "final"
    is_main = D.get_info().is_main
    whole = plain_model(D.unwrap(model), is_main)
    if is_main:
        save_model(whole, final, {"step": result.step, **(metrics or {})}, cfg=cfg)
        export_ema(whole, result, out / "final-ema", cfg)
        write_summary(result, out / "summary.json", {"final_model": str(final), **extra})
    D.barrier()
    return final


def run_cli(
    cls: type, prog: str, run: Callable[[Any], Path], done: str, argv: Sequence[str] | None
) -> int:
    """Parse ``cls`` from ``argv`` (and ``--config``), save the effective settings in the run's
    folder, ``run`` it, print ``done`` and the folder; leave the process group."""
    cfg, source = parse_run(cls, prog, argv)
    if cfg.device is not None:
        resolve_device(cfg.device)  # a device that is not there fails before any work
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
