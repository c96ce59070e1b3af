"""What a person sees of a run while it trains: progress, validation results, TensorBoard.

On rank 0 only. In a terminal a progress bar (loss, lr, clips/s in its postfix); when the output
is not a terminal (a log file, CI) a plain line every ``log_every`` steps instead of thousands of
bar redraws; nothing of either with ``progress=False`` (``-q``). Every validation prints one
line (top-1, top-5, mean class accuracy, loss, best so far) whatever ``progress`` says. With
``tensorboard`` set, the same numbers (and any picture a recipe sends) go to event files.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Mapping
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from videomae.errors import ConfigError

# How validation metrics read on the console: key -> (name, shown as a percentage)
METRIC_NAMES: dict[str, tuple[str, bool]] = {
    "val_top1": ("top-1", True),
    "val_top5": ("top-5", True),
    "val_mean_class": ("mean class", True),
    "val_loss": ("loss", False),
}
_NOT_METRICS = ("step", "epoch")


def open_tensorboard(log_dir: str) -> Any:
    """A ``torch.utils.tensorboard.SummaryWriter`` on ``log_dir``; ConfigError without the extra."""
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:
        raise ConfigError(
            f"--tensorboard {log_dir} needs the tensorboard package: "
            "pip install 'videomae[tensorboard]' (or drop --tensorboard)"
        ) from None
    return SummaryWriter(log_dir=log_dir)


def format_value(key: str, value: Any) -> str:
    """``top-1 62.50%`` / ``loss 0.8123`` / ``other 1.234``."""
    name, percent = METRIC_NAMES.get(key, (key, False))
    if percent:
        return f"{name} {float(value):.2f}%"
    return f"{name} {float(value):.4g}"


def validation_line(row: Mapping[str, Any], best: Mapping[str, Any] | None) -> str:
    """One console line for a validation row, known metrics first, then the best so far."""
    keys = [k for k in METRIC_NAMES if k in row]
    keys += [k for k in row if k not in METRIC_NAMES and k not in _NOT_METRICS]
    text = f"validation @ step {row['step']} (epoch {row['epoch'] + 1}): "
    text += "  ".join(format_value(k, row[k]) for k in keys)
    if best is not None:
        text += f"  | best {format_value(best['metric'], best['value'])} (step {best['step']})"
    return text


def _duration(seconds: float) -> str:
    seconds = int(max(seconds, 0))
    h, rest = divmod(seconds, 3600)
    return f"{h}h{rest // 60:02d}m" if h else f"{rest // 60}m{rest % 60:02d}s"


class RunWatch:
    """The console and TensorBoard side of one run (inactive on ranks other than 0)."""

    def __init__(self, cfg: Any, total: int, initial: int, is_main: bool) -> None:
        self.active = is_main
        self.total, self.initial, self.t0 = total, initial, time.perf_counter()
        show = bool(cfg.progress) and is_main
        self.bar = None
        if show and sys.stderr.isatty():
            self.bar = tqdm(total=total, initial=initial, desc="train", dynamic_ncols=True)
        self.plain_lines = show and self.bar is None
        self.writer = open_tensorboard(cfg.tensorboard) if is_main and cfg.tensorboard else None

    def say(self, text: str) -> None:
        """A line on stdout that does not break the progress bar."""
        if self.active:
            tqdm.write(text, file=sys.stdout)
            sys.stdout.flush()

    def stepped(self) -> None:
        if self.bar is not None:
            self.bar.update(1)

    def logged(self, row: Mapping[str, Any]) -> None:
        """A metrics row: bar postfix or a plain line; train/* scalars in TensorBoard."""
        step = row["step"]
        if self.bar is not None:
            self.bar.set_postfix(
                loss=f"{row['loss']:.4f}",
                lr=f"{row['lr']:.2e}",
                clips_s=f"{row['clips_per_s']:.1f}",
            )
        elif self.plain_lines:
            done = step - self.initial
            eta = (time.perf_counter() - self.t0) / max(done, 1) * (self.total - step)
            self.say(
                f"step {step}/{self.total} ({100 * step / self.total:.0f}%)  loss "
                f"{row['loss']:.4f}  lr {row['lr']:.2e}  {row['clips_per_s']:.1f} clips/s  "
                f"eta {_duration(eta)}"
            )
        if self.writer is not None:
            for k, v in row.items():
                if k not in _NOT_METRICS:
                    self.writer.add_scalar(f"train/{k}", float(v), step)

    def validated(self, row: Mapping[str, Any], best: Mapping[str, Any] | None) -> None:
        """A validation row: one console line; val/* scalars in TensorBoard."""
        self.say(validation_line(row, best))
        if self.writer is not None:
            for k, v in row.items():
                if k not in _NOT_METRICS:
                    self.writer.add_scalar(f"val/{k.removeprefix('val_')}", float(v), row["step"])
            self.writer.flush()

    def image(self, tag: str, image: np.ndarray, step: int) -> None:
        """An (H, W, 3) uint8 picture in TensorBoard (nothing without ``tensorboard``)."""
        if self.writer is not None:
            self.writer.add_image(tag, image, step, dataformats="HWC")
            self.writer.flush()

    @property
    def wants_images(self) -> bool:
        return self.writer is not None

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
        if self.writer is not None:
            self.writer.close()
