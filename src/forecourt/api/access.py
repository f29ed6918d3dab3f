"""The one ASGI wrapper around the app, outermost (a 404 has its request id too): every
answer carries an X-Request-ID (the client's own if it sent a plain one), the rate-limit
headers of the budget it counted against, and gets one access-log line (written while
the request's id is current) and its Prometheus samples.

One wrapper, not one per concern: each layer wrapping `send` cost 5-8% of a cheap
request, and with no route middleware Litestar adds no exception layer per route
(the app's own handles the errors; docs/performance.md, point 6).

The line names the route's template (`/v3/contact/tecfactura/{tecfactura_id:str}`), not
the path: paths carry customers' ids and plates, and query strings may carry keys."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from forecourt.api import ops
from forecourt.kit import request_ids

log = logging.getLogger("forecourt.access")
_HEADER = request_ids.HEADER.lower().encode()  # as ASGI gives header names
# (scope) -> headers to add to the answer
ExtraHeaders = Callable[[Scope], list[tuple[bytes, bytes]]]


def middleware(app: ASGIApp, extra_headers: ExtraHeaders) -> ASGIApp:
    async def edge(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await app(scope, receive, send)
            return
        started, method = time.perf_counter(), scope["method"]
        offered = next((value for name, value in scope["headers"] if name == _HEADER), None)
        request_id = request_ids.choose(offered.decode("latin-1") if offered else None)
        token = request_ids.current.set(request_id)
        answered = [200, 0.0]  # the status and when the body was last sent, for the metrics

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                status = answered[0] = message["status"]
                message["headers"] = [
                    *message.get("headers", ()),
                    (_HEADER, request_id.encode()),
                    *extra_headers(scope),
                ]
                route = scope.get("path_template", "(no route)")  # set by Litestar's router
                took = (time.perf_counter() - started) * 1000
                client = (scope.get("client") or ("-",))[0]
                log.info("%s %s %s %d %.1fms", client, method, route, status, took)
            elif message["type"] == "http.response.body":
                answered[1] = time.perf_counter()
            await send(message)

        try:
            await app(scope, receive, send_with_id)
        finally:
            request_ids.current.reset(token)
            ops.request_done(scope, method, int(answered[0]), max(answered[1] - started, 0.0))

    return edge
