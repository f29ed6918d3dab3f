"""One exception handler for the whole app; each dialect renders its own envelope.

The dialect is chosen by path prefix, so even errors raised before routing (unknown
path, wrong method, oversize body) come back in the envelope the client expects.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any, TypedDict

from litestar import MediaType, Request, Response
from litestar.exceptions import HTTPException, SerializationException, ValidationException

from forecourt.db.engine import database_unavailable
from forecourt.kit.errors import (
    Conflict,
    DomainError,
    Forbidden,
    InvalidInput,
    NotFound,
    TooManyRequests,
    Unauthenticated,
    Unprocessable,
)

log = logging.getLogger(__name__)

# (status, message, exception) -> the response in a dialect's own envelope
ErrorRenderer = Callable[[int, str, Exception], Response[Any]]

_DOMAIN_STATUS: tuple[tuple[type[DomainError], int], ...] = (
    (InvalidInput, 400),
    (Unauthenticated, 401),
    (Forbidden, 403),
    (NotFound, 404),
    (Conflict, 409),
    (Unprocessable, 422),
    (TooManyRequests, 429),
)


def describe_validation(exc: ValidationException) -> str:
    """Litestar's parameter/body errors as one sentence naming the fields."""
    problems = []
    for item in exc.extra if isinstance(exc.extra, list) else []:
        key, message = item.get("key"), item["message"]
        if key == "data":  # Litestar's name for the request body
            key, message = "body", "a JSON body is required" if message == "'data'" else message
        problems.append(f"{key}: {message}" if key else message)
    return "; ".join(problems) or exc.detail


UNAVAILABLE = "The database is unavailable; try again shortly"
RETRY_AFTER_SECONDS = 5


def classify(exc: Exception) -> tuple[int, str]:
    if database_unavailable(exc):
        log.warning("database unavailable: %s", type(exc).__name__)
        return 503, UNAVAILABLE
    if isinstance(exc, DomainError):
        status = next(code for cls, code in _DOMAIN_STATUS if isinstance(exc, cls))
        return status, exc.message
    if isinstance(exc, ValidationException):
        return 400, describe_validation(exc)
    if isinstance(exc, HTTPException):
        if isinstance(exc.__cause__, SerializationException):
            return 400, f"Malformed JSON body: {exc.detail}"
        return exc.status_code, exc.detail
    if isinstance(exc, UnicodeDecodeError | RecursionError):  # msgspec, on bytes that are not JSON
        return 400, "Malformed JSON body: not UTF-8 JSON text"
    log.exception("unhandled error", exc_info=exc)
    return 500, "Internal server error"


class PlainError(TypedDict):
    """Outside the dialects (operator endpoints, unknown paths)."""

    error: str


def plain_error(status: int, message: str, _exc: Exception) -> Response[Any]:
    body: PlainError = {"error": message}
    return Response(body, status_code=status, media_type=MediaType.JSON)


def exception_handler(
    dialects: Sequence[tuple[str, ErrorRenderer]],
) -> Callable[[Request[Any, Any, Any], Exception], Response[Any]]:
    def handle(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
        status, message = classify(exc)
        path = request.url.path
        render = next((r for prefix, r in dialects if path.startswith(prefix)), plain_error)
        response = render(status, message, exc)
        if isinstance(exc, HTTPException) and exc.headers:
            response.headers.update(exc.headers)
        if status == 503:
            response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
        if isinstance(exc, TooManyRequests):
            response.headers["Retry-After"] = str(exc.retry_after)
        return response

    return handle
