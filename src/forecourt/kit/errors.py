"""Domain errors. Edges turn them into each dialect's envelope and status code."""

from __future__ import annotations

import re

import msgspec


class DomainError(Exception):
    """Base class: the message is meant for the API client."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidInput(DomainError):
    """A value the client sent is unusable; `field` names it (dotted path)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class NotFound(DomainError):
    """The thing does not exist for this tenant (or the id is malformed)."""


class Forbidden(DomainError):
    """The thing exists but belongs to another tenant."""


class Conflict(DomainError):
    """Clashes with what is stored (a unique value already taken); `field` names it."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class Unprocessable(DomainError):
    """Well-formed, but cannot be done as asked (e.g. an idempotency key reused)."""


class Unauthenticated(DomainError):
    """No valid credential."""


class TooManyRequests(DomainError):
    """Over a rate limit; the client may try again after `retry_after` seconds."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


def not_theirs(
    owner: object, account_id: object, what: str, forbidden: type[Forbidden], not_found: type[NotFound]
) -> DomainError:
    """The error for a row an account asked for and does not have: 403 when another
    account owns it (`owner`, None when no one does), else 404."""
    if owner not in (None, account_id):
        return forbidden(f"{what} belongs to another account")
    return not_found(f"no {what} with that id")


_AT_PATH = re.compile(r" - at `\$\.?(?P<path>[^`]*)`$")


def invalid_from(exc: msgspec.ValidationError, default_field: str = "body") -> InvalidInput:
    """msgspec's "Expected `str`, got `int` - at `$.customer.rego`" as an InvalidInput
    that names the field first: "customer.rego: Expected `str`, got `int`"."""
    message = str(exc)
    match = _AT_PATH.search(message)
    field = (match.group("path") if match else "") or default_field
    return InvalidInput(field, f"{field}: {_AT_PATH.sub('', message)}")
