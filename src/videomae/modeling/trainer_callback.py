"""Making ``transformers.Trainer`` folders complete model folders (``config.json`` included).

The Trainer saves a model that is not a transformers ``PreTrainedModel`` as a bare
``model.safetensors``. Pass ``callbacks=[ModelFolderCallback()]`` and every ``checkpoint-N``
folder, and ``args.output_dir`` at the end of training (where ``trainer.save_model()`` writes),
also get the model's ``config.json``, so both libraries' ``from_pretrained`` read them.

The callback follows the Trainer's callback protocol by duck typing: this package never imports
transformers.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from videomae.modeling.saving import write_config

__all__ = ["ModelFolderCallback"]


class ModelFolderCallback:
    """A ``transformers.TrainerCallback`` (by protocol) that writes ``config.json``."""

    def on_save(self, args: Any, state: Any, control: Any, model: Any = None, **_: Any) -> None:
        folder = Path(args.output_dir) / f"checkpoint-{state.global_step}"
        if model is not None and folder.is_dir() and state.is_world_process_zero:
            write_config(model, folder)

    def on_train_end(
        self, args: Any, state: Any, control: Any, model: Any = None, **_: Any
    ) -> None:
        if model is not None and state.is_world_process_zero:
            write_config(model, args.output_dir)

    def __getattr__(self, name: str) -> Any:
        """Every other Trainer event (on_step_end, on_log, ...) does nothing."""
        if name.startswith("on_"):
            return lambda *args, **kwargs: None
        raise AttributeError(name)
