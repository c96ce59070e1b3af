"""Training: one run config, one loop and two recipes (pre-training, fine-tuning).

Modules, leaves first: ``config`` (the run config :class:`~videomae.train.config.TrainConfig` and
its resolved schedule), ``args`` (config dataclass -> command-line flags), ``schedule``
(learning-rate curves), ``optim`` (AdamW groups), ``distributed`` (torchrun helpers),
``precision`` (autocast policy, EMA), ``data`` (sampler, per-sample seeding, loader), ``state``
(checkpoints and resume), ``metrics`` (logged rows, CSV, plots), ``loop`` (:func:`train`),
``recipe`` (exports shared by the recipes), ``pretrain`` and ``finetune``.
"""
