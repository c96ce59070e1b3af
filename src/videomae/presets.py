"""Model sizes as data: a row per preset, looked up by name (``VideoMAEConfig.from_preset``).
A leaf module: it imports nothing of this package."""

from __future__ import annotations

from typing import Any

__all__ = ["PRESETS"]

# Model sizes: "tiny" is ours (a few layers that train in minutes on a CPU at small input sizes);
# the others are the original releases' (VideoMAE V1 and, for giant, VideoMAE V2).
PRESETS: dict[str, dict[str, Any]] = {
    "tiny": {
        "hidden_size": 128,
        "num_hidden_layers": 4,
        "num_attention_heads": 4,
        "intermediate_size": 512,
        "decoder_hidden_size": 64,
        "decoder_num_attention_heads": 2,
        "decoder_num_hidden_layers": 2,
        "decoder_intermediate_size": 256,
    },
    "small": {
        "hidden_size": 384,
        "num_hidden_layers": 12,
        "num_attention_heads": 6,
        "intermediate_size": 1536,
        "decoder_hidden_size": 192,
        "decoder_num_attention_heads": 3,
        "decoder_num_hidden_layers": 4,
        "decoder_intermediate_size": 768,
    },
    "base": {
        "hidden_size": 768,
        "num_hidden_layers": 12,
        "num_attention_heads": 12,
        "intermediate_size": 3072,
        "decoder_hidden_size": 384,
        "decoder_num_attention_heads": 6,
        "decoder_num_hidden_layers": 4,
        "decoder_intermediate_size": 1536,
    },
    "large": {
        "hidden_size": 1024,
        "num_hidden_layers": 24,
        "num_attention_heads": 16,
        "intermediate_size": 4096,
        "decoder_hidden_size": 512,
        "decoder_num_attention_heads": 8,
        "decoder_num_hidden_layers": 4,
        "decoder_intermediate_size": 2048,
    },
    "huge": {
        "hidden_size": 1280,
        "num_hidden_layers": 32,
        "num_attention_heads": 16,
        "intermediate_size": 5120,
        "decoder_hidden_size": 640,
        "decoder_num_attention_heads": 8,
        "decoder_num_hidden_layers": 4,
        "decoder_intermediate_size": 2560,
    },
    "giant": {
        "patch_size": 14,
        "hidden_size": 1408,
        "num_hidden_layers": 40,
        "num_attention_heads": 16,
        "intermediate_size": 6144,
        "decoder_hidden_size": 512,
        "decoder_num_attention_heads": 8,
        "decoder_num_hidden_layers": 4,
        "decoder_intermediate_size": 2048,
    },
}
