"""The HTTP API and the page: ``create_app`` wires a :class:`ClassifierService` to FastAPI.

Every upload is streamed to a temp file that is deleted when the request ends, whatever way it
ends (answer, error, timeout, client gone). Errors are JSON ``{"detail": ...}``: 413 too large,
422 unreadable video or bad option, 503 queue full (with ``Retry-After``), 504 too slow, 500
anything else, never with a stack trace.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
import tempfile
from collections.abc import AsyncIterator, Callable
from importlib import resources
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse
from starlette.datastructures import UploadFile

from videomae.errors import InputError
from videomae.serve.limits import (
    BodySizeLimit,
    BodyTooLarge,
    RequestGate,
    ServeSettings,
    too_large_message,
)
from videomae.serve.service import ClassifierService

__all__ = ["create_app"]

logger = logging.getLogger(__name__)

CHUNK = 1 << 20


def _error(status: int, detail: str, **headers: str) -> JSONResponse:
    return JSONResponse({"detail": detail}, status_code=status, headers=headers or None)


def _int_field(form: Any, name: str, default: int) -> int:
    raw = form.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(str(raw))
    except ValueError:
        raise InputError(f"{name} must be an integer, got {str(raw)[:40]!r}") from None


def _suffix(filename: str | None) -> str:
    """The upload's extension when it is a plain one (it helps FFmpeg guess), else none."""
    suffix = Path(filename or "").suffix
    return suffix if re.fullmatch(r"\.[A-Za-z0-9]{1,8}", suffix) else ""


@contextlib.asynccontextmanager
async def _uploaded_video(request: Request, tmp_dir: str | None) -> AsyncIterator[tuple]:
    """(temp path, display name, form) of the multipart field ``file``; the temp file and the
    form's spool are removed on exit."""
    form = await request.form(max_files=1, max_fields=16)
    path = None
    try:
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise InputError("send the video as the multipart form field 'file'")
        fd, path = tempfile.mkstemp(
            prefix="videomae-upload-", suffix=_suffix(upload.filename), dir=tmp_dir
        )
        with os.fdopen(fd, "wb") as out:
            while chunk := await upload.read(CHUNK):
                out.write(chunk)
        yield path, upload.filename or "upload", form
    finally:
        await form.close()
        if path is not None:
            Path(path).unlink(missing_ok=True)


class _Server:
    """The app's state: the service, the limits and the gate (one per app)."""

    def __init__(self, service: ClassifierService, settings: ServeSettings, tmp_dir: str | None):
        self.service = service
        self.settings = settings
        self.tmp_dir = tmp_dir
        self.gate: RequestGate | None = None  # made on the server's event loop

    async def compute(self, fn: Callable[[], Any]) -> Any:
        """Run ``fn`` in a worker thread holding a running slot; 504 after the timeout (the
        slot stays taken until the thread really ends, so the bound holds)."""
        gate = self.gate
        await gate.slots.acquire()
        future = asyncio.get_running_loop().run_in_executor(None, fn)
        future.add_done_callback(lambda _: gate.slots.release())
        return await asyncio.wait_for(asyncio.shield(future), self.settings.timeout_s)

    async def handle(self, request: Request, work: Callable[[str, str, Any], Any]) -> JSONResponse:
        """Admission, upload, compute and error mapping shared by the endpoints."""
        if self.gate is None:
            self.gate = RequestGate(self.settings.max_running, self.settings.max_waiting)
        if not self.gate.try_enter():
            return _error(
                503, "the server is busy: too many requests queued", **{"Retry-After": "2"}
            )
        try:
            async with _uploaded_video(request, self.tmp_dir) as (path, name, form):
                try:
                    return JSONResponse(await work(path, name, form))
                except InputError as exc:
                    return _error(422, f"{name}: {exc}")
        except InputError as exc:
            return _error(422, str(exc))
        except BodyTooLarge:  # a streamed body passed the cap while the form was read
            return _error(413, too_large_message(self.settings.max_upload_bytes))
        except asyncio.TimeoutError:
            limit = self.settings.timeout_s
            return _error(504, f"inference took longer than {limit:g} s (videomae serve --timeout)")
        except Exception as exc:  # never a stack trace in a response
            logger.exception("request failed")
            return _error(500, f"internal error ({type(exc).__name__}); see the server log")
        finally:
            self.gate.leave()


def _routes(app: FastAPI, server: _Server) -> None:
    service = server.service
    page = resources.files("videomae.serve").joinpath("static/index.html").read_text("utf-8")

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    async def index() -> str:
        return page

    @app.get("/healthz")
    async def healthz() -> dict[str, Any]:
        """Liveness: the model's name and its number of labels."""
        return {"status": "ok", "model": service.name, "labels": len(service.labels)}

    @app.post("/v1/classify")
    async def classify(request: Request) -> JSONResponse:
        """Multipart ``file`` (a video) and optional ``top_k``, ``clips``, ``crops`` ->
        ``{"labels": [[name, score], ...]}``, best first. With ``windows=1`` (and optional
        ``stride`` in seconds): ``{"windows": [{"path", "start_s", "end_s", "labels"}, ...]}``
        over the whole video."""

        async def work(path: str, name: str, form: Any) -> dict[str, Any]:
            top_k = _int_field(form, "top_k", 5)
            clips, crops = _views(form, service)
            service.check(top_k, clips, crops)
            if _windows(form):
                stride = _stride(form)
                rows = await server.compute(
                    lambda: service.classify_windows(path, top_k, crops, stride)
                )
                return {"windows": [{**row, "path": name} for row in rows]}
            labels = await server.compute(lambda: service.classify(path, top_k, clips, crops))
            return {"labels": [[name, score] for name, score in labels]}

        return await server.handle(request, work)

    @app.post("/v1/embed")
    async def embed(request: Request) -> JSONResponse:
        """Multipart ``file`` and optional ``clips``, ``crops`` -> ``{"embedding": [...],
        "dim": D}`` (the mean-pooled encoder feature); with ``windows=1`` (and ``stride``):
        ``{"windows": [{"start_s", "end_s", "embedding"}, ...], "dim": D}``."""

        async def work(path: str, name: str, form: Any) -> dict[str, Any]:
            clips, crops = _views(form, service)
            service.check(1, clips, crops)
            if _windows(form):
                stride = _stride(form)
                rows = await server.compute(lambda: service.embed_windows(path, crops, stride))
                return {"windows": rows, "dim": len(rows[0]["embedding"]) if rows else 0}
            feature = await server.compute(lambda: service.embed(path, clips, crops))
            return {"embedding": feature, "dim": len(feature)}

        return await server.handle(request, work)


def _windows(form: Any) -> bool:
    """The ``windows`` field: run over the whole video as consecutive windows."""
    return str(form.get("windows", "")).lower() in ("1", "true", "yes", "on")


def _stride(form: Any) -> float | None:
    """The ``stride`` field in seconds (default: the window's own span)."""
    raw = form.get("stride")
    if raw in (None, ""):
        return None
    try:
        value = float(str(raw))
    except ValueError:
        raise InputError(f"stride must be a number of seconds, got {str(raw)[:40]!r}") from None
    if not 0.01 <= value <= 3600:
        raise InputError(f"stride must be in [0.01, 3600] seconds, got {value}")
    return value


def _views(form: Any, service: ClassifierService) -> tuple[int, int]:
    """``clips`` and ``crops`` of the request, defaulting to the server's own."""
    pre = service.classifier.preprocessing
    return _int_field(form, "clips", pre.clips), _int_field(form, "crops", pre.crops)


def create_app(
    service: ClassifierService, settings: ServeSettings | None = None, *, tmp_dir: str | None = None
) -> Any:
    """The ASGI app (FastAPI inside a body-size cap). ``tmp_dir``: where uploads are spooled."""
    settings = settings or service.settings
    app = FastAPI(
        title="videomae",
        description="Video classification with a VideoMAE model: POST a video file.",
    )
    server = _Server(service, settings, tmp_dir)
    _routes(app, server)
    app.state.server = server
    return BodySizeLimit(app, settings.max_upload_bytes)
