"""Data: list files and class folders (``lists``), class-name files (``labels``), video
datasets (``datasets``), clip transforms (``transforms``, ``randaugment``), mixup, synthetic
videos. Import the submodule you need: this package imports none of them, so the light ones
(lists, labels, synthetic) load without the torch-heavy ones."""
