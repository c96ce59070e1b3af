"""Benchmark 1: classifier inference, ours vs transformers, same weights and inputs, one process.

A transformers ``VideoMAEForVideoClassification`` (base size, 16x224x224, 400 labels, random
weights) is saved with ``save_pretrained``; ours and transformers' models are loaded from that
folder in every precision compared. Outputs are checked to agree before anything is timed. Then,
per batch size, every variant runs under ``torch.inference_mode`` in alternating rounds after a
warm-up (see benchmarks/common.py) and the medians are compared:

- fp32: ours (default, sdpa) vs transformers sdpa, and vs transformers eager;
- bf16: ours loaded with ``torch_dtype=torch.bfloat16`` vs transformers loaded with
  ``dtype=torch.bfloat16`` (sdpa, and eager: its eager bf16 is faster than its sdpa bf16 on
  some CPUs); ours fp32 weights under ``torch.autocast(bfloat16)`` as a separate row;
- on CUDA also fp16, and flash-attention 2 where the package is installed.

Also printed: the analytic FLOP count of the forward (written out by part), our achieved
GFLOP/s and its share of the measured large-GEMM rate in the same precision, bf16 top-1
agreement with fp32 and the max logit difference on random clips, and the peak memory of each
variant (one fresh subprocess per variant and batch size). Appends a JSON line to
``benchmarks/results/inference.jsonl``.

    .venv/bin/python benchmarks/bench_inference.py                 # the full run (~15 min, 2 cores)
    .venv/bin/python benchmarks/bench_inference.py --quick         # smoke run, small model
    .venv/bin/python benchmarks/bench_inference.py --profile       # torch.profiler of our forward
    .venv/bin/python benchmarks/bench_inference.py --device cuda   # GPU: adds fp16 / flash rows
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import json
import sys
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402

NAME = "inference"
SCRIPT = Path(__file__).resolve()


# --------------------------------------------------------------------------- variants
@dataclass(frozen=True)
class Variant:
    """One way of running a forward: which library, weight dtype, attention kernel, autocast."""

    key: str
    lib: str  # "ours" | "transformers"
    dtype: str  # weight dtype: "fp32" | "bf16" | "fp16"
    attn: str = "sdpa"
    autocast: str | None = None  # None | "bf16" | "fp16"

    @property
    def compute(self) -> str:
        """The precision the GEMMs run in (for the matmul-rate denominator)."""
        return self.autocast or self.dtype

    @property
    def label(self) -> str:
        lib = "ours" if self.lib == "ours" else "tf"
        extra = f" autocast-{self.autocast}" if self.autocast else ""
        return f"{lib} {self.dtype} {self.attn}{extra}"


def variants(device: torch.device, explore: bool) -> list[Variant]:
    v = [
        Variant("ours_fp32", "ours", "fp32"),
        Variant("tf_fp32_sdpa", "transformers", "fp32", "sdpa"),
        Variant("tf_fp32_eager", "transformers", "fp32", "eager"),
        Variant("ours_bf16", "ours", "bf16"),
        Variant("tf_bf16_sdpa", "transformers", "bf16", "sdpa"),
        Variant("tf_bf16_eager", "transformers", "bf16", "eager"),
        Variant("ours_fp32_autocast_bf16", "ours", "fp32", "sdpa", "bf16"),
    ]
    if explore:
        v += [
            Variant("ours_fp32_eager", "ours", "fp32", "eager"),
            Variant("ours_bf16_eager", "ours", "bf16", "eager"),
            Variant("tf_fp32_autocast_bf16", "transformers", "fp32", "sdpa", "bf16"),
        ]
    if device.type == "cuda":
        v += [
            Variant("ours_fp16", "ours", "fp16"),
            Variant("tf_fp16_sdpa", "transformers", "fp16", "sdpa"),
        ]
        if importlib.util.find_spec("flash_attn") is not None:
            v += [
                Variant("ours_bf16_flash", "ours", "bf16", "flash_attention_2"),
                Variant("tf_bf16_flash", "transformers", "bf16", "flash_attention_2"),
            ]
    return v


# (row label, ours key, transformers key): the comparisons printed, ratio = theirs / ours
COMPARISONS = [
    ("fp32: ours sdpa vs tf sdpa", "ours_fp32", "tf_fp32_sdpa"),
    ("fp32: ours sdpa vs tf eager", "ours_fp32", "tf_fp32_eager"),
    ("bf16: ours vs tf bf16 sdpa", "ours_bf16", "tf_bf16_sdpa"),
    ("bf16: ours vs tf bf16 eager", "ours_bf16", "tf_bf16_eager"),
    ("bf16: ours autocast vs tf bf16 sdpa", "ours_fp32_autocast_bf16", "tf_bf16_sdpa"),
    ("bf16: ours autocast vs tf bf16 eager", "ours_fp32_autocast_bf16", "tf_bf16_eager"),
    ("explore: ours fp32 eager vs tf eager", "ours_fp32_eager", "tf_fp32_eager"),
    ("explore: ours bf16 eager vs tf bf16 eager", "ours_bf16_eager", "tf_bf16_eager"),
    ("explore: ours autocast vs tf autocast", "ours_fp32_autocast_bf16", "tf_fp32_autocast_bf16"),
    ("fp16: ours vs tf fp16 sdpa", "ours_fp16", "tf_fp16_sdpa"),
    ("bf16 flash: ours vs tf", "ours_bf16_flash", "tf_bf16_flash"),
]


# --------------------------------------------------------------------------- models and inputs
def model_config(quick: bool, size: str | None, num_labels: int) -> dict[str, Any]:
    """Architecture as transformers VideoMAEConfig kwargs: base 16x224x224, or a small smoke one."""
    from videomae.presets import PRESETS

    size = size or ("small" if quick else "base")
    cfg = {k: v for k, v in PRESETS[size].items() if not k.startswith("decoder")}
    if quick and size == "small":
        cfg.update(num_frames=8, image_size=128)
    else:
        cfg.update(num_frames=16, image_size=224)
    cfg.update(num_labels=num_labels, use_mean_pooling=True)
    return cfg


def save_reference(cfg: dict[str, Any], folder: Path, seed: int) -> None:
    """Random transformers classifier -> save_pretrained(folder)."""
    import transformers

    torch.manual_seed(seed)
    config = transformers.VideoMAEConfig(**cfg)
    transformers.VideoMAEForVideoClassification(config).save_pretrained(folder)


def load(v: Variant, folder: Path | str, device: torch.device) -> torch.nn.Module:
    dtype = common.dtype_of(v.dtype)
    if v.lib == "ours":
        import videomae

        model = videomae.VideoMAEForVideoClassification.from_pretrained(
            folder, attn_implementation=v.attn, torch_dtype=dtype
        )
    else:
        import transformers

        model = transformers.VideoMAEForVideoClassification.from_pretrained(
            folder, attn_implementation=v.attn, dtype=dtype
        )
    return model.to(device).eval()


def make_input(cfg: dict[str, Any], batch: int, seed: int) -> torch.Tensor:
    """(B, T, 3, H, W) float32 standard-normal clip (what a normalised video looks like)."""
    g = torch.Generator().manual_seed(seed)
    s = cfg["image_size"]
    return torch.randn(batch, cfg["num_frames"], 3, s, s, generator=g)


def forward_fn(
    model: torch.nn.Module, v: Variant, x: torch.Tensor, device: torch.device
) -> Callable[[], torch.Tensor]:
    """A no-argument callable running one forward the way `v` says; returns the logits."""
    x = x.to(device=device, dtype=common.dtype_of(v.dtype))
    autocast = (
        torch.autocast(device.type, dtype=common.dtype_of(v.autocast))
        if v.autocast
        else contextlib.nullcontext()
    )

    def run() -> torch.Tensor:
        with torch.inference_mode(), autocast:
            return model(pixel_values=x).logits

    return run


# --------------------------------------------------------------------------- checks
def check_agreement(
    models: dict[str, torch.nn.Module],
    vs: dict[str, Variant],
    cfg: dict[str, Any],
    device: torch.device,
    seed: int,
    clips: int,
) -> dict[str, Any]:
    """fp32 parity (asserted) and each low-precision variant against ours fp32 (reported)."""
    x = make_input(cfg, 2, seed + 1)
    ref = forward_fn(models["ours_fp32"], vs["ours_fp32"], x, device)().float()
    out: dict[str, Any] = {}
    for key in ("tf_fp32_sdpa", "tf_fp32_eager", "ours_fp32_eager"):
        if key not in models:
            continue
        got = forward_fn(models[key], vs[key], x, device)().float()
        diff = (got - ref).abs().max().item()
        tol = 1e-4 + 1e-3 * ref.abs().max().item()
        out[f"{key}_vs_ours_fp32_max_abs_diff"] = diff
        print(f"  fp32 logits, {key} vs ours: max abs diff {diff:.2e} (tolerance {tol:.1e})")
        if diff > tol:
            raise SystemExit(f"fp32 outputs disagree ({key}): {diff:.3e} > {tol:.3e}")

    # low precision vs fp32 on `clips` random clips, in chunks of 4
    xs = make_input(cfg, clips, seed + 2)
    refs = torch.cat(
        [forward_fn(models["ours_fp32"], vs["ours_fp32"], c, device)() for c in xs.split(4)]
    ).float()
    top2 = refs.topk(2, dim=-1).values
    margin = (top2[:, 0] - top2[:, 1]).median().item()
    out["fp32_max_abs_logit"] = refs.abs().max().item()
    out["fp32_median_top1_margin"] = margin
    print(
        f"  fp32 reference on {clips} random clips: max |logit| {refs.abs().max().item():.3g}, "
        f"median top1-top2 margin {margin:.3g}"
    )
    for key, v in vs.items():
        if v.compute == "fp32" or key not in models:
            continue
        got = torch.cat([forward_fn(models[key], v, c, device)() for c in xs.split(4)]).float()
        agree = int((got.argmax(-1) == refs.argmax(-1)).sum())
        diff = (got - refs).abs().max().item()
        out[f"{key}_top1_agreement"] = agree / clips
        out[f"{key}_max_abs_logit_diff"] = diff
        print(f"  {key}: top-1 agrees with fp32 on {agree}/{clips}, max logit diff {diff:.3g}")
    return out


# --------------------------------------------------------------------------- memory worker
def mem_worker(spec: dict[str, Any]) -> None:
    common.quiet_transformers()
    device = common.setup_device(spec["device"], spec["threads"], spec["seed"])
    v = Variant(**spec["variant"])
    model = load(v, spec["folder"], device)
    run = forward_fn(model, v, make_input(spec["cfg"], spec["batch"], spec["seed"]), device)
    run()  # warm-up: one-off caches are not counted, the steady state is
    with common.PeakMemory(device) as pm:
        for _ in range(spec["calls"]):
            run()
    common.emit_worker_result(pm.result)


# --------------------------------------------------------------------------- profile
def profile(args: argparse.Namespace, cfg: dict[str, Any], folder: Path, device) -> None:
    """torch.profiler over our forward in fp32, bf16 (sdpa and eager) and fp32 + autocast bf16
    (plus transformers' bf16 sdpa / eager with --profile-transformers)."""
    batch = args.batch_sizes[0]
    x = make_input(cfg, batch, args.seed)
    keys = ["ours_fp32", "ours_bf16", "ours_bf16_eager", "ours_fp32_autocast_bf16"]
    if args.profile_transformers:
        keys += ["tf_fp32_sdpa", "tf_bf16_sdpa", "tf_bf16_eager"]
    all_v = {v.key: v for v in variants(device, explore=True)}
    record: dict[str, Any] = {"benchmark": NAME + "_profile", "cfg": cfg, "batch": batch}
    for key in keys:
        v = all_v[key]
        model = load(v, folder, device)
        record[key] = common.profile_call(
            forward_fn(model, v, x, device),
            label=f"{v.label}, batch {batch}, forward",
            iters=args.iters,
            warmup=args.warmup,
            device=device,
            rows=args.profile_rows,
        )
        del model
    if not args.no_save:
        record.update(common.machine_info(device))
        print(f"\nappended to {common.write_result(NAME + '_profile', record)}")


# --------------------------------------------------------------------------- main
def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    common.add_common_args(parser, iters=10, quick_iters=3)
    parser.add_argument(
        "--batch-sizes", type=lambda s: [int(x) for x in s.split(",")], default=None
    )
    parser.add_argument(
        "--size", default=None, help="preset (default base; small with --quick at 8x128x128)"
    )
    parser.add_argument("--num-labels", type=int, default=400)
    parser.add_argument(
        "--agree-clips", type=int, default=8, help="random clips for the bf16 check"
    )
    parser.add_argument(
        "--explore", action="store_true", help="add ours-eager and transformers-autocast rows"
    )
    parser.add_argument("--only", default=None, help="comma-separated variant keys to time")
    parser.add_argument("--profile", action="store_true", help="profile our forward, no timing")
    parser.add_argument("--profile-transformers", action="store_true")
    parser.add_argument("--profile-rows", type=int, default=20)
    args = common.finish_args(parser.parse_args(argv))
    if args.batch_sizes is None:
        args.batch_sizes = [1, 2] if args.quick and args.size is None else [1, 4]
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if args.mem_worker:
        mem_worker(json.loads(args.mem_worker))
        return
    common.quiet_transformers()
    device = common.setup_device(args.device, args.threads, args.seed)
    info = common.machine_info(device)
    common.print_machine(info)
    cfg = model_config(args.quick, args.size, args.num_labels)
    print(f"model: {cfg}")

    with common.temp_model_dir("bench_inference_") as folder:
        save_reference(cfg, folder, args.seed)
        if args.profile:
            profile(args, cfg, folder, device)
            return
        run_benchmark(args, cfg, folder, device, info)


def run_benchmark(args, cfg, folder: Path, device: torch.device, info: dict) -> None:
    vs = {v.key: v for v in variants(device, args.explore)}
    if args.only:
        keep = set(args.only.split(",")) | {"ours_fp32"}
        vs = {k: v for k, v in vs.items() if k in keep}
    models = {k: load(v, folder, device) for k, v in vs.items()}

    print("\nagreement (before timing):")
    agreement = check_agreement(models, vs, cfg, device, args.seed, args.agree_clips)

    dtypes = common.ceiling_dtypes(v.compute for v in vs.values())
    print("\nmatmul ceiling (large square GEMM) ...", flush=True)
    rates_before = common.matmul_ceiling(device, dtypes, args.quick)

    flops = {b: common.classifier_flops(_ns(cfg), b) for b in args.batch_sizes}
    b0 = args.batch_sizes[0]
    print(
        f"\nFLOPs of one forward (batch {b0}; 2 FLOPs per multiply-add; N tokens, D width, "
        "M MLP width, K = C*ts*p*p):\n"
        "  patch embed 2*N*K*D; per layer: qkv 2*N*D*3D, scores 2*N^2*D, weighted sum 2*N^2*D, "
        "proj 2*N*D^2, MLP 4*N*D*M; head 2*D*labels"
    )
    print(common.format_flops(flops[b0]))

    timings: dict[int, dict[str, common.Timing]] = {}
    for b in args.batch_sizes:
        x = make_input(cfg, b, args.seed)
        cases = {k: forward_fn(models[k], v, x, device) for k, v in vs.items()}
        print(f"\ntiming batch {b}: {args.iters} alternating rounds after {args.warmup} warm-up")
        timings[b] = common.time_alternating(
            cases, iters=args.iters, warmup=args.warmup, device=device
        )
    rates_after = common.matmul_ceiling(device, dtypes, args.quick)
    rates = {k: max(rates_before[k], rates_after[k]) for k in rates_before}
    print(
        "matmul GFLOP/s before / after timing: "
        + ", ".join(f"{k} {rates_before[k]:.0f} / {rates_after[k]:.0f}" for k in rates_before)
    )
    del models

    memory: dict[int, dict[str, dict]] = {b: {} for b in args.batch_sizes}
    if not args.no_memory:
        print("\npeak memory: one subprocess per variant and batch size ...", flush=True)
        for b in args.batch_sizes:
            for k, v in vs.items():
                spec = {
                    "variant": asdict(v),
                    "folder": str(folder),
                    "cfg": cfg,
                    "batch": b,
                    "device": args.device,
                    "threads": args.threads,
                    "seed": args.seed,
                    "calls": 2,
                }
                memory[b][k] = common.measure_in_subprocess(SCRIPT, spec)

    report(args, cfg, vs, timings, memory, flops, rates, rates_before, rates_after, agreement, info)


def _ns(cfg: dict[str, Any]) -> argparse.Namespace:
    d = {"num_channels": 3, "tubelet_size": 2, "patch_size": 16, **cfg}
    return argparse.Namespace(**d)


def report(
    args, cfg, vs, timings, memory, flops, rates, rates_before, rates_after, agreement, info
):
    headers = [
        "case",
        "batch",
        "ours ms",
        "tf ms",
        "ratio tf/ours",
        "ours GFLOP/s",
        "% of matmul",
        "ours MB d(peak)",
        "tf MB d(peak)",
    ]
    rows, records = [], []
    for b, t in timings.items():
        total = sum(flops[b].values())
        for label, ours_key, tf_key in COMPARISONS:
            if ours_key not in t or tf_key not in t:
                continue
            ours, tf = t[ours_key].median, t[tf_key].median
            compute = vs[ours_key].compute
            rate = rates[{"fp32": "float32", "bf16": "bfloat16", "fp16": "float16"}[compute]]
            achieved = total / ours / 1e9
            rows.append(
                [
                    label,
                    b,
                    f"{ours * 1e3:.0f}",
                    f"{tf * 1e3:.0f}",
                    common.ratio_str(tf, ours),
                    f"{achieved:.0f}",
                    f"{100 * achieved / rate:.0f}%",
                    common.mem_str(memory[b].get(ours_key)),
                    common.mem_str(memory[b].get(tf_key)),
                ]
            )
            records.append({"case": label, "batch": b, "ratio": tf / ours})
    print(
        "\nmedians; ratio = transformers / ours (> 1: we are faster); % of matmul = achieved / "
        "large-GEMM rate in the same precision; memory: MB above the steady state (peak RSS)"
    )
    common.print_table(headers, rows)
    print(
        "matmul ceiling used (max of before/after): "
        + ", ".join(f"{k} {v:.0f} GFLOP/s" for k, v in rates.items())
    )
    for b in timings:
        print(f"forward FLOPs at batch {b}: {sum(flops[b].values()) / 1e9:.1f} GFLOP")

    if args.no_save:
        return
    record = {
        "benchmark": NAME,
        **info,
        "quick": args.quick,
        "cfg": cfg,
        "iters": args.iters,
        "warmup": args.warmup,
        "matmul_gflops_before": rates_before,
        "matmul_gflops_after": rates_after,
        "flops": {str(b): sum(f.values()) for b, f in flops.items()},
        "flops_parts_batch1": flops[min(flops)],
        "timings": {str(b): {k: tt.as_dict() for k, tt in t.items()} for b, t in timings.items()},
        "memory": {str(b): m for b, m in memory.items()},
        "comparisons": records,
        "agreement": agreement,
    }
    print(f"appended to {common.write_result(NAME, record)}")


if __name__ == "__main__":
    main()
