"""The native API's error envelope: `{"error": {"code", "field", "message"}}`. `code` is a
word per status (invalid_input, not_found, conflict, ...); `field` names what was wrong
(a query parameter, a body field, `body` or `id`), null when no one field is."""

from __future__ import annotations

import re
from typing import Any, TypedDict

from litestar import MediaType, Response
from litestar.exceptions import SerializationException, ValidationException
from litestar.openapi.spec import SecurityScheme

from forecourt.api.openapi import Errors
from forecourt.kit.errors import Conflict, InvalidInput, Unauthenticated

CODES = {
    400: "invalid_input",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    422: "unprocessable",
    429: "rate_limited",
    503: "unavailable",
}
UNAUTHENTICATED = "Send the account's API key as 'Authorization: Bearer <key>'"


class ErrorDetail(TypedDict):
    code: str
    field: str | None
    message: str


class NativeError(TypedDict):
    error: ErrorDetail


ERRORS = Errors(NativeError)
SECURITY_SCHEMES = {
    "ForecourtApiKey": SecurityScheme(
        type="http",
        scheme="bearer",
        description="The account's API key (`fck_...`, from `forecourt accounts create` or "
        "`forecourt keys create`): `Authorization: Bearer <key>`",
    )
}

_MISSING = re.compile(r"missing required field `([^`]+)`")


def _field(exc: Exception) -> str | None:
    if isinstance(exc, InvalidInput | Conflict):
        return exc.field
    if isinstance(exc, ValidationException) and isinstance(exc.extra, list) and exc.extra:
        key = exc.extra[0].get("key")
        missing = _MISSING.search(str(exc.extra[0].get("message", "")))
        if missing:
            return missing[1]
        return "body" if key in (None, "data") else str(key)
    if isinstance(exc.__cause__, SerializationException) or isinstance(exc, UnicodeDecodeError):
        return "body"
    return None


def render_error(status: int, message: str, exc: Exception) -> Response[Any]:
    if isinstance(exc, Unauthenticated):
        message = UNAUTHENTICATED
    detail: ErrorDetail = {"code": CODES.get(status, "error"), "field": _field(exc), "message": message}
    body: NativeError = {"error": detail}
    return Response(body, status_code=status, media_type=MediaType.JSON)
