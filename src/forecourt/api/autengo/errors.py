"""Autengo's error envelope: `{"status": "error", "statusText": message, "field": name}`,
the shape of its success answers with the problem in `statusText`."""

from __future__ import annotations

import re
from typing import Any, Literal, TypedDict

from litestar import MediaType, Response
from litestar.exceptions import SerializationException, ValidationException
from litestar.openapi.spec import SecurityRequirement, SecurityScheme

from forecourt.api.openapi import Errors
from forecourt.kit.errors import Conflict, InvalidInput


class _Error(TypedDict):
    status: Literal["error"]
    statusText: str


class AutengoError(_Error, total=False):  # `NotRequired` would be lost to postponed annotations
    field: str


ERRORS = Errors(AutengoError)
SECURITY_SCHEMES = {
    "AutengoApiKey": SecurityScheme(
        type="apiKey", name="X-Api-Key", security_scheme_in="header", description="The account's API key"
    ),
    "AutengoSession": SecurityScheme(
        type="apiKey",
        name="X-Authorization",
        security_scheme_in="header",
        description="`Bearer <token>`, a session token from POST /v3/auth/token, sent with the API key "
        "(`Authorization: JWT <token>` is accepted too)",
    ),
}
# The API key alone, or with a session token (which must then be valid and the key's account's).
SECURITY: list[SecurityRequirement] = [{"AutengoApiKey": []}, {"AutengoApiKey": [], "AutengoSession": []}]

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
    body: AutengoError = {"status": "error", "statusText": message}
    field = _field(exc)
    if field is not None:
        body["field"] = field
    return Response(body, status_code=status, media_type=MediaType.JSON)
