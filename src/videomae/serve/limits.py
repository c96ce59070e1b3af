"""What keeps a server up under load and hostile uploads: a body-size cap enforced while the
bytes arrive, and a gate that bounds running and waiting requests.

Both are plain ASGI/asyncio objects owned by the app that creates them (no global state).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

__all__ = ["BodySizeLimit", "BodyTooLarge", "RequestGate", "ServeSettings", "too_large_message"]

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


@dataclass(frozen=True)
class ServeSettings:
    """Limits of one server. ``max_upload_mb``: a larger request body gets 413.
    ``timeout_s``: a request whose inference runs longer gets 504. ``max_running``: requests
    computing at once (1 suits a CPU, whose forward already uses every core); ``max_waiting``:
    requests queued behind them; one more gets 503 with ``Retry-After``."""

    max_upload_mb: float = 256.0
    timeout_s: float = 120.0
    max_running: int = 1
    max_waiting: int = 8
    max_top_k: int = 100
    max_views: int = 30

    def __post_init__(self) -> None:
        for name in ("max_upload_mb", "timeout_s"):
            value = getattr(self, name)
            if not value > 0:
                raise ValueError(f"{name} must be > 0, got {value}")
        for name in ("max_running", "max_top_k", "max_views"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        if self.max_waiting < 0:
            raise ValueError(f"max_waiting must be >= 0, got {self.max_waiting}")

    @property
    def max_upload_bytes(self) -> int:
        return int(self.max_upload_mb * 1024 * 1024)


def too_large_message(max_bytes: int) -> str:
    mb = max_bytes / (1024 * 1024)
    return f"upload too large: the limit is {mb:g} MB (videomae serve --max-upload-mb)"


class BodyTooLarge(Exception):
    """Raised inside ``receive`` when a request body passes the cap."""


async def _reply(send: Send, status: int, detail: str, headers: list | None = None) -> None:
    body = json.dumps({"detail": detail}).encode()
    head = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": head + (headers or [])})
    await send({"type": "http.response.body", "body": body})


class BodySizeLimit:
    """ASGI middleware: 413 for a declared ``Content-Length`` over the cap before reading a
    byte; a streamed body raises :class:`BodyTooLarge` from ``receive`` as soon as the running
    count passes the cap (the endpoint answers 413; otherwise this middleware does)."""

    def __init__(self, app: Callable, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    def _message(self) -> str:
        return too_large_message(self.max_bytes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            return await _reply(send, 413, self._message())
        seen = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise BodyTooLarge
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except BodyTooLarge:
            if not started:
                await _reply(send, 413, self._message())


class RequestGate:
    """At most ``running`` requests compute, ``waiting`` more wait; :meth:`try_enter` says
    False when both are full (the caller answers 503)."""

    def __init__(self, running: int, waiting: int) -> None:
        self._slots = asyncio.Semaphore(running)
        self._capacity = running + waiting
        self._inside = 0

    @property
    def inside(self) -> int:
        """Requests admitted and not yet finished (running or waiting)."""
        return self._inside

    def try_enter(self) -> bool:
        if self._inside >= self._capacity:
            return False
        self._inside += 1
        return True

    def leave(self) -> None:
        self._inside -= 1

    @property
    def slots(self) -> asyncio.Semaphore:
        """The running slots; hold one while computing."""
        return self._slots
