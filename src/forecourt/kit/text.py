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
