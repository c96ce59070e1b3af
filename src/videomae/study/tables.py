"""The study's three tables: each row's results over seeds as mean and standard deviation,
and the same tables as console text.

A table row is a dict: ``cell`` (the cell in words), its descriptive fields (masking, label
count, pre-training data), and per metric ``<metric>_top1`` (mean over seeds, a fraction in
[0, 1]), ``<metric>_top1_std`` (sample std; 0 for one seed) and ``<metric>_top1_seeds``.
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from typing import Any

from videomae.study.cells import Row

__all__ = ["TABLES", "build_tables", "format_tables"]

TABLES = {
    "masking": "1. masking ratio x strategy: fine-tuned and linear probe",
    "labels": "2. labelled clips: pre-trained vs from scratch",
    "domain": "3. pre-training data: quality vs quantity, domain shift",
}


def _row(row: Row, results: Mapping[tuple[int, str], Mapping[str, Any]], seeds: Sequence[int]):
    out: dict[str, Any] = {"cell": row.cell, **row.fields}
    for metric, key in row.results.items():
        accs = [float(results[(seed, key)]["top1"]) for seed in seeds]
        out[f"{metric}_top1"] = statistics.mean(accs)
        out[f"{metric}_top1_std"] = statistics.stdev(accs) if len(accs) > 1 else 0.0
        out[f"{metric}_top1_seeds"] = accs
    return out


def build_tables(
    rows: Sequence[Row],
    results: Mapping[tuple[int, str], Mapping[str, Any]],
    seeds: Sequence[int],
) -> dict[str, list[dict[str, Any]]]:
    """``{"masking": [...], "labels": [...], "domain": [...]}`` from the plan's rows and the
    jobs' results by (seed, key)."""
    tables: dict[str, list[dict[str, Any]]] = {name: [] for name in TABLES}
    for row in rows:
        tables[row.table].append(_row(row, results, seeds))
    return tables


def _cell(row: Mapping[str, Any], metric: str) -> str:
    mean = row.get(f"{metric}_top1")
    if mean is None:
        return ""
    std = row.get(f"{metric}_top1_std", 0.0)
    spread = f" ± {100 * std:.1f}" if len(row.get(f"{metric}_top1_seeds", [])) > 1 else ""
    return f"{100 * mean:5.1f}%{spread}"


def format_tables(tables: Mapping[str, Sequence[Mapping[str, Any]]]) -> str:
    """The tables as aligned text (test top-1 in %, mean ± std over seeds)."""
    lines = ["", "  test top-1 accuracy (mean ± std over seeds)"]
    for name, title in TABLES.items():
        rows = tables.get(name, [])
        metrics = [m for m in ("finetune", "probe") if any(f"{m}_top1" in r for r in rows)]
        width = max([len(r["cell"]) for r in rows] + [4])
        head = "".join(
            f"  {'fine-tuned' if m == 'finetune' else 'linear probe':>14}" for m in metrics
        )
        lines += ["", f"  {title}", f"    {'cell':<{width}}{head}"]
        for r in rows:
            lines.append(
                f"    {r['cell']:<{width}}" + "".join(f"  {_cell(r, m):>14}" for m in metrics)
            )
    return "\n".join(lines)
