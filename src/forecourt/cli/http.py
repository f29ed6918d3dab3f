"""uvicorn's HTTP/1.1 protocol with a deadline for a request's head.

uvicorn closes a connection idle between requests (`timeout_keep_alive`) and caps
connections (`limit_concurrency`), but has no timeout for receiving a request's headers
(its issue #157, "--timeout-request-start", is still open): a client that connects and
sends nothing, or trickles its headers a byte at a time (slowloris), holds a connection
for ever. This subclass closes such a connection when its request head has not arrived
within the deadline, counted from the connection or from the first byte of a following
request. Once the head has arrived the deadline is off: a slow upload is not cut.

The deadline travels in the server's config (`ServeConfig`), not in a class made per
value: with several processes uvicorn pickles the config into each, and a pickled class
must be importable by name.
"""

from __future__ import annotations

import asyncio
from typing import Any

import h11
import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol


class ServeConfig(uvicorn.Config):
    """uvicorn's config plus the deadline for a request's head."""

    def __init__(self, *args: Any, header_timeout: float, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.header_timeout = header_timeout


class HeadDeadlineProtocol(H11Protocol):
    """The protocol to hand uvicorn (`http=`) with a `ServeConfig`: closes connections
    whose request head takes longer than its `header_timeout`.

    One timer per connection, not one per request: when it fires it looks at when the
    head now awaited began and waits out the rest (a timer made and cancelled for each
    request of a keep-alive connection cost 4% of a cheap request)."""

    def __init__(self, config: uvicorn.Config, *args: Any, **kwargs: Any) -> None:
        super().__init__(config, *args, **kwargs)
        assert isinstance(config, ServeConfig)
        self.header_timeout = config.header_timeout
        self._head_deadline: asyncio.TimerHandle | None = None
        self._head_since: float | None = None  # loop time the awaited head began; None: none awaited

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._await_head()

    def data_received(self, data: bytes) -> None:
        if self.conn.their_state is h11.IDLE and self._head_since is None:  # a request begins
            self._await_head()
        super().data_received(data)
        if self.conn.their_state is not h11.IDLE:  # the whole head has arrived
            self._head_since = None

    def connection_lost(self, exc: Exception | None) -> None:
        self._head_since = None
        if self._head_deadline is not None:
            self._head_deadline.cancel()
            self._head_deadline = None
        super().connection_lost(exc)

    def _await_head(self) -> None:
        self._head_since = self.loop.time()
        if self._head_deadline is None:
            self._head_deadline = self.loop.call_later(self.header_timeout, self._head_timed_out)

    def _head_timed_out(self) -> None:
        self._head_deadline = None
        if self._head_since is None or self.transport.is_closing():
            return  # no head awaited: the next request's first byte sets the timer again
        left = self._head_since + self.header_timeout - self.loop.time()
        if left > 0:  # the head awaited began after the timer was set
            self._head_deadline = self.loop.call_later(left, self._head_timed_out)
        elif self.conn.their_state is h11.IDLE:
            self.transport.close()
