"""Autengo's error envelope: `{"status": "error", "statusText": message, "field": name}`,
the shape of its success answers with the problem in `statusText`."""

from __future__ import annotations

import re
from typing import Any

from litestar import MediaType, Response
from litestar.exceptions import SerializationException, ValidationException

from forecourt.kit.errors import Conflict, InvalidInput

_MISSING = re.compile(r"missing required field `([^`]+)`")


def _field(exc: Exception) -> str | None:
    if isinstance(exc, InvalidInput | Conflict):
        return exc.field
    if isinstance(exc, ValidationException) and isinstance(exc.extra, list) and exc.extra:
        key = exc.extra[0].get("key")  # Litestar names a body field by its path...
        where = None if key in (None, "data") else str(key)
        # ...but a missing one only in its message.
        missing = _MISSING.search(str(exc.extra[0].get("message", "")))
        if missing:
            return f"{where}.{missing[1]}" if where else missing[1]
        return where or "body"
    if isinstance(exc.__cause__, SerializationException) or isinstance(exc, UnicodeDecodeError):
        return "body"  # not JSON at all
    return None


def render_error(status: int, message: str, exc: Exception) -> Response[Any]:
    body: dict[str, Any] = {"status": "error", "statusText": message}
    field = _field(exc)
    if field is not None:
        body["field"] = field
    return Response(body, status_code=status, media_type=MediaType.JSON)
