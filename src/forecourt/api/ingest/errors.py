"""The ingest API's error envelope: `{"error": message, "field": name}`."""

from __future__ import annotations

from typing import Any, TypedDict

from litestar import MediaType, Response
from litestar.openapi.spec import OpenAPIHeader, OpenAPIType, Schema, SecurityScheme

from forecourt.api.openapi import Errors
from forecourt.kit.errors import InvalidInput, Unauthenticated


class _Error(TypedDict):
    error: str


class IngestError(_Error, total=False):  # `NotRequired` would be lost to postponed annotations
    field: str


ERRORS = Errors(
    IngestError,
    headers={401: {"WWW-Authenticate": OpenAPIHeader(schema=Schema(type=OpenAPIType.STRING), required=True)}},
)
SECURITY_SCHEMES = {
    "IngestKey": SecurityScheme(
        type="http", scheme="bearer", description="An ingest key (`forecourt ingest-keys create`)"
    )
}


def render_error(status: int, message: str, exc: Exception) -> Response[Any]:
    body: IngestError = {"error": message}
    if isinstance(exc, InvalidInput):
        body["field"] = exc.field
    headers = {"WWW-Authenticate": "Bearer"} if isinstance(exc, Unauthenticated) else None
    return Response(body, status_code=status, media_type=MediaType.JSON, headers=headers)
