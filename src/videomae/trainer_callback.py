"""Making ``transformers.Trainer`` folders complete model folders.

The Trainer saves a model that is not a transformers ``PreTrainedModel`` as a bare
``model.safetensors``. Pass ``callbacks=[ModelFolderCallback()]`` and every ``checkpoint-N``
folder, and ``args.output_dir`` at the end of training (where ``trainer.save_model()`` writes),
also get the model's ``config.json``, ``preprocessor_config.json`` and ``README.md`` card (see
:func:`videomae.folder.complete_folder`), so both libraries' ``from_pretrained`` and
transformers' ``pipeline`` read them.

The callback follows the Trainer's callback protocol by duck typing: this package never imports
transformers.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from videomae.folder import complete_folder

__all__ = ["ModelFolderCallback"]


class ModelFolderCallback:
    """A ``transformers.TrainerCallback`` (by protocol) that completes the saved folders."""

    def on_save(self, args: Any, state: Any, control: Any, model: Any = None, **_: Any) -> None:
        folder = Path(args.output_dir) / f"checkpoint-{state.global_step}"
        if model is not None and folder.is_dir() and state.is_world_process_zero:
            complete_folder(model, folder)

    def on_train_end(
        self, args: Any, state: Any, control: Any, model: Any = None, **_: Any
    ) -> None:
        if model is not None and state.is_world_process_zero:
            complete_folder(model, args.output_dir)

    def __getattr__(self, name: str) -> Any:
        """Every other Trainer event (on_step_end, on_log, ...) does nothing."""
        if name.startswith("on_"):
            return lambda *args, **kwargs: None
        raise AttributeError(name)
