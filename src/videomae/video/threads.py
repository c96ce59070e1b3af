"""How many threads FFmpeg decodes and converts a video's frames with.

Decoding a clip is one job among many when a data loader runs a worker per core, and one job
alone when a single process classifies a video; the right number of FFmpeg threads differs
between the two (measurements: ``benchmarks/bench_decode_threads.py`` and docs/performance.md,
"Decoding").
"""

from __future__ import annotations

from torch.utils.data import get_worker_info

__all__ = ["thread_plan"]

# Outside data-loader workers, frames above this many pixels are decoded and converted with
# FFmpeg's threads.
_THREADED_PIXELS = 640 * 360


def thread_plan(width: int, height: int) -> tuple[int, int]:
    """(decoder threads, RGB conversion threads) for frames of ``width`` x ``height``; 0 lets
    FFmpeg choose (about one per core).

    In a data-loader worker every core already runs a worker, so FFmpeg's threads only add CPU
    time (their start, hand-offs and join, paid per clip): there both run on the calling
    thread. Elsewhere (one process decoding, as inference does) frames up to 640 x 360 are also
    decoded on the calling thread, and larger ones with frame + slice threads. Measurements:
    ``benchmarks/bench_decode_threads.py``, docs/performance.md ("Decoding").
    """
    if get_worker_info() is not None or width * height <= _THREADED_PIXELS:
        return 1, 1
    return 0, 0
