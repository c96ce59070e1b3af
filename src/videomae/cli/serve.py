"""`videomae serve`: its flags and the call that starts the server.

FastAPI and uvicorn are the optional ``serve`` extra, so they (and ``videomae.serve.app``,
which imports FastAPI) load only when the command runs.
"""

from __future__ import annotations

import argparse

from videomae.cli.types import number
from videomae.inference.classifier import VideoClassifier
from videomae.limits import MAX_CLIPS, Range
from videomae.runtime import DTYPE_NAMES
from videomae.serve.limits import ServeSettings
from videomae.serve.service import ClassifierService

__all__ = ["add_serve", "run_serve"]

EXPOSURE = (
    "The server listens on 127.0.0.1 (this machine only) by default. --host 0.0.0.0 makes it "
    "reachable by anyone who can reach this machine's network interfaces: it has no "
    "authentication and no TLS, so put it behind a reverse proxy that adds both before exposing it."
)


def add_serve(sub: argparse._SubParsersAction, formatter: type) -> None:
    """Add the ``serve`` subcommand to ``sub``."""
    p = sub.add_parser(
        "serve",
        help="a classifier behind an HTTP API and a page",
        formatter_class=formatter,
        description="Serve a video classifier: GET / (a page to drop a video on), GET /healthz, "
        "POST /v1/classify and /v1/embed (multipart field 'file'), GET /docs (the API).\n"
        + EXPOSURE,
    )
    p.add_argument("--model", required=True, help="classifier folder, hub id, or .pth")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (see above)")
    p.add_argument(
        "--port", type=number(Range(1, 65535, integer=True)), default=8000, help="TCP port"
    )
    p.add_argument(
        "--clips",
        type=number(Range(1, MAX_CLIPS, integer=True)),
        default=1,
        help="default temporal clips per video",
    )
    p.add_argument("--crops", type=int, choices=(1, 3), default=1, help="default crops per clip")
    p.add_argument("--device", default="cpu", help="cpu, cuda, cuda:1, or auto")
    p.add_argument("--dtype", choices=DTYPE_NAMES, default="fp32", help="precision")
    d = ServeSettings()
    p.add_argument(
        "--max-upload-mb",
        type=number(Range(0.0, 1e6, lo_open=True)),
        default=d.max_upload_mb,
        help="413 above it",
    )
    p.add_argument(
        "--timeout",
        type=number(Range(0.0, 86400.0, lo_open=True)),
        default=d.timeout_s,
        help="seconds; 504 above it",
    )
    p.add_argument(
        "--max-running",
        type=number(Range(1, 1024, integer=True)),
        default=d.max_running,
        help="requests computing",
    )
    p.add_argument(
        "--max-queue",
        type=number(Range(0, 10**6, integer=True)),
        default=d.max_waiting,
        help="requests waiting; 503 above it",
    )
    p.add_argument(
        "--max-views",
        type=number(Range(1, 10**4, integer=True)),
        default=d.max_views,
        help="clips x crops per request",
    )
    p.set_defaults(func=run_serve)


def run_serve(args: argparse.Namespace) -> int:
    settings = ServeSettings(
        max_upload_mb=args.max_upload_mb,
        timeout_s=args.timeout,
        max_running=args.max_running,
        max_waiting=args.max_queue,
        max_views=args.max_views,
    )
    try:
        import uvicorn

        from videomae.serve.app import create_app
    except ImportError as exc:
        raise ImportError(
            f"videomae serve needs FastAPI and uvicorn ({exc}); pip install 'videomae[serve]'"
        ) from None
    classifier = VideoClassifier.from_pretrained(
        args.model,
        device=args.device,
        dtype=args.dtype,
        clips=args.clips,
        crops=args.crops,
        progress=False,
    )
    app = create_app(ClassifierService(classifier, settings))
    uvicorn.run(app, host=args.host, port=args.port, log_level="info")
    return 0
