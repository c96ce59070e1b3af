"""Memory per GPU for each preset under DDP and FSDP, with and without activation checkpointing.

Question: how much accelerator memory does one rank need to pre-train (16x224, 90% tube masking)
or fine-tune (16x224, every token, drop path 0.1) each preset with AdamW and bf16 autocast, and
how much do ``--fsdp`` and ``--grad-checkpointing`` save?

Per rank, in bytes, with P parameters, W ranks and B clips per rank:

- DDP:  16 P (fp32 weights 4 + gradients 4 + AdamW moments 8) + A
- FSDP: 16 P / W + 2 (P_root + 2 P_block) + 2 P_block + A - (autocast copies)
  (the shards; the bf16 gathered weights of the root and of a block plus the next one
  prefetched; one block's unsharded bf16 gradient before its reduce-scatter; autocast copies
  nothing because the gathered weights are already bf16)
- A without checkpointing: rest + sum over blocks of a_block
- A with checkpointing:    rest + the blocks' inputs (fp32, B N D 4 each) + the largest a_block
  (the blocks keep only their input; backward recomputes one block at a time)

``a_block`` is what autograd saves inside a block, ``rest`` what it saves outside the blocks
(embedding, heads, loss). MEASURED rows run the model forward under bf16 autocast with
``torch.autograd.graph.saved_tensors_hooks`` and sum the distinct storages saved (parameters left
out; the autocast bf16 copies of the weights counted once), attributing each to the block
running at the time; runs at B=1 and B=B separate per-clip bytes from fixed ones. COMPUTED rows
use the formula a_block = B N (c_d D + 4 I) + 2 (the block's linear weights), with N the tokens
the block sees, D its width, I its MLP width (4 I: the bf16 MLP activation, saved twice) and c_d
fitted per task on the measured presets; rest = B x (the last measured preset's rest per clip
per token) x tokens + 2 (the linear weights outside the blocks). Parameter counts are exact
(models built on the meta device). Allocator overhead, the input batch, the framework's
workspace and the temporaries of the backward pass are not included.

Usage: python benchmarks/memory_table.py [--batch 8] [--world 8] [--quick] [--no-save]
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import print_table, write_result  # noqa: E402

from videomae import VideoMAEConfig, VideoMAEForPreTraining, VideoMAEForVideoClassification
from videomae.masking import num_masked, tube_mask
from videomae.modeling.layers import VideoMAELayer
from videomae.presets import PRESETS

GIB = 2**30


def build(preset: str, task: str, frames: int, size: int, device: str) -> torch.nn.Module:
    """The pre-training or classification model of ``preset`` at ``frames`` x ``size`` (drop path
    0.1 when fine-tuning, the recipe's default: it saves each residual branch)."""
    drop = 0.1 if task == "finetune" else 0.0
    config = VideoMAEConfig.from_preset(
        preset, num_frames=frames, image_size=size, num_labels=400, drop_path_rate=drop
    )
    cls = VideoMAEForPreTraining if task == "pretrain" else VideoMAEForVideoClassification
    with torch.device(device):
        return cls(config)


def tokens(model: torch.nn.Module) -> int:
    c = model.config
    return (c.num_frames // c.tubelet_size) * (c.image_size // c.patch_size) ** 2


def copied_weights(model: torch.nn.Module) -> tuple[list[int], int]:
    """Elements of the linear weights autocast copies to bf16 and autograd keeps: per block,
    and outside the blocks (the patch embedding's weight is not kept: its input needs no
    gradient)."""
    blocks = [m for m in model.modules() if isinstance(m, VideoMAELayer)]
    inside = {id(x) for b in blocks for x in b.modules()}
    per_block = [
        sum(x.weight.numel() for x in b.modules() if isinstance(x, nn.Linear)) for b in blocks
    ]
    outside = sum(
        x.weight.numel()
        for x in model.modules()
        if isinstance(x, nn.Linear) and id(x) not in inside
    )
    return per_block, outside


def block_params(model: torch.nn.Module) -> tuple[int, int, int]:
    """(all parameters, those outside the blocks, the largest block's)."""
    blocks = [m for m in model.modules() if isinstance(m, VideoMAELayer)]
    sizes = [sum(p.numel() for p in b.parameters()) for b in blocks]
    total = sum(p.numel() for p in model.parameters())
    return total, total - sum(sizes), max(sizes)


@contextmanager
def saved_by_block(model: torch.nn.Module) -> Iterator[dict[str, Any]]:
    """Bytes autograd saves in each block (and outside them), distinct storages, no parameters."""
    params = {p.untyped_storage().data_ptr() for p in model.parameters()}
    seen: set[int] = set()
    out: dict[str, Any] = {"blocks": [], "inputs": [], "rest": 0}
    where: list[int | None] = [None]
    hooks = []
    for block in (m for m in model.modules() if isinstance(m, VideoMAELayer)):

        def enter(mod, args):
            out["blocks"].append(0)
            out["inputs"].append(args[0].numel() * 4)  # the fp32 residual stream
            where[0] = len(out["blocks"]) - 1

        def leave(mod, args, result):
            where[0] = None

        hooks += [block.register_forward_pre_hook(enter), block.register_forward_hook(leave)]

    def pack(t: torch.Tensor) -> torch.Tensor:
        s = t.untyped_storage()
        if s.data_ptr() not in params and s.data_ptr() not in seen:
            seen.add(s.data_ptr())
            if where[0] is None:
                out["rest"] += s.nbytes()
            else:
                out["blocks"][where[0]] += s.nbytes()
        return t

    try:
        with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
            yield out
    finally:
        for h in hooks:
            h.remove()


def measure(model: torch.nn.Module, task: str, batch: int, ratio: float) -> dict[str, Any]:
    """Saved bytes of one bf16-autocast training forward of ``model`` on ``batch`` clips."""
    c = model.config
    model.train()
    x = torch.randn(batch, c.num_frames, 3, c.image_size, c.image_size)
    grid = (
        c.num_frames // c.tubelet_size,
        c.image_size // c.patch_size,
        c.image_size // c.patch_size,
    )
    with saved_by_block(model) as got, torch.autocast("cpu", dtype=torch.bfloat16):
        if task == "pretrain":
            model(x, bool_masked_pos=tube_mask(batch, grid, ratio))
        else:
            model(x, labels=torch.zeros(batch, dtype=torch.long))
    model.zero_grad(set_to_none=True)
    return got


def parts(model: torch.nn.Module, task: str, batch: int, ratio: float) -> dict[str, tuple]:
    """(fixed bytes, bytes per clip) of each part of the activations, from runs at B=1 and
    B=``batch``: the blocks, the largest block, the rest, and the blocks' inputs."""
    one, many = measure(model, task, 1, ratio), measure(model, task, batch, ratio)
    slopes = [b - a for a, b in zip(one["blocks"], many["blocks"])]
    big = max(range(len(slopes)), key=lambda i: slopes[i])  # the most per clip
    pairs = {
        "blocks": (sum(one["blocks"]), sum(many["blocks"])),
        "max_block": (one["blocks"][big], many["blocks"][big]),
        "rest": (one["rest"], many["rest"]),
        "inputs": (sum(one["inputs"]), sum(many["inputs"])),
    }
    out = {}
    for name, (a, b) in pairs.items():
        clip = (b - a) / (batch - 1)
        out[name] = (a - clip, clip)
    return out


def block_shapes(model: torch.nn.Module, task: str, ratio: float) -> list[tuple[int, int, int]]:
    """(tokens, width, MLP width) of every block for one clip."""
    c, n = model.config, tokens(model)
    cells = (c.image_size // c.patch_size) ** 2  # tube masking hides the same cells per slice
    visible = n // cells * (cells - num_masked(cells, ratio)) if task == "pretrain" else n
    enc = [(visible, c.hidden_size, c.intermediate_size)] * c.num_hidden_layers
    if task != "pretrain":
        return enc
    dec = (n, c.decoder_hidden_size, c.decoder_intermediate_size)
    return enc + [dec] * c.decoder_num_hidden_layers


def fit(measured: list[dict[str, Any]]) -> dict[str, float]:
    """The formula's coefficients from the measured runs: c_d in a_block per clip = N (c_d D +
    4 I) (4 I: the MLP's bf16 hidden activation, saved twice), and the rest per clip per token
    (per task: the pixels, the decoder head, the loss)."""
    c_d: dict[str, list[float]] = {}
    coef = {}
    for m in measured:
        shapes = m["shapes"]
        ni = sum(n * i for n, _, i in shapes)
        nd = sum(n * d for n, d, _ in shapes)
        c_d.setdefault(m["task"], []).append((m["parts"]["blocks"][1] - 4 * ni) / nd)
        coef[f"rest_{m['task']}"] = m["parts"]["rest"][1] / m["tokens"]  # the last one wins
    return {**coef, **{f"c_d_{k}": sum(v) / len(v) for k, v in c_d.items()}}


def predict(model: torch.nn.Module, task: str, ratio: float, coef: dict) -> dict[str, tuple]:
    """The formula's (fixed, per clip) parts; fixed = the autocast bf16 copies of the weights."""
    shapes = block_shapes(model, task, ratio)
    per_block = [n * (coef[f"c_d_{task}"] * d + 4 * i) for n, d, i in shapes]
    weights, outside = copied_weights(model)
    big = max(range(len(per_block)), key=lambda i: per_block[i])
    return {
        "blocks": (2 * sum(weights), sum(per_block)),
        "max_block": (2 * weights[big], per_block[big]),
        "rest": (2 * outside, coef[f"rest_{task}"] * tokens(model)),
        "inputs": (0, sum(n * d * 4 for n, d, _ in shapes)),
    }


def per_gpu(model: torch.nn.Module, act: dict[str, tuple], batch: int, world: int) -> dict:
    """GiB per rank for ``batch`` clips: DDP / FSDP, without and with checkpointing."""
    total, root, block = block_params(model)
    at = {k: fixed + batch * clip for k, (fixed, clip) in act.items()}
    full = at["rest"] + at["blocks"]
    ckpt = at["rest"] + at["inputs"] + at["max_block"]
    # under FSDP (bf16) autocast copies nothing: the gathered bf16 weights are the working set
    copies_full = act["rest"][0] + act["blocks"][0]
    copies_ckpt = act["rest"][0] + act["max_block"][0]
    shards = 16 * total / world + 2 * (root + 2 * block) + 2 * block
    return {
        "act_clip": sum(act[k][1] for k in ("rest", "blocks")) / 2**20,
        "act": full / GIB,
        "ddp": (16 * total + full) / GIB,
        "ddp_ckpt": (16 * total + ckpt) / GIB,
        "fsdp": (shards + full - copies_full) / GIB,
        "fsdp_ckpt": (shards + ckpt - copies_ckpt) / GIB,
    }


def _gib(bytes_: float) -> float:
    return round(bytes_ / GIB, 3)


def run(args: argparse.Namespace) -> list[dict[str, Any]]:
    """Measure ``args.measure`` presets, fit the formula, and compute every preset's row."""
    torch.set_num_threads(args.threads)
    tasks = ("pretrain", "finetune")
    measured = {}
    for preset in args.measure:
        for task in tasks:
            model = build(preset, task, args.frames, args.size, "cpu")
            measured[preset, task] = {
                "task": task,
                "parts": parts(model, task, args.batch, args.mask_ratio),
                "shapes": block_shapes(model, task, args.mask_ratio),
                "tokens": tokens(model),
            }
            del model
    coef = fit(list(measured.values()))
    rows = []
    for preset in args.presets:
        for task in tasks:
            model = build(preset, task, args.frames, args.size, "meta")
            formula = predict(model, task, args.mask_ratio, coef)
            got = measured.get((preset, task))
            act = got["parts"] if got else formula
            row = {"preset": preset, "task": task, "source": "measured" if got else "computed"}
            row["params_m"] = round(block_params(model)[0] / 1e6, 1)
            row.update(
                {k: round(v, 3) for k, v in per_gpu(model, act, args.batch, args.world).items()}
            )
            if got:  # how well the formula reproduces the measured activations
                f, m = (per_gpu(model, a, args.batch, 1)["act"] for a in (formula, act))
                row["formula_ratio"] = round(f / m, 3)
            rows.append(row)
    return rows, coef


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--batch", type=int, default=8, help="clips per GPU")
    p.add_argument("--world", type=int, default=8, help="ranks FSDP shards over")
    p.add_argument("--frames", type=int, default=16)
    p.add_argument("--size", type=int, default=224)
    p.add_argument("--mask-ratio", type=float, default=0.9)
    p.add_argument("--measure", nargs="+", default=["tiny", "small"])
    p.add_argument("--presets", nargs="+", default=list(PRESETS))
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--quick", action="store_true", help="tiny only, 4 frames of 64x64, batch 2")
    p.add_argument("--no-save", action="store_true")
    args = p.parse_args()
    if args.quick:
        args.frames, args.size, args.batch = 4, 64, 2
        args.measure, args.presets = ["tiny"], ["tiny", "small"]
    rows, coef = run(args)
    print(
        f"memory per GPU (GiB), {args.frames}x{args.size}, batch {args.batch} per GPU, "
        f"FSDP over {args.world} ranks, AdamW, bf16 autocast; c_d = "
        f"{coef['c_d_pretrain']:.1f} (pre-training), {coef['c_d_finetune']:.1f} (fine-tuning)"
    )
    cols = ["ddp", "ddp_ckpt", "fsdp", "fsdp_ckpt", "act_clip"]
    heads = ["preset", "task", "params M", "DDP", "DDP+ckpt", "FSDP", "FSDP+ckpt", "act MiB/clip"]
    table = [
        [r["preset"], r["task"], r["params_m"], *(r[c] for c in cols)] + [r["source"]] for r in rows
    ]
    print_table([*heads, "source"], table)
    for r in rows:
        if "formula_ratio" in r:
            print(f"formula/measured ratio {r['preset']} {r['task']}: {r['formula_ratio']}")
    if not args.no_save:
        write_result("memory_table", {"args": vars(args), "coef": coef, "rows": rows})


if __name__ == "__main__":
    main()
