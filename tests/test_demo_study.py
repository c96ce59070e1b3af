"""The study end to end in its smoke-test size (`videomae demo --study --quick`)."""

from __future__ import annotations

import json
import struct

from videomae.cli.main import main
from videomae.study.cells import plan_study, study_settings


def _png_size(path) -> tuple[int, int]:
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n", "study.png is not a PNG file"
    return struct.unpack(">II", head[16:24])


def test_study_quick_runs_end_to_end(tmp_path):
    out = tmp_path / "study"
    assert (
        main(
            ["demo", "--study", "--quick", "--out", str(out), "-q", "--workers", "1", "--jobs", "2"]
        )
        == 0
    )
    summary = json.loads((out / "summary.json").read_text())
    assert set(summary) >= {"study", "settings", "timings_s", "seeds"}
    assert summary["seeds"] == [0]
    plan = plan_study(study_settings("quick"))
    expected = {}
    for row in plan.rows:
        expected.setdefault(row.table, []).append(row.cell)
    assert set(summary["study"]) == {"masking", "labels", "domain"}
    for table, cells in expected.items():
        rows = summary["study"][table]
        assert [r["cell"] for r in rows] == cells
        for r in rows:
            metrics = ("finetune", "probe") if table == "masking" else ("finetune",)
            for m in metrics:
                assert 0.0 <= r[f"{m}_top1"] <= 1.0, (table, r["cell"], m)
                assert len(r[f"{m}_top1_seeds"]) == 1
    width, height = _png_size(out / "study.png")
    assert (width, height) == (1600, 600)
    assert summary["timings_s"]["pre-training"] > 0


def test_jobs_without_study_is_refused(tmp_path, capsys):
    assert main(["demo", "--jobs", "2", "--out", str(tmp_path / "x")]) == 2
    assert "--jobs applies to --study only" in capsys.readouterr().err
    assert not (tmp_path / "x").exists()
