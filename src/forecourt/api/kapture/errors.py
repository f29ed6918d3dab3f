"""Kapture's envelope: `{"message": ..., "status": "failed"}` (the vendor's own text for
a bad credential)."""

from __future__ import annotations

from typing import Any

from litestar import MediaType, Response

from forecourt.core.contacts.schemas import ContactNotFound, IncompleteCustomer
from forecourt.kit.errors import Unauthenticated


def render_error(status: int, message: str, exc: Exception) -> Response[Any]:
    if isinstance(exc, Unauthenticated):
        body: dict[str, Any] = {"message": "Invalid Auth Key", "status": "failed"}
    elif isinstance(exc, ContactNotFound):  # the vendor's answer to a customer not found
        body = {"Customer Details": message, "status": "failed"}
    elif isinstance(exc, IncompleteCustomer):
        body = {"message": "Name, Email Id, and Phone Number required", "status": "failed"}
    else:
        body = {"message": message, "status": "failed"}
    return Response(body, status_code=status, media_type=MediaType.JSON)
