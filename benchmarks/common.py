"""Shared helpers of the benchmarks: timing, peak memory, the matmul ceiling, FLOP counts, results.

Timing (:func:`time_alternating`): every case is warmed up, then the cases run in turn, one call
each per round, with the order rotated every round so that no case always runs first (or right
after a particular other case); each call is timed on its own (``perf_counter``, with a device
synchronisation on CUDA) and the median over rounds is reported with the quartiles. Alternating
in one process means a burst of load from elsewhere on the machine hits every case alike.

Peak memory (:class:`PeakMemory`, :func:`measure_in_subprocess`): one fresh Python process per
(implementation, case), so nothing another case allocated (weights, allocator caches, oneDNN
primitive caches, autocast weight copies) can hide or inflate the number. The worker loads the
model and builds the inputs, runs one warm-up call, returns freed heap memory to the OS
(``malloc_trim``), then resets the kernel's resident-set high-water mark (writing ``5`` to
``/proc/self/clear_refs``) and runs the measured calls. Reported: the peak resident set during
those calls (``VmHWM``, which counts every page the process touched, whoever allocated it:
torch's CPU allocator, MKL / oneDNN scratch buffers, Python objects) and that peak minus the
resident set just before the calls (the *delta*: activations, temporaries and workspaces above
the steady state; weights, and for training the optimizer state, are in the steady state).
tracemalloc or torch's allocator statistics would miss the MKL / oneDNN buffers, so they are not
used. Where ``clear_refs`` cannot be written the worker falls back to ``ru_maxrss`` (then the
absolute peak may include the loading peak; the record says which method was used). On CUDA:
``torch.cuda.max_memory_allocated`` after ``reset_peak_memory_stats``, minus the allocation
before the calls.

Matmul ceiling (:func:`matmul_rate`): the median GFLOP/s of a large square GEMM (2 n^3 FLOPs) in
fp32 and bf16 with the same thread count: the practical ceiling for a transformer whose FLOPs are
nearly all GEMMs.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import datetime as dt
import gc
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

BENCH_DIR = Path(__file__).resolve().parent
RESULTS_DIR = BENCH_DIR / "results"
# generated inputs (videos); VIDEOMAE_BENCH_CACHE moves them (the smoke tests use a temp dir)
#: the model sizes the deployment benchmarks (export, long videos) take by name
BENCH_MODELS: dict[str, dict[str, int]] = {
    "small-112": dict(
        hidden_size=384, num_hidden_layers=12, num_attention_heads=6, intermediate_size=1536,
        image_size=112, patch_size=16, num_frames=16, tubelet_size=2,
    ),
    "base-224": dict(
        hidden_size=768, num_hidden_layers=12, num_attention_heads=12, intermediate_size=3072,
        image_size=224, patch_size=16, num_frames=16, tubelet_size=2,
    ),
    "tiny-112": dict(
        hidden_size=64, num_hidden_layers=2, num_attention_heads=4, intermediate_size=128,
        image_size=112, patch_size=16, num_frames=16, tubelet_size=2,
    ),
    "tiny-32": dict(
        hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=64,
        image_size=32, patch_size=8, num_frames=4, tubelet_size=2,
    ),
}  # fmt: skip

CACHE_DIR = Path(os.environ.get("VIDEOMAE_BENCH_CACHE") or BENCH_DIR / ".cache")
MEM_WORKER_FLAG = "--_mem-worker"
_MEM_PREFIX = "MEMJSON "


# --------------------------------------------------------------------------- arguments / setup
def add_common_args(parser: argparse.ArgumentParser, *, iters: int, quick_iters: int) -> None:
    """--device, --threads, --quick, --iters, --warmup, --no-memory, --seed, --no-save."""
    parser.add_argument("--device", default="cpu", choices=("cpu", "cuda"))
    parser.add_argument(
        "--threads",
        type=int,
        default=None,
        help="torch intra-op threads (default: 2 on cpu, torch's default on cuda)",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="smoke run: small model and input, few iterations (numbers are not comparable)",
    )
    parser.add_argument(
        "--iters",
        type=int,
        default=None,
        help=f"timed rounds per case (default {iters}, {quick_iters} with --quick)",
    )
    parser.add_argument("--warmup", type=int, default=None, help="warm-up calls per case")
    parser.add_argument(
        "--no-memory", action="store_true", help="skip the per-case peak-memory subprocesses"
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--no-save", action="store_true", help="do not append a line to benchmarks/results/"
    )
    parser.add_argument(MEM_WORKER_FLAG, dest="mem_worker", default=None, help=argparse.SUPPRESS)
    parser.set_defaults(_iters_default=iters, _quick_iters=quick_iters)


def finish_args(args: argparse.Namespace) -> argparse.Namespace:
    """Fill the defaults that depend on --quick / --device."""
    if args.iters is None:
        args.iters = args._quick_iters if args.quick else args._iters_default
    if args.warmup is None:
        args.warmup = 1 if args.quick else 2
    if args.threads is None and args.device == "cpu":
        args.threads = 2
    return args


def setup_device(device: str, threads: int | None, seed: int = 0) -> torch.device:
    """Set the thread count and the seed; check that CUDA exists when asked for."""
    if device == "cuda" and not torch.cuda.is_available():
        raise SystemExit("--device cuda was given but torch.cuda.is_available() is False")
    if threads is not None:
        torch.set_num_threads(threads)
    torch.manual_seed(seed)
    return torch.device(device)


def quiet_transformers() -> None:
    """Silence transformers' info/warning chatter (torchvision fallback notices and the like)."""
    import logging

    logging.getLogger("transformers").setLevel(logging.ERROR)
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    with contextlib.suppress(Exception):
        from transformers.utils import logging as hf_logging

        hf_logging.set_verbosity_error()
        hf_logging.disable_progress_bar()


# --------------------------------------------------------------------------- machine info
def _cpu_model() -> str:
    with contextlib.suppress(OSError), open("/proc/cpuinfo", encoding="utf-8") as f:
        for line in f:
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def machine_info(device: torch.device) -> dict[str, Any]:
    """What a result depends on: hardware, thread count, library versions, date, load."""
    info: dict[str, Any] = {
        "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "cpu": _cpu_model(),
        "cpu_count": os.cpu_count(),
        "cpu_capability": torch.backends.cpu.get_cpu_capability(),
        "torch_threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "device": str(device),
    }
    with contextlib.suppress(OSError):
        info["loadavg_1m_at_start"] = round(os.getloadavg()[0], 2)
    with contextlib.suppress(Exception):
        import transformers

        info["transformers"] = transformers.__version__
    with contextlib.suppress(Exception):
        import av

        info["av"] = av.__version__
    if device.type == "cuda":
        info["gpu"] = torch.cuda.get_device_name(device)
        info["cuda"] = torch.version.cuda
    return info


def print_machine(info: Mapping[str, Any]) -> None:
    keys = ("date", "cpu", "cpu_count", "torch_threads", "torch", "transformers", "device", "gpu")
    print("; ".join(f"{k}={info[k]}" for k in keys if k in info))
    if "loadavg_1m_at_start" in info:
        load = info["loadavg_1m_at_start"]
        cores = info.get("cpu_count") or 1
        note = "  (busy machine: timings are noisy)" if load > 0.5 * cores else ""
        print(f"load average (1 min) at start: {load}{note}")


# --------------------------------------------------------------------------- timing
def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


@dataclass
class Timing:
    """Seconds per call of one case."""

    samples: list[float] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.samples)

    @property
    def quartiles(self) -> tuple[float, float]:
        if len(self.samples) < 2:
            return self.samples[0], self.samples[0]
        q = statistics.quantiles(self.samples, n=4, method="inclusive")
        return q[0], q[2]

    def as_dict(self) -> dict[str, Any]:
        q1, q3 = self.quartiles
        return {
            "median_s": self.median,
            "q1_s": q1,
            "q3_s": q3,
            "min_s": min(self.samples),
            "n": len(self.samples),
        }


def time_call(fn: Callable[[], Any], device: torch.device) -> float:
    sync(device)
    start = time.perf_counter()
    fn()
    sync(device)
    return time.perf_counter() - start


def time_alternating(
    cases: Mapping[str, Callable[[], Any]],
    *,
    iters: int,
    warmup: int,
    device: torch.device,
    progress: bool = True,
) -> dict[str, Timing]:
    """Warm up every case, then ``iters`` rounds of one timed call per case, order rotated."""
    names = list(cases)
    for _ in range(warmup):
        for name in names:
            cases[name]()
    sync(device)
    timings = {name: Timing() for name in names}
    for r in range(iters):
        shift = r % len(names)
        for name in names[shift:] + names[:shift]:
            gc.collect()
            timings[name].samples.append(time_call(cases[name], device))
        if progress:
            done = ", ".join(f"{n} {timings[n].samples[-1] * 1e3:.0f}" for n in names)
            print(f"  round {r + 1}/{iters} (ms): {done}", flush=True)
    return timings


# --------------------------------------------------------------------------- matmul ceiling
def matmul_rate(
    dtype: torch.dtype,
    device: torch.device,
    *,
    n: int = 4096,
    iters: int = 5,
    shape: tuple[int, int, int] | None = None,
) -> float:
    """Median GFLOP/s of an (m x k) @ (k x n) GEMM; square n x n x n unless ``shape`` is given."""
    m, k, nn_ = shape if shape is not None else (n, n, n)
    g = torch.Generator(device="cpu").manual_seed(0)
    a = torch.randn(m, k, generator=g).to(device=device, dtype=dtype)
    b = torch.randn(k, nn_, generator=g).to(device=device, dtype=dtype)
    out = torch.empty(m, nn_, device=device, dtype=dtype)
    for _ in range(2):
        torch.mm(a, b, out=out)
    times = [time_call(lambda: torch.mm(a, b, out=out), device) for _ in range(iters)]
    return 2.0 * m * k * nn_ / statistics.median(times) / 1e9


def ceiling_dtypes(precisions: Iterable[str]) -> list[torch.dtype]:
    """The GEMM precisions worth a ceiling: fp32 always, bf16 / fp16 only when a timed case
    computes in them (a 4096^3 bf16 GEMM takes minutes on a CPU without native bf16)."""
    timed = set(precisions)  # once: callers pass generators
    names = {"bf16": torch.bfloat16, "fp16": torch.float16}
    return [torch.float32, *(names[p] for p in ("bf16", "fp16") if p in timed)]


def matmul_ceiling(device: torch.device, dtypes: Sequence[torch.dtype], quick: bool) -> dict:
    """GFLOP/s of a large square GEMM per dtype ({"float32": ..., "bfloat16": ...})."""
    n = 2048 if quick else 4096
    iters = 3 if quick else 7
    rates = {}
    for dtype in dtypes:
        rates[str(dtype).replace("torch.", "")] = matmul_rate(dtype, device, n=n, iters=iters)
    return rates


# --------------------------------------------------------------------------- FLOP counts
def encoder_flops(
    n_tokens: int, dim: int, depth: int, mlp_dim: int, batch: int = 1
) -> dict[str, float]:
    """Multiply-adds x 2 of ``depth`` pre-norm ViT blocks over ``n_tokens`` tokens, by part.

    qkv 2*N*D*3D, scores q k^T 2*N*N*D, weighted sum p v 2*N*N*D, output projection 2*N*D*D,
    MLP 2*N*D*M*2. LayerNorm, softmax, GELU, bias adds and residuals (O(N*D) each) are not
    counted: they are < 0.5% of the total and do no multiply-accumulate work on GEMM units.
    """
    n, d = n_tokens, dim
    per_layer = {
        "qkv": 2 * n * d * 3 * d,
        "attn_scores": 2 * n * n * d,
        "attn_weighted_sum": 2 * n * n * d,
        "attn_proj": 2 * n * d * d,
        "mlp": 2 * 2 * n * d * mlp_dim,
    }
    return {k: float(v * depth * batch) for k, v in per_layer.items()}


def classifier_flops(config: Any, batch: int = 1) -> dict[str, float]:
    """FLOPs of VideoMAEForVideoClassification's forward on full clips, by part."""
    t, h, w = _grid(config)
    n = t * h * w
    d = config.hidden_size
    patch_dim = config.num_channels * config.tubelet_size * _patch(config) ** 2
    parts = {"patch_embed": float(2 * n * patch_dim * d * batch)}
    parts.update(
        encoder_flops(n, d, config.num_hidden_layers, config.intermediate_size, batch=batch)
    )
    parts["head"] = float(2 * d * config.num_labels * batch)
    return parts


def pretrain_forward_flops(
    config: Any, n_visible: int, n_decoded: int, batch: int = 1
) -> dict[str, float]:
    """FLOPs of VideoMAEForPreTraining's forward done by a model that embeds visible tubelets only.

    Encoder over ``n_visible`` tokens, encoder_to_decoder, decoder blocks over
    ``n_visible + n_decoded`` tokens, decoder head over the ``n_decoded`` reconstructed tokens.
    """
    d, dd = config.hidden_size, config.decoder_hidden_size
    patch_dim = config.num_channels * config.tubelet_size * _patch(config) ** 2
    parts = {"patch_embed": float(2 * n_visible * patch_dim * d * batch)}
    enc = encoder_flops(
        n_visible, d, config.num_hidden_layers, config.intermediate_size, batch=batch
    )
    parts.update({f"enc_{k}": v for k, v in enc.items()})
    parts["encoder_to_decoder"] = float(2 * n_visible * d * dd * batch)
    dec = encoder_flops(
        n_visible + n_decoded,
        dd,
        config.decoder_num_hidden_layers,
        config.decoder_intermediate_size,
        batch=batch,
    )
    parts.update({f"dec_{k}": v for k, v in dec.items()})
    parts["decoder_head"] = float(2 * n_decoded * dd * patch_dim * batch)
    return parts


def train_step_flops(forward_parts: Mapping[str, float]) -> float:
    """Forward + backward: backward of a GEMM is 2x its forward (input and weight gradients),
    except the patch embedding, whose input (pixels) needs no gradient (1x)."""
    total = 3.0 * sum(forward_parts.values())
    return total - forward_parts.get("patch_embed", 0.0)


def _patch(config: Any) -> int:
    p = config.patch_size
    return int(p[0] if isinstance(p, (list, tuple)) else p)


def _grid(config: Any) -> tuple[int, int, int]:
    size = config.image_size
    h, w = (size, size) if isinstance(size, int) else size
    p = _patch(config)
    return config.num_frames // config.tubelet_size, h // p, w // p


def token_grid(config: Any) -> tuple[int, int, int]:
    """(t, h, w) token grid of a config's clip shape (works for ours and transformers')."""
    return _grid(config)


def format_flops(parts: Mapping[str, float]) -> str:
    total = sum(parts.values())
    lines = [f"    {k:<22s} {v / 1e9:10.3f} GFLOP" for k, v in parts.items()]
    lines.append(f"    {'total':<22s} {total / 1e9:10.3f} GFLOP")
    return "\n".join(lines)


# --------------------------------------------------------------------------- peak memory
def _proc_status_kb(key: str) -> int | None:
    with contextlib.suppress(OSError), open("/proc/self/status", encoding="utf-8") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return None


def _malloc_trim() -> None:
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)


def _reset_hwm() -> bool:
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as f:
            f.write("5")
        return True
    except OSError:
        return False


class PeakMemory:
    """Context manager: peak memory of the enclosed code, see the module docstring.

    ``result`` after exit: {"method", "base_mb", "peak_mb", "delta_mb"}.
    """

    def __init__(self, device: torch.device) -> None:
        self.device = device
        self.result: dict[str, Any] = {}

    def __enter__(self) -> PeakMemory:
        gc.collect()
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)
            torch.cuda.empty_cache()
            torch.cuda.reset_peak_memory_stats(self.device)
            self._base = torch.cuda.memory_allocated(self.device)
            self._method = "cuda max_memory_allocated"
            return self
        _malloc_trim()
        self._method = "VmHWM after clear_refs" if _reset_hwm() else "ru_maxrss"
        self._base = (_proc_status_kb("VmRSS") or 0) * 1024
        return self

    def __exit__(self, *exc: object) -> None:
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)
            peak = torch.cuda.max_memory_allocated(self.device)
        elif self._method.startswith("VmHWM"):
            peak = (_proc_status_kb("VmHWM") or 0) * 1024
        else:
            peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        self.result = {
            "method": self._method,
            "base_mb": self._base / 2**20,
            "peak_mb": peak / 2**20,
            "delta_mb": max(peak - self._base, 0) / 2**20,
        }


@contextlib.contextmanager
def saved_for_backward(model: torch.nn.Module) -> Iterator[dict[str, float]]:
    """MiB of the distinct tensors autograd keeps for the backward inside the block.

    Parameters are left out (they exist anyway). Unlike peak RSS this does not depend on the
    allocator or on the machine: the activation memory a training step needs, exactly.
    """
    params = {p.untyped_storage().data_ptr() for p in model.parameters()}
    storages: dict[int, int] = {}
    result: dict[str, float] = {}

    def pack(t: torch.Tensor) -> torch.Tensor:
        storage = t.untyped_storage()
        if storage.data_ptr() not in params:
            storages[storage.data_ptr()] = storage.nbytes()
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        yield result
    result["mib"] = sum(storages.values()) / 2**20


def emit_worker_result(result: Mapping[str, Any]) -> None:
    """Print the worker's result where :func:`measure_in_subprocess` finds it."""
    print(_MEM_PREFIX + json.dumps(result), flush=True)


def measure_in_subprocess(
    script: str | os.PathLike, spec: Mapping[str, Any], *, timeout: float = 1800
) -> dict[str, Any]:
    """Run ``script --_mem-worker SPEC`` in a fresh interpreter; return its emitted result.

    On failure returns {"error": ...} instead of raising, so one case cannot sink a whole run.
    """
    cmd = [sys.executable, os.fspath(script), MEM_WORKER_FLAG, json.dumps(dict(spec))]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {timeout:.0f} s"}
    for line in reversed(proc.stdout.splitlines()):
        if line.startswith(_MEM_PREFIX):
            return json.loads(line[len(_MEM_PREFIX) :])
    tail = (proc.stderr or proc.stdout).strip().splitlines()[-5:]
    return {"error": f"worker exited with {proc.returncode}: " + " | ".join(tail)}


def mem_str(result: Mapping[str, Any] | None) -> str:
    """'delta (peak)' in MB for a table cell."""
    if not result:
        return "-"
    if "error" in result:
        return "error"
    return f"{result['delta_mb']:.0f} ({result['peak_mb']:.0f})"


# --------------------------------------------------------------------------- profile
def profile_call(
    fn: Callable[[], Any], *, label: str, iters: int, warmup: int, device: torch.device, rows: int
) -> list[dict[str, Any]]:
    """torch.profiler over ``iters`` calls of ``fn``; prints the top ops by self time and
    returns them as records (self ms per call of ``fn``, share of the total self time)."""
    from torch.profiler import ProfilerActivity, profile

    activities = [ProfilerActivity.CPU]
    if device.type == "cuda":
        activities.append(ProfilerActivity.CUDA)
    for _ in range(warmup):
        fn()
    sync(device)
    with profile(activities=activities) as prof:
        for _ in range(iters):
            fn()
        sync(device)
    avgs = prof.key_averages()
    cuda = device.type == "cuda"
    attr = "self_device_time_total" if cuda else "self_cpu_time_total"
    total = sum(getattr(e, attr) for e in avgs) or 1.0
    print(f"\n=== {label}: {iters} call(s), self time {total / 1e3 / iters:.0f} ms per call ===")
    print(avgs.table(sort_by=attr, row_limit=rows))
    top = sorted(avgs, key=lambda e: getattr(e, attr), reverse=True)[:rows]
    return [
        {
            "op": e.key,
            "self_ms_per_call": getattr(e, attr) / 1e3 / iters,
            "share": getattr(e, attr) / total,
            "count_per_call": e.count / iters,
        }
        for e in top
    ]


# --------------------------------------------------------------------------- output
def ratio_str(theirs: float | None, ours: float | None) -> str:
    if not theirs or not ours:
        return "-"
    return f"{theirs / ours:.2f}x"


def print_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    cells = [[str(c) for c in headers]] + [[str(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    sep = "-+-".join("-" * w for w in widths)
    for i, row in enumerate(cells):
        first = row[0].ljust(widths[0])
        rest = [c.rjust(w) for c, w in zip(row[1:], widths[1:])]
        print(" | ".join([first, *rest]))
        if i == 0:
            print(sep)


def write_result(name: str, record: Mapping[str, Any]) -> Path:
    """Append one JSON line to benchmarks/results/<name>.jsonl."""
    path = RESULTS_DIR / f"{name}.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a", encoding="utf-8") as f:
        f.write(json.dumps(dict(record), default=str) + "\n")
    return path


@contextlib.contextmanager
def temp_model_dir(prefix: str) -> Iterator[Path]:
    """A temporary folder for a save_pretrained round trip (removed afterwards)."""
    import tempfile

    with tempfile.TemporaryDirectory(prefix=prefix) as d:
        yield Path(d)


def dtype_of(name: str) -> torch.dtype:
    return {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}[name]
