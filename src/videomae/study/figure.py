"""``study.png``: the study's three tables as three panels side by side, read at a glance.

(1) test accuracy against the masking ratio, one colour per masking strategy, solid lines for
fine-tuning and dashed for the linear probe; (2) accuracy against the number of labelled clips
(log axis), pre-trained vs from scratch; (3) one bar per pre-training set of the domain table.
Every panel shares the y axis (test top-1 in %) and draws chance (100 / classes) as a grey
line; error bars (std over seeds) appear when a row has more than one seed. matplotlib is used
through its object API (``Figure`` + the Agg canvas), so no global backend is switched.
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

__all__ = ["plot_study"]

_COLOURS = ("tab:blue", "tab:orange", "tab:green", "tab:red", "tab:purple")
_METRICS = (("finetune", "-", "o", "fine-tuned"), ("probe", "--", "s", "linear probe"))


def _values(rows: Sequence[Mapping[str, Any]], metric: str) -> tuple[list, list, bool]:
    """(means in %, stds in %, whether any row has several seeds) of ``metric``."""
    means = [100.0 * r[f"{metric}_top1"] for r in rows]
    stds = [100.0 * r.get(f"{metric}_top1_std", 0.0) for r in rows]
    several = any(len(r.get(f"{metric}_top1_seeds", [])) > 1 for r in rows)
    return means, stds, several


def _legend_below(ax: Any, ncol: int, drop: float = 0.16, handles: list | None = None) -> None:
    """The panel's legend under its x label, where it cannot hide a point or a bar."""
    extra = {"handles": handles} if handles is not None else {}
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -drop), ncol=ncol, fontsize=8,
              frameon=False, **extra)  # fmt: skip


def _chance(ax: Any, chance: float) -> None:
    ax.axhline(chance, color="grey", lw=1, ls=":", label=f"chance ({chance:.0f}%)")


def _masking(ax: Any, rows: Sequence[Mapping[str, Any]], chance: float) -> None:
    kinds = list(dict.fromkeys(r["mask_kind"] for r in rows))
    ratios = sorted({r["mask_ratio"] for r in rows})
    for colour, kind in zip(_COLOURS, kinds):
        mine = sorted((r for r in rows if r["mask_kind"] == kind), key=lambda r: r["mask_ratio"])
        x = [100.0 * r["mask_ratio"] for r in mine]
        for metric, ls, marker, words in _METRICS:
            if not all(f"{metric}_top1" in r for r in mine):
                continue
            y, err, several = _values(mine, metric)
            ax.errorbar(
                x, y, yerr=err if several else None, color=colour, ls=ls, marker=marker,
                capsize=3, label=f"{kind} masking, {words}",
            )  # fmt: skip
    for r in rows:
        if r.get("default"):
            y = 100.0 * r["finetune_top1"]
            ax.annotate("demo default", (100.0 * r["mask_ratio"], y), textcoords="offset points",
                        xytext=(0, 9), ha="center", fontsize=8)  # fmt: skip
    _chance(ax, chance)
    ax.set_xticks([100.0 * r for r in ratios])
    ax.set_xticklabels([f"{100 * r:.0f}" for r in ratios])
    ax.set_xlabel("masking ratio during pre-training (%)")
    ax.set_title("1. Paper: hiding most of the video (90%) is best", fontsize=11)
    _legend_below(ax, ncol=2)


def _labels(ax: Any, rows: Sequence[Mapping[str, Any]], chance: float) -> None:
    counts = sorted({r["num_labels"] for r in rows})
    styles = {
        "pretrained": ("tab:green", "VideoMAE pre-trained"),
        "scratch": ("tab:grey", "from scratch"),
    }
    for init, (colour, words) in styles.items():
        mine = sorted((r for r in rows if r["init"] == init), key=lambda r: r["num_labels"])
        if not mine:
            continue
        y, err, several = _values(mine, "finetune")
        ax.errorbar(
            [r["num_labels"] for r in mine], y, yerr=err if several else None, color=colour,
            marker="o", capsize=3, label=f"{words}, fine-tuned",
        )  # fmt: skip
    _chance(ax, chance)
    ax.set_xscale("log")
    ax.set_xticks(counts)
    ax.set_xticklabels([str(c) for c in counts])
    ax.minorticks_off()
    ax.set_xlabel("labelled training clips (log scale)")
    ax.set_title("2. Paper: pre-training matters most with few labels", fontsize=11)
    _legend_below(ax, ncol=2)


def _domain(ax: Any, rows: Sequence[Mapping[str, Any]], chance: float) -> None:
    from matplotlib.patches import Patch

    y, err, several = _values(rows, "finetune")
    x = list(range(len(rows)))
    colours = ["tab:blue" if r["pretrain_data"] == "in-domain" else "tab:red" for r in rows]
    bars = ax.bar(x, y, yerr=err if several else None, color=colours, capsize=4, width=0.6)
    for bar, value, spread in zip(bars, y, err if several else [0.0] * len(y)):
        ax.annotate(f"{value:.1f}%", (bar.get_x() + bar.get_width() / 2, value + spread),
                    textcoords="offset points", xytext=(0, 3), ha="center", fontsize=8)  # fmt: skip
    names = [
        "\n".join(textwrap.wrap(f"{r['pretrain_data']}, {r['num_unlabeled']} clips", 24))
        for r in rows
    ]
    ax.set_xticks(x)
    ax.set_xticklabels(names, fontsize=8)
    _chance(ax, chance)
    ax.set_xlabel("unlabeled videos used for pre-training")
    ax.set_title("3. Paper: a small same-domain set beats a large shifted one", fontsize=11)
    handles = [
        Patch(color="tab:blue", label="same distribution as the target"),
        Patch(color="tab:red", label="shifted distribution"),
        *ax.get_legend_handles_labels()[0],
    ]
    _legend_below(ax, handles=handles, ncol=2, drop=0.30)


def plot_study(
    tables: Mapping[str, Sequence[Mapping[str, Any]]],
    path: str | Path,
    *,
    num_classes: int,
    title: str = "VideoMAE's findings in miniature",
) -> Path:
    """Draw the three tables of :func:`videomae.study.tables.build_tables` into ``path``."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    missing = [name for name in ("masking", "labels", "domain") if not tables.get(name)]
    if missing:
        raise ValueError(f"the study tables {missing} are empty; nothing to draw")
    if num_classes < 2:
        raise ValueError(f"num_classes must be >= 2, got {num_classes}")
    chance = 100.0 / num_classes
    fig = Figure(figsize=(16, 6.0))
    FigureCanvasAgg(fig)
    axes = fig.subplots(1, 3, sharey=True)
    _masking(axes[0], tables["masking"], chance)
    _labels(axes[1], tables["labels"], chance)
    _domain(axes[2], tables["domain"], chance)
    axes[0].set_ylabel("test top-1 accuracy (%)")
    for ax in axes:
        ax.set_ylim(0, 105)
        ax.grid(True, alpha=0.3)
    fig.suptitle(title, fontsize=11)
    fig.subplots_adjust(left=0.045, right=0.99, top=0.86, bottom=0.33, wspace=0.08)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    return path
