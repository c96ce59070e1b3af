"""The study's grid as data: which datasets, pre-trainings, fine-tunings and linear probes
run, and which of their results fill which row of the three tables.

Pure: building the plan touches no file and trains nothing. Cells that compute the same thing
share one key, so the plan holds each piece of work once: the default masking cell's encoder
is the "pre-trained" row of the label-count table and the in-domain reference of the domain
table, and its fine-tuning on the default number of labels fills all three tables.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from videomae.data.synthetic import ACTIONS
from videomae.demo_recipe import SETTINGS, DemoSettings

__all__ = [
    "FinetuneCell",
    "PretrainCell",
    "ProbeCell",
    "Row",
    "StudyPlan",
    "StudySettings",
    "plan_study",
    "study_settings",
]

TARGET, SHIFTED = "target", "shifted"
STUDY_PRETRAIN_STEPS = 3000
# the quick study's model: one narrow layer each side, so 35 runs take seconds each
_QUICK_MODEL = {
    "hidden_size": 32, "num_hidden_layers": 1, "num_attention_heads": 2, "intermediate_size": 64,
    "decoder_hidden_size": 32, "decoder_num_hidden_layers": 1, "decoder_num_attention_heads": 2,
    "decoder_intermediate_size": 64,
}  # fmt: skip


@dataclass(frozen=True)
class StudySettings:
    """The grid around one demo regime (``demo``: masking, budgets, model, target data).

    ``shifted_*`` describe the other distribution of the domain finding: by default the other
    action family (rotations and zooms instead of the four directions) on a smooth background,
    so neither the motions nor the textures are the target's.
    """

    demo: DemoSettings
    mask_kinds: tuple[str, ...] = ("tube", "random")
    mask_ratios: tuple[float, ...] = (0.5, 0.75, 0.9, 0.95)
    label_counts: tuple[int, ...] = (50, 100, 200, 800)
    small_unlabeled: int = 500
    shifted_classes: tuple[str, ...] = ACTIONS[4:]
    shifted_style: dict[str, Any] = field(
        default_factory=lambda: {"background": "smooth", "background_motion": 1.0}
    )


def study_settings(mode: str) -> StudySettings:
    """The grid for ``mode`` ("default" or "quick"), read from ``SETTINGS[mode]`` when called,
    so a change of the demo's default regime carries over to the study."""
    if mode not in SETTINGS:
        raise ValueError(f"mode must be one of {sorted(SETTINGS)}, got {mode!r}")
    if mode == "quick":  # every cell in seconds: a tiny model, few steps, tiny label counts
        quick = dataclasses.replace(
            SETTINGS["quick"], model={**SETTINGS["quick"].model, **_QUICK_MODEL},
            pretrain_steps=6, pretrain_warmup=1, finetune_steps=4, finetune_warmup=1,
        )  # fmt: skip
        return StudySettings(quick, label_counts=(4, 8, 16, 32), small_unlabeled=16)
    # every pre-training cell gets 3,000 steps (the demo's default has 5,000): ten of them
    # then fit in about an hour on 2 cores; the cells compare with each other, not with the demo
    base = SETTINGS[mode]
    steps = min(base.pretrain_steps, STUDY_PRETRAIN_STEPS)
    warmup = round(base.pretrain_warmup * steps / base.pretrain_steps)
    return StudySettings(dataclasses.replace(base, pretrain_steps=steps, pretrain_warmup=warmup))


@dataclass(frozen=True)
class PretrainCell:
    """Pre-training of ``settings`` (its masking) on the first ``num_unlabeled`` clips of the
    unlabeled list of dataset ``data``."""

    key: str
    data: str
    num_unlabeled: int
    settings: DemoSettings


@dataclass(frozen=True)
class FinetuneCell:
    """Fine-tuning of pre-training ``init`` (None: from scratch) on the first ``num_labels``
    target training clips (class-balanced), scored on the target test split."""

    key: str
    init: str | None
    num_labels: int


@dataclass(frozen=True)
class ProbeCell:
    """A linear probe on the frozen encoder of pre-training ``encoder``."""

    key: str
    encoder: str
    num_labels: int


@dataclass(frozen=True)
class Row:
    """One table row: its cell in words, descriptive fields, and metric -> job key."""

    table: str
    cell: str
    fields: dict[str, Any]
    results: dict[str, str]


@dataclass(frozen=True)
class StudyPlan:
    """Everything the study runs, each piece once, and the rows that read the results."""

    data: dict[str, DemoSettings]
    pretrain: dict[str, PretrainCell]
    finetune: dict[str, FinetuneCell]
    probe: dict[str, ProbeCell]
    rows: list[Row]
    num_classes: int


def _pct(ratio: float) -> int:
    return round(ratio * 100)


def _datasets(st: StudySettings) -> dict[str, DemoSettings]:
    """The two generated datasets: the target (every label count, no validation split) and
    the shifted pool (unlabeled clips only)."""
    d = st.demo
    most = max(_grid(st.label_counts, d.num_train))
    target = dataclasses.replace(d, num_train=most, num_val=0)
    shifted = dataclasses.replace(
        d,
        classes=tuple(st.shifted_classes),
        style=dict(st.shifted_style),
        num_train=0,
        num_val=0,
        num_test=0,
    )
    return {TARGET: target, SHIFTED: shifted}


def _grid(values: tuple, default: Any) -> tuple:
    """``values`` with the demo's default added when it is not among them (sorted numbers)."""
    if default in values:
        return tuple(values)
    merged = (*values, default)
    return tuple(sorted(merged)) if all(isinstance(v, (int, float)) for v in merged) else merged


class _Builder:
    """Collects cells by key (so a repeated cell is one piece of work) and rows in order."""

    def __init__(self, st: StudySettings) -> None:
        self.st = st
        self.pretrain: dict[str, PretrainCell] = {}
        self.finetune: dict[str, FinetuneCell] = {}
        self.probe: dict[str, ProbeCell] = {}
        self.rows: list[Row] = []

    def pre(self, data: str, n: int, kind: str, ratio: float) -> str:
        key = f"{data}-{n}-{kind}-{_pct(ratio)}"
        s = dataclasses.replace(self.st.demo, mask_kind=kind, mask_ratio=ratio)
        self.pretrain.setdefault(key, PretrainCell(key, data, n, s))
        return key

    def ft(self, init: str | None, n: int) -> str:
        key = f"finetune-{init or 'scratch'}-{n}"
        self.finetune.setdefault(key, FinetuneCell(key, init, n))
        return key

    def pr(self, encoder: str, n: int) -> str:
        key = f"probe-{encoder}-{n}"
        self.probe.setdefault(key, ProbeCell(key, encoder, n))
        return key


def _masking_rows(b: _Builder, n_unl: int, n_lab: int) -> str:
    """Finding 1; returns the default masking cell's pre-training key."""
    d = b.st.demo
    for kind in _grid(b.st.mask_kinds, d.mask_kind):
        for ratio in _grid(b.st.mask_ratios, d.mask_ratio):
            pre = b.pre(TARGET, n_unl, kind, ratio)
            default = kind == d.mask_kind and ratio == d.mask_ratio
            words = f"{kind} masking at {_pct(ratio)}%" + (
                " (the demo's default)" if default else ""
            )
            fields = {"mask_kind": kind, "mask_ratio": ratio, "default": default}
            results = {"finetune": b.ft(pre, n_lab), "probe": b.pr(pre, n_lab)}
            b.rows.append(Row("masking", words, fields, results))
    return b.pre(TARGET, n_unl, d.mask_kind, d.mask_ratio)


def _label_rows(b: _Builder, default_pre: str) -> None:
    """Finding 2: the default encoder (reused) vs scratch at every label count."""
    for init, words in ((default_pre, "pre-trained"), (None, "from scratch")):
        for n in _grid(b.st.label_counts, b.st.demo.num_train):
            fields = {"init": "pretrained" if init else "scratch", "num_labels": n}
            row = Row("labels", f"{words}, {n} labelled clips", fields, {"finetune": b.ft(init, n)})
            b.rows.append(row)


def _domain_rows(b: _Builder, default_pre: str, n_unl: int, n_lab: int) -> None:
    """Finding 3: a small in-domain pool vs a large shifted one, and the full in-domain pool."""
    st, d = b.st, b.st.demo
    shifted_words = (
        f"shifted: {', '.join(st.shifted_classes)} on {st.shifted_style['background']} background"
    )
    cells = (
        (b.pre(TARGET, st.small_unlabeled, d.mask_kind, d.mask_ratio), "in-domain",
         st.small_unlabeled),
        (b.pre(SHIFTED, d.num_unlabeled, d.mask_kind, d.mask_ratio), shifted_words,
         d.num_unlabeled),
        (default_pre, "in-domain", n_unl),
    )  # fmt: skip
    for pre, where, n in cells:
        fields = {"pretrain_data": where, "num_unlabeled": n}
        row = Row("domain", f"{where}, {n} clips", fields, {"finetune": b.ft(pre, n_lab)})
        b.rows.append(row)


def plan_study(st: StudySettings) -> StudyPlan:
    """The whole grid of ``st``: three tables, every cell once."""
    d = st.demo
    if st.small_unlabeled > d.num_unlabeled:
        raise ValueError(
            f"small_unlabeled ({st.small_unlabeled}) must not exceed the demo's unlabeled pool "
            f"({d.num_unlabeled}): the small in-domain pool is its first clips"
        )
    b = _Builder(st)
    default_pre = _masking_rows(b, d.num_unlabeled, d.num_train)
    _label_rows(b, default_pre)
    _domain_rows(b, default_pre, d.num_unlabeled, d.num_train)
    return StudyPlan(_datasets(st), b.pretrain, b.finetune, b.probe, b.rows, len(d.classes))
