"""Benchmark 2: one pre-training step (forward + backward + AdamW), ours vs transformers.

A transformers ``VideoMAEForPreTraining`` (base size, 16x224x224, ``use_mean_pooling=False`` as
the released pre-training checkpoints, ``norm_pix_loss=True``, random weights) is saved with
``save_pretrained`` and loaded by both libraries. Same input clip (batch 2) and the same 90% tube
mask (``videomae.masking.tube_mask``) for both; losses, logits and two gradients are checked to
agree in fp32 before timing. Each library's model has its own AdamW (lr 1.5e-4, betas
0.9/0.95, weight decay 0.05); in the model-vs-model rows both use the same kernel, chosen by
``--optimizer`` (default: torch's own default for the device, what ``torch.optim.AdamW(params)``
gives a transformers user; on CPU that is the per-tensor loop); the recipe row uses our recipe's
``build_optimizer`` (parameter groups, and its kernel choice). A step is
``loss.backward(); opt.step(); opt.zero_grad(set_to_none=True)``. Variants, timed in
alternating rounds after warm-up (benchmarks/common.py):

- fp32: ours vs transformers;
- bf16 autocast (``torch.autocast(device, bfloat16)`` around the forward) for both;
- ours at the recipe's default precision (``videomae.train.precision.resolve_precision("auto")``)
  with the recipe's optimizer (``videomae.train.optim.build_optimizer``);
- ours fp32 under ``torch.compile`` (``--compile``; the recipes' ``compile=True``): its first
  step, which compiles, is timed apart and its loss checked against eager;
- ours with VideoMAE V2 dual masking (``decoder_mask`` from
  ``videomae.masking.running_cell_mask``, keep ratio 0.5): a different, smaller computation
  (the decoder sees visible + selected tokens only), reported on its own rows.

Printed: medians, ratio (transformers / ours, > 1 = we are faster), the step's analytic FLOPs
(useful work: encoder on visible tokens only; backward = 2x forward except the patch embedding's
input gradient) and our achieved share of the large-GEMM rate, and peak memory per variant (one
fresh subprocess each). ``--loss-curve N`` also trains two fresh copies of ours, fp32 and bf16
autocast, for N steps on the same synthetic clips and prints both loss curves. Appends a JSON
line to ``benchmarks/results/pretrain_step.jsonl``.

    .venv/bin/python benchmarks/bench_pretrain_step.py                 # full run, base size
    .venv/bin/python benchmarks/bench_pretrain_step.py --loss-curve 30 # + fp32 vs bf16 curves
    .venv/bin/python benchmarks/bench_pretrain_step.py --compile       # + ours under torch.compile
    .venv/bin/python benchmarks/bench_pretrain_step.py --quick         # smoke run, small model
    .venv/bin/python benchmarks/bench_pretrain_step.py --device cuda   # GPU (adds fp16 rows)
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402

NAME = "pretrain_step"
SCRIPT = Path(__file__).resolve()
LR, BETAS, WEIGHT_DECAY = 1.5e-4, (0.9, 0.95), 0.05
MASK_RATIO, DECODER_KEEP = 0.9, 0.5


@dataclass(frozen=True)
class Variant:
    key: str
    lib: str  # "ours" | "transformers"
    precision: str  # "fp32" | "bf16" | "fp16" (autocast dtype; weights stay fp32)
    dual: bool = False  # VideoMAE V2 dual masking (ours only)
    recipe_optimizer: bool = False  # videomae.train.optim.build_optimizer instead of AdamW
    compiled: bool = False  # torch.compile(model), as the recipe's compile=True does


def recipe_precision(device: torch.device) -> str:
    from videomae.train.precision import resolve_precision

    return resolve_precision("auto", device)


def variants(device: torch.device, explore: bool, compiled: bool = False) -> list[Variant]:
    v = [
        Variant("ours_fp32", "ours", "fp32"),
        Variant("tf_fp32", "transformers", "fp32"),
        Variant("ours_bf16", "ours", "bf16"),
        Variant("tf_bf16", "transformers", "bf16"),
        Variant("ours_recipe", "ours", recipe_precision(device), recipe_optimizer=True),
        Variant("ours_dual_bf16", "ours", "bf16", dual=True),
    ]
    if explore:
        v.append(Variant("ours_dual_fp32", "ours", "fp32", dual=True))
    if compiled:  # opt-in: compiling the base model takes minutes
        v.append(Variant("ours_fp32_compiled", "ours", "fp32", compiled=True))
    if device.type == "cuda":
        v += [
            Variant("ours_fp16", "ours", "fp16"),
            Variant("tf_fp16", "transformers", "fp16"),
        ]
    return v


# (row label, ours key, transformers key); ratio = theirs / ours
COMPARISONS = [
    ("fp32: ours vs tf fp32", "ours_fp32", "tf_fp32"),
    ("bf16 autocast: ours vs tf bf16", "ours_bf16", "tf_bf16"),
    ("ours bf16 autocast vs tf fp32", "ours_bf16", "tf_fp32"),
    ("ours recipe default vs tf fp32", "ours_recipe", "tf_fp32"),
    ("fp32: ours torch.compile vs tf fp32", "ours_fp32_compiled", "tf_fp32"),
    ("dual masking: ours bf16 vs tf bf16 (other work)", "ours_dual_bf16", "tf_bf16"),
    ("dual masking: ours bf16 vs tf fp32 (other work)", "ours_dual_bf16", "tf_fp32"),
    ("dual masking: ours fp32 vs tf fp32 (other work)", "ours_dual_fp32", "tf_fp32"),
    ("fp16 autocast: ours vs tf fp16", "ours_fp16", "tf_fp16"),
]


# --------------------------------------------------------------------------- models and inputs
def model_config(quick: bool, size: str | None) -> dict[str, Any]:
    from videomae.presets import PRESETS

    size = size or ("small" if quick else "base")
    cfg = dict(PRESETS[size])
    if quick and size == "small":
        cfg.update(num_frames=8, image_size=128)  # token grid (4, 8, 8): even, t % 4 == 0
    else:
        cfg.update(num_frames=16, image_size=224)
    cfg.update(use_mean_pooling=False, norm_pix_loss=True)
    return cfg


def save_reference(cfg: dict[str, Any], folder: Path, seed: int) -> None:
    import transformers

    torch.manual_seed(seed)
    transformers.VideoMAEForPreTraining(transformers.VideoMAEConfig(**cfg)).save_pretrained(folder)


def load(lib: str, folder: Path | str, device: torch.device) -> torch.nn.Module:
    if lib == "ours":
        import videomae

        model = videomae.VideoMAEForPreTraining.from_pretrained(folder)
    else:
        import transformers

        model = transformers.VideoMAEForPreTraining.from_pretrained(
            folder, attn_implementation="sdpa"
        )
    return model.to(device).train()


OPTIMIZER_KERNELS = {
    "default": {},
    "foreach": {"foreach": True},
    "fused": {"fused": True},
    "for-loop": {"foreach": False},
}


def make_optimizer(
    model: torch.nn.Module, recipe: bool, kernel: str = "default"
) -> torch.optim.Optimizer:
    """Our recipe's optimizer, or a plain AdamW with the given kernel (see OPTIMIZER_KERNELS)."""
    if recipe:
        from videomae.train.optim import build_optimizer

        return build_optimizer(model, lr=LR, weight_decay=WEIGHT_DECAY, betas=BETAS)
    return torch.optim.AdamW(
        model.parameters(),
        lr=LR,
        betas=BETAS,
        weight_decay=WEIGHT_DECAY,
        **OPTIMIZER_KERNELS[kernel],
    )


@dataclass
class Inputs:
    pixel_values: torch.Tensor  # (B, T, 3, H, W)
    mask: torch.Tensor  # (B, N) bool, True = hidden from the encoder
    decoder_mask: torch.Tensor  # (B, N) bool, True = reconstructed by the decoder


def make_inputs(cfg: dict[str, Any], batch: int, seed: int, device: torch.device) -> Inputs:
    from videomae.masking import running_cell_mask, tube_mask

    g = torch.Generator().manual_seed(seed)
    s, t = cfg["image_size"], cfg["num_frames"]
    x = torch.randn(batch, t, 3, s, s, generator=g)
    grid = (t // cfg.get("tubelet_size", 2), s // 16, s // 16)
    mask = tube_mask(batch, grid, MASK_RATIO, generator=g)
    dec = running_cell_mask(batch, grid, DECODER_KEEP, generator=g)  # V2: decoded tokens
    return Inputs(x.to(device), mask.to(device), dec.to(device))


def autocast_ctx(precision: str, device: torch.device):
    if precision == "fp32":
        return contextlib.nullcontext()
    return torch.autocast(device.type, dtype=common.dtype_of(precision))


def step_fn(
    model: torch.nn.Module,
    opt: torch.optim.Optimizer,
    v: Variant,
    inp: Inputs,
    device: torch.device,
) -> Callable[[], float]:
    """One optimisation step the way `v` says; returns the detached loss (no sync)."""
    kwargs: dict[str, Any] = {"pixel_values": inp.pixel_values, "bool_masked_pos": inp.mask}
    if v.dual:
        kwargs["decoder_mask"] = inp.decoder_mask

    def run() -> torch.Tensor:
        with autocast_ctx(v.precision, device):
            loss = model(**kwargs).loss
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
        return loss.detach()

    return run


def _kernel_name(opt: torch.optim.Optimizer) -> str:
    d = opt.defaults
    if d.get("fused"):
        return "fused"
    if d.get("foreach"):
        return "foreach"
    # None: torch picks foreach on CUDA, the per-tensor loop on CPU
    return "for-loop" if d.get("foreach") is False else "torch default (for-loop on CPU)"


# --------------------------------------------------------------------------- checks
def check_agreement(ours, tf, inp: Inputs, device: torch.device) -> dict[str, float]:
    """fp32 loss, logits and two gradients agree (asserted); bf16 losses reported."""
    out: dict[str, float] = {}
    results = {}
    for name, model in (("ours", ours), ("tf", tf)):
        with common.saved_for_backward(model) as saved:
            o = model(pixel_values=inp.pixel_values, bool_masked_pos=inp.mask)
        out[f"saved_for_backward_mib_{name}"] = saved["mib"]
        o.loss.backward()
        grads = {
            "patch_embed": model.videomae.embeddings.patch_embeddings.projection.weight.grad,
            "decoder_head": model.decoder.head.weight.grad,
        }
        results[name] = (
            o.loss.detach(),
            o.logits.detach(),
            {k: g.clone() for k, g in grads.items()},
        )
        model.zero_grad(set_to_none=True)
    (lo, xo, go), (lt, xt, gt) = results["ours"], results["tf"]
    out["loss_ours"], out["loss_tf"] = lo.item(), lt.item()
    out["loss_rel_diff"] = abs(lo.item() - lt.item()) / abs(lt.item())
    out["logits_max_abs_diff"] = (xo - xt).abs().max().item()
    for k in go:
        out[f"grad_{k}_rel_diff"] = ((go[k] - gt[k]).norm() / gt[k].norm()).item()
    print(
        f"  fp32 loss ours {lo.item():.6f} vs tf {lt.item():.6f} (rel {out['loss_rel_diff']:.1e}); "
        f"logits max abs diff {out['logits_max_abs_diff']:.1e}; grad rel diff "
        + ", ".join(f"{k} {out[f'grad_{k}_rel_diff']:.1e}" for k in go)
    )
    print(
        "  tensors saved for the backward (fp32, parameters excluded): ours "
        f"{out['saved_for_backward_mib_ours']:.1f} MiB vs tf {out['saved_for_backward_mib_tf']:.1f} MiB"
    )
    bad = [k for k, val in out.items() if k.endswith("rel_diff") and val > 1e-3]
    if bad or out["logits_max_abs_diff"] > 1e-3:
        raise SystemExit(f"fp32 ours and transformers disagree: {out}")
    if device.type == "cpu" or torch.cuda.is_bf16_supported():
        with torch.no_grad(), autocast_ctx("bf16", device):
            b_ours = ours(pixel_values=inp.pixel_values, bool_masked_pos=inp.mask).loss.item()
            b_tf = tf(pixel_values=inp.pixel_values, bool_masked_pos=inp.mask).loss.item()
        out["loss_bf16_ours"], out["loss_bf16_tf"] = b_ours, b_tf
        print(f"  bf16 autocast loss ours {b_ours:.6f} vs tf {b_tf:.6f}")
    return out


# --------------------------------------------------------------------------- loss curve
def loss_curve(cfg, folder: Path, device: torch.device, steps: int, batch: int, seed: int):
    """Fresh copies of ours, fp32 vs bf16 autocast, same synthetic clips and masks."""
    import numpy as np

    from videomae.data.synthetic import generate_clips

    size, frames = cfg["image_size"], cfg["num_frames"]
    clips, _ = generate_clips(steps * batch, num_frames=frames, size=size, seed=seed)
    mean = np.array([0.485, 0.456, 0.406], dtype=np.float32)
    std = np.array([0.229, 0.224, 0.225], dtype=np.float32)
    data = torch.from_numpy((clips.astype(np.float32) / 255.0 - mean) / std)
    data = data.permute(0, 1, 4, 2, 3).contiguous()  # (n, T, C, H, W)
    curves: dict[str, list[float]] = {}
    for precision in ("fp32", "bf16"):
        model = load("ours", folder, device)
        opt = make_optimizer(model, recipe=True)
        losses = []
        for i in range(steps):
            inp = make_inputs(cfg, batch, seed + 1000 + i, device)
            x = data[i * batch : (i + 1) * batch].to(device)
            with autocast_ctx(precision, device):
                loss = model(pixel_values=x, bool_masked_pos=inp.mask).loss
            loss.backward()
            opt.step()
            opt.zero_grad(set_to_none=True)
            losses.append(loss.item())
        curves[precision] = losses
        del model, opt
    diffs = [abs(a - b) / abs(a) for a, b in zip(curves["fp32"], curves["bf16"])]
    print(f"\nloss curve, {steps} steps (ours, recipe optimizer, synthetic clips):")
    print("  step   fp32      bf16      rel diff")
    for i, (a, b, d) in enumerate(zip(curves["fp32"], curves["bf16"], diffs)):
        print(f"  {i:4d}  {a:.5f}  {b:.5f}  {d:.2e}")
    print(f"  max rel diff {max(diffs):.2e}, mean {sum(diffs) / len(diffs):.2e}")
    return {"steps": steps, "curves": curves, "max_rel_diff": max(diffs)}


# --------------------------------------------------------------------------- memory worker
def mem_worker(spec: dict[str, Any]) -> None:
    common.quiet_transformers()
    device = common.setup_device(spec["device"], spec["threads"], spec["seed"])
    v = Variant(**spec["variant"])
    model = load(v.lib, spec["folder"], device)
    opt = make_optimizer(model, v.recipe_optimizer, spec["optimizer"])
    inp = make_inputs(spec["cfg"], spec["batch"], spec["seed"], device)
    run = step_fn(torch.compile(model) if v.compiled else model, opt, v, inp, device)
    run()  # warm-up: creates the AdamW state (and compiles), then part of the steady state
    with common.PeakMemory(device) as pm:
        for _ in range(spec["calls"]):
            run()
    common.emit_worker_result(pm.result)


# --------------------------------------------------------------------------- main
def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    common.add_common_args(parser, iters=10, quick_iters=3)
    parser.add_argument("--batch", type=int, default=2)
    parser.add_argument("--size", default=None, help="preset (default base; small with --quick)")
    parser.add_argument("--explore", action="store_true", help="add an ours dual-masking fp32 row")
    parser.add_argument(
        "--compile",
        action="store_true",
        help="add an ours fp32 row under torch.compile (its compile time is printed, not timed)",
    )
    parser.add_argument("--only", default=None, help="comma-separated variant keys to time")
    parser.add_argument(
        "--loss-curve", type=int, default=0, help="also run N steps fp32 vs bf16 (ours)"
    )
    parser.add_argument(
        "--profile", action="store_true", help="profile the steps (--only picks), no timing"
    )
    parser.add_argument("--profile-rows", type=int, default=20)
    parser.add_argument(
        "--optimizer",
        default="default",
        choices=sorted(OPTIMIZER_KERNELS),
        help="AdamW kernel of the model-vs-model rows (same for both libraries)",
    )
    return common.finish_args(parser.parse_args(argv))


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if args.mem_worker:
        mem_worker(json.loads(args.mem_worker))
        return
    common.quiet_transformers()
    device = common.setup_device(args.device, args.threads, args.seed)
    info = common.machine_info(device)
    common.print_machine(info)
    cfg = model_config(args.quick, args.size)
    print(f"model: {cfg}; batch {args.batch}; recipe precision: {recipe_precision(device)}")
    with common.temp_model_dir("bench_pretrain_") as folder:
        save_reference(cfg, folder, args.seed)
        run_benchmark(args, cfg, folder, device, info)


def run_benchmark(args, cfg, folder: Path, device: torch.device, info: dict) -> None:
    wants_compiled = args.compile or "ours_fp32_compiled" in (args.only or "")
    vs = {v.key: v for v in variants(device, args.explore, wants_compiled)}
    if args.only:
        vs = {k: v for k, v in vs.items() if k in set(args.only.split(","))}
    ours, tf = load("ours", folder, device), load("transformers", folder, device)
    inp = make_inputs(cfg, args.batch, args.seed, device)

    print("\nagreement (before timing):")
    agreement = check_agreement(ours, tf, inp, device)

    n = inp.mask.shape[1]
    n_masked = int(inp.mask[0].sum())
    n_selected = int(inp.decoder_mask[0].sum())  # V2 decodes every selected token
    ns = argparse.Namespace(**{"num_channels": 3, "tubelet_size": 2, "patch_size": 16, **cfg})
    fwd = common.pretrain_forward_flops(ns, n - n_masked, n_masked, args.batch)
    fwd_dual = common.pretrain_forward_flops(ns, n - n_masked, n_selected, args.batch)
    step_flops = {"plain": common.train_step_flops(fwd), "dual": common.train_step_flops(fwd_dual)}
    print(
        f"\ntokens per clip {n}, visible {n - n_masked}, decoded {n_masked} "
        f"(dual masking: {n_selected}); forward FLOPs at batch {args.batch}:"
    )
    print(common.format_flops(fwd))
    print(
        f"  step = 3 x forward - patch-embed input gradient = {step_flops['plain'] / 1e9:.1f} GFLOP "
        f"(dual masking {step_flops['dual'] / 1e9:.1f} GFLOP)"
    )

    dtypes = common.ceiling_dtypes(v.precision for v in vs.values())
    print("\nmatmul ceiling (large square GEMM) ...", flush=True)
    rates_before = common.matmul_ceiling(device, dtypes, args.quick)

    if args.profile:
        record = {"benchmark": NAME + "_profile", "cfg": cfg, "batch": args.batch}
        for k, v in vs.items():
            model = ours if v.lib == "ours" else tf
            opt = make_optimizer(model, v.recipe_optimizer, args.optimizer)
            record[k] = common.profile_call(
                step_fn(torch.compile(model) if v.compiled else model, opt, v, inp, device),
                label=f"{k}, batch {args.batch}, forward + backward + AdamW",
                iters=args.iters,
                warmup=args.warmup,
                device=device,
                rows=args.profile_rows,
            )
            del opt
        if not args.no_save:
            record.update(info)
            print(f"\nappended to {common.write_result(NAME + '_profile', record)}")
        return

    opts = {
        "ours": make_optimizer(ours, recipe=False, kernel=args.optimizer),
        "tf": make_optimizer(tf, recipe=False, kernel=args.optimizer),
        "ours_recipe": make_optimizer(ours, recipe=True),
    }
    recipe_kernel = _kernel_name(opts["ours_recipe"])
    print(
        f"AdamW kernel: model-vs-model rows {_kernel_name(opts['ours'])} (--optimizer "
        f"{args.optimizer}); our recipe's build_optimizer: {recipe_kernel}"
    )
    cases = {}
    compile_s = None
    for k, v in vs.items():
        model = ours if v.lib == "ours" else tf
        opt = opts["ours_recipe" if v.recipe_optimizer else ("ours" if v.lib == "ours" else "tf")]
        if v.compiled:  # shares the parameters; its own optimizer so state is not shared
            opts[k] = opt = make_optimizer(ours, recipe=False, kernel=args.optimizer)
            with torch.no_grad():
                eager_loss = float(
                    ours(pixel_values=inp.pixel_values, bool_masked_pos=inp.mask).loss
                )
            cases[k] = step_fn(torch.compile(ours), opt, v, inp, device)
            print(f"compiling {k} (first step) ...", flush=True)
            start = time.perf_counter()
            loss = float(cases[k]())
            compile_s = time.perf_counter() - start
            print(
                f"  first step with compilation: {compile_s:.1f} s; loss {loss:.6f} vs eager {eager_loss:.6f}"
            )
            if abs(loss - eager_loss) > 1e-4 * max(1.0, abs(eager_loss)):
                raise SystemExit("torch.compile changed the loss: not timing it")
        else:
            cases[k] = step_fn(model, opt, v, inp, device)
    print(f"\ntiming: {args.iters} alternating rounds after {args.warmup} warm-up")
    timings = common.time_alternating(cases, iters=args.iters, warmup=args.warmup, device=device)
    rates_after = common.matmul_ceiling(device, dtypes, args.quick)
    rates = {k: max(rates_before[k], rates_after[k]) for k in rates_before}
    del ours, tf, opts, cases

    memory: dict[str, dict] = {}
    if not args.no_memory:
        print("\npeak memory: one subprocess per variant ...", flush=True)
        for k, v in vs.items():
            spec = {
                "variant": asdict(v),
                "folder": str(folder),
                "cfg": cfg,
                "batch": args.batch,
                "device": args.device,
                "threads": args.threads,
                "seed": args.seed,
                "calls": 2,
                "optimizer": args.optimizer,
                "recipe_optimizer_kernel": recipe_kernel,
            }
            memory[k] = common.measure_in_subprocess(SCRIPT, spec)

    curve = None
    if args.loss_curve:
        curve = loss_curve(cfg, folder, device, args.loss_curve, args.batch, args.seed)

    headers = [
        "case",
        "ours ms",
        "tf ms",
        "ratio tf/ours",
        "ours GFLOP/s",
        "% of matmul",
        "ours MB d(peak)",
        "tf MB d(peak)",
    ]
    rows, records = [], []
    names = {"fp32": "float32", "bf16": "bfloat16", "fp16": "float16"}
    for label, ok, tk in COMPARISONS:
        if ok not in timings or tk not in timings:
            continue
        o, t = timings[ok].median, timings[tk].median
        v = vs[ok]
        achieved = step_flops["dual" if v.dual else "plain"] / o / 1e9
        rows.append(
            [
                label + (f" [{v.precision}]" if ok == "ours_recipe" else ""),
                f"{o * 1e3:.0f}",
                f"{t * 1e3:.0f}",
                common.ratio_str(t, o),
                f"{achieved:.0f}",
                f"{100 * achieved / rates[names[v.precision]]:.0f}%",
                common.mem_str(memory.get(ok)),
                common.mem_str(memory.get(tk)),
            ]
        )
        records.append({"case": label, "ratio": t / o})
    print(
        "\nmedians; ratio = transformers / ours (> 1: we are faster); % of matmul = achieved "
        "GFLOP/s / large-GEMM rate at the autocast precision; memory: MB above the steady "
        "state between steps (weights + AdamW state), and the peak RSS"
    )
    common.print_table(headers, rows)
    print(
        "matmul GFLOP/s before / after timing: "
        + ", ".join(f"{k} {rates_before[k]:.0f} / {rates_after[k]:.0f}" for k in rates_before)
    )
    if args.no_save:
        return
    record = {
        "benchmark": NAME,
        **info,
        "quick": args.quick,
        "cfg": cfg,
        "batch": args.batch,
        "mask_ratio": MASK_RATIO,
        "optimizer": args.optimizer,
        "recipe_optimizer_kernel": recipe_kernel,
        "recipe_precision": recipe_precision(device),
        "iters": args.iters,
        "warmup": args.warmup,
        "matmul_gflops_before": rates_before,
        "matmul_gflops_after": rates_after,
        "step_flops": step_flops,
        "timings": {k: t.as_dict() for k, t in timings.items()},
        "memory": memory,
        "comparisons": records,
        "agreement": agreement,
        "compile_first_step_s": compile_s,
        "loss_curve": curve,
    }
    print(f"appended to {common.write_result(NAME, record)}")


if __name__ == "__main__":
    main()
