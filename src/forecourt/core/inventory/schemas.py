"""A vehicle's values: read from the wire (JSON, CSV cells, query strings) into Python
values. (Written back in the Autengo shape at the edge: api/autengo/schemas.py.)"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any

import msgspec

from forecourt.kit.errors import InvalidInput, NotFound
from forecourt.kit.inventory_fields import BY_NAME, Field, Kind
from forecourt.kit.text import check_no_nul, in_int64, is_whole_number

# A vehicle: wire name -> Python value (str, int, float, bool, date, datetime, list).
Values = dict[str, Any]

_TRUE = frozenset({"true", "yes", "1"})
_FALSE = frozenset({"false", "no", "0"})


class VehicleNotFound(NotFound):
    pass


class Page(msgspec.Struct, frozen=True):
    total: int
    offset: int
    limit: int
    vehicles: list[Values]


def _number(field: Field, raw: Any) -> float | int:
    if isinstance(raw, bool):
        raise ValueError
    if isinstance(raw, int | float):
        value: float | int = raw
    elif isinstance(raw, str):
        text = raw.strip()
        value = int(text) if is_whole_number(text.lstrip("+-")) else float(text)
    else:
        raise ValueError
    finite = math.isfinite(value) if isinstance(value, float) else in_int64(value)
    if not finite:
        raise ValueError
    if field.kind is Kind.INT or (field.kind is Kind.ENUM and isinstance(field.keys[0], int)):
        if value != int(value):
            raise ValueError
        value = int(value)
        if abs(value) >= 2**31:  # what every database's INTEGER takes
            raise ValueError
    return value


def _parse(field: Field, raw: Any) -> Any:
    """One value as `field` holds it; ValueError when it is not one."""
    kind = field.kind
    if kind is Kind.ENUM and isinstance(raw, dict):  # {"key": ..., "text": ...} as rendered
        raw = raw.get("key")
        if raw is None:
            raise ValueError
    if kind in (Kind.INT, Kind.NUMBER):
        return _number(field, raw)
    if kind is Kind.BOOL:
        text = str(raw).strip().lower() if isinstance(raw, str | bool | int) else None
        if text in _TRUE or raw is True:
            return True
        if text in _FALSE or raw is False:
            return False
        raise ValueError
    if kind is Kind.DATE:
        if not isinstance(raw, str) or len(raw) != 10:
            raise ValueError
        return date.fromisoformat(raw)
    if kind is Kind.DATETIME:
        if not isinstance(raw, str):
            raise ValueError
        parsed = datetime.fromisoformat(raw.strip())
        if parsed.tzinfo is not None:
            parsed = parsed.astimezone(UTC)
        return parsed.replace(tzinfo=None, microsecond=0)
    if kind in (Kind.ENUM, Kind.CHOICE):
        key = _number(field, raw) if isinstance(field.keys[0], int) else raw
        if key not in field.keys:
            raise ValueError
        return key
    if kind is Kind.LIST:
        value = msgspec.json.decode(raw) if isinstance(raw, str) else raw
        if not isinstance(value, list):
            raise ValueError
        return value
    if isinstance(raw, bool) or not isinstance(raw, str | int | float):
        raise ValueError
    text = str(raw)
    if len(text) > field.max_length:
        raise ValueError
    return text


def expected(field: Field) -> str:
    """What a field takes, for error messages."""
    if field.kind in (Kind.ENUM, Kind.CHOICE):
        return "one of " + ", ".join(map(str, field.keys))
    if field.kind is Kind.TEXT:
        return f"text of at most {field.max_length} characters"
    text: str = field.kind.value
    return text


def coerce(field: Field, raw: Any, where: str | None = None) -> Any:
    """`raw` as the field's Python value, or InvalidInput naming `where` (the field)."""
    where = where or field.name
    try:
        value = _parse(field, raw)
    except (ValueError, TypeError, msgspec.DecodeError):
        raise InvalidInput(where, f"{where} must be {expected(field)}, got {raw!r}"[:300]) from None
    check_no_nul(where, value)
    return value


def read(record: Any) -> Values:
    """The fields a record gives (blank and null ones left out); unknown names refused."""
    if not isinstance(record, Mapping):
        raise InvalidInput("body", "a vehicle must be a JSON object")
    values: Values = {}
    for name, raw in record.items():
        field = BY_NAME.get(name)
        if field is None:
            raise InvalidInput(name, f"{name} is not a vehicle field")
        if raw is None or raw == "":
            continue
        values[name] = coerce(field, raw)
    return values
