"""The main job end to end in its smoke-test size (`videomae demo --quick`)."""

from __future__ import annotations

import json

from videomae.cli.main import main


def test_demo_quick_runs_end_to_end(tmp_path):
    out = tmp_path / "demo"
    assert main(["demo", "--quick", "--out", str(out), "-q", "--workers", "1"]) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["mode"] == "quick"
    for row in ("pretrained", "scratch"):
        result = summary["runs"][0]["results"][row]
        assert 0.0 <= result["top1"] <= 1.0
        assert (out / f"finetune-{row}" / "final" / "config.json").exists()
        assert (out / f"eval-{row}" / "summary.json").exists()
    assert (out / "pretrain" / "final" / "model.safetensors").exists()
    assert (out / "reconstruction.png").stat().st_size > 1000
    from matplotlib.image import imread

    # quick mode validates every epoch: 10 steps of 2 per epoch -> 5 points per curve
    for row in ("pretrained", "scratch"):
        lines = (out / f"finetune-{row}" / "eval_metrics.csv").read_text().splitlines()
        assert len(lines) == 1 + 5 and "val_top1" in lines[0]
    assert imread(out / "comparison.png").shape[:2] == (420, 700)
    stages = summary["runs"][0]["timings_s"]
    assert set(stages) >= {
        "generate data",
        "pre-train",
        "fine-tune (pretrained)",
        "fine-tune (scratch)",
    }
