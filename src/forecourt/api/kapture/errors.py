"""Kapture's envelope: `{"message": ..., "status": "failed"}` (the vendor's own text for
a bad credential)."""

from __future__ import annotations

from typing import Any, Literal, NotRequired, TypedDict

from litestar import MediaType, Response
from litestar.openapi.spec import SecurityScheme

from forecourt.api.openapi import Errors
from forecourt.core.contacts.schemas import ContactNotFound, IncompleteCustomer
from forecourt.kit.errors import Unauthenticated

# The text is under "Customer Details" when a customer was not found, else under "message".
KaptureError = TypedDict(
    "KaptureError",
    {"status": Literal["failed"], "message": NotRequired[str], "Customer Details": NotRequired[str]},
)
ERRORS = Errors(KaptureError)
SECURITY_SCHEMES = {
    "KaptureBasic": SecurityScheme(
        type="http", scheme="basic", description="A Basic credential (`forecourt keys create --kind basic`)"
    )
}


def render_error(status: int, message: str, exc: Exception) -> Response[Any]:
    if isinstance(exc, Unauthenticated):
        body: KaptureError = {"message": "Invalid Auth Key", "status": "failed"}
    elif isinstance(exc, ContactNotFound):  # the vendor's answer to a customer not found
        body = {"Customer Details": message, "status": "failed"}
    elif isinstance(exc, IncompleteCustomer):
        body = {"message": "Name, Email Id, and Phone Number required", "status": "failed"}
    else:
        body = {"message": message, "status": "failed"}
    return Response(body, status_code=status, media_type=MediaType.JSON)
