"""The id of the request being served, for every log line written while serving it.

The API's middleware sets it; the logging configuration reads it. A context variable,
so concurrent requests (and the threads they run sync handlers in) keep their own."""

from __future__ import annotations

import re
import uuid
from contextvars import ContextVar

HEADER = "X-Request-ID"
NONE = "-"

current: ContextVar[str] = ContextVar("request_id", default=NONE)

# A client's own id is kept when it is short and plain (no spaces, quotes or newlines that
# could forge a log line); otherwise the server makes one.
_PLAIN = re.compile(r"[A-Za-z0-9._:-]{1,64}")


def choose(offered: str | None) -> str:
    if offered and _PLAIN.fullmatch(offered):
        return offered
    return uuid.uuid4().hex
