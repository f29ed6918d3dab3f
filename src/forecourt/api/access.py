"""Every answer carries an X-Request-ID (the client's own if it sent a plain one) and gets
one access-log line, written while the request's id is current.

The line names the route's template (`/v3/contact/tecfactura/{tecfactura_id:str}`), not
the path: paths carry customers' ids and plates, and query strings may carry keys."""

from __future__ import annotations

import logging
import time

from litestar.datastructures import MutableScopeHeaders
from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from forecourt.kit import request_ids

log = logging.getLogger("forecourt.access")
_HEADER = request_ids.HEADER.lower().encode()  # as ASGI gives header names


def middleware(app: ASGIApp) -> ASGIApp:
    async def with_request_id(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await app(scope, receive, send)
            return
        started, method = time.perf_counter(), scope["method"]
        offered = next((value for name, value in scope["headers"] if name == _HEADER), None)
        request_id = request_ids.choose(offered.decode("latin-1") if offered else None)
        token = request_ids.current.set(request_id)

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableScopeHeaders.from_message(message)[request_ids.HEADER] = request_id
                route = scope.get("path_template", "(no route)")  # set by Litestar's router
                took = (time.perf_counter() - started) * 1000
                client = (scope.get("client") or ("-",))[0]
                log.info("%s %s %s %d %.1fms", client, method, route, message["status"], took)
            await send(message)

        try:
            await app(scope, receive, send_with_id)
        finally:
            request_ids.current.reset(token)

    return with_request_id
