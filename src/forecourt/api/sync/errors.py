"""Sync's error envelope: `{"errorType", "error", "message", "field"}`, with the
vendor's names: badRequest / BadRequest or BadParameters, unauthorize / Unauthorize."""

from __future__ import annotations

import re
from http import HTTPStatus
from typing import Any

from litestar import MediaType, Response

from forecourt.core.checks.schemas import InvalidVehicle
from forecourt.core.errors import InvalidInput, Unauthenticated

UNAUTHORIZED = "The requester is not allowed to use this request."


def _camel(status: int) -> str:
    words = (
        re.findall(r"[A-Za-z]+", HTTPStatus(status).phrase) if status in HTTPStatus._value2member_map_ else []
    )
    return "".join(w.capitalize() for w in words) or "Error"


def render_error(status: int, message: str, exc: Exception) -> Response[Any]:
    if isinstance(exc, Unauthenticated) or status == 401:
        body: dict[str, Any] = {"errorType": "unauthorize", "error": "Unauthorize", "message": UNAUTHORIZED}
    else:
        detail = "BadParameters" if isinstance(exc, InvalidVehicle) else _camel(status)
        body = {"errorType": detail[0].lower() + detail[1:], "error": detail, "message": message}
        if status == 400:
            body["errorType"] = "badRequest"
        if isinstance(exc, InvalidInput):
            body["field"] = exc.field
    return Response(body, status_code=status, media_type=MediaType.JSON)
