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


# The one rule for integers a client sends: they fit a 64-bit column on both backends.
INT64_MAX = 2**63 - 1


def in_int64(value: int) -> bool:
    return -INT64_MAX <= value <= INT64_MAX


def whole_number(field: str, raw: object, low: int = 0, high: int = INT64_MAX) -> int:
    """`raw` (an int, or its digits as text) between `low` and `high`, or InvalidInput
    naming `field`. Text is measured before it is converted: int() refuses more than
    4,300 digits with an error of its own."""
    text = str(raw).strip() if isinstance(raw, int | str) and not isinstance(raw, bool) else ""
    digits = text[1:] if text[:1] == "-" else text
    if is_whole_number(digits) and len(digits) <= len(str(INT64_MAX)) and low <= int(text) <= high:
        return int(text)
    raise InvalidInput(field, f"{field} must be a whole number from {low} to {high}, got {str(raw)[:40]!r}")


def camel_keys(values: dict[str, Any]) -> dict[str, Any]:
    """`{"resource_id": 1}` as `{"resourceId": 1}`, for the dialects that write camelCase."""
    return {_camel(key): value for key, value in values.items()}


def _camel(name: str) -> str:
    first, *rest = name.split("_")
    return first + "".join(part.capitalize() for part in rest)
