"""Benchmark: the exported ONNX classifier run by onnxruntime vs our eager torch path, on CPU.

One model is exported (``videomae.export.export_model``) and both paths classify the same
random float32 batches in the same process, alternating after warm-up, at batch 1 and 4.
Torch path: ``VideoClassifier``'s forward step (``runner.forward_rows``: inference mode,
sdpa attention). onnxruntime: ``CPUExecutionProvider`` with as many intra-op threads as torch
(``--threads``). Medians in ms per batch; ratio = torch / onnxruntime (> 1: onnxruntime is
faster). Outputs are checked to agree within 1e-4 first. Default model: ViT-S-sized (hidden
384, 12 layers, 6 heads) on 16 x 112 x 112 clips (392 tokens); ``--model base-224`` is the
released ViT-B on 16 x 224 x 224 (1568 tokens).

    PYTHONPATH=src .venv/bin/python benchmarks/bench_export.py [--iters 10] [--threads 2]

Appends a JSON line to ``benchmarks/results/export.jsonl``.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import onnxruntime as ort
import torch
from common import (
    BENCH_MODELS,
    add_common_args,
    finish_args,
    machine_info,
    print_machine,
    print_table,
    ratio_str,
    setup_device,
    time_alternating,
    write_result,
)

from videomae import VideoMAEConfig, VideoMAEForVideoClassification
from videomae.export import export_model, input_shape
from videomae.inference.classifier import VideoClassifier

MODELS = BENCH_MODELS


def _session(path: Path, threads: int) -> ort.InferenceSession:
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_common_args(p, iters=10, quick_iters=2)
    p.add_argument("--model", choices=sorted(MODELS), default="small-112")
    p.add_argument("--batches", type=int, nargs="+", default=[1, 4])
    args = finish_args(p.parse_args())
    if args.quick:
        args.model = "tiny-32"
    device = setup_device("cpu", args.threads, args.seed)
    info = machine_info(device)
    print_machine(info)
    rows, records = [], []
    with tempfile.TemporaryDirectory() as d:
        VideoMAEForVideoClassification(VideoMAEConfig(**MODELS[args.model])).save_pretrained(d)
        onnx_path = export_model(d, Path(d) / "model.onnx")
        clf = VideoClassifier.from_pretrained(d, progress=False)
        session = _session(onnx_path, args.threads)
        for batch in args.batches:
            x = torch.randn(input_shape(clf, batch))
            feed = {"pixel_values": x.numpy()}
            want = clf.runner.forward_rows(clf._forward, x)
            got = torch.from_numpy(session.run(None, feed)[0])
            diff = float((got - want).abs().max())
            if diff > 1e-4:
                raise SystemExit(f"onnxruntime and torch disagree by {diff:.2e} at batch {batch}")
            cases = {
                "torch": lambda x=x: clf.runner.forward_rows(clf._forward, x),
                "onnxruntime": lambda feed=feed: session.run(None, feed),
            }
            t = time_alternating(cases, iters=args.iters, warmup=args.warmup, device=device)
            ms = {k: 1e3 * v.median for k, v in t.items()}
            rows.append(
                [batch, f"{ms['torch']:.1f}", f"{ms['onnxruntime']:.1f}",
                 ratio_str(ms["torch"], ms["onnxruntime"]), f"{diff:.1e}"]
            )  # fmt: skip
            records.append({"batch": batch, "ms": ms, "max_abs_diff": diff})
    print(f"model {args.model}: {MODELS[args.model]}; fp32; threads {args.threads}")
    print_table(["batch", "torch ms", "onnxruntime ms", "ratio (torch/ort)", "max |diff|"], rows)
    if not args.no_save:
        extra = {"onnxruntime": ort.__version__, "model": args.model, "iters": args.iters}
        path = write_result("export", {"machine": info, **extra, "results": records})
        print(f"appended to {path}")


if __name__ == "__main__":
    main()
