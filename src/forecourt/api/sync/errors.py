"""Sync's error envelope: `{"errorType", "error", "message", "field"}`, with the
vendor's names: badRequest / BadRequest or BadParameters, unauthorize / Unauthorize."""

from __future__ import annotations

import re
from http import HTTPStatus
from typing import Any, TypedDict

from litestar import MediaType, Response
from litestar.openapi.spec import SecurityScheme

from forecourt.api.openapi import Errors
from forecourt.api.sync.schemas import InvalidVehicle
from forecourt.kit.errors import InvalidInput, Unauthenticated

UNAUTHORIZED = "The requester is not allowed to use this request."


class _Error(TypedDict):
    errorType: str
    error: str
    message: str


class SyncError(_Error, total=False):  # `NotRequired` would be lost to postponed annotations
    field: str


ERRORS = Errors(SyncError)
SECURITY_SCHEMES = {
    "SyncApiKey": SecurityScheme(
        type="http", scheme="bearer", description="The account's API key: `Authorization: Bearer <key>`"
    )
}


def _camel(status: int) -> str:
    """The status's name as the vendor spells its errors: 404 -> NotFound."""
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        return "Error"
    return "".join(word.capitalize() for word in re.findall(r"[A-Za-z]+", phrase))


def render_error(status: int, message: str, exc: Exception) -> Response[Any]:
    if isinstance(exc, Unauthenticated) or status == 401:
        body: SyncError = {"errorType": "unauthorize", "error": "Unauthorize", "message": UNAUTHORIZED}
    else:
        kind = _camel(status)
        detail = "BadParameters" if isinstance(exc, InvalidVehicle) else kind
        body = {"errorType": kind[0].lower() + kind[1:], "error": detail, "message": message}
        if isinstance(exc, InvalidInput):
            body["field"] = exc.field
    return Response(body, status_code=status, media_type=MediaType.JSON)
