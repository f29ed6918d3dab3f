"""Recapture's error envelope and the vendor's own texts for its known errors."""

from __future__ import annotations

from typing import Any, Literal, TypedDict

from litestar import MediaType, Response
from litestar.openapi.spec import SecurityScheme

from forecourt.api.openapi import Errors
from forecourt.core.customers.schemas import (
    CustomerForbidden,
    CustomerNotFound,
    MissingVehicleIdentity,
)
from forecourt.core.uploads.schemas import UploadForbidden, UploadNotFound
from forecourt.core.webhooks.schemas import WebhookNotFound
from forecourt.kit.errors import Unauthenticated

_VENDOR_TEXTS: tuple[tuple[type[Exception], str], ...] = (
    (CustomerNotFound, "Invalid Customer ID"),
    (CustomerForbidden, "You don't have permission to access that customer"),
    (MissingVehicleIdentity, "Missing required properties"),
    (Unauthenticated, "Invalid or missing ApiKey header"),
    (UploadNotFound, "Invalid Upload ID"),
    (UploadForbidden, "You don't have permission to access that upload"),
    (WebhookNotFound, "Invalid Webhook ID"),
)


class RecaptureError(TypedDict):
    success: Literal[False]
    message: str


ERRORS = Errors(RecaptureError)
SECURITY_SCHEMES = {
    "RecaptureApiKey": SecurityScheme(
        type="apiKey", name="ApiKey", security_scheme_in="header", description="The account's API key"
    )
}


def render_error(status: int, message: str, exc: Exception) -> Response[Any]:
    text = next((t for cls, t in _VENDOR_TEXTS if isinstance(exc, cls)), message)
    body: RecaptureError = {"success": False, "message": text}
    return Response(body, status_code=status, media_type=MediaType.JSON)
