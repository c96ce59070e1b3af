"""Multi-head self-attention with three interchangeable kernels.

The parameters are three Linears named query/key/value (transformers' names, so state dicts
match). The key has no bias: the original release learns biases for q and v only.
"""

from __future__ import annotations

import importlib.util
import warnings

import torch
import torch.nn.functional as F
from torch import nn


def flash_attn_available() -> bool:
    return importlib.util.find_spec("flash_attn") is not None and torch.cuda.is_available()


def check_attn_implementation(name: str) -> None:
    """Raise a clear error for an unknown kernel or one this machine cannot run."""
    if name not in ("sdpa", "eager", "flash_attention_2"):
        raise ValueError(
            f"attn_implementation must be 'sdpa', 'eager' or 'flash_attention_2', got {name!r}"
        )
    if name == "flash_attention_2" and not flash_attn_available():
        raise ImportError(
            "attn_implementation='flash_attention_2' needs the flash_attn package and a CUDA "
            "device (pip install flash-attn); use 'sdpa' (the default) otherwise"
        )


def eager_attention(
    q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, scale: float, dropout_p: float
) -> tuple[torch.Tensor, torch.Tensor]:
    """Reference attention: (B, H, N, Dh) x3 -> output (B, H, N, Dh), probabilities (B, H, N, N)."""
    scores = torch.matmul(q * scale, k.transpose(-1, -2))  # scaling q is cheaper than N x N
    probs = torch.softmax(scores, dim=-1)  # in the input dtype, as transformers
    if dropout_p > 0:
        probs = F.dropout(probs, p=dropout_p)
    return torch.matmul(probs, v), probs


# Elements of one block of attention scores in chunked_attention (2 MiB in bf16): small enough
# to stay in cache (measurements: docs/performance.md, smoke-run notes).
_SCORE_BLOCK = 1 << 20


def chunked_attention(
    q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, scale: float
) -> torch.Tensor:
    """softmax(q k^T * scale) v with plain GEMMs over cache-sized blocks of scores.

    On CPU in bfloat16 the fused SDPA kernel runs at fp32 speed while bf16 GEMMs run at the
    bf16 rate (docs/performance.md); blocks of (heads x query rows) keep each score matrix in
    cache. K and V are laid out once, q is scaled once. Inference only (used without autograd).
    """
    b, h, n, d = q.shape
    m, dv = k.shape[2], v.shape[-1]
    bh = b * h
    q = (q * scale).reshape(bh, n, d)
    kt = k.transpose(-1, -2).reshape(bh, d, m).contiguous()
    v = v.reshape(bh, m, dv).contiguous()
    out = torch.empty(bh, n, dv, dtype=q.dtype, device=q.device)
    if n * m <= _SCORE_BLOCK:  # several whole heads per block
        step = max(1, _SCORE_BLOCK // (n * m))
        for s in range(0, bh, step):
            scores = torch.bmm(q[s : s + step], kt[s : s + step])  # (g, N, M)
            torch.bmm(torch.softmax(scores, dim=-1), v[s : s + step], out=out[s : s + step])
    else:  # blocks of query rows within one head
        rows = max(16, _SCORE_BLOCK // m)
        for i in range(bh):
            for r in range(0, n, rows):
                scores = torch.mm(q[i, r : r + rows], kt[i])  # (rows, M)
                torch.mm(torch.softmax(scores, dim=-1), v[i], out=out[i, r : r + rows])
    return out.view(b, h, n, dv)


def use_chunked_attention(q: torch.Tensor, dropout_p: float) -> bool:
    """bf16 inference on CPU: blocked GEMM attention beats the fused kernel there."""
    return (
        q.device.type == "cpu"
        and q.dtype == torch.bfloat16
        and dropout_p == 0.0
        and not (torch.is_grad_enabled() and q.requires_grad)
    )


class VideoMAESelfAttention(nn.Module):
    def __init__(self, hidden_size: int, num_heads: int, qv_bias: bool, dropout: float) -> None:
        super().__init__()
        if hidden_size % num_heads:
            raise ValueError(f"hidden size {hidden_size} is not divisible by {num_heads} heads")
        self.num_heads = num_heads
        self.head_dim = hidden_size // num_heads
        self.scale = self.head_dim**-0.5
        self.dropout = dropout
        self.query = nn.Linear(hidden_size, hidden_size, bias=qv_bias)
        self.key = nn.Linear(hidden_size, hidden_size, bias=False)
        self.value = nn.Linear(hidden_size, hidden_size, bias=qv_bias)
        self.attn_implementation = "sdpa"

    def project_qkv(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(B, N, D) -> q, k, v, each (B, N, H, Dh) (views of three GEMM outputs).

        Three GEMMs, not one over concatenated weights: the concatenation costs a weight copy
        per call, and in training a saved copy per layer until the backward, while the fused
        GEMM is no faster (docs/performance.md, smoke-run notes).
        """
        heads = (*x.shape[:2], self.num_heads, self.head_dim)
        return self.query(x).view(heads), self.key(x).view(heads), self.value(x).view(heads)

    def forward(
        self, x: torch.Tensor, output_attentions: bool = False
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        b, n, d = x.shape
        q, k, v = self.project_qkv(x)
        dropout_p = self.dropout if self.training else 0.0
        impl = self.attn_implementation
        if output_attentions and impl != "eager":
            warnings.warn(
                f"attention maps were requested but attn_implementation={impl!r} cannot return "
                "them; computing this forward with the eager kernel instead",
                stacklevel=4,
            )
            impl = "eager"

        if impl == "flash_attention_2":
            from flash_attn import flash_attn_func

            if q.device.type != "cuda" or q.dtype not in (torch.float16, torch.bfloat16):
                raise RuntimeError(
                    "flash_attention_2 runs only on CUDA in float16/bfloat16; got "
                    f"{q.device.type} {q.dtype}. Use torch_dtype=torch.bfloat16 (or autocast) "
                    "on a GPU, or 'sdpa'"
                )
            out = flash_attn_func(q, k, v, dropout_p=dropout_p, softmax_scale=self.scale)
            return out.reshape(b, n, d), None

        q, k, v = (t.transpose(1, 2) for t in (q, k, v))  # each (B, H, N, Dh)
        if impl == "eager":
            out, probs = eager_attention(q, k, v, self.scale, dropout_p)
        elif use_chunked_attention(q, dropout_p):
            out, probs = chunked_attention(q, k, v, self.scale), None
        else:
            out = F.scaled_dot_product_attention(q, k, v, dropout_p=dropout_p, scale=self.scale)
            probs = None
        out = out.transpose(1, 2).reshape(b, n, d)
        return out, (probs if output_attentions else None)


class VideoMAESelfOutput(nn.Module):
    def __init__(self, hidden_size: int, dropout: float) -> None:
        super().__init__()
        self.dense = nn.Linear(hidden_size, hidden_size)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.dropout(self.dense(x))


class VideoMAEAttention(nn.Module):
    """Self-attention plus its output projection (named as transformers: attention / output)."""

    def __init__(
        self, hidden_size: int, num_heads: int, qv_bias: bool, attn_dropout: float, dropout: float
    ) -> None:
        super().__init__()
        self.attention = VideoMAESelfAttention(hidden_size, num_heads, qv_bias, attn_dropout)
        self.output = VideoMAESelfOutput(hidden_size, dropout)

    def forward(
        self, x: torch.Tensor, output_attentions: bool = False
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        out, probs = self.attention(x, output_attentions)
        return self.output(out), probs
