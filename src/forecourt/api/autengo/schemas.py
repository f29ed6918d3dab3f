"""The Autengo vehicle shape: every field in the vendor's order, translatable ones as
{"key", "text"} in the asked language."""

from __future__ import annotations

from typing import Any

from forecourt.core.inventory import i18n
from forecourt.core.inventory.schemas import Values
from forecourt.kit.inventory_fields import FIELDS, Field, Kind


def _out(field: Field, value: Any, language: str) -> Any:
    if value is None:
        return None
    if field.kind is Kind.ENUM:
        return {"key": value, "text": i18n.label(language, field.name, value)}
    if field.kind is Kind.DATE:
        return value.isoformat()
    if field.kind is Kind.DATETIME:
        return value.strftime("%Y-%m-%d %H:%M:%S")
    return value


def vehicle_out(values: Values, language: str) -> dict[str, Any]:
    """Every field, null when unknown."""
    return {f.name: _out(f, values.get(f.name), language) for f in FIELDS}
