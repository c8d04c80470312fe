"""A request body size limit, as plain ASGI middleware.

The body is read in full (up to the limit) *before* the app runs, counting the
bytes that actually arrive: a declared ``Content-Length`` over the limit is
refused at once, but a small or missing one (chunked transfer) is not trusted.
Over the limit the client gets 413 and the app never runs, so a refused request
cannot have written anything. The app then reads the buffered body as usual.

Starlette (1.x) ships a ``RequestBodyLimitMiddleware`` that counts bytes as the
app reads them; it hands the overflow to the app as an exception raised inside
its body parsing, which older FastAPI releases answer with 400. Buffering first
keeps the answer 413 on every FastAPI release and costs nothing at a few KiB.
"""

from __future__ import annotations

import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send

DEFAULT_MAX_BODY = 4096


class BodyLimit:
    """Answer 413 to any HTTP request whose body exceeds ``max_bytes``."""

    def __init__(self, app: ASGIApp, max_bytes: int = DEFAULT_MAX_BODY) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_bytes):
            await self._refuse(send, declared.decode("latin-1"))
            return
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return  # the client left; nothing to answer
            body = message.get("body", b"")
            size += len(body)
            if size > self.max_bytes:
                await self._refuse(send, f"more than {self.max_bytes}")
                return
            chunks.append(body)
            if not message.get("more_body", False):
                break
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:  # after the body: pass disconnects through
                return await receive()
            replayed = True
            return {"type": "http.request", "body": b"".join(chunks), "more_body": False}

        await self.app(scope, replay, send)

    async def _refuse(self, send: Send, got: str) -> None:
        status = 413 if got.startswith("more") or got.isdigit() else 400
        detail = (f"request body of {got} bytes is over the limit of {self.max_bytes} bytes"
                  if status == 413 else f"bad Content-Length header {got!r}")
        body = json.dumps({"detail": detail}).encode()
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", b"application/json"),
                                (b"content-length", str(len(body)).encode()),
                                (b"connection", b"close")]})
        await send({"type": "http.response.body", "body": body})
