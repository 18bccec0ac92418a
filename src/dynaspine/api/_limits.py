"""ASGI middleware: request body size limit (HTTP 413) and a PHI-free access log."""

from __future__ import annotations

import json
import logging
import time
from typing import Any

log = logging.getLogger("dynaspine.api.access")

Scope = dict[str, Any]
Message = dict[str, Any]


class _TooLarge(Exception):
    pass


class BodySizeLimit:
    """Refuse request bodies larger than ``max_bytes`` with 413, before they are parsed.

    ``Content-Length`` is checked first; chunked bodies are counted as they arrive.
    """

    def __init__(self, app: Any, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        length = headers.get(b"content-length")
        if length is not None:
            try:
                too_big = int(length) > self.max_bytes
            except ValueError:
                too_big = False
            if too_big:
                await _send_413(send, self.max_bytes)
                return
        seen = 0
        exceeded = False
        replaced = False

        async def counting_receive() -> Message:
            nonlocal seen, exceeded
            message: Message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    exceeded = True
                    raise _TooLarge
            return message

        async def guarded_send(message: Message) -> None:
            # The app may turn the body error into its own response (e.g. 400 from the
            # form parser): replace it by the 413.
            nonlocal replaced
            if exceeded:
                if not replaced:
                    replaced = True
                    await _send_413(send, self.max_bytes)
                return
            await send(message)

        try:
            await self.app(scope, counting_receive, guarded_send)
        except _TooLarge:
            if not replaced:
                await _send_413(send, self.max_bytes)


async def _send_413(send: Any, max_bytes: int) -> None:
    body = json.dumps(
        {
            "detail": f"request body larger than the limit of {max_bytes} bytes",
            "hint": "upload fewer files per request or raise DYNASPINE_MAX_UPLOAD_MB",
        }
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class AccessLog:
    """Log method, route template, status and duration: never query strings (PHI)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or not log.isEnabledFor(logging.INFO):
            await self.app(scope, receive, send)
            return
        t0 = time.perf_counter()
        status = 0

        async def tracking_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        finally:
            from starlette.requests import Request

            from dynaspine.api._auth import route_template

            path = route_template(Request(scope))
            log.info(
                "%s %s %d %.1f ms",
                scope.get("method"),
                path,
                status,
                (time.perf_counter() - t0) * 1e3,
            )
