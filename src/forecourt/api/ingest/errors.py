"""The ingest API's error envelope: `{"error": message, "field": name}`."""

from __future__ import annotations

from typing import Any

from litestar import MediaType, Response

from forecourt.kit.errors import InvalidInput, Unauthenticated


def render_error(status: int, message: str, exc: Exception) -> Response[Any]:
    body: dict[str, Any] = {"error": message}
    if isinstance(exc, InvalidInput):
        body["field"] = exc.field
    headers = {"WWW-Authenticate": "Bearer"} if isinstance(exc, Unauthenticated) else None
    return Response(body, status_code=status, media_type=MediaType.JSON, headers=headers)
