"""Domain errors. Edges turn them into each dialect's envelope and status code."""

from __future__ import annotations


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


class Unauthenticated(DomainError):
    """No valid credential."""
