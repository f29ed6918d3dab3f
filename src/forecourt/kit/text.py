"""Text rules shared by every feature."""

from __future__ import annotations

from typing import Any

from forecourt.kit.errors import InvalidInput


def check_no_nul(field: str, value: Any) -> None:
    """Refuse NUL characters anywhere in a value: PostgreSQL cannot store them in text
    or JSON, and no dealer data needs them."""
    if isinstance(value, str):
        if "\x00" in value:
            raise InvalidInput(field, f"{field} must not contain NUL characters")
    elif isinstance(value, dict):
        for key, item in value.items():
            check_no_nul(field, key)
            check_no_nul(field, item)
    elif isinstance(value, list):
        for item in value:
            check_no_nul(field, item)


def is_whole_number(text: str) -> bool:
    """ASCII digits only: str.isdigit() also accepts "²" and "١٢", which int() refuses or misreads."""
    return text.isascii() and text.isdigit()


def camel_keys(values: dict[str, Any]) -> dict[str, Any]:
    """`{"resource_id": 1}` as `{"resourceId": 1}`, for the dialects that write camelCase."""
    return {_camel(key): value for key, value in values.items()}


def _camel(name: str) -> str:
    first, *rest = name.split("_")
    return first + "".join(part.capitalize() for part in rest)
